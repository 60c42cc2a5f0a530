//! Second factors: every method with the exact values it must give back, and
//! the replay race (a code's step taken once, whoever races).

use super::races::at_once;
use super::{on_every_engine, user};
use crate::store::{MfaState, MfaToken, StoreError};

fn digests(n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i; 32]).collect()
}

#[test]
fn an_enrolment_waits_is_replaced_turns_on_and_is_removed_with_its_codes() {
    on_every_engine("mfa totp", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_user(&user("bob"), 1)?;
                assert!(s.find_totp("ada")?.is_none());
                assert_eq!(s.mfa_summary("ada")?, MfaState::default());
                assert!(!s.enable_totp("ada", 5)?, "nothing waits");

                assert!(s.begin_totp("ada", b"first", 10)?);
                assert!(
                    s.begin_totp("ada", b"second", 11)?,
                    "a newer one replaces it"
                );
                let waiting = s.find_totp("ada")?.unwrap();
                assert_eq!(
                    (waiting.secret.as_slice(), waiting.enabled),
                    (&b"second"[..], false)
                );
                assert!(!s.mfa_summary("ada")?.totp);

                assert!(s.enable_totp("ada", 12)?);
                assert!(!s.enable_totp("ada", 13)?, "already on");
                assert!(!s.begin_totp("ada", b"third", 14)?, "on: no new enrolment");
                let on = s.find_totp("ada")?.unwrap();
                assert_eq!((on.secret.as_slice(), on.enabled), (&b"second"[..], true));

                s.replace_recovery_codes("ada", &digests(10))?;
                let state = MfaState {
                    totp: true,
                    recovery_codes_left: 10,
                    passkeys: 0,
                };
                assert_eq!(s.mfa_summary("ada")?, state);
                s.replace_recovery_codes("ada", &digests(3))?;
                assert_eq!(s.mfa_summary("ada")?.recovery_codes_left, 3);
                assert!(s.spend_recovery_code("ada", &[1; 32])?);
                assert!(!s.spend_recovery_code("ada", &[1; 32])?, "each once");
                assert!(!s.spend_recovery_code("bob", &[2; 32])?, "not bob's");
                assert_eq!(s.mfa_summary("ada")?.recovery_codes_left, 2);

                s.set_totp_secret("ada", b"sealed")?;
                assert_eq!(
                    s.list_totp_secrets()?,
                    vec![("ada".to_string(), b"sealed".to_vec())]
                );

                assert!(s.remove_mfa("ada")?);
                assert!(!s.remove_mfa("ada")?);
                assert!(s.find_totp("ada")?.is_none());
                assert_eq!(s.mfa_summary("ada")?, MfaState::default());
                assert!(s.begin_totp("bob", b"waiting", 20)?);
                assert!(!s.remove_mfa("bob")?, "a waiting enrolment was not on");
                assert!(s.find_totp("bob")?.is_none());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_step_is_taken_once_tokens_are_spent_once_and_both_are_pruned() {
    on_every_engine("mfa steps", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_user(&user("bob"), 1)?;
                assert!(s.use_totp_step("ada", 100)?);
                assert!(!s.use_totp_step("ada", 100)?, "a replay");
                assert!(s.use_totp_step("ada", 101)?);
                assert!(s.use_totp_step("bob", 100)?, "per account");

                s.create_mfa_token(&[9; 32], "ada", 500)?;
                s.create_mfa_token(&[8; 32], "bob", 900)?;
                let found = s.find_mfa_token(&[9; 32])?;
                let token = MfaToken {
                    user_id: "ada".into(),
                    expires_at: 500,
                };
                assert_eq!(found, Some(token));
                assert_eq!(s.find_mfa_token(&[7; 32])?, None);
                assert!(s.spend_mfa_token(&[9; 32])?);
                assert!(!s.spend_mfa_token(&[9; 32])?);
                assert_eq!(s.find_mfa_token(&[9; 32])?, None);

                assert_eq!(s.prune_mfa(101, 901)?, 2, "steps 100 of ada and bob");
                assert!(s.use_totp_step("ada", 100)?, "pruned");
                assert!(!s.use_totp_step("ada", 101)?, "kept");
                assert_eq!(s.find_mfa_token(&[8; 32])?, None, "expired, pruned");
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn erasing_a_user_removes_their_second_factor() {
    on_every_engine("mfa erase", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.begin_totp("ada", b"secret", 2)?;
                s.enable_totp("ada", 3)?;
                s.replace_recovery_codes("ada", &digests(10))?;
                s.use_totp_step("ada", 7)?;
                s.create_mfa_token(&[9; 32], "ada", 500)?;
                assert!(s.erase_user("ada")?);
                s.insert_user(&user("ada"), 4)?;
                assert!(s.find_totp("ada")?.is_none());
                assert_eq!(s.mfa_summary("ada")?, MfaState::default());
                assert!(s.use_totp_step("ada", 7)?);
                assert_eq!(s.find_mfa_token(&[9; 32])?, None);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn of_eight_racing_uses_of_one_code_exactly_one_is_taken() {
    on_every_engine("mfa replay race", |engine| {
        let db = &engine.db;
        db.transaction(|s| s.insert_user(&user("ada"), 1)).unwrap();
        let taken = at_once(db, 8, |db, _| {
            db.transaction(|s| s.use_totp_step("ada", 55_000_000))
                .unwrap()
        });
        assert_eq!(taken.iter().filter(|t| **t).count(), 1, "{taken:?}");
        // And of eight spending one recovery code, one.
        db.transaction(|s| s.replace_recovery_codes("ada", &digests(10)))
            .unwrap();
        let spent = at_once(db, 8, |db, _| {
            db.transaction(|s| s.spend_recovery_code("ada", &[4; 32]))
                .unwrap()
        });
        assert_eq!(spent.iter().filter(|t| **t).count(), 1, "{spent:?}");
    });
}
