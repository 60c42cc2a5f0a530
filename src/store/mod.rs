//! All SQL lives below here, one folder per engine: `sqlite/` (the embedded
//! default) and `postgres/` (several instances on one database). Both give the
//! rest of the program the one interface `Store`; `Database` opens either and
//! runs work on it. Nothing here knows about HTTP.

use std::fmt;

mod database;
mod model;
pub mod postgres;
pub mod sqlite;

pub use database::{Database, Synchronous};
pub use model::*;

/// Why a store operation failed.
#[derive(Clone, Debug)]
pub enum StoreError {
    /// The database is unreachable or busy right now; the same call may work later.
    Unavailable(String),
    /// Anything else: a broken database or a bug.
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(why) | StoreError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for String {
    fn from(e: StoreError) -> String {
        e.to_string()
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Blocking threads per HTTP worker (actix's `worker_max_blocking_threads`):
/// each may hold one connection at a time, which sizes the pools.
pub const BLOCKING_THREADS_PER_WORKER: usize = 8;

/// Every read and write the program makes, on one connection (inside a
/// transaction when `Database::write` or `Database::transaction` gave it).
/// Each method is one statement unless it says otherwise.
pub trait Store {
    // Users and orgs.
    fn find_user_by_email(&mut self, email: &str) -> Result<Option<User>>;
    fn find_user_by_id(&mut self, id: &str) -> Result<Option<User>>;
    /// The user of session `sid`, and whether that session is revoked.
    fn find_user_by_session(&mut self, sid: &str) -> Result<Option<(User, bool)>>;
    /// Every user, oldest first.
    fn list_users(&mut self) -> Result<Vec<User>>;
    fn insert_user(&mut self, user: &User, now: u64) -> Result<()>;
    /// Name, org and status: what a seed file may change about an existing user.
    fn update_user_profile(&mut self, user: &User, now: u64) -> Result<()>;
    fn set_password_hash(&mut self, user_id: &str, hash: &str, now: u64) -> Result<()>;
    fn set_user_status(&mut self, user_id: &str, status: Status, now: u64) -> Result<()>;
    /// The org's name, or None if there is no org with that id.
    fn org_name(&mut self, id: &str) -> Result<Option<String>>;
    fn upsert_org(&mut self, id: &str, name: &str) -> Result<()>;
    /// Until the transaction ends, no other one applies a seed file: what one
    /// seed reads of orgs and users stays true until it commits.
    fn lock_seeding(&mut self) -> Result<()>;

    // Sessions, each also the refresh record of its newest token.
    fn create_session(&mut self, session: &Session, refresh: &NewRefresh) -> Result<()>;
    fn find_session(&mut self, id: &str) -> Result<Option<Session>>;
    /// The user's sessions that are neither revoked nor expired, newest first.
    fn list_live_sessions(&mut self, user_id: &str, now: u64) -> Result<Vec<Session>>;
    fn count_live_sessions(&mut self, now: u64) -> Result<i64>;
    /// Revokes one session; false if it was already revoked or does not exist.
    fn revoke_session(&mut self, id: &str, now: u64) -> Result<bool>;
    /// Revokes every session of the user but `keep`, if given; returns how many.
    fn revoke_user_sessions(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<usize>;
    fn find_refresh(&mut self, sid: &str) -> Result<Option<RefreshRecord>>;
    /// Spends the session's newest token `spent_jti` and records `next` in its
    /// place, with the answer to replay within the grace. One conditional UPDATE:
    /// false if another use came first or the session has ended.
    fn rotate_refresh(
        &mut self,
        sid: &str,
        spent_jti: &str,
        next: &NewRefresh,
        now_ms: u64,
        grace_answer: &[u8],
    ) -> Result<bool>;
    /// Deletes up to PRUNE_CHUNK sessions whose newest token has expired; returns how many.
    fn prune_expired_sessions(&mut self, now: u64) -> Result<usize>;
    /// Clears up to PRUNE_CHUNK grace answers spent before `spent_before_ms`.
    fn clear_grace_answers(&mut self, spent_before_ms: u64) -> Result<usize>;
    /// Clears every stored grace answer at once (when a plain database is sealed).
    fn forget_grace_answers(&mut self) -> Result<usize>;

    // Failed logins, one row each, keyed by `email_key` or `ip_key`.
    /// Until the transaction ends, no other one counts or adds failures under
    /// these keys (a no-op where every write is serialised already).
    fn lock_failure_keys(&mut self, keys: &[&str]) -> Result<()>;
    /// When `key` may try again, if it has `max` failures within the last `window` seconds.
    fn locked_until(&mut self, key: &str, max: u32, window: u64, now: u64) -> Result<Option<u64>>;
    /// Records one failure; returns its row.
    fn record_failure(&mut self, key: &str, now: u64) -> Result<i64>;
    fn release_failures(&mut self, rows: &[i64]) -> Result<()>;
    fn clear_failures(&mut self, key: &str) -> Result<usize>;
    /// Deletes up to PRUNE_CHUNK failures that have left the window; returns how many.
    fn prune_failures(&mut self, now: u64, window: u64) -> Result<usize>;

    /// Takes a failure row under every key, unless one of them is locked: then
    /// nothing is written and the answer is when the lock lifts. Counted and
    /// taken in one transaction, so however many attempts arrive at once, no
    /// more than the limit get past it.
    fn reserve_failures(
        &mut self,
        limits: &[Limit],
        window: u64,
        now: u64,
    ) -> Result<std::result::Result<Vec<i64>, u64>> {
        let mut keys: Vec<&str> = limits.iter().map(|l| l.key).collect();
        keys.sort_unstable();
        self.lock_failure_keys(&keys)?;
        let mut until = None;
        for limit in limits {
            until = until.max(self.locked_until(limit.key, limit.max, window, now)?);
        }
        if let Some(until) = until {
            return Ok(Err(until));
        }
        let mut rows = Vec::with_capacity(limits.len());
        for limit in limits {
            rows.push(self.record_failure(limit.key, now)?);
        }
        Ok(Ok(rows))
    }

    // Signing keys.
    /// Until the transaction ends, no other one changes the signing keys.
    fn lock_signing_keys(&mut self) -> Result<()>;
    /// Every key, oldest first.
    fn list_keys(&mut self) -> Result<Vec<StoredKey>>;
    /// A cheap fingerprint of the key table, to notice a `keys rotate` or `keys
    /// retire` from another process.
    fn key_generation(&mut self) -> Result<(i64, i64, i64)>;
    fn current_kid(&mut self) -> Result<Option<String>>;
    /// Retires the current key (if any) and makes `kid` current.
    fn make_key_current(
        &mut self,
        kid: &str,
        algorithm: &str,
        key_pair: &[u8],
        now: u64,
    ) -> Result<()>;
    /// Distrusts a key; false if there is no such key.
    fn distrust_key(&mut self, kid: &str, now: u64) -> Result<bool>;
    /// Replaces a key's stored bytes (sealing it in place).
    fn set_key_pair(&mut self, kid: &str, key_pair: &[u8]) -> Result<()>;
    fn meta(&mut self, name: &str) -> Result<Option<Vec<u8>>>;
    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<()>;

    // Set-password links.
    /// Stores a new link for the user, replacing any older one.
    fn replace_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: u64,
        now: u64,
    ) -> Result<()>;
    fn find_link(&mut self, token_hash: &[u8]) -> Result<Option<Link>>;
    /// Uses the link up; false if it was spent or replaced meanwhile.
    fn spend_link(&mut self, token_hash: &[u8]) -> Result<bool>;
    /// Drops the user's link, if any.
    fn remove_user_links(&mut self, user_id: &str) -> Result<()>;
}
