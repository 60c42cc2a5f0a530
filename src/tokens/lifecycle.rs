//! Making, rotating, distrusting and sealing signing keys. Each change is one
//! IMMEDIATE transaction that looks again at the table inside it, so two
//! processes at once never leave two current keys or none.

use jwt_simple::prelude::{ES256KeyPair, Ed25519KeyPair};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::sealing::KEY_PAIRS;
use super::{Algorithm, Keyring, Sealer};
use crate::db::{new_id, now};
use crate::store::keys::{self, MASTER_KEY_CHECK};
use crate::store::sessions;

type Outcome<T> = Result<T, String>;

fn sql(e: rusqlite::Error) -> String {
    format!("the signing keys cannot be read or written: {e}")
}

/// Takes the write lock at once, so that what is read next stays true until commit.
fn immediate(conn: &Connection) -> Outcome<Transaction<'_>> {
    Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(sql)
}

/// Checks `sealer` against the database and seals plain keys in place; then
/// creates the first key (of `algorithm`) if there is none. Nothing is written
/// when the master key is missing or another one.
pub fn ensure_key(conn: &Connection, sealer: &Sealer, algorithm: Algorithm) -> Outcome<()> {
    let sealing = sealer.has_key() && keys::meta(conn, MASTER_KEY_CHECK).map_err(sql)?.is_none();
    if sealing {
        // The plain key pairs' old bytes are overwritten, not left in free space.
        conn.execute_batch("PRAGMA secure_delete = ON")
            .map_err(sql)?;
    }
    let tx = immediate(conn)?;
    guard(&tx, sealer)?;
    if keys::current_kid(&tx).map_err(sql)?.is_none() {
        let kid = add_key(&tx, sealer, algorithm)?;
        log::debug!("created the first signing key {kid} ({algorithm})");
    }
    tx.commit().map_err(sql)?;
    if sealing {
        // Drop the log's copies of the pages that held plain keys.
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA secure_delete = OFF")
            .map_err(sql)?;
    }
    Ok(())
}

/// Fails with one sentence unless `sealer` opens this database's keys; with a
/// master key on a plain database, seals its keys in place and stores the check.
fn guard(tx: &Connection, sealer: &Sealer) -> Outcome<()> {
    match (
        keys::meta(tx, MASTER_KEY_CHECK).map_err(sql)?,
        sealer.has_key(),
    ) {
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
            let stored = keys::list(tx).map_err(sql)?;
            for key in &stored {
                let sealed = sealer.seal_for(KEY_PAIRS, &key.key_pair);
                keys::set_key_pair(tx, &key.kid, &sealed).map_err(sql)?;
            }
            keys::set_meta(tx, MASTER_KEY_CHECK, &sealer.check_value()).map_err(sql)?;
            // Reuse-grace answers stored plain hold live tokens: they go, as they
            // would within a minute anyway (a tab racing this start gets TOKEN_REUSED).
            sessions::forget_grace_answers(tx).map_err(sql)?;
            log::info!("sealed {} signing keys with the master key", stored.len());
            Ok(())
        }
    }
}

/// Only checks that `sealer` is this database's master key (or that it has none
/// and needs none), for commands that do not touch the keys.
pub fn verify_master_key(conn: &Connection, sealer: &Sealer) -> Outcome<()> {
    match keys::meta(conn, MASTER_KEY_CHECK).map_err(sql)? {
        Some(check) if sealer.has_key() && !sealer.matches(&check) => Err(
            "the master key file is not the one this database's signing keys are sealed with"
                .into(),
        ),
        _ => Ok(()),
    }
}

fn add_key(tx: &Connection, sealer: &Sealer, algorithm: Algorithm) -> Outcome<String> {
    let kid = new_id()[..16].to_string();
    let pair = match algorithm {
        Algorithm::EdDSA => Ed25519KeyPair::generate().to_bytes(),
        Algorithm::ES256 => ES256KeyPair::generate().to_bytes(),
    };
    let stored = sealer.seal_for(KEY_PAIRS, &pair);
    keys::make_current(tx, &kid, algorithm.as_str(), &stored, now()).map_err(sql)?;
    Ok(kid)
}

/// Adds a new key of `algorithm` and makes it current; returns its kid.
pub fn rotate(conn: &Connection, sealer: &Sealer, algorithm: Algorithm) -> Outcome<String> {
    let had_key = keys::current_kid(conn).map_err(sql)?.is_some();
    ensure_key(conn, sealer, algorithm)?;
    if !had_key {
        // A new database: its first key is the new one.
        return keys::current_kid(conn)
            .map_err(sql)?
            .ok_or_else(|| "no signing key was made".to_string());
    }
    let tx = immediate(conn)?;
    guard(&tx, sealer)?;
    let kid = add_key(&tx, sealer, algorithm)?;
    tx.commit().map_err(sql)?;
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
pub fn retire(
    conn: &Connection,
    sealer: &Sealer,
    algorithm: Algorithm,
    kid: &str,
) -> Outcome<Retired> {
    let tx = immediate(conn)?;
    let key = keys::list(&tx)
        .map_err(sql)?
        .into_iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| {
            format!("there is no signing key with the kid {kid} (see `authlite keys list`)")
        })?;
    if key.distrusted_at.is_some() {
        return Ok(Retired {
            new_current: None,
            already: true,
        });
    }
    let new_current = match key.retired_at {
        None => {
            guard(&tx, sealer)?;
            Some(add_key(&tx, sealer, algorithm)?)
        }
        Some(_) => None,
    };
    keys::distrust(&tx, kid, now()).map_err(sql)?;
    tx.commit().map_err(sql)?;
    log::warn!("signing key {kid} distrusted: its tokens are refused from now on");
    Ok(Retired {
        new_current,
        already: false,
    })
}

/// The keyring as the database holds it now, its key pairs opened with `sealer`.
pub fn load_ring(
    conn: &Connection,
    lifetime: u64,
    audience: Option<String>,
    sealer: &Sealer,
) -> Outcome<Keyring> {
    let mut stored = keys::list(conn).map_err(sql)?;
    let sealed = keys::meta(conn, MASTER_KEY_CHECK).map_err(sql)?.is_some();
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

    fn db() -> (tempfile::TempDir, crate::db::Pool) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open(&dir.path().join("k.db")).unwrap();
        (dir, pool)
    }

    #[test]
    fn a_plain_database_is_sealed_in_place_and_then_needs_the_same_key() {
        let (_dir, pool) = db();
        let conn = pool.get().unwrap();
        let plain = Sealer::plain();
        ensure_key(&conn, &plain, Algorithm::EdDSA).unwrap();
        let before = load_ring(&conn, 100, None, &plain).unwrap();
        let key = Sealer::with_secret(&[9; 32]).unwrap();
        ensure_key(&conn, &key, Algorithm::EdDSA).unwrap();
        let after = load_ring(&conn, 100, None, &key).unwrap();
        assert_eq!(before.jwks(), after.jwks());
        assert!(load_ring(&conn, 100, None, &plain).is_err());

        let other = Sealer::with_secret(&[8; 32]).unwrap();
        let stored = keys::list(&conn).unwrap();
        for sealer in [&plain, &other] {
            assert!(ensure_key(&conn, sealer, Algorithm::EdDSA).is_err());
            assert!(rotate(&conn, sealer, Algorithm::EdDSA).is_err());
        }
        let unchanged = keys::list(&conn).unwrap();
        assert_eq!(stored.len(), unchanged.len());
        assert_eq!(stored[0].key_pair, unchanged[0].key_pair);
        assert!(verify_master_key(&conn, &other).is_err());
        assert!(verify_master_key(&conn, &key).is_ok());
    }

    #[test]
    fn retiring_the_current_key_makes_a_new_one_current_first() {
        let (_dir, pool) = db();
        let conn = pool.get().unwrap();
        let plain = Sealer::plain();
        ensure_key(&conn, &plain, Algorithm::EdDSA).unwrap();
        let first = keys::current_kid(&conn).unwrap().unwrap();
        let retired = retire(&conn, &plain, Algorithm::ES256, &first).unwrap();
        let new = retired.new_current.unwrap();
        assert_eq!(
            keys::current_kid(&conn).unwrap().as_deref(),
            Some(new.as_str())
        );
        let ring = load_ring(&conn, 100, None, &plain).unwrap();
        assert_eq!(ring.algorithms(), ["ES256"]);
        assert!(
            retire(&conn, &plain, Algorithm::EdDSA, &first)
                .unwrap()
                .already
        );
        assert!(retire(&conn, &plain, Algorithm::EdDSA, "nope").is_err());
    }
}
