//! All SQL lives below here, one folder per engine: `sqlite/` (the embedded
//! default) and `postgres/` (several instances on one database). Each area's
//! trait is declared once, beside its model types (`users.rs`, `sessions.rs`,
//! `failures.rs`, `keys.rs`, `links.rs`, `directory.rs`, `api_keys.rs`, `audit.rs`, `mfa.rs`, `mail.rs`, `oidc.rs`, `passkeys.rs`), and each engine implements it in its
//! own file of the same name. `Store` is all of them: the one seam the rest of
//! the program sees; `Database` opens either engine and runs work on it.
//! `contract.rs` is the test suite both engines pass. Nothing here knows about
//! HTTP.

use std::fmt;

mod api_keys;
pub mod audit;
pub mod copy;
mod database;
mod directory;
mod failures;
mod keys;
mod links;
pub mod mail;
mod mfa;
mod oidc;
mod passkeys;
pub mod postgres;
mod sessions;
pub mod sqlite;
mod users;

#[cfg(test)]
mod contract;

pub use api_keys::{ApiKey, ApiKeys};
pub use audit::{Audit, AuditEvent, AuditQuery, Origin};
pub use database::{Database, Synchronous};
pub use directory::{lockout_end, Directory, Org, UserDetails, UserFilter, UserTimes};
pub use failures::{email_key, ip_key, Failures, Limit};
pub use keys::{KeyChanges, KeyStore, SigningKeys, StoredKey, MASTER_KEY_CHECK};
pub use links::{Link, Links};
pub use mail::{ClaimedMail, Mail, NewMail, Registration};
pub use mfa::{Mfa, MfaState, MfaToken, StoredTotp};
pub use oidc::{AuthCode, Client, Grant, Oidc, OidcRequest, StoredClient, AUTHORIZE, LOGOUT};
pub use passkeys::{Ceremony, CeremonyKind, PasskeyUse, Passkeys, StoredPasskey};
pub use sessions::{NewRefresh, RefreshRecord, Rotation, Session, Sessions, Spent};
pub use users::{normalize_email, Status, User, Users};

/// Why a store operation failed.
#[derive(Clone, Debug)]
pub enum StoreError {
    /// The database is unreachable or busy right now; the same call may work later.
    Unavailable(String),
    /// A value the database cannot hold, such as a NUL in text on PostgreSQL:
    /// it came from the request, so it is the caller's mistake.
    Refused(String),
    /// Anything else: a broken database or a bug.
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(why) | StoreError::Refused(why) | StoreError::Failed(why) => {
                f.write_str(why)
            }
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

/// Rows one pruning statement touches at most, so that it holds writes back
/// for a few milliseconds, not for as long as a backlog takes.
pub const PRUNE_CHUNK: u32 = 100;

/// Every read and write the program makes, on one connection (inside a
/// transaction when `Database::write` or `Database::transaction` gave it).
/// Each method is one statement unless it says otherwise. Changing the signing
/// keys is not here: only `Database::change_keys` gives those methods.
pub trait Store:
    Users
    + Sessions
    + Failures
    + SigningKeys
    + Links
    + Directory
    + ApiKeys
    + Audit
    + Mfa
    + Mail
    + Oidc
    + Passkeys
{
}

impl<T> Store for T where
    T: Users
        + Sessions
        + Failures
        + SigningKeys
        + Links
        + Directory
        + ApiKeys
        + Audit
        + Mfa
        + Mail
        + Oidc
        + Passkeys
        + ?Sized
{
}
