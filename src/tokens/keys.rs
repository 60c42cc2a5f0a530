//! The keyring as a running server sees it: built again when another process
//! rotates or retires a key, and when a retired key's last token expires.

use std::sync::{Arc, Mutex, RwLock, TryLockError};
use std::time::{Duration, Instant};

use super::{
    ensure_key, load_ring, AccessClaims, Algorithm, Keyring, Sealer, TokenError, Verified,
};
use crate::clock::now;
use crate::store::{Database, Store};

/// What a server's keys are made and read with.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The longest a token lives: a retired key is published until then.
    pub lifetime: u64,
    /// Carried by every token as `aud`, and required of every token read.
    pub audience: Option<String>,
    /// The algorithm of the first key, when the database has none.
    pub algorithm: Algorithm,
    pub sealer: Sealer,
}

impl Policy {
    /// EdDSA, no audience, no master key.
    pub fn plain(lifetime: u64) -> Policy {
        Policy {
            lifetime,
            audience: None,
            algorithm: Algorithm::EdDSA,
            sealer: Sealer::plain(),
        }
    }
}

pub struct Keys {
    ring: RwLock<Arc<Keyring>>,
    seen: Mutex<Seen>,
    policy: Policy,
}

struct Seen {
    at: Instant,
    generation: (i64, i64, i64),
}

/// How often a running server looks for keys rotated or retired by another
/// process: a retired key is refused within a second.
const RECHECK: Duration = Duration::from_millis(500);

impl Keys {
    /// `open` with `Policy::plain(lifetime)`.
    pub fn load(db: &Database, lifetime: u64) -> Result<Keys, String> {
        Keys::open(db, Policy::plain(lifetime))
    }

    /// Checks the master key (sealing a plain database in place), creates the
    /// first key in a new database, and loads the ring.
    pub fn open(db: &Database, policy: Policy) -> Result<Keys, String> {
        ensure_key(db, &policy.sealer, policy.algorithm)?;
        let (generation, ring) = db.read(|store| {
            let generation = store.key_generation()?;
            let ring = load_ring(
                store,
                policy.lifetime,
                policy.audience.clone(),
                &policy.sealer,
            )?;
            Ok::<_, String>((generation, ring))
        })?;
        Ok(Keys {
            ring: RwLock::new(Arc::new(ring)),
            seen: Mutex::new(Seen {
                at: Instant::now(),
                generation,
            }),
            policy,
        })
    }

    /// Verifies an access token, or finds it verified before by the same ring.
    pub fn verify_access(
        &self,
        store: &mut dyn Store,
        token: &str,
        issuer: &str,
    ) -> Result<Verified<AccessClaims>, TokenError> {
        self.ring(store).verify_access_cached(token, issuer)
    }

    /// The keyring, checked against the database at most every `RECHECK`.
    pub fn ring(&self, store: &mut dyn Store) -> Arc<Keyring> {
        self.reload_if_changed(store, false);
        self.cached()
    }

    /// The keyring, checked against the database now.
    pub fn fresh_ring(&self, store: &mut dyn Store) -> Arc<Keyring> {
        self.reload_if_changed(store, true);
        self.cached()
    }

    /// The keyring, if it was checked against the database within `RECHECK`
    /// and no key's liveness has changed since: what a request may use
    /// without a connection.
    pub fn checked_ring(&self) -> Option<Arc<Keyring>> {
        let fresh = self.seen.try_lock().ok()?.at.elapsed() < RECHECK;
        let ring = self.cached();
        let expiring = ring.changes_at().is_some_and(|at| at <= now());
        (fresh && !expiring).then_some(ring)
    }

    /// Another process changed the keys: the next request checks them.
    pub fn check_soon(&self) {
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(p) => p.into_inner(),
        };
        if let Some(long_ago) = Instant::now().checked_sub(RECHECK) {
            seen.at = long_ago;
        }
    }

    fn cached(&self) -> Arc<Keyring> {
        match self.ring.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn reload_if_changed(&self, store: &mut dyn Store, force: bool) {
        // A thread that finds another one checking goes on with the ring it has.
        let mut seen = match (force, self.seen.try_lock()) {
            (_, Ok(seen)) => seen,
            (_, Err(TryLockError::Poisoned(p))) => p.into_inner(),
            (false, Err(TryLockError::WouldBlock)) => return,
            (true, Err(TryLockError::WouldBlock)) => match self.seen.lock() {
                Ok(seen) => seen,
                Err(p) => p.into_inner(),
            },
        };
        if !force && seen.at.elapsed() < RECHECK {
            return;
        }
        seen.at = Instant::now();
        let Ok(generation) = store.key_generation() else {
            return;
        };
        let expiring = self.cached().changes_at().is_some_and(|at| at <= now());
        if generation == seen.generation && !expiring {
            return;
        }
        let policy = &self.policy;
        match load_ring(
            store,
            policy.lifetime,
            policy.audience.clone(),
            &policy.sealer,
        ) {
            Ok(ring) => {
                log::info!(
                    "signing keys changed; now signing with {}, {} keys published",
                    ring.current_kid(),
                    ring.jwks()["keys"].as_array().map_or(0, Vec::len)
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
