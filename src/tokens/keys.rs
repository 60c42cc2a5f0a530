//! The keyring as a running server sees it: reloaded when another process
//! rotates the keys, and a cache of access tokens already verified.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jwt_simple::prelude::Ed25519KeyPair;
use rusqlite::Connection;

use super::{AccessClaims, Keyring, TokenError, Verified};
use crate::db::{new_id, now, now_ms};
use crate::store::keys;

/// The keyring, reloaded when another process (`authlite keys rotate`) changes the keys.
pub struct Keys {
    ring: RwLock<Arc<Keyring>>,
    seen: Mutex<Seen>,
    lifetime: u64,
    verified: Mutex<HashMap<String, Verified<AccessClaims>>>,
}

/// Access tokens remembered as verified. A client sends the same token for up to
/// an hour, so most requests skip the ~110 us signature check; past this many
/// entries the cache starts over.
const VERIFIED_CAPACITY: usize = 8192;

struct Seen {
    at: Instant,
    generation: (i64, i64),
}

/// How often a running server looks for keys rotated by another process.
const RECHECK: Duration = Duration::from_secs(1);

impl Keys {
    /// Loads the keys, creating the first one in a new database. `lifetime` is the
    /// longest a token lives: a retired key is published until then.
    pub fn load(conn: &Connection, lifetime: u64) -> Result<Keys, String> {
        ensure_key(conn).map_err(|e| format!("cannot create a signing key: {e}"))?;
        let generation = keys::generation(conn).map_err(|e| e.to_string())?;
        let ring = load_ring(conn, lifetime)?;
        Ok(Keys {
            ring: RwLock::new(Arc::new(ring)),
            seen: Mutex::new(Seen {
                at: Instant::now(),
                generation,
            }),
            lifetime,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Verifies an access token, or finds it verified before. Only its expiry
    /// can change its answer since, so that alone is checked again.
    pub fn verify_access(
        &self,
        conn: &Connection,
        token: &str,
        issuer: &str,
    ) -> Result<Verified<AccessClaims>, TokenError> {
        let known = self.lock_verified().get(token).cloned();
        if let Some(verified) = known {
            return match verified.exp * 1000 >= now_ms() {
                true => Ok(verified),
                false => Err(TokenError::Expired),
            };
        }
        let verified = self.ring(conn).verify_access(token, issuer)?;
        let mut cache = self.lock_verified();
        if cache.len() >= VERIFIED_CAPACITY {
            cache.clear();
        }
        cache.insert(token.to_string(), verified.clone());
        Ok(verified)
    }

    fn lock_verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, Verified<AccessClaims>>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The keyring, checked against the database at most once a second.
    pub fn ring(&self, conn: &Connection) -> Arc<Keyring> {
        self.reload_if_changed(conn, false);
        self.cached()
    }

    /// The keyring, checked against the database now.
    pub fn fresh_ring(&self, conn: &Connection) -> Arc<Keyring> {
        self.reload_if_changed(conn, true);
        self.cached()
    }

    fn cached(&self) -> Arc<Keyring> {
        match self.ring.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn reload_if_changed(&self, conn: &Connection, force: bool) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if !force && seen.at.elapsed() < RECHECK {
            return;
        }
        seen.at = Instant::now();
        let Ok(generation) = keys::generation(conn) else {
            return;
        };
        if generation == seen.generation {
            return;
        }
        match load_ring(conn, self.lifetime) {
            Ok(ring) => {
                log::info!(
                    "signing keys changed; now signing with {}",
                    ring.current_kid()
                );
                if let Ok(mut slot) = self.ring.write() {
                    *slot = Arc::new(ring);
                }
                seen.generation = generation;
            }
            Err(e) => log::error!("cannot reload signing keys: {e}"),
        }
    }
}

fn load_ring(conn: &Connection, lifetime: u64) -> Result<Keyring, String> {
    let stored = keys::list(conn).map_err(|e| format!("cannot read signing keys: {e}"))?;
    Keyring::from_stored(&stored, lifetime, now())
}

/// Creates the first signing key if there is none.
pub fn ensure_key(conn: &Connection) -> rusqlite::Result<()> {
    let (count, _) = keys::generation(conn)?;
    if count == 0 {
        rotate(conn)?;
    }
    Ok(())
}

/// Adds a new key and makes it current; returns its kid.
pub fn rotate(conn: &Connection) -> rusqlite::Result<String> {
    let kid = new_id()[..16].to_string();
    let pair = Ed25519KeyPair::generate();
    keys::make_current(conn, &kid, &pair.to_bytes(), now())?;
    Ok(kid)
}
