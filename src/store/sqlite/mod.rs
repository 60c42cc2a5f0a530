//! The embedded engine: one SQLite file, a pool of readers, and (in a server)
//! one writer thread that commits in batches. Each area's SQL is in the file
//! of its name, as that area's trait implemented on `SqliteStore`.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use super::{KeyStore, Result, Store, StoreError};

mod api_keys;
mod audit;
mod directory;
mod failures;
mod keys;
mod links;
mod mail;
mod mfa;
mod oidc;
mod open;
mod passkeys;
mod sessions;
mod users;
mod writer;

pub(crate) use open::migrate;
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

/// A connection as the store: every area's trait is implemented on it, in
/// the file of that area.
pub struct SqliteStore<'c>(pub &'c Connection);

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
        immediate(&conn, |store| work(store))
    }

    /// A change of the signing keys: IMMEDIATE, as every transaction here, so
    /// no other key change interleaves. With `overwrite`, the bytes it replaces
    /// are zeroed in the file and the log is emptied after it, so that nothing
    /// of them stays on the disk.
    pub fn change_keys<T, E: From<StoreError>>(
        &self,
        overwrite: bool,
        work: impl FnOnce(&mut dyn KeyStore) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.connection()?;
        match overwrite {
            true => overwriting(&conn, |store| work(store)),
            false => immediate(&conn, |store| work(store)),
        }
    }

    /// As `transaction`, the bytes it deletes or replaces zeroed in the file
    /// and the log emptied after it, so that nothing of them stays on the disk.
    pub fn overwriting<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.connection()?;
        overwriting(&conn, |store| work(store))
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

fn overwriting<T, E: From<StoreError>>(
    conn: &Connection,
    work: impl FnOnce(&mut SqliteStore) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    conn.execute_batch("PRAGMA secure_delete = ON")
        .map_err(error)?;
    let done = immediate(conn, work);
    let wiped = conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA secure_delete = FAST")
        .map_err(error);
    let done = done?;
    wiped?;
    Ok(done)
}

fn immediate<T, E: From<StoreError>>(
    conn: &Connection,
    work: impl FnOnce(&mut SqliteStore) -> std::result::Result<T, E>,
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
