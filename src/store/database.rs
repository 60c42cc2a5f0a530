//! One open database of either engine, and the ways work runs on it.

use std::path::Path;

use super::{postgres, sqlite, KeyStore, Rotation, Store, StoreError};

pub use super::sqlite::Synchronous;

pub enum Database {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else is
    /// the path of an SQLite file. The schema is applied or migrated here.
    pub fn open(target: &str, synchronous: Synchronous) -> Result<Database, String> {
        if postgres::is_url(target) {
            Ok(Database::Postgres(postgres::Db::open(target)?))
        } else {
            Ok(Database::Sqlite(sqlite::Db::open(
                Path::new(target),
                synchronous,
            )?))
        }
    }

    /// The SQLite file at `path`, with the default settings.
    pub fn sqlite(path: &Path) -> Result<Database, String> {
        Ok(Database::Sqlite(sqlite::Db::open(
            path,
            Synchronous::Normal,
        )?))
    }

    /// How messages name it (a URL without its password).
    pub fn name(&self) -> &str {
        match self {
            Database::Sqlite(db) => db.name(),
            Database::Postgres(db) => db.name(),
        }
    }

    /// Reads, each statement on its own; no transaction is held between them.
    pub fn read<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Database::Sqlite(db) => db.read(work),
            Database::Postgres(db) => db.read(work),
        }
    }

    /// One transaction on this thread, committed when `work` returns `Ok` and
    /// rolled back when it returns `Err`. What it reads stays true until it
    /// commits for the rows it writes or locks (see each engine).
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Database::Sqlite(db) => db.transaction(work),
            Database::Postgres(db) => db.transaction(work),
        }
    }

    /// A change of the signing keys: a transaction that keeps every other key
    /// change out until it commits, so that what it reads of the keys stays
    /// true. Only here can the keys be changed. With `overwrite`, where the
    /// engine can, the bytes it replaces do not stay behind in the file (used
    /// when keys are sealed in place).
    pub fn change_keys<T, E: From<StoreError>>(
        &self,
        overwrite: bool,
        work: impl FnOnce(&mut dyn KeyStore) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Database::Sqlite(db) => db.change_keys(overwrite, work),
            Database::Postgres(db) => db.change_keys(work),
        }
    }

    /// A write whose deleted and replaced bytes do not stay behind in the
    /// database's files where the engine can see to it (erasing a user): on
    /// SQLite they are zeroed and the log is emptied after it. PostgreSQL
    /// keeps dead rows until VACUUM reclaims them.
    pub fn overwriting<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Database::Sqlite(db) => db.overwriting(work),
            Database::Postgres(db) => db.transaction(work),
        }
    }

    /// Applying a seed file: a transaction that keeps every other seed out
    /// until it commits, so that what it reads of orgs and users stays true.
    pub fn seeding<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Database::Sqlite(db) => db.transaction(work),
            Database::Postgres(db) => db.seeding(work),
        }
    }

    /// A request's write: as `transaction`, through SQLite's writer thread once
    /// `start_writer` has started it. An `Err` means nothing of `work` is stored.
    pub fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut dyn Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self {
            Database::Sqlite(db) => db.write(work),
            Database::Postgres(db) => db.transaction(work),
        }
    }

    /// A refresh's write (`Sessions::rotate_refresh`): on SQLite through the
    /// writer thread, as `write`; on PostgreSQL one statement with no BEGIN or
    /// COMMIT, shared with the refreshes that come at the same time, on
    /// `store` (a connection `read` gave) or on the connection of the one that
    /// leads the batch.
    pub fn rotate_refresh(
        &self,
        store: &mut dyn Store,
        rotation: Rotation,
    ) -> Result<bool, StoreError> {
        match self {
            Database::Sqlite(db) => db.write(move |store| rotation.apply(store)),
            Database::Postgres(db) => db.rotate_refresh(store, rotation),
        }
    }

    /// A read of rows that every write changes (a refreshed session), on `store`
    /// or where the engine answers it faster. SQLite's writer thread has in its
    /// cache every page it wrote; a pooled connection throws its cache away
    /// whenever the file has changed since its last read, which under refreshes
    /// is every time, and reads each page again: measured, 8-12 % of the
    /// refresh rate. So on SQLite with a writer running the read runs there. On
    /// PostgreSQL it runs on `store`.
    pub fn read_hot<T, E, F>(&self, store: &mut dyn Store, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut dyn Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self {
            Database::Sqlite(db) => db.read_hot(store, work),
            Database::Postgres(_) => work(store),
        }
    }

    /// Calls `changed`, from a thread of its own, soon after another process
    /// has ended sessions, changed a user's status or changed the keys, where
    /// the engine can tell: on PostgreSQL (LISTEN/NOTIFY), within milliseconds.
    /// SQLite cannot: what is kept of such rows must expire on its own.
    pub fn watch_changes(&self, changed: impl Fn() + Send + 'static) -> std::io::Result<()> {
        match self {
            Database::Sqlite(_) => Ok(()),
            Database::Postgres(db) => db.watch_changes(Box::new(changed)),
        }
    }

    /// For a server: SQLite's writes go through one thread from now on.
    pub fn start_writer(&mut self) -> std::io::Result<()> {
        match self {
            Database::Sqlite(db) => db.start_writer(),
            Database::Postgres(_) => Ok(()),
        }
    }

    /// Whether a write can be made now (for /healthz); cheap to ask often.
    pub fn can_write(&self) -> Result<(), StoreError> {
        match self {
            Database::Sqlite(db) => db.can_write(),
            Database::Postgres(db) => db.can_write(),
        }
    }

    /// Before the process ends.
    pub fn close(&self) {
        match self {
            Database::Sqlite(db) => db.close(),
            Database::Postgres(_) => {}
        }
    }
}
