//! The outbox, the throttle and pending sign-ups: every method with the exact
//! values it must give back, and the races (a message claimed by one sender,
//! a throttle mark taken once, a sign-up spent once).

use super::races::at_once;
use super::{on_every_engine, user};
use crate::store::{NewMail, Registration, StoreError};

fn mail(id: &str, user_id: Option<&str>, at: u64) -> NewMail {
    NewMail {
        id: id.into(),
        kind: "forgot".into(),
        recipient: format!("{id}@acme.test"),
        user_id: user_id.map(str::to_string),
        message: format!("sealed {id}").into_bytes(),
        created_at: at,
    }
}

fn pending(email: &str, digest: u8, expires_at: u64) -> Registration {
    Registration {
        email: email.into(),
        token_hash: vec![digest; 32],
        name: "Grace".into(),
        password_hash: "$pbkdf2-sha256$x".into(),
        created_at: 1,
        expires_at,
    }
}

#[test]
fn messages_are_claimed_when_due_then_sent_retried_or_given_up() {
    on_every_engine("mail outbox", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.queue_mail(&mail("m1", Some("ada"), 100))?;
                s.queue_mail(&mail("m2", None, 101))?;
                s.queue_mail(&mail("m3", None, 102))?;
                assert_eq!(s.queued_mail()?, 3);
                assert!(s.claim_mail(99, 500, 10, None)?.is_empty(), "not due yet");

                let claimed = s.claim_mail(101, 500, 10, Some("m2"))?;
                assert_eq!(claimed.len(), 1);
                let m2 = &claimed[0];
                assert_eq!(
                    (m2.id.as_str(), m2.kind.as_str(), m2.recipient.as_str()),
                    ("m2", "forgot", "m2@acme.test")
                );
                assert_eq!(
                    (m2.attempts, m2.created_at, m2.user_id.clone()),
                    (1, 101, None)
                );
                assert_eq!(m2.message.as_deref(), Some(&b"sealed m2"[..]));

                let rest = s.claim_mail(102, 500, 1, None)?;
                assert_eq!(rest.len(), 1, "at most the limit");
                assert_eq!(rest[0].id, "m1", "the longest due first");
                assert_eq!(rest[0].user_id.as_deref(), Some("ada"));
                assert_eq!(s.claim_mail(102, 500, 10, None)?.len(), 1);
                assert!(
                    s.claim_mail(499, 600, 10, None)?.is_empty(),
                    "held by their claims"
                );

                s.mail_sent("m1", 200)?;
                s.mail_retry("m2", 300, "451 later")?;
                s.mail_failed("m3", "550 no")?;
                assert_eq!(s.mail_state("m1")?, Some(("sent".into(), 1)));
                assert_eq!(s.mail_state("m3")?, Some(("failed".into(), 1)));
                assert_eq!(s.mail_state("nope")?, None);
                assert_eq!(s.queued_mail()?, 1);
                let again = s.claim_mail(300, 700, 10, None)?;
                assert_eq!(again.len(), 1);
                assert_eq!((again[0].id.as_str(), again[0].attempts), ("m2", 2));

                // Sent and given up ones go a week on; queued ones stay.
                assert_eq!(s.prune_mail(0, 0, 1000)?, 2);
                assert_eq!(s.mail_state("m1")?, None);
                assert_eq!(s.mail_state("m2")?, Some(("queued".into(), 2)));
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn the_throttle_lets_one_message_a_minute_through_and_sign_ups_are_replaced_and_spent() {
    on_every_engine("mail throttle", |engine| {
        engine
            .db
            .transaction(|s| {
                assert!(s.throttle_mail(b"ada", 1000, 60)?);
                assert!(!s.throttle_mail(b"ada", 1059, 60)?);
                assert!(s.throttle_mail(b"bob", 1059, 60)?, "per key");
                assert!(s.throttle_mail(b"ada", 1060, 60)?);
                assert!(!s.throttle_mail(b"ada", 1061, 60)?);

                s.replace_registration(&pending("g@acme.test", 1, 5000))?;
                s.replace_registration(&pending("g@acme.test", 2, 6000))?;
                assert!(s.find_registration(&[1; 32])?.is_none(), "replaced");
                let found = s.find_registration(&[2; 32])?.unwrap();
                assert_eq!(
                    (found.email.as_str(), found.expires_at, found.name.as_str()),
                    ("g@acme.test", 6000, "Grace")
                );
                assert!(s.spend_registration(&[2; 32])?);
                assert!(!s.spend_registration(&[2; 32])?);

                s.replace_registration(&pending("h@acme.test", 3, 5000))?;
                assert_eq!(s.prune_mail(1061, 5001, 0)?, 2, "two marks, one sign-up");
                assert!(s.find_registration(&[3; 32])?.is_none());
                assert!(s.throttle_mail(b"ada", 1062, 60)?, "its mark was pruned");
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn racing_senders_claim_each_message_once_and_racing_marks_let_one_through() {
    on_every_engine("mail races", |engine| {
        engine
            .db
            .transaction(|s| {
                for i in 0..40 {
                    s.queue_mail(&mail(&format!("m{i:02}"), None, 100))?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let claims = at_once(&engine.db, 4, |db, _| {
            let mut mine = Vec::new();
            loop {
                let got = db
                    .transaction(|s| s.claim_mail(100, 1000, 3, None))
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|m| m.id));
            }
        });
        let mut all: Vec<String> = claims.into_iter().flatten().collect();
        all.sort();
        assert_eq!(all.len(), 40, "{all:?}");
        all.dedup();
        assert_eq!(all.len(), 40, "a message claimed twice");
        let passed = at_once(&engine.db, 8, |db, _| {
            db.write(|s| s.throttle_mail(b"ada", 2000, 60)).unwrap()
        });
        assert_eq!(passed.iter().filter(|p| **p).count(), 1, "{passed:?}");
    });
}
