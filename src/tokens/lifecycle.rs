//! Making, rotating, distrusting and sealing signing keys. Each change is one
//! transaction that locks the key table and looks at it again inside, so two
//! processes at once never leave two current keys or none.

use jwt_simple::prelude::{ES256KeyPair, Ed25519KeyPair};

use super::sealing::KEY_PAIRS;
use super::{Algorithm, Keyring, Sealer};
use crate::db::{new_id, now};
use crate::store::{Database, KeyStore, Store, StoreError, MASTER_KEY_CHECK};

type Outcome<T> = Result<T, String>;

fn sql(e: StoreError) -> String {
    format!("the signing keys cannot be read or written: {e}")
}

/// Checks `sealer` against the database and seals plain keys in place; then
/// creates the first key (of `algorithm`) if there is none. Nothing is written
/// when the master key is missing or another one.
pub fn ensure_key(db: &Database, sealer: &Sealer, algorithm: Algorithm) -> Outcome<()> {
    let sealing = sealer.has_key()
        && db
            .read(|s| s.meta(MASTER_KEY_CHECK))
            .map_err(sql)?
            .is_none();
    // When sealing, the plain key pairs' old bytes are overwritten, not left behind.
    db.change_keys(sealing, |store| {
        guard(store, sealer)?;
        if store.current_kid().map_err(sql)?.is_none() {
            let kid = add_key(store, sealer, algorithm)?;
            log::debug!("created the first signing key {kid} ({algorithm})");
        }
        Ok(())
    })
}

/// Fails with one sentence unless `sealer` opens this database's keys; with a
/// master key on a plain database, seals its keys in place and stores the check.
fn guard(store: &mut dyn KeyStore, sealer: &Sealer) -> Outcome<()> {
    match (store.meta(MASTER_KEY_CHECK).map_err(sql)?, sealer.has_key()) {
        (None, false) => Ok(()),
        (Some(check), true) if sealer.matches(&check) => Ok(()),
        (Some(_), true) => Err(
            "the master key file is not the one this database's signing keys are sealed with"
                .into(),
        ),
        (Some(_), false) => Err(
            "this database's signing keys are sealed: give its master key file with \
             --master-key-file (or AUTHLITE_MASTER_KEY_FILE)"
                .into(),
        ),
        (None, true) => {
            let stored = store.list_keys().map_err(sql)?;
            for key in &stored {
                let sealed = sealer.seal_for(KEY_PAIRS, &key.key_pair);
                store.set_key_pair(&key.kid, &sealed).map_err(sql)?;
            }
            store
                .set_meta(MASTER_KEY_CHECK, &sealer.check_value())
                .map_err(sql)?;
            // Reuse-grace answers stored plain hold live tokens: they go, as they
            // would within a minute anyway (a tab racing this start gets TOKEN_REUSED).
            store.forget_grace_answers().map_err(sql)?;
            log::info!("sealed {} signing keys with the master key", stored.len());
            Ok(())
        }
    }
}

/// Only checks that `sealer` is this database's master key (or that it has none
/// and needs none), for commands that do not touch the keys.
pub fn verify_master_key(db: &Database, sealer: &Sealer) -> Outcome<()> {
    match db.read(|s| s.meta(MASTER_KEY_CHECK)).map_err(sql)? {
        Some(check) if sealer.has_key() && !sealer.matches(&check) => Err(
            "the master key file is not the one this database's signing keys are sealed with"
                .into(),
        ),
        _ => Ok(()),
    }
}

fn add_key(store: &mut dyn KeyStore, sealer: &Sealer, algorithm: Algorithm) -> Outcome<String> {
    let kid = new_id()[..16].to_string();
    let pair = match algorithm {
        Algorithm::EdDSA => Ed25519KeyPair::generate().to_bytes(),
        Algorithm::ES256 => ES256KeyPair::generate().to_bytes(),
    };
    let stored = sealer.seal_for(KEY_PAIRS, &pair);
    store
        .make_key_current(&kid, algorithm.as_str(), &stored, now())
        .map_err(sql)?;
    Ok(kid)
}

/// Adds a new key of `algorithm` and makes it current; returns its kid.
pub fn rotate(db: &Database, sealer: &Sealer, algorithm: Algorithm) -> Outcome<String> {
    let had_key = db.read(|s| s.current_kid()).map_err(sql)?.is_some();
    ensure_key(db, sealer, algorithm)?;
    if !had_key {
        // A new database: its first key is the new one.
        return db
            .read(|s| s.current_kid())
            .map_err(sql)?
            .ok_or_else(|| "no signing key was made".to_string());
    }
    let kid = db.change_keys(false, |store| {
        guard(store, sealer)?;
        add_key(store, sealer, algorithm)
    })?;
    log::info!("signing key rotated: {kid} ({algorithm}) is current");
    Ok(kid)
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
    let retired = db.change_keys(false, |store| {
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
                guard(store, sealer)?;
                Some(add_key(store, sealer, algorithm)?)
            }
            Some(_) => None,
        };
        store.distrust_key(kid, now()).map_err(sql)?;
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
    let mut stored = store.list_keys().map_err(sql)?;
    let sealed = store.meta(MASTER_KEY_CHECK).map_err(sql)?.is_some();
    if sealed {
        for key in stored.iter_mut().filter(|k| k.distrusted_at.is_none()) {
            key.key_pair = sealer
                .open_for(KEY_PAIRS, &key.key_pair)
                .map_err(|e| format!("signing key {}: {e}", key.kid))?;
        }
    }
    Keyring::from_stored(&stored, lifetime, now(), audience)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
