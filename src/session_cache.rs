//! What the database said of a session within the last half second, so that
//! a client asking `/user/me` again and again costs no database read.
//!
//! This server's own writes that can end a session clear it once committed,
//! so a revocation is seen at once. Another process's change (another
//! instance, `user set-status`, a seed) clears it as soon as the engine
//! tells (`Database::watch_changes`: PostgreSQL's notifications, within
//! milliseconds); and whatever the engine tells, an entry stands no longer
//! than `FRESH`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::store::User;

/// How long an entry stands.
pub const FRESH: Duration = Duration::from_millis(500);

/// Entries kept at most; past it the cache starts again empty.
const CAPACITY: usize = 50_000;

/// The session's user and whether the session is revoked; None: no such session.
pub type Found = Option<(User, bool)>;

/// `Found` as kept: the user shared, not copied on every hit, and without
/// the password hash.
pub type Kept = Option<(Arc<User>, bool)>;

#[derive(Default)]
pub struct SessionCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts the clears: an answer read before one is not stored after it.
    epoch: u64,
    entries: HashMap<String, (Instant, Kept)>,
}

impl SessionCache {
    /// What was read of `sid` within `FRESH`, if anything.
    pub fn get(&self, sid: &str) -> Option<Kept> {
        let inner = self.lock();
        let (at, found) = inner.entries.get(sid)?;
        (at.elapsed() < FRESH).then(|| found.clone())
    }

    /// Take before reading the session; give to `put` with what was read.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Keeps what was read of `sid` at `epoch`, unless a clear came since.
    pub fn put(&self, epoch: u64, sid: &str, found: Found, read_at: Instant) {
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        let kept = found.map(|(user, revoked)| {
            let shown = User {
                password_hash: None,
                ..user
            };
            (Arc::new(shown), revoked)
        });
        inner.entries.insert(sid.to_string(), (read_at, kept));
    }

    /// Forgets everything: call after a write that ended sessions has committed.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "u".into(),
            email: "a@b.c".into(),
            name: "A".into(),
            org_id: None,
            password_hash: None,
            status: crate::store::Status::Active,
            created_at: 0,
            roles: vec![],
        }
    }

    #[test]
    fn an_answer_read_before_a_clear_is_not_kept_after_it() {
        let cache = SessionCache::default();
        let epoch = cache.epoch();
        cache.clear();
        cache.put(epoch, "s", Some((user(), false)), Instant::now());
        assert!(cache.get("s").is_none());
        cache.put(cache.epoch(), "s", Some((user(), false)), Instant::now());
        assert_eq!(cache.get("s").and_then(|f| f.map(|(_, r)| r)), Some(false));
    }

    #[test]
    fn a_kept_user_has_no_password_hash() {
        let cache = SessionCache::default();
        let hashed = User {
            password_hash: Some("$pbkdf2-sha256$secret".into()),
            ..user()
        };
        cache.put(cache.epoch(), "s", Some((hashed, false)), Instant::now());
        let kept = cache.get("s").flatten().map(|(user, _)| user);
        assert_eq!(kept.map(|u| u.password_hash.clone()), Some(None));
    }

    #[test]
    fn an_entry_goes_stale_after_fresh() {
        let cache = SessionCache::default();
        let old = Instant::now() - FRESH;
        cache.put(cache.epoch(), "s", None, old);
        assert!(cache.get("s").is_none());
    }
}
