//! What the database said of an API key within the last half second, so that
//! a backend calling the admin API again and again costs no database read per
//! request; and the uses waiting to be recorded.
//!
//! Unlike the session cache, it is kept on PostgreSQL too: an entry stands
//! for `FRESH` at most, so a key revoked or expired anywhere is refused by
//! every instance within it. A revocation made through this server clears it
//! at once. An expiry is checked on every use, cached or not.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::store::ApiKey;

/// How long an entry stands.
pub const FRESH: Duration = Duration::from_millis(500);

/// A key's use is recorded at most once in this many seconds.
pub const USE_EVERY: u64 = 60;

/// Entries kept at most; past it the cache starts again empty.
const CAPACITY: usize = 10_000;

/// None: no key has that digest.
pub type Found = Option<ApiKey>;

#[derive(Default)]
pub struct KeyCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts the clears: an answer read before one is not stored after it.
    epoch: u64,
    /// By the key's digest.
    entries: HashMap<Vec<u8>, (Instant, Found)>,
    /// When this process last queued a use of each key (by id), and the uses
    /// queued for the upkeep thread to record.
    noted: HashMap<String, u64>,
    pending: HashMap<String, u64>,
}

impl KeyCache {
    /// What was read of `digest` within `FRESH`, if anything.
    pub fn get(&self, digest: &[u8]) -> Option<Found> {
        let inner = self.lock();
        let (at, found) = inner.entries.get(digest)?;
        (at.elapsed() < FRESH).then(|| found.clone())
    }

    /// Take before reading the key; give to `put` with what was read.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Keeps what was read of `digest` at `epoch`, unless a clear came since.
    pub fn put(&self, epoch: u64, digest: &[u8], found: Found, read_at: Instant) {
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        inner.entries.insert(digest.to_vec(), (read_at, found));
    }

    /// Forgets every key read: call after a change to keys has committed.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.entries.clear();
    }

    /// Queues a use of `key` at `now`, unless one within `USE_EVERY` is
    /// recorded or queued already.
    pub fn note_use(&self, key: &ApiKey, now: u64) {
        let recent = |at: u64| now < at.saturating_add(USE_EVERY);
        if key.last_used_at.is_some_and(recent) {
            return;
        }
        let mut inner = self.lock();
        if inner.noted.get(&key.id).is_some_and(|&at| recent(at)) {
            return;
        }
        if inner.noted.len() >= CAPACITY {
            inner.noted.clear();
        }
        inner.noted.insert(key.id.clone(), now);
        inner.pending.insert(key.id.clone(), now);
    }

    /// The uses queued since the last call, as (key id, when).
    pub fn take_uses(&self) -> Vec<(String, u64)> {
        self.lock().pending.drain().collect()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(last_used_at: Option<u64>) -> ApiKey {
        ApiKey {
            id: "k".into(),
            name: "k".into(),
            scopes: vec!["users:read".into()],
            created_at: 0,
            expires_at: None,
            last_used_at,
            revoked_at: None,
        }
    }

    #[test]
    fn an_answer_read_before_a_clear_is_not_kept_after_it() {
        let cache = KeyCache::default();
        let epoch = cache.epoch();
        cache.clear();
        cache.put(epoch, b"d", Some(key(None)), Instant::now());
        assert!(cache.get(b"d").is_none());
        cache.put(cache.epoch(), b"d", None, Instant::now());
        assert_eq!(cache.get(b"d"), Some(None));
    }

    #[test]
    fn an_entry_goes_stale_after_fresh() {
        let cache = KeyCache::default();
        cache.put(cache.epoch(), b"d", None, Instant::now() - FRESH);
        assert!(cache.get(b"d").is_none());
    }

    #[test]
    fn a_use_is_queued_at_most_once_a_minute_per_key() {
        let cache = KeyCache::default();
        cache.note_use(&key(None), 1000);
        cache.note_use(&key(None), 1059);
        assert_eq!(cache.take_uses(), vec![("k".to_string(), 1000)]);
        cache.note_use(&key(Some(1000)), 1030);
        assert!(cache.take_uses().is_empty());
        cache.note_use(&key(Some(1000)), 1060);
        assert_eq!(cache.take_uses(), vec![("k".to_string(), 1060)]);
        // Recorded by another instance a moment ago: nothing to do here.
        let cache = KeyCache::default();
        cache.note_use(&key(Some(1990)), 2000);
        assert!(cache.take_uses().is_empty());
    }
}
