//! The embedded engine: one SQLite file, a pool of readers, and (in a server)
//! one writer thread that commits in batches. Each file beside this one holds
//! the SQL of one table as plain functions over a connection.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use super::{Link, NewRefresh, RefreshRecord, Result, Session, Status, Store, StoreError};
use super::{StoredKey, User};

mod failures;
mod keys;
mod links;
mod open;
mod orgs;
mod sessions;
mod users;
mod writer;

pub use open::{open, open_with, Pool, PooledConnection, Synchronous, SCHEMA_VERSION};
pub use writer::Writer;

/// Busy and locked mean another process holds the database for now.
pub(crate) fn error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("the database is busy: {e}"))
        }
        _ => StoreError::Failed(e.to_string()),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        error(e)
    }
}

/// A connection as a `Store`.
pub struct SqliteStore<'c>(pub &'c Connection);

impl Store for SqliteStore<'_> {
    fn find_user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        users::find_by_email(self.0, email).map_err(error)
    }
    fn find_user_by_id(&mut self, id: &str) -> Result<Option<User>> {
        users::find_by_id(self.0, id).map_err(error)
    }
    fn find_user_by_session(&mut self, sid: &str) -> Result<Option<(User, bool)>> {
        users::find_by_session(self.0, sid).map_err(error)
    }
    fn list_users(&mut self) -> Result<Vec<User>> {
        users::list(self.0).map_err(error)
    }
    fn insert_user(&mut self, user: &User, now: u64) -> Result<()> {
        users::insert(self.0, user, now).map_err(error)
    }
    fn update_user_profile(&mut self, user: &User, now: u64) -> Result<()> {
        users::update_profile(self.0, user, now).map_err(error)
    }
    fn set_password_hash(&mut self, user_id: &str, hash: &str, now: u64) -> Result<()> {
        users::set_password_hash(self.0, user_id, hash, now).map_err(error)
    }
    fn set_user_status(&mut self, user_id: &str, status: Status, now: u64) -> Result<()> {
        users::set_status(self.0, user_id, status, now).map_err(error)
    }
    fn org_name(&mut self, id: &str) -> Result<Option<String>> {
        orgs::name_of(self.0, id).map_err(error)
    }
    fn upsert_org(&mut self, id: &str, name: &str) -> Result<()> {
        orgs::upsert(self.0, id, name).map_err(error)
    }
    /// Nothing to take: a seed runs in an IMMEDIATE transaction.
    fn lock_seeding(&mut self) -> Result<()> {
        Ok(())
    }

    fn create_session(&mut self, session: &Session, refresh: &NewRefresh) -> Result<()> {
        sessions::create(self.0, session, refresh).map_err(error)
    }
    fn find_session(&mut self, id: &str) -> Result<Option<Session>> {
        sessions::find(self.0, id).map_err(error)
    }
    fn list_live_sessions(&mut self, user_id: &str, now: u64) -> Result<Vec<Session>> {
        sessions::list_live(self.0, user_id, now).map_err(error)
    }
    fn count_live_sessions(&mut self, now: u64) -> Result<i64> {
        sessions::count_live(self.0, now).map_err(error)
    }
    fn revoke_session(&mut self, id: &str, now: u64) -> Result<bool> {
        sessions::revoke(self.0, id, now).map_err(error)
    }
    fn revoke_user_sessions(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<usize> {
        sessions::revoke_all_for_user(self.0, user_id, keep, now).map_err(error)
    }
    fn find_refresh(&mut self, sid: &str) -> Result<Option<RefreshRecord>> {
        sessions::find_refresh(self.0, sid).map_err(error)
    }
    fn rotate_refresh(
        &mut self,
        sid: &str,
        spent_jti: &str,
        next: &NewRefresh,
        now_ms: u64,
        grace_answer: &[u8],
    ) -> Result<bool> {
        sessions::rotate(self.0, sid, spent_jti, next, now_ms, grace_answer).map_err(error)
    }
    fn prune_expired_sessions(&mut self, now: u64) -> Result<usize> {
        sessions::prune_expired(self.0, now).map_err(error)
    }
    fn clear_grace_answers(&mut self, spent_before_ms: u64) -> Result<usize> {
        sessions::clear_grace_answers(self.0, spent_before_ms).map_err(error)
    }
    fn forget_grace_answers(&mut self) -> Result<usize> {
        sessions::forget_grace_answers(self.0).map_err(error)
    }

    /// Nothing to take: every write here is serialised already.
    fn lock_failure_keys(&mut self, _keys: &[&str]) -> Result<()> {
        Ok(())
    }
    fn locked_until(&mut self, key: &str, max: u32, window: u64, now: u64) -> Result<Option<u64>> {
        failures::locked_until(self.0, key, max, window, now).map_err(error)
    }
    fn record_failure(&mut self, key: &str, now: u64) -> Result<i64> {
        failures::record(self.0, key, now).map_err(error)
    }
    fn release_failures(&mut self, rows: &[i64]) -> Result<()> {
        failures::release(self.0, rows).map_err(error)
    }
    fn clear_failures(&mut self, key: &str) -> Result<usize> {
        failures::clear(self.0, key).map_err(error)
    }
    fn prune_failures(&mut self, now: u64, window: u64) -> Result<usize> {
        failures::prune(self.0, now, window).map_err(error)
    }

    /// Nothing to take: key changes run in IMMEDIATE transactions.
    fn lock_signing_keys(&mut self) -> Result<()> {
        Ok(())
    }
    fn list_keys(&mut self) -> Result<Vec<StoredKey>> {
        keys::list(self.0).map_err(error)
    }
    fn key_generation(&mut self) -> Result<(i64, i64, i64)> {
        keys::generation(self.0).map_err(error)
    }
    fn current_kid(&mut self) -> Result<Option<String>> {
        keys::current_kid(self.0).map_err(error)
    }
    fn make_key_current(
        &mut self,
        kid: &str,
        algorithm: &str,
        key_pair: &[u8],
        now: u64,
    ) -> Result<()> {
        keys::make_current(self.0, kid, algorithm, key_pair, now).map_err(error)
    }
    fn distrust_key(&mut self, kid: &str, now: u64) -> Result<bool> {
        keys::distrust(self.0, kid, now).map_err(error)
    }
    fn set_key_pair(&mut self, kid: &str, key_pair: &[u8]) -> Result<()> {
        keys::set_key_pair(self.0, kid, key_pair).map_err(error)
    }
    fn meta(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        keys::meta(self.0, name).map_err(error)
    }
    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<()> {
        keys::set_meta(self.0, name, value).map_err(error)
    }

    fn replace_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: u64,
        now: u64,
    ) -> Result<()> {
        links::replace(self.0, user_id, token_hash, expires_at, now).map_err(error)
    }
    fn find_link(&mut self, token_hash: &[u8]) -> Result<Option<Link>> {
        links::find(self.0, token_hash).map_err(error)
    }
    fn spend_link(&mut self, token_hash: &[u8]) -> Result<bool> {
        links::spend(self.0, token_hash).map_err(error)
    }
    fn remove_user_links(&mut self, user_id: &str) -> Result<()> {
        links::remove_for_user(self.0, user_id).map_err(error)
    }
}

/// An open SQLite database: its pool and, in a server, its writer thread.
pub struct Db {
    pool: Pool,
    path: String,
    writer: Option<Writer>,
}

impl Db {
    pub fn open(path: &Path, synchronous: Synchronous) -> std::result::Result<Db, String> {
        Ok(Db {
            pool: open_with(path, synchronous)?,
            path: path.display().to_string(),
            writer: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.path
    }

    fn connection(&self) -> Result<PooledConnection> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(format!("no database connection is free: {e}")))
    }

    pub fn read<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.connection()?;
        work(&mut SqliteStore(&conn))
    }

    /// One IMMEDIATE transaction: what `work` reads stays true until it commits.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.connection()?;
        immediate(&conn, work)
    }

    /// As `transaction`, but the bytes it overwrites are zeroed in the file and
    /// the log is emptied after it, so that nothing of them stays on the disk.
    pub fn transaction_overwriting<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.connection()?;
        conn.execute_batch("PRAGMA secure_delete = ON")
            .map_err(error)?;
        let done = immediate(&conn, work);
        let wiped = conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA secure_delete = OFF")
            .map_err(error);
        let done = done?;
        wiped?;
        Ok(done)
    }

    /// Through the writer thread when there is one (group commit), else as `transaction`.
    pub fn write<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut dyn Store) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(move |conn| work(&mut SqliteStore(conn))),
            None => self.transaction(work),
        }
    }

    /// On the writer thread's connection when there is one, in its transaction,
    /// answered once that commits (so nothing is decided on a write that then
    /// fails); else on `store`. See `Database::read_hot` for why.
    pub fn read_hot<T, E, F>(&self, store: &mut dyn Store, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut dyn Store) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self.writer {
            Some(_) => self.write(work),
            None => work(store),
        }
    }

    pub fn start_writer(&mut self) -> std::io::Result<()> {
        if self.writer.is_none() {
            let conn = self.pool.get().map_err(std::io::Error::other)?;
            self.writer = Some(Writer::start(conn)?);
        }
        Ok(())
    }

    pub fn can_write(&self) -> Result<()> {
        match &self.writer {
            Some(writer) => writer.can_write(),
            None => self.transaction(|_| Ok(())),
        }
    }

    /// Folds the log back into the file, so that a copy of the file alone is a full backup.
    pub fn close(&self) {
        if let Ok(conn) = self.pool.get() {
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }
}

fn immediate<T, E: From<StoreError>>(
    conn: &Connection,
    work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(error)?;
    match work(&mut SqliteStore(conn)) {
        Ok(done) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(done),
            Err(e) => {
                // A COMMIT that fails may leave the transaction open; none of it stays.
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                Err(error(e).into())
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
