//! PostgreSQL: several authlite instances on one database (SPEC §7). A pool
//! of blocking connections (requests run store work on actix's blocking
//! threads), TLS through rustls, and the schema steps of `migrate.rs`. Each
//! file beside this one holds the SQL of one table, as the SQLite engine's do.
//!
//! Every transaction is READ COMMITTED, PostgreSQL's default: each statement
//! sees what had committed when it began. What each write relies on:
//! - `rotate_refresh` is one conditional UPDATE (`WHERE id AND refresh_jti AND
//!   revoked_at IS NULL`). Of two racing uses the second waits for the first's
//!   row lock and, once it commits, PostgreSQL evaluates the WHERE again on the
//!   new row: the token is no longer the newest, so exactly one use wins.
//!   Revoking is one UPDATE too, so a reuse revokes the session everywhere.
//! - `reserve_failures` counts and then inserts. `lock_failure_keys` takes a
//!   transaction-scoped advisory lock per key first (sorted, so no deadlock);
//!   the next attempt on a key waits for it and, its count being a new
//!   statement, sees the rows this one committed. So no more than the limit
//!   get past it, however many instances try at once. Serialisable isolation
//!   would give the same with retries; the lock needs none.
//! - Key changes take one advisory lock (`lock_signing_keys`), so that racing
//!   first starts make one first key; the partial unique index on the current
//!   key refuses a second one whatever happens.
//! - A seed takes one advisory lock (`lock_seeding`): what it reads of orgs
//!   and users stays true until it commits, so racing seeds create each once.
//! - Everything else is one statement on one row (status, unlock, links),
//!   which READ COMMITTED makes atomic, or pruning, which
//!   skips rows locked by another instance (`FOR UPDATE SKIP LOCKED`).
//!
//! No state another instance would need is kept in memory here: every answer
//! is read from the database.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use postgres::Row;

use super::{Link, NewRefresh, RefreshRecord, Result, Session, Status, Store, StoreError};
use super::{StoredKey, User, BLOCKING_THREADS_PER_WORKER};

mod conn;
mod failures;
mod keys;
mod links;
mod migrate;
mod orgs;
mod sessions;
mod tls;
mod url;
mod users;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use conn::{Conn, Manager};
pub use migrate::SCHEMA_VERSION;
pub use url::is_url;

/// Advisory lock keys. Migrations use the one-number form, the others the
/// two-number form (a separate space): failures `(FAILURE_LOCKS, hash of the
/// key)`, signing keys `(KEY_LOCK, 0)`, seeding `(KEY_LOCK, 1)`.
const MIGRATION_LOCK: i64 = 0x6175_7468_6c69_7465; // "authlite"
const FAILURE_LOCKS: i32 = 0x6175_7468; // "auth"
const KEY_LOCK: i32 = 0x6b65_7973; // "keys"

/// How long a request waits for a pooled connection (a dead database answers
/// 503 after this), and how long a probe's answer stands.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);
const PROBE_FRESH: Duration = Duration::from_secs(1);
/// A pooled connection unused this long is closed (down to one).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long opening may wait for the first connection.
const OPEN_TIMEOUT: Duration = Duration::from_secs(4);

/// Connections a pool may open (on demand): one for every thread that may ask
/// at once (each worker's blocking threads, each hashing thread, the upkeep
/// thread). Not fewer: a request that reads may write with a second connection
/// while it holds the first, so a pool smaller than the blocking threads could
/// leave every one of them waiting for another's. 20 on 2 cores.
fn pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores * (BLOCKING_THREADS_PER_WORKER + 1) + 2).unwrap_or(u32::MAX)
}

/// Unavailable: the database cannot be reached or is busy now, and the same
/// call may work later (requests answer 503). Failed: anything else.
pub(crate) fn error(e: &postgres::Error) -> StoreError {
    let why = describe(e);
    if is_unavailable(e) {
        StoreError::Unavailable(format!("the database cannot be reached or is busy: {why}"))
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
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
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

/// Column readers: a value of the wrong type or sign is an error, never a panic.
fn text(row: &Row, i: usize) -> Result<String> {
    Ok(row.try_get(i)?)
}

fn opt_text(row: &Row, i: usize) -> Result<Option<String>> {
    Ok(row.try_get(i)?)
}

fn bytes(row: &Row, i: usize) -> Result<Vec<u8>> {
    Ok(row.try_get(i)?)
}

fn opt_bytes(row: &Row, i: usize) -> Result<Option<Vec<u8>>> {
    Ok(row.try_get(i)?)
}

fn time(row: &Row, i: usize) -> Result<u64> {
    let value: i64 = row.try_get(i)?;
    u64::try_from(value)
        .map_err(|_| StoreError::Failed(format!("a stored time is negative ({value})")))
}

fn opt_time(row: &Row, i: usize) -> Result<Option<u64>> {
    let value: Option<i64> = row.try_get(i)?;
    value
        .map(|v| {
            u64::try_from(v)
                .map_err(|_| StoreError::Failed(format!("a stored time is negative ({v})")))
        })
        .transpose()
}

/// A time as BIGINT (times before the year 292 billion fit).
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn count(changed: u64) -> usize {
    usize::try_from(changed).unwrap_or(usize::MAX)
}

/// A connection as a `Store`.
pub struct PgStore<'c>(&'c mut Conn);

impl Store for PgStore<'_> {
    fn find_user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        users::find_by_email(self.0, email)
    }
    fn find_user_by_id(&mut self, id: &str) -> Result<Option<User>> {
        users::find_by_id(self.0, id)
    }
    fn find_user_by_session(&mut self, sid: &str) -> Result<Option<(User, bool)>> {
        users::find_by_session(self.0, sid)
    }
    fn list_users(&mut self) -> Result<Vec<User>> {
        users::list(self.0)
    }
    fn insert_user(&mut self, user: &User, now: u64) -> Result<()> {
        users::insert(self.0, user, now)
    }
    fn update_user_profile(&mut self, user: &User, now: u64) -> Result<()> {
        users::update_profile(self.0, user, now)
    }
    fn set_password_hash(&mut self, user_id: &str, hash: &str, now: u64) -> Result<()> {
        users::set_password_hash(self.0, user_id, hash, now)
    }
    fn set_user_status(&mut self, user_id: &str, status: Status, now: u64) -> Result<()> {
        users::set_status(self.0, user_id, status, now)
    }
    fn org_name(&mut self, id: &str) -> Result<Option<String>> {
        orgs::name_of(self.0, id)
    }
    fn upsert_org(&mut self, id: &str, name: &str) -> Result<()> {
        orgs::upsert(self.0, id, name)
    }
    fn lock_seeding(&mut self) -> Result<()> {
        orgs::lock_seeding(self.0)
    }

    fn create_session(&mut self, session: &Session, refresh: &NewRefresh) -> Result<()> {
        sessions::create(self.0, session, refresh)
    }
    fn find_session(&mut self, id: &str) -> Result<Option<Session>> {
        sessions::find(self.0, id)
    }
    fn list_live_sessions(&mut self, user_id: &str, now: u64) -> Result<Vec<Session>> {
        sessions::list_live(self.0, user_id, now)
    }
    fn count_live_sessions(&mut self, now: u64) -> Result<i64> {
        sessions::count_live(self.0, now)
    }
    fn revoke_session(&mut self, id: &str, now: u64) -> Result<bool> {
        sessions::revoke(self.0, id, now)
    }
    fn revoke_user_sessions(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<usize> {
        sessions::revoke_all_for_user(self.0, user_id, keep, now)
    }
    fn find_refresh(&mut self, sid: &str) -> Result<Option<RefreshRecord>> {
        sessions::find_refresh(self.0, sid)
    }
    fn rotate_refresh(
        &mut self,
        sid: &str,
        spent_jti: &str,
        next: &NewRefresh,
        now_ms: u64,
        grace_answer: &[u8],
    ) -> Result<bool> {
        sessions::rotate(self.0, sid, spent_jti, next, now_ms, grace_answer)
    }
    fn prune_expired_sessions(&mut self, now: u64) -> Result<usize> {
        sessions::prune_expired(self.0, now)
    }
    fn clear_grace_answers(&mut self, spent_before_ms: u64) -> Result<usize> {
        sessions::clear_grace_answers(self.0, spent_before_ms)
    }
    fn forget_grace_answers(&mut self) -> Result<usize> {
        sessions::forget_grace_answers(self.0)
    }

    fn lock_failure_keys(&mut self, keys: &[&str]) -> Result<()> {
        failures::lock_keys(self.0, keys)
    }
    fn locked_until(&mut self, key: &str, max: u32, window: u64, now: u64) -> Result<Option<u64>> {
        failures::locked_until(self.0, key, max, window, now)
    }
    fn record_failure(&mut self, key: &str, now: u64) -> Result<i64> {
        failures::record(self.0, key, now)
    }
    fn release_failures(&mut self, rows: &[i64]) -> Result<()> {
        failures::release(self.0, rows)
    }
    fn clear_failures(&mut self, key: &str) -> Result<usize> {
        failures::clear(self.0, key)
    }
    fn prune_failures(&mut self, now: u64, window: u64) -> Result<usize> {
        failures::prune(self.0, now, window)
    }

    fn lock_signing_keys(&mut self) -> Result<()> {
        keys::lock(self.0)
    }
    fn list_keys(&mut self) -> Result<Vec<StoredKey>> {
        keys::list(self.0)
    }
    fn key_generation(&mut self) -> Result<(i64, i64, i64)> {
        keys::generation(self.0)
    }
    fn current_kid(&mut self) -> Result<Option<String>> {
        keys::current_kid(self.0)
    }
    fn make_key_current(
        &mut self,
        kid: &str,
        algorithm: &str,
        key_pair: &[u8],
        now: u64,
    ) -> Result<()> {
        keys::make_current(self.0, kid, algorithm, key_pair, now)
    }
    fn distrust_key(&mut self, kid: &str, now: u64) -> Result<bool> {
        keys::distrust(self.0, kid, now)
    }
    fn set_key_pair(&mut self, kid: &str, key_pair: &[u8]) -> Result<()> {
        keys::set_key_pair(self.0, kid, key_pair)
    }
    fn meta(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        keys::meta(self.0, name)
    }
    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<()> {
        keys::set_meta(self.0, name, value)
    }

    fn replace_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: u64,
        now: u64,
    ) -> Result<()> {
        links::replace(self.0, user_id, token_hash, expires_at, now)
    }
    fn find_link(&mut self, token_hash: &[u8]) -> Result<Option<Link>> {
        links::find(self.0, token_hash)
    }
    fn spend_link(&mut self, token_hash: &[u8]) -> Result<bool> {
        links::spend(self.0, token_hash)
    }
    fn remove_user_links(&mut self, user_id: &str) -> Result<()> {
        links::remove_for_user(self.0, user_id)
    }
}

type Pool = r2d2::Pool<Manager>;

/// An open PostgreSQL database: a pool of connections.
pub struct Db {
    pool: Pool,
    name: String,
    probed: Mutex<Option<(Instant, Result<()>)>>,
}

impl Db {
    /// Connects, applies the schema steps, and builds the pool. An unreachable
    /// database or a bad URL fails within 5 s with one sentence naming the
    /// database without its password.
    pub fn open(url: &str) -> std::result::Result<Db, String> {
        let target = url::parse(url)?;
        let name = target.name.clone();
        connect_and_migrate(&target)?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size())
            .min_idle(Some(1))
            // An instance at rest gives back what a burst took: several
            // instances share the server's max_connections.
            .idle_timeout(Some(IDLE_TIMEOUT))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            // A connection a database restart has closed is found out and
            // replaced before a request uses it (one empty query per checkout).
            .test_on_check_out(true)
            .build_unchecked(Manager { target });
        Ok(Db {
            pool,
            name,
            probed: Mutex::new(None),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| {
            StoreError::Unavailable(format!("the database {} cannot be reached: {e}", self.name))
        })
    }

    /// Each statement on its own, on a pooled connection: no transaction.
    pub fn read<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.connection()?;
        work(&mut PgStore(&mut conn))
    }

    /// One READ COMMITTED transaction, committed when `work` returns `Ok` and
    /// rolled back when it returns `Err` (or panics). What it reads stays
    /// true until it commits for the rows it writes or locks.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.connection()?;
        conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        let open = Open {
            conn: &mut conn,
            finished: false,
        };
        let done = work(&mut PgStore(&mut *open.conn));
        open.finish(done)
    }

    /// Whether a write can be made now (for /healthz): a connection within
    /// CHECKOUT_TIMEOUT, on a database that takes writes (not a standby, not
    /// read-only). Callers within PROBE_FRESH of the last probe get its answer.
    pub fn can_write(&self) -> Result<()> {
        let mut probed = self.probed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, answer)) = probed.as_ref() {
            if at.elapsed() < PROBE_FRESH {
                return answer.clone();
            }
        }
        let answer = self.connection().and_then(|mut conn| {
            let row = conn.query_one(
                "SELECT current_setting('transaction_read_only') = 'off'",
                &[],
            )?;
            if row.try_get::<_, bool>(0)? {
                Ok(())
            } else {
                Err(StoreError::Unavailable(format!(
                    "the database {} takes no writes (read-only or a standby)",
                    self.name
                )))
            }
        });
        *probed = Some((Instant::now(), answer.clone()));
        answer
    }

    /// A pooled connection, for tests that look under the store.
    #[cfg(test)]
    fn client(&self) -> r2d2::PooledConnection<Manager> {
        self.pool.get().unwrap()
    }
}

/// A transaction in progress: if `work` panics, it is rolled back as the
/// connection goes back to the pool, never left open for the next user.
struct Open<'c> {
    conn: &'c mut Conn,
    finished: bool,
}

impl Open<'_> {
    fn finish<T, E: From<StoreError>>(
        mut self,
        done: std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.finished = true;
        match done {
            Ok(done) => match self.conn.batch("COMMIT") {
                Ok(()) => Ok(done),
                Err(e) => {
                    let _ = self.conn.batch("ROLLBACK");
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = self.conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// Connects and applies the schema steps on a thread of its own: a server
/// that accepts the connection and then says nothing fails within
/// OPEN_TIMEOUT too, and the blocking client never runs on a thread that is
/// driving async tasks (which it cannot).
fn connect_and_migrate(target: &url::Target) -> std::result::Result<(), String> {
    let name = target.name.clone();
    let (config, tls) = (target.config.clone(), target.tls.clone());
    let (connected_tx, connected) = std::sync::mpsc::sync_channel(1);
    let (migrated_tx, migrated) = std::sync::mpsc::sync_channel(1);
    let shown = name.clone();
    std::thread::Builder::new()
        .name("authlite-pg-open".into())
        .spawn(move || {
            let mut client = match config.connect(tls) {
                Ok(client) => client,
                Err(e) => {
                    let _ = connected_tx.send(Err(describe(&e)));
                    return;
                }
            };
            let _ = connected_tx.send(Ok(()));
            let done = migrate::migrate(&mut client).map_err(|e| format!("database {shown}: {e}"));
            let _ = migrated_tx.send(done);
        })
        .map_err(|e| format!("cannot open the database {name}: {e}"))?;
    match connected.recv_timeout(OPEN_TIMEOUT) {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return Err(format!("cannot open the database {name}: {why}")),
        Err(_) => {
            return Err(format!(
                "cannot open the database {name}: no answer within {} s",
                OPEN_TIMEOUT.as_secs()
            ))
        }
    }
    migrated.recv().unwrap_or_else(|_| {
        Err(format!(
            "database {name}: applying the schema stopped without an answer"
        ))
    })
}
