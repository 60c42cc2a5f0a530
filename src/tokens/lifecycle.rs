//! Making, rotating, distrusting and sealing signing keys. Each change is one
//! transaction that locks the key table and looks at it again inside, so two
//! processes at once never leave two current keys or none.

use jwt_simple::prelude::{ES256KeyPair, Ed25519KeyPair, RS256KeyPair};

use super::sealed_keys::{guard, live_keys, open_pairs, rewrites, sql};
use super::sealing::KEY_PAIRS;
use super::{Algorithm, Keyring, Sealer};
use crate::clock::now;
use crate::ids::new_id;
use crate::store::audit::CLI;
use crate::store::{AuditEvent, Database, KeyStore, Store, MASTER_KEY_CHECK};

type Outcome<T> = Result<T, String>;

/// Checks `sealer` against the database and every live key pair against it,
/// sealing or binding them in place where needed; then creates the first key
/// (of `algorithm`) if there is none. Nothing is written when it fails.
pub fn ensure_key(db: &Database, sealer: &Sealer, algorithm: Algorithm) -> Outcome<()> {
    let work = |store: &mut dyn KeyStore| {
        guard(store, sealer, None)?;
        if store.current_kid().map_err(sql)?.is_none() {
            let kid = add_key(store, sealer, algorithm)?;
            log::debug!("created the first signing key {kid} ({algorithm})");
        }
        Ok(())
    };
    rewriting_if_needed(db, sealer, work)
}

/// `work` in one transaction; where it will rewrite key pairs, the old bytes
/// are overwritten in the file, not left behind.
fn rewriting_if_needed<T>(
    db: &Database,
    sealer: &Sealer,
    work: impl FnOnce(&mut dyn KeyStore) -> Outcome<T>,
) -> Outcome<T> {
    db.change_keys(rewrites(db, sealer)?, work)
}

/// The size of an RS256 key (SPEC §3).
pub const RSA_BITS: usize = 2048;

fn add_key(store: &mut dyn KeyStore, sealer: &Sealer, algorithm: Algorithm) -> Outcome<String> {
    let kid = new_id()[..16].to_string();
    let pair = match algorithm {
        Algorithm::EdDSA => Ed25519KeyPair::generate().to_bytes(),
        Algorithm::ES256 => ES256KeyPair::generate().to_bytes(),
        Algorithm::RS256 => RS256KeyPair::generate(RSA_BITS)
            .and_then(|pair| pair.to_der())
            .map_err(|e| format!("cannot make an RSA key: {e}"))?,
    };
    let stored = sealer.seal(KEY_PAIRS, &kid, &pair);
    store
        .make_key_current(&kid, algorithm.as_str(), &stored, now())
        .map_err(sql)?;
    Ok(kid)
}

/// Adds a new key of `algorithm` and makes it current (on a new database, its
/// first key); returns its kid.
pub fn rotate(db: &Database, sealer: &Sealer, algorithm: Algorithm) -> Outcome<String> {
    let kid = rewriting_if_needed(db, sealer, |store| {
        guard(store, sealer, None)?;
        let kid = add_key(store, sealer, algorithm)?;
        note(store, "key.rotated", &kid)?;
        Ok::<_, String>(kid)
    })?;
    log::info!("signing key rotated: {kid} ({algorithm}) is current");
    Ok(kid)
}

/// Records a key change made from the command line (the only place keys change).
fn note(store: &mut dyn KeyStore, kind: &str, kid: &str) -> Outcome<()> {
    let event = AuditEvent::new(kind, CLI, now(), serde_json::json!({ "kid": kid }));
    store.append_event(&event).map(drop).map_err(sql)
}

/// What `retire` did.
pub struct Retired {
    /// The key made current first, when the retired key was the current one.
    pub new_current: Option<String>,
    pub already: bool,
}

/// Distrusts key `kid` now: it leaves the JWKS and its tokens are refused. The
/// current key is first replaced by a new one of `algorithm`.
pub fn retire(db: &Database, sealer: &Sealer, algorithm: Algorithm, kid: &str) -> Outcome<Retired> {
    let retired = rewriting_if_needed(db, sealer, |store| {
        let key = store
            .list_keys()
            .map_err(sql)?
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| {
                format!("there is no signing key with the kid {kid} (see `authlite keys list`)")
            })?;
        if key.distrusted_at.is_some() {
            return Ok::<_, String>(Retired {
                new_current: None,
                already: true,
            });
        }
        let new_current = match key.retired_at {
            None => {
                // The key going may be the very one refused (planted or moved).
                guard(store, sealer, Some(kid))?;
                Some(add_key(store, sealer, algorithm)?)
            }
            Some(_) => None,
        };
        if let Some(new) = &new_current {
            note(store, "key.rotated", new)?;
        }
        store.distrust_key(kid, now()).map_err(sql)?;
        note(store, "key.retired", kid)?;
        Ok(Retired {
            new_current,
            already: false,
        })
    })?;
    if !retired.already {
        log::warn!("signing key {kid} distrusted: its tokens are refused from now on");
    }
    Ok(retired)
}

/// The keyring as the database holds it now, its key pairs opened with `sealer`.
pub fn load_ring(
    store: &mut dyn Store,
    lifetime: u64,
    audience: Option<String>,
    sealer: &Sealer,
) -> Outcome<Keyring> {
    let mut stored = live_keys(store, None)?;
    let sealed = store.meta(MASTER_KEY_CHECK).map_err(sql)?.is_some();
    if sealed && !sealer.has_key() {
        return Err(
            "this database's signing keys are sealed, and no master key file was given".into(),
        );
    }
    if sealer.has_key() {
        open_pairs(&mut stored, sealer)?;
    }
    Keyring::from_stored(&stored, lifetime, now(), audience)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::{check_master_key, verify_master_key};

    fn db() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let db = Database::open(path.to_str().unwrap(), Default::default()).unwrap();
        (dir, db)
    }

    fn ring(db: &Database, sealer: &Sealer) -> Outcome<Keyring> {
        db.read(|s| load_ring(s, 100, None, sealer))
    }

    #[test]
    fn a_plain_database_is_sealed_in_place_and_then_needs_the_same_key() {
        let (_dir, db) = db();
        let plain = Sealer::plain();
        ensure_key(&db, &plain, Algorithm::EdDSA).unwrap();
        let before = ring(&db, &plain).unwrap();
        let key = Sealer::with_secret(&[9; 32]).unwrap();
        ensure_key(&db, &key, Algorithm::EdDSA).unwrap();
        let after = ring(&db, &key).unwrap();
        assert_eq!(before.jwks(), after.jwks());
        assert!(ring(&db, &plain).is_err());

        let other = Sealer::with_secret(&[8; 32]).unwrap();
        let stored = db.read(|s| s.list_keys()).unwrap();
        for sealer in [&plain, &other] {
            assert!(ensure_key(&db, sealer, Algorithm::EdDSA).is_err());
            assert!(rotate(&db, sealer, Algorithm::EdDSA).is_err());
        }
        let unchanged = db.read(|s| s.list_keys()).unwrap();
        assert_eq!(stored.len(), unchanged.len());
        assert_eq!(stored[0].key_pair, unchanged[0].key_pair);
        assert!(verify_master_key(&db, &other).is_err());
        assert!(verify_master_key(&db, &key).is_ok());
    }

    #[test]
    fn retiring_the_current_key_makes_a_new_one_current_first() {
        let (_dir, db) = db();
        let plain = Sealer::plain();
        ensure_key(&db, &plain, Algorithm::EdDSA).unwrap();
        let first = db.read(|s| s.current_kid()).unwrap().unwrap();
        let retired = retire(&db, &plain, Algorithm::ES256, &first).unwrap();
        let new = retired.new_current.unwrap();
        assert_eq!(
            db.read(|s| s.current_kid()).unwrap().as_deref(),
            Some(new.as_str())
        );
        let ring = ring(&db, &plain).unwrap();
        assert_eq!(ring.algorithms(), ["ES256"]);
        assert!(
            retire(&db, &plain, Algorithm::EdDSA, &first)
                .unwrap()
                .already
        );
        assert!(retire(&db, &plain, Algorithm::EdDSA, "nope").is_err());
    }

    #[test]
    fn check_master_key_refuses_where_ensure_key_would_and_writes_nothing() {
        let (_dir, db) = db();
        let key = Sealer::with_secret(&[9; 32]).unwrap();
        let other = Sealer::with_secret(&[8; 32]).unwrap();
        assert!(check_master_key(&db, &key).is_ok());
        assert_eq!(db.read(|s| s.meta(MASTER_KEY_CHECK)).unwrap(), None);
        ensure_key(&db, &key, Algorithm::EdDSA).unwrap();
        assert!(check_master_key(&db, &key).is_ok());
        for sealer in [&Sealer::plain(), &other] {
            assert!(check_master_key(&db, sealer).is_err());
            assert!(ensure_key(&db, sealer, Algorithm::EdDSA).is_err());
        }

        let planted = Ed25519KeyPair::generate().to_bytes();
        db.change_keys(false, |s| {
            s.make_key_current("planted", "EdDSA", &planted, now())
        })
        .unwrap();
        let refused = check_master_key(&db, &key).unwrap_err();
        assert!(refused.contains("planted"), "{refused}");
        assert!(ensure_key(&db, &key, Algorithm::EdDSA).is_err());
    }
}
