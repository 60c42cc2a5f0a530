//! API keys: every method, with the exact values it must give back.

use super::on_every_engine;
use crate::store::{ApiKey, StoreError};

fn key(id: &str, created_at: u64) -> ApiKey {
    ApiKey {
        id: id.into(),
        name: format!("key {id}"),
        scopes: vec!["users:write".into(), "audit:read".into()],
        created_at,
        expires_at: Some(created_at + 100),
        last_used_at: None,
        revoked_at: None,
    }
}

#[test]
fn an_api_key_is_found_by_its_digest_listed_newest_first_and_revoked_once() {
    on_every_engine("api keys", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_api_key(&key("k1", 10), &[1; 32])?;
                let mut forever = key("k2", 20);
                forever.expires_at = None;
                forever.scopes = vec!["clients:write".into()];
                s.insert_api_key(&forever, &[2; 32])?;
                assert_eq!(s.find_api_key(&[1; 32])?, Some(key("k1", 10)));
                assert_eq!(s.find_api_key(&[2; 32])?, Some(forever.clone()));
                assert_eq!(s.find_api_key(&[3; 32])?, None);
                assert_eq!(s.list_api_keys()?, vec![forever, key("k1", 10)]);

                assert!(s.revoke_api_key("k1", 30)?);
                assert!(s.revoke_api_key("k1", 31)?);
                assert!(!s.revoke_api_key("none", 31)?);
                let revoked = s.find_api_key(&[1; 32])?.unwrap();
                assert_eq!(revoked.revoked_at, Some(30));
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_use_is_recorded_unless_a_later_one_is() {
    on_every_engine("api key uses", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_api_key(&key("k1", 10), &[1; 32])?;
                s.touch_api_key("k1", 50)?;
                s.touch_api_key("k1", 40)?;
                s.touch_api_key("none", 60)?;
                assert_eq!(s.find_api_key(&[1; 32])?.unwrap().last_used_at, Some(50));
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn two_keys_cannot_share_a_digest() {
    on_every_engine("api key digests", |engine| {
        engine
            .db
            .transaction(|s| s.insert_api_key(&key("k1", 10), &[1; 32]))
            .unwrap();
        let again = engine
            .db
            .transaction(|s| s.insert_api_key(&key("k2", 10), &[1; 32]));
        assert!(again.is_err());
        let ids: Vec<String> = engine
            .db
            .read(|s| s.list_api_keys())
            .unwrap()
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids, ["k1"]);
    });
}
