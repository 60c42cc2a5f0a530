//! Every method of every area, with the exact values it must give back.

use super::{on_every_engine, refresh, rotation, session, spent, user};
use crate::store::{Limit, Spent, Status, StoreError, User};

#[test]
fn users_and_orgs_read_back_what_was_written() {
    on_every_engine("users and orgs", |engine| {
        engine
            .db
            .transaction(|s| {
                s.upsert_org("acme", "Acme")?;
                s.upsert_org("acme", "Acme Inc")?;
                assert_eq!(s.org_name("acme")?.as_deref(), Some("Acme Inc"));
                assert_eq!(s.org_name("none")?, None);

                let mut ada = user("ada");
                ada.org_id = Some("acme".into());
                s.insert_user(&ada, 5)?;
                s.insert_user(&user("bob"), 6)?;
                let found = s.find_user_by_email("ada@acme.test")?.unwrap();
                assert_eq!(found.id, "ada");
                assert_eq!(found.org_id.as_deref(), Some("acme"));
                assert_eq!(found.created_at, 5);
                assert!(s.find_user_by_email("nobody@acme.test")?.is_none());
                assert!(s.find_user_by_id("nobody")?.is_none());

                ada.name = "Ada L".into();
                ada.status = Status::Banned;
                s.update_user_profile(&ada, 7)?;
                s.set_password_hash("ada", "$new", 8)?;
                s.set_user_status("bob", Status::Inactive, 8)?;
                let ada = s.find_user_by_id("ada")?.unwrap();
                assert_eq!((ada.name.as_str(), ada.status), ("Ada L", Status::Banned));
                assert_eq!(ada.password_hash.as_deref(), Some("$new"));
                assert_eq!(s.find_user_by_id("bob")?.unwrap().status, Status::Inactive);
                let ids: Vec<String> = s.list_users()?.into_iter().map(|u| u.id).collect();
                assert_eq!(ids, ["ada", "bob"]);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn sessions_are_listed_counted_and_revoked() {
    on_every_engine("sessions", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.create_session(&session("s1", "ada", 500), &refresh("j1", 500))?;
                let mut newer = session("s2", "ada", 500);
                newer.created_at = 20;
                s.create_session(&newer, &refresh("j2", 500))?;
                s.create_session(&session("s3", "ada", 50), &refresh("j3", 50))?;
                assert_eq!(s.count_live_sessions(100)?, 2);
                let live: Vec<String> = s
                    .list_live_sessions("ada", 100)?
                    .into_iter()
                    .map(|x| x.id)
                    .collect();
                assert_eq!(live, ["s2", "s1"]);
                let s1 = s.find_session("s1")?.unwrap();
                assert_eq!((s1.user_id.as_str(), s1.expires_at), ("ada", 500));
                assert_eq!(s1.user_agent.as_deref(), Some("test"));
                assert_eq!(s1.ip.as_deref(), Some("127.0.0.1"));
                assert!(s.find_session("none")?.is_none());

                let (owner, revoked) = s.find_user_by_session("s1")?.unwrap();
                assert_eq!((owner.id.as_str(), revoked), ("ada", false));
                assert!(s.find_user_by_session("none")?.is_none());
                assert!(s.revoke_session("s1", 101)?);
                assert!(!s.revoke_session("s1", 102)?);
                assert!(!s.revoke_session("none", 102)?);
                assert!(s.find_user_by_session("s1")?.unwrap().1);
                assert_eq!(s.find_session("s1")?.unwrap().revoked_at, Some(101));
                assert_eq!(s.revoke_user_sessions("ada", Some("s2"), 103)?, 1);
                assert_eq!(s.revoke_user_sessions("ada", None, 104)?, 1);
                assert_eq!(s.count_live_sessions(100)?, 0);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_batch_of_rotations_gives_each_its_own_outcome() {
    on_every_engine("rotation batch", |engine| {
        let ada = user("ada");
        let renamed = User {
            name: "Ada L.".into(),
            ..user("ada")
        };
        let batch = [
            rotation("s2", "j0", "a", &ada, b"s2"),
            rotation("s1", "j0", "b", &ada, b"s1 first"),
            rotation("s1", "j0", "c", &ada, b"s1 second"),
            rotation("s3", "stale", "d", &ada, b"s3"),
            rotation("s4", "j0", "e", &renamed, b"s4"),
            rotation("s5", "j0", "g", &ada, b"s5"),
        ];
        // PostgreSQL refuses a NUL in text, so this batch's statement fails.
        let refused = [
            rotation("s\0", "j0", "f", &ada, b"nul"),
            rotation("s6", "j0", "h", &ada, b"s6"),
        ];
        engine
            .db
            .transaction(|s| {
                s.insert_user(&ada, 1)?;
                for sid in ["s1", "s2", "s3", "s4", "s5", "s6"] {
                    s.create_session(&session(sid, "ada", 500), &refresh("j0", 500))?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let outcomes = engine
            .db
            .read(|s| Ok::<_, StoreError>(s.rotate_refreshes(&batch)))
            .unwrap();
        let won: Vec<Option<bool>> = outcomes.iter().map(|o| o.as_ref().ok().copied()).collect();
        assert_eq!(won[0], Some(true));
        assert_eq!(
            [won[1], won[2]]
                .iter()
                .filter(|w| **w == Some(true))
                .count(),
            1,
            "{won:?}"
        );
        assert_eq!(won[3..], [Some(false), Some(false), Some(true)]);
        let outcomes = engine
            .db
            .read(|s| Ok::<_, StoreError>(s.rotate_refreshes(&refused)))
            .unwrap();
        assert!(!matches!(outcomes[0], Ok(true)), "{:?}", outcomes[0]);
        assert!(matches!(outcomes[1], Ok(true)), "{:?}", outcomes[1]);

        let record = |sid: &str| engine.db.read(|s| s.find_refresh(sid)).unwrap().unwrap();
        let s1 = record("s1");
        let first_won = won[1] == Some(true);
        let (jti, answer) = if first_won {
            ("b", "s1 first")
        } else {
            ("c", "s1 second")
        };
        assert_eq!(s1.refresh_jti, jti);
        assert_eq!(s1.grace_answer.as_deref(), Some(answer.as_bytes()));
        assert_eq!(s1.spent_jti.as_deref(), Some("j0"));
        assert_eq!(s1.spent_at_ms, Some(7_000));
        let s2 = record("s2");
        assert_eq!(
            (s2.refresh_jti.as_str(), s2.spent_jti.as_deref()),
            ("a", Some("j0"))
        );
        assert_eq!(s2.grace_answer.as_deref(), Some(&b"s2"[..]));
        assert_eq!(record("s3").refresh_jti, "j0");
        assert_eq!(record("s4").refresh_jti, "j0");
        assert_eq!(record("s5").refresh_jti, "g");
        assert_eq!(record("s6").refresh_jti, "h");
        let rotated = engine.db.read(|s| s.find_session("s5")).unwrap().unwrap();
        assert_eq!((rotated.last_used_at, rotated.expires_at), (7, 900));
    });
}

#[test]
fn only_the_newest_token_rotates_and_the_spent_one_keeps_its_answer() {
    on_every_engine("rotation", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.create_session(&session("s4", "ada", 500), &refresh("j4", 500))?;
                assert!(s.rotate_refresh(
                    &spent("s4", "j4", &user("ada")),
                    &refresh("j5", 900),
                    7_000,
                    b"answer"
                )?);
                assert!(!s.rotate_refresh(
                    &spent("s4", "j4", &user("ada")),
                    &refresh("j6", 900),
                    8_000,
                    b"again"
                )?);
                let record = s.find_refresh("s4")?.unwrap();
                assert_eq!(record.user.id, "ada");
                assert!(!record.revoked);
                assert_eq!(record.refresh_jti, "j5");
                assert_eq!(record.refresh_hash, vec![7; 32]);
                assert_eq!(record.spent_jti.as_deref(), Some("j4"));
                assert_eq!(record.spent_at_ms, Some(7_000));
                assert_eq!(record.grace_answer.as_deref(), Some(&b"answer"[..]));
                let rotated = s.find_session("s4")?.unwrap();
                assert_eq!((rotated.last_used_at, rotated.expires_at), (7, 900));
                assert!(s.find_refresh("none")?.is_none());

                s.revoke_session("s4", 10)?;
                assert!(!s.rotate_refresh(
                    &spent("s4", "j5", &user("ada")),
                    &refresh("j6", 900),
                    9_000,
                    b"late"
                )?);
                assert!(s.find_refresh("s4")?.unwrap().revoked);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_token_is_spent_only_as_issued_and_for_the_user_as_the_answer_shows_them() {
    on_every_engine("conditional rotation", |engine| {
        engine
            .db
            .transaction(|s| {
                let cyd = User {
                    org_id: Some("acme".into()),
                    ..user("cyd")
                };
                s.upsert_org("acme", "Acme")?;
                s.insert_user(&cyd, 1)?;
                s.insert_user(&user("bob"), 1)?;
                s.create_session(&session("s1", "cyd", 500), &refresh("j1", 500))?;
                let next = refresh("j2", 900);
                let otp = vec!["pwd".to_string(), "otp".into(), "mfa".into()];
                let mut refused = vec![
                    Spent {
                        amr: &otp,
                        ..spent("s1", "j1", &cyd)
                    },
                    Spent {
                        hash: &[8; 32],
                        ..spent("s1", "j1", &cyd)
                    },
                    spent("s1", "j0", &cyd),
                    spent("s2", "j1", &cyd),
                ];
                let others = [
                    user("bob"),
                    User {
                        name: "Cyd L".into(),
                        ..cyd.clone()
                    },
                    User {
                        email: "c@acme.test".into(),
                        ..cyd.clone()
                    },
                    User {
                        org_id: None,
                        ..cyd.clone()
                    },
                    User {
                        roles: vec!["admin".into()],
                        ..cyd.clone()
                    },
                ];
                refused.extend(others.iter().map(|other| spent("s1", "j1", other)));
                for spend in &refused {
                    assert!(!s.rotate_refresh(spend, &next, 1_000, b"x")?);
                }
                s.set_user_status("cyd", Status::Inactive, 2)?;
                assert!(!s.rotate_refresh(&spent("s1", "j1", &cyd), &next, 1_000, b"x")?);
                s.set_user_status("cyd", Status::Active, 3)?;
                // Roles held that the answer does not show refuse it too.
                s.set_user_roles("cyd", &["ops".into(), "admin".into()], 4)?;
                assert!(!s.rotate_refresh(&spent("s1", "j1", &cyd), &next, 1_000, b"x")?);
                let held = User {
                    roles: vec!["ops".into(), "admin".into()],
                    ..cyd.clone()
                };
                assert!(s.rotate_refresh(&spent("s1", "j1", &held), &next, 1_000, b"x")?);
                assert_eq!(s.find_refresh("s1")?.unwrap().refresh_jti, "j2");
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn grace_answers_are_cleared_once_spent_before_the_cutoff_or_all_at_once() {
    on_every_engine("grace answers", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                for (sid, at) in [("s0", 1_000), ("s1", 9_000), ("s2", 9_500)] {
                    s.create_session(&session(sid, "ada", 500), &refresh(sid, 500))?;
                    s.rotate_refresh(
                        &spent(sid, sid, &user("ada")),
                        &refresh("next", 900),
                        at,
                        b"answer",
                    )?;
                }
                assert_eq!(s.clear_grace_answers(1_000)?, 0);
                assert_eq!(s.clear_grace_answers(5_000)?, 1);
                assert!(s.find_refresh("s0")?.unwrap().grace_answer.is_none());
                assert!(s.find_refresh("s1")?.unwrap().grace_answer.is_some());
                assert_eq!(s.forget_grace_answers()?, 2);
                assert!(s.find_refresh("s2")?.unwrap().grace_answer.is_none());
                assert_eq!(s.forget_grace_answers()?, 0);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_key_locks_at_the_limit_and_frees_when_the_window_passes_or_it_is_cleared() {
    on_every_engine("failures", |engine| {
        engine
            .db
            .transaction(|s| {
                let key = "email:a@b";
                s.record_failure(key, 100)?;
                s.record_failure(key, 110)?;
                assert_eq!(s.locked_until(key, 3, 60, 111)?, None);
                s.record_failure(key, 120)?;
                assert_eq!(s.locked_until(key, 3, 60, 121)?, Some(160));
                assert_eq!(s.locked_until(key, 3, 60, 160)?, None);
                assert_eq!(s.locked_until(key, 0, 60, 121)?, None);
                assert_eq!(s.locked_until("email:other", 3, 60, 121)?, None);

                let row = s.record_failure("ip:1.2.3.4", 100)?;
                s.record_failure("ip:1.2.3.4", 101)?;
                assert_eq!(s.locked_until("ip:1.2.3.4", 2, 60, 102)?, Some(160));
                s.release_failures(&[row])?;
                assert_eq!(s.locked_until("ip:1.2.3.4", 2, 60, 102)?, None);
                assert_eq!(s.clear_failures("ip:1.2.3.4")?, 1);
                assert_eq!(s.clear_failures(key)?, 3);
                assert_eq!(s.locked_until(key, 1, 60, 121)?, None);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_reservation_counts_until_released_and_none_is_taken_past_the_limit() {
    on_every_engine("reservations", |engine| {
        let limits = [
            Limit {
                key: "email:a@b",
                max: 2,
            },
            Limit {
                key: "ip:1.2.3.4",
                max: 9,
            },
        ];
        let reserve = || {
            engine
                .db
                .transaction(|s| s.reserve_failures(&limits, 60, 100))
                .unwrap()
        };
        let first = reserve().unwrap();
        let second = reserve().unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(reserve(), Err(160));
        engine
            .db
            .transaction(|s| s.release_failures(&second))
            .unwrap();
        assert!(reserve().is_ok());
        let ip_locked = engine
            .db
            .read(|s| s.locked_until("ip:1.2.3.4", 2, 60, 100))
            .unwrap();
        assert_eq!(ip_locked, Some(160));
    });
}

#[test]
fn signing_keys_change_only_through_change_keys() {
    on_every_engine("signing keys", |engine| {
        assert_eq!(engine.db.read(|s| s.key_generation()).unwrap(), (0, 0, 0));
        engine
            .db
            .change_keys(false, |s| {
                assert_eq!(s.current_kid()?, None);
                s.make_key_current("k1", "EdDSA", &[1; 64], 10)?;
                s.make_key_current("k2", "ES256", &[2; 32], 11)?;
                assert_eq!(s.current_kid()?.as_deref(), Some("k2"));
                let keys = s.list_keys()?;
                let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
                assert_eq!(kids, ["k1", "k2"]);
                assert_eq!(
                    (keys[0].algorithm.as_str(), keys[0].created_at),
                    ("EdDSA", 10)
                );
                assert_eq!(keys[0].retired_at, Some(11));
                assert_eq!((keys[1].retired_at, keys[1].distrusted_at), (None, None));
                assert!(s.distrust_key("k1", 20)?);
                assert!(!s.distrust_key("nope", 20)?);
                s.set_key_pair("k2", &[3; 32])?;
                assert_eq!(s.meta("m")?, None);
                s.set_meta("m", b"1")?;
                s.set_meta("m", b"2")?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let keys = engine.db.read(|s| s.list_keys()).unwrap();
        assert_eq!(keys[0].distrusted_at, Some(20));
        assert_eq!(keys[1].key_pair, vec![3; 32]);
        assert_eq!(engine.db.read(|s| s.key_generation()).unwrap(), (2, 2, 1));
        let meta = engine.db.read(|s| s.meta("m")).unwrap();
        assert_eq!(meta.as_deref(), Some(&b"2"[..]));
    });
}

#[test]
fn a_link_is_replaced_spent_once_and_removed_with_its_user() {
    on_every_engine("links", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_user(&user("bob"), 1)?;
                s.replace_link("ada", &[1; 32], 500, 10)?;
                s.replace_link("ada", &[2; 32], 600, 11)?;
                assert!(s.find_link(&[1; 32])?.is_none());
                let link = s.find_link(&[2; 32])?.unwrap();
                assert_eq!((link.user_id.as_str(), link.expires_at), ("ada", 600));
                assert!(s.spend_link(&[2; 32])?);
                assert!(!s.spend_link(&[2; 32])?);
                s.replace_link("bob", &[3; 32], 500, 10)?;
                s.remove_user_links("bob")?;
                assert!(s.find_link(&[3; 32])?.is_none());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}
