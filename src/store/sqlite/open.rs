//! Opening an SQLite database: a 0600 file, WAL, the embedded schema, and the pool.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, TransactionBehavior};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<SqliteConnectionManager>;

const SCHEMA: &str = include_str!("../../../schema.sql");

/// Each step brings a database from the version before it to its own, in one
/// transaction. A new database gets `schema.sql`, which is the last step's result.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        2,
        include_str!("../../../migrations/002_sessions_hold_the_refresh_record.sql"),
    ),
    (3, include_str!("../../../migrations/003_signing_keys.sql")),
    (
        4,
        include_str!("../../../migrations/004_password_links.sql"),
    ),
    (5, include_str!("../../../migrations/005_roles_and_amr.sql")),
    (6, include_str!("../../../migrations/006_audit_events.sql")),
    (7, include_str!("../../../migrations/007_api_keys.sql")),
    (8, include_str!("../../../migrations/008_last_login.sql")),
    (9, include_str!("../../../migrations/009_mfa.sql")),
    (
        10,
        include_str!("../../../migrations/010_users_by_email_bytes.sql"),
    ),
    (11, include_str!("../../../migrations/011_passkeys.sql")),
    (12, include_str!("../../../migrations/012_outbox.sql")),
    (13, include_str!("../../../migrations/013_oidc.sql")),
];
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// How long a command waits for a connection, or for another process's lock.
const WAIT: Duration = Duration::from_secs(5);

/// Connections a pool holds: one for every thread that may ask at once, so
/// none waits for another's (each worker's blocking threads, each hashing
/// thread, the writer and the upkeep thread).
fn pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores * (crate::store::BLOCKING_THREADS_PER_WORKER + 1) + 2).unwrap_or(u32::MAX)
}

/// How hard each commit is pushed to the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// In WAL mode a power cut can lose the last transactions, never corrupt the file.
    #[default]
    Normal,
    /// Every commit is synced before it is answered.
    Full,
}

impl std::str::FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            other => Err(format!("\"{other}\" is not normal or full")),
        }
    }
}

/// Opens (creating if missing) the database at `path` and brings its schema up to date.
pub fn open(path: &Path) -> Result<Pool, String> {
    open_with(path, Synchronous::Normal)
}

pub fn open_with(path: &Path, synchronous: Synchronous) -> Result<Pool, String> {
    let shown = path.display();
    create_private_file(path)
        .map_err(|e| format!("cannot create the database file {shown}: {e}"))?;
    let synchronous = match synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    // No checkpoint on the commit path: a running server's writer thread
    // checkpoints between batches, and a command's last connection as it closes.
    // Deleted rows are zeroed where that costs no extra I/O (an erased user's
    // email must not linger where an old row of theirs was; `overwriting`).
    let pragmas = format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA synchronous = {synchronous};
         PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;
         PRAGMA secure_delete = FAST;",
        WAIT.as_millis()
    );
    // One plain connection first: a file that is not a database fails here at
    // once, with SQLite's own words, instead of in the pool's retry loop.
    let mut conn = Connection::open(path)
        .and_then(|conn| conn.execute_batch(&pragmas).map(|()| conn))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => {
                format!("{shown} is not an SQLite database ({e})")
            }
            _ => format!("cannot open the database {shown}: {e}"),
        })?;
    migrate(&mut conn).map_err(|e| format!("database {shown}: {e}"))?;
    drop(conn);
    let manager =
        SqliteConnectionManager::file(path).with_init(move |conn| conn.execute_batch(&pragmas));
    r2d2::Pool::builder()
        .max_size(pool_size())
        .min_idle(Some(1))
        .connection_timeout(WAIT)
        .error_handler(Box::new(r2d2::NopErrorHandler))
        // A check on every checkout costs ~30 % on cheap queries; a broken SQLite
        // connection to a local file is not a thing that happens.
        .test_on_check_out(false)
        .build(manager)
        .map_err(|e| format!("cannot open the database {shown}: {e}"))
}

fn create_private_file(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
}

/// Applies the schema or the steps it lacks; also how a copy makes its file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version = read_version(conn)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > SCHEMA_VERSION {
        return Err(newer(version));
    }
    let journal = switch_to_wal(conn)?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(format!("cannot switch to WAL mode (still {journal})"));
    }
    // Each step takes the write lock and reads the version again under it: of two
    // processes opening one database at once, the second finds the work done.
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| format!("cannot lock it to apply the schema: {e}"))?;
        let version = read_version(&tx)?;
        let (target, sql) = match version {
            0 => (SCHEMA_VERSION, SCHEMA),
            v if v == SCHEMA_VERSION => return Ok(()),
            v if v > SCHEMA_VERSION => return Err(newer(v)),
            v => MIGRATIONS
                .iter()
                // The next step up: steps made on parallel branches may leave gaps.
                .find(|(to, _)| *to > v)
                .copied()
                .ok_or_else(|| format!("schema version {v} is unknown to this authlite"))?,
        };
        tx.execute_batch(sql)
            .map_err(|e| format!("cannot bring the schema to version {target}: {e}"))?;
        tx.pragma_update(None, "user_version", target)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
        if version > 0 {
            log::info!("database schema migrated to version {target}");
        }
    }
}

/// Switches a new database to WAL, and says the journal mode it is in. The
/// switch needs the file to itself and, unlike other statements, does not wait
/// for it through the busy timeout: of processes opening one new file at once,
/// all but one are told "database is locked" until the first is through.
fn switch_to_wal(conn: &Connection) -> Result<String, String> {
    let started = Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < WAIT =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            answer => return answer.map_err(|e| format!("cannot switch to WAL mode: {e}")),
        }
    }
}

fn read_version(conn: &Connection) -> Result<i64, String> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| format!("not an SQLite database ({e})"))
}

fn newer(version: i64) -> String {
    format!(
        "schema version {version} is newer than this authlite understands ({SCHEMA_VERSION}); \
         run a newer authlite"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::OptionalExtension;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn open_creates_a_private_file_with_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let pool = open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let conn = pool.get().unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(conn);
        drop(pool);
        // Opening again leaves the schema alone.
        open(&path).unwrap();
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains("schema version 99"), "{err}");
    }

    /// Every table's columns and every index's columns, flags and condition.
    fn shape(pool: &Pool) -> Vec<String> {
        let conn = pool.get().unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT type, name, tbl_name FROM sqlite_master
                 WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            )
            .unwrap();
        let objects: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut shape = Vec::new();
        for (kind, name, table) in objects {
            let pragma = match kind.as_str() {
                "table" => format!("PRAGMA table_xinfo(\"{name}\")"),
                _ => format!("PRAGMA index_xinfo(\"{name}\")"),
            };
            let mut stmt = conn.prepare(&pragma).unwrap();
            let columns: Vec<String> = stmt
                .query_map([], |r| {
                    let values: Vec<String> = (0..r.as_ref().column_count())
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect();
                    Ok(values.join(" "))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let condition: Option<String> = conn
                .query_row(
                    "SELECT substr(sql, instr(upper(sql), ' WHERE ')) FROM sqlite_master
                     WHERE name = ?1 AND instr(upper(sql), ' WHERE ') > 0",
                    [&name],
                    |r| r.get(0),
                )
                .optional()
                .unwrap();
            shape.push(format!(
                "{kind} {name} on {table}: {columns:?} {condition:?}"
            ));
        }
        shape
    }

    #[test]
    fn a_first_release_database_migrates_to_the_schema_a_new_one_gets() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.db");
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1.sqlite");
        std::fs::copy(fixture, &old).unwrap();

        let migrated = open(&old).unwrap();
        let new = open(&dir.path().join("new.db")).unwrap();

        assert_eq!(shape(&migrated), shape(&new));
    }
}
