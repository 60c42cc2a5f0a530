//! Which lockouts the audit log has already recorded. A locked account or
//! address answers 429 without hashing anything, so a flood of attempts on it
//! comes as fast as the network allows: one `login.locked` event per lock, not
//! per attempt, keeps the log from growing with the flood.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Past this many notes, those of locks that have lifted are dropped. Notes
/// still running are kept: each stands for a lock that took `--max-failures`
/// hashed attempts to reach, so hashing bounds how many there are.
const TIDY_PAST: usize = 1024;

#[derive(Default)]
pub struct LockNotes(Mutex<HashMap<String, u64>>);

impl LockNotes {
    /// Whether the lock of `key` until `until` is new (then it is noted):
    /// false for every later attempt on the same lock.
    pub fn first(&self, key: &str, until: u64, now: u64) -> bool {
        let mut notes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if notes.get(key) == Some(&until) {
            return false;
        }
        if notes.len() >= TIDY_PAST {
            notes.retain(|_, lifts| *lifts > now);
        }
        notes.insert(key.to_string(), until);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_noted_once_and_a_new_lock_of_the_same_key_again() {
        let notes = LockNotes::default();
        assert!(notes.first("email:a@b.c", 100, 10));
        assert!(!notes.first("email:a@b.c", 100, 11));
        assert!(notes.first("ip:192.0.2.1", 100, 11));
        assert!(notes.first("email:a@b.c", 200, 150));
    }

    #[test]
    fn lifted_locks_are_dropped_once_there_are_many() {
        let notes = LockNotes::default();
        for i in 0..TIDY_PAST {
            notes.first(&format!("k{i}"), 10, 0);
        }
        notes.first("new", 100, 20);
        let kept = notes.0.lock().unwrap();
        assert_eq!(kept.len(), 1);
    }
}
