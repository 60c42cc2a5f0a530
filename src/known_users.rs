//! The users this server last signed tokens for, by id: what lets a refresh
//! sign its whole answer before its one write. Never trusted: the write goes
//! through only if the user is still active and as remembered (`Spent::user`),
//! so a stale entry costs one slower refresh, never a wrong answer. Nothing
//! needs clearing when another process changes a user.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::store::{Status, User};

/// Users kept at most; past it the map starts again empty.
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct KnownUsers {
    by_id: Mutex<HashMap<String, User>>,
}

impl KnownUsers {
    pub fn get(&self, id: &str) -> Option<User> {
        self.lock().get(id).cloned()
    }

    /// Keeps an active user as a token shows them (without the password hash).
    pub fn remember(&self, user: &User) {
        if user.status != Status::Active {
            return;
        }
        let mut by_id = self.lock();
        if by_id.len() >= CAPACITY {
            by_id.clear();
        }
        let shown = User {
            password_hash: None,
            ..user.clone()
        };
        by_id.insert(user.id.clone(), shown);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, User>> {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
