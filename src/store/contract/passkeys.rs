//! Passkeys and ceremonies: every method with the exact values it must give
//! back, and the race of two finishes (a ceremony taken once, whoever races).

use super::races::at_once;
use super::{on_every_engine, user};
use crate::store::{Ceremony, CeremonyKind, PasskeyUse, StoreError, StoredPasskey};

fn passkey(id: &str, user_id: &str, credential_id: u8, created_at: u64) -> StoredPasskey {
    StoredPasskey {
        id: id.into(),
        user_id: user_id.into(),
        credential_id: vec![credential_id; 16],
        name: format!("key {id}"),
        credential: format!("{{\"record\":\"{id}\"}}"),
        sign_count: 0,
        backup_eligible: true,
        backup_state: false,
        created_at,
        last_used_at: None,
    }
}

fn ceremony(digest: u8, kind: CeremonyKind, user_id: Option<&str>) -> Ceremony {
    Ceremony {
        digest: vec![digest; 32],
        kind,
        user_id: user_id.map(str::to_string),
        state: format!("{{\"challenge\":{digest}}}"),
        expires_at: 1_000 + u64::from(digest),
    }
}

#[test]
fn passkeys_are_added_once_listed_used_counted_and_removed() {
    on_every_engine("passkeys", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_user(&user("bob"), 1)?;
                assert_eq!(s.list_passkeys("ada")?, vec![]);
                let (first, second) = (passkey("p1", "ada", 1, 20), passkey("p2", "ada", 2, 10));
                assert!(s.add_passkey(&first)?);
                assert!(s.add_passkey(&second)?);
                assert!(
                    !s.add_passkey(&passkey("p3", "bob", 1, 30))?,
                    "a credential id is registered once, whoever asks"
                );
                assert_eq!(s.list_passkeys("ada")?, vec![second.clone(), first.clone()]);
                assert_eq!(s.list_passkeys("bob")?, vec![]);
                assert_eq!(s.count_passkeys("ada")?, 2);
                assert_eq!(s.mfa_summary("ada")?.passkeys, 2);
                assert_eq!(s.find_passkey_by_credential(&[1; 16])?, Some(first.clone()));
                assert_eq!(s.find_passkey_by_credential(&[9; 16])?, None);

                let used = PasskeyUse {
                    credential: "{\"record\":\"used\"}".into(),
                    sign_count: 7,
                    backup_eligible: true,
                    backup_state: true,
                    at: 50,
                };
                s.use_passkey("p1", &used)?;
                let found = s.find_passkey_by_credential(&[1; 16])?.unwrap();
                assert_eq!(
                    found,
                    StoredPasskey {
                        credential: used.credential.clone(),
                        sign_count: 7,
                        backup_state: true,
                        last_used_at: Some(50),
                        ..first
                    }
                );

                assert!(!s.remove_passkey("bob", "p1")?, "not bob's");
                assert!(s.remove_passkey("ada", "p1")?);
                assert!(!s.remove_passkey("ada", "p1")?, "gone already");
                assert_eq!(s.find_passkey_by_credential(&[1; 16])?, None);
                assert_eq!(s.remove_passkeys("ada")?, 1);
                assert_eq!(s.count_passkeys("ada")?, 0);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_ceremony_is_taken_once_of_its_kind_and_user_and_pruned_when_expired() {
    on_every_engine("passkey ceremonies", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_user(&user("bob"), 1)?;
                let register = ceremony(1, CeremonyKind::Register, Some("ada"));
                let login = ceremony(2, CeremonyKind::Login, None);
                s.create_ceremony(&register)?;
                s.create_ceremony(&login)?;
                let take =
                    |s: &mut dyn crate::store::Store, d: u8, k, u| s.take_ceremony(&[d; 32], k, u);
                assert_eq!(
                    take(s, 1, CeremonyKind::Register, Some("bob"))?,
                    None,
                    "not bob's"
                );
                assert_eq!(
                    take(s, 1, CeremonyKind::Login, None)?,
                    None,
                    "not a sign-in"
                );
                assert_eq!(take(s, 2, CeremonyKind::Register, Some("ada"))?, None);
                assert_eq!(
                    take(s, 1, CeremonyKind::Register, Some("ada"))?,
                    Some(register)
                );
                assert_eq!(
                    take(s, 1, CeremonyKind::Register, Some("ada"))?,
                    None,
                    "spent"
                );
                assert_eq!(take(s, 2, CeremonyKind::Login, None)?, Some(login));

                s.create_ceremony(&ceremony(3, CeremonyKind::Login, None))?;
                s.create_ceremony(&ceremony(9, CeremonyKind::Login, None))?;
                assert_eq!(s.prune_ceremonies(1_005)?, 1, "expired at 1003, not 1009");
                assert_eq!(take(s, 3, CeremonyKind::Login, None)?, None);
                assert!(take(s, 9, CeremonyKind::Login, None)?.is_some());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        // Erasing the user removes their passkeys and ceremonies (FK cascade).
        engine
            .db
            .transaction(|s| {
                s.add_passkey(&passkey("p1", "bob", 5, 1))?;
                s.create_ceremony(&ceremony(4, CeremonyKind::Register, Some("bob")))?;
                s.erase_user("bob")?;
                assert_eq!(s.find_passkey_by_credential(&[5; 16])?, None);
                assert_eq!(
                    s.take_ceremony(&[4; 32], CeremonyKind::Register, Some("bob"))?,
                    None
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn of_eight_racing_finishes_of_one_ceremony_one_takes_it() {
    on_every_engine("passkey ceremony race", |engine| {
        let db = &engine.db;
        db.transaction(|s| s.create_ceremony(&ceremony(7, CeremonyKind::Login, None)))
            .unwrap();
        let taken = at_once(db, 8, |db, _| {
            db.write(|s| s.take_ceremony(&[7; 32], CeremonyKind::Login, None))
                .unwrap()
        });
        assert_eq!(taken.iter().filter(|t| t.is_some()).count(), 1, "{taken:?}");
    });
}
