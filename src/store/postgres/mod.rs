//! PostgreSQL: several authlite instances on one database (SPEC §7). A pool
//! of blocking connections (requests run store work on actix's blocking
//! threads), TLS through rustls, and the schema steps of `migrate.rs`. Each
//! area's SQL is in the file of its name, as that area's trait implemented on
//! `PgStore`; each write there says why it is safe with other instances.
//!
//! Every transaction is READ COMMITTED, PostgreSQL's default: each statement
//! sees what had committed when it began. Where a read must stay true until a
//! write commits, the operation takes a transaction-scoped advisory lock
//! itself (`reserve_failures`, `Db::change_keys`, `Db::seeding`), so that no
//! caller can forget it. Everything else is one statement on one row, which
//! READ COMMITTED makes atomic, or pruning, which skips rows locked by another
//! instance (`FOR UPDATE SKIP LOCKED`).
//!
//! No state another instance would need is kept in memory here: every answer
//! is read from the database. Each write that ends sessions, changes a
//! user's status or changes the keys sends a notification, which each
//! instance's listener turns into clearing what it keeps above the store.

use super::{Result, StoreError};

mod api_keys;
mod audit;
mod batch;
mod conn;
mod db;
mod directory;
mod failures;
mod keys;
mod links;
mod listen;
mod mail;
mod mfa;
pub(super) mod migrate;
mod oidc;
mod passkeys;
mod sessions;
mod tls;
pub(super) mod url;
mod users;
mod values;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use db::Db;
pub use migrate::SCHEMA_VERSION;
pub use url::is_url;

/// A pooled connection as the store; each area's file implements its trait here.
pub struct PgStore<'c>(&'c mut conn::Conn);

impl PgStore<'_> {
    /// Tells every instance's listener (`listen.rs`) that sessions, a user's
    /// status or the keys changed. In a transaction it is sent as it commits,
    /// so a listener that then reads again sees the change.
    fn notify_change(&mut self) -> Result<()> {
        self.0.execute(listen::NOTIFY, &[])?;
        Ok(())
    }
}

/// Advisory lock keys. Migrations use the one-number form, the others the
/// two-number form (a separate space): failures `(FAILURE_LOCKS, hash of the
/// key)`, signing keys `(KEY_LOCK, 0)`, seeding `(KEY_LOCK, 1)`.
pub(super) const MIGRATION_LOCK: i64 = 0x6175_7468_6c69_7465; // "authlite"
const FAILURE_LOCKS: i32 = 0x6175_7468; // "auth"
const KEY_LOCK: i32 = 0x6b65_7973; // "keys"

/// Unavailable: the database cannot be reached or is busy now, and the same
/// call may work later (requests answer 503). Failed: anything else.
pub(crate) fn error(e: &postgres::Error) -> StoreError {
    let why = describe(e);
    if is_unavailable(e) {
        StoreError::Unavailable(format!("the database cannot be reached or is busy: {why}"))
    } else if e.code().map(|c| c.code()) == Some("22021") {
        // character_not_in_repertoire: a NUL in a text parameter.
        StoreError::Refused(why)
    } else {
        StoreError::Failed(why)
    }
}

fn is_unavailable(e: &postgres::Error) -> bool {
    if let Some(code) = e.code() {
        let code = code.code();
        return code.starts_with("08") // connection exception
            || code.starts_with("53") // insufficient resources, e.g. too many connections
            || matches!(
                code,
                "57P01" // admin_shutdown
                | "57P02" // crash_shutdown
                | "57P03" // cannot_connect_now (starting up)
                | "40001" // serialization_failure
                | "40P01" // deadlock_detected
                | "57014" // query_canceled: statement_timeout
                | "55P03" // lock_not_available
            );
    }
    if e.is_closed() {
        return true;
    }
    // The client library's own kinds that mean the connection failed: I/O,
    // TLS, connecting, and timing out (it has no public accessor for its kind).
    if has_io_cause(e) {
        return true;
    }
    let shown = e.to_string();
    [
        "error communicating with the server",
        "error performing TLS handshake",
        "error connecting to server",
        "timeout waiting for server",
    ]
    .iter()
    .any(|kind| shown.starts_with(kind))
}

/// Whether an I/O error is among the causes: the socket failed.
fn has_io_cause(e: &postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The error with its cause: the library's own words are only "db error".
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.to_string(),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        error(&e)
    }
}
