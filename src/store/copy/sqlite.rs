//! The SQLite side of a copy: a snapshot of a file, and a new file written
//! under a temporary name beside its destination and renamed when complete.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{quote, quoted_list, Column, Each, Plan, Sink, Source, Table, Value};

/// How long a read waits for another process's lock.
const WAIT: Duration = Duration::from_secs(5);

/// A file read in one read transaction: in WAL mode the servers writing it
/// go on, and what the transaction reads stays as it was when it began.
pub(super) struct Snapshot {
    conn: Connection,
    pub(super) name: String,
}

impl Snapshot {
    pub(super) fn open(path: &Path) -> Result<Snapshot, String> {
        let name = path.display().to_string();
        // A copy never makes its source: a mistyped --db is not an empty database.
        if !path.exists() {
            return Err(format!("the database {name} does not exist"));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .or_else(|_| {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                Connection::open_with_flags(path, flags)
            })
            .map_err(|e| format!("cannot open the database {name}: {e}"))?;
        let begun = conn.busy_timeout(WAIT).and_then(|()| {
            conn.execute_batch("BEGIN")?;
            // The snapshot starts at the transaction's first read.
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        });
        begun.map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => {
                format!("{name} is not an SQLite database ({e})")
            }
            _ => format!("cannot read the database {name}: {e}"),
        })?;
        Ok(Snapshot { conn, name })
    }
}

impl Source for Snapshot {
    fn schema_version(&mut self) -> Result<i64, String> {
        version(&self.conn).map_err(|e| format!("cannot read the database {}: {e}", self.name))
    }

    fn tables(&mut self) -> Result<Vec<Table>, String> {
        tables(&self.conn).map_err(|e| format!("cannot read the tables of {}: {e}", self.name))
    }

    fn rows(&mut self, table: &Table, columns: &[Column], each: Each) -> Result<u64, String> {
        let order = match table.made_in_order_of.is_empty() {
            true => String::new(),
            false => format!(" ORDER BY {}", table.made_in_order_of.join(", ")),
        };
        let sql = format!(
            "SELECT {} FROM {}{order}",
            quoted_list(columns),
            quote(&table.name)
        );
        let failed = |e: rusqlite::Error| format!("cannot read {}: {e}", self.name);
        let mut stmt = self.conn.prepare(&sql).map_err(failed)?;
        let mut rows = stmt.query([]).map_err(failed)?;
        let mut values = Vec::with_capacity(columns.len());
        let mut count = 0;
        while let Some(row) = rows.next().map_err(failed)? {
            values.clear();
            for i in 0..columns.len() {
                values.push(Value::from_sqlite(row.get_ref(i).map_err(failed)?));
            }
            each(&values)?;
            count += 1;
        }
        Ok(count)
    }
}

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Every table but SQLite's own, with its columns (generated ones are made
/// again, not copied) and what its foreign keys point at.
fn tables(conn: &Connection) -> rusqlite::Result<Vec<Table>> {
    let mut stmt = conn.prepare(
        "SELECT name, wr FROM pragma_table_list
          WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
          ORDER BY name",
    )?;
    let listed: Vec<(String, bool)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut columns = conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let mut parents = conn.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")?;
    let mut tables = Vec::with_capacity(listed.len());
    for (name, without_rowid) in listed {
        let columns = columns
            .query_map([&name], |row| {
                Ok(Column {
                    name: row.get(0)?,
                    pg_type: None,
                    serial: false,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let parents = parents
            .query_map([&name], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let made_in_order_of = match without_rowid {
            true => Vec::new(),
            false => vec!["rowid".to_string()],
        };
        tables.push(Table {
            name,
            columns,
            parents,
            made_in_order_of,
        });
    }
    Ok(tables)
}

/// A new file at `dest`: refused when something with data is there already;
/// else made under a temporary name in the same folder (0600, the schema by
/// the usual steps), filled by `work`, synced, and given its name only once
/// complete. On any failure nothing is left behind.
pub(super) fn into<T>(
    dest: &Path,
    work: impl FnOnce(&str, &mut dyn Sink) -> Result<T, String>,
) -> Result<T, String> {
    let name = dest.display().to_string();
    refuse_data(dest, &name)?;
    let temp = temporary_beside(dest, &name)?;
    let done = build(dest, &temp, &name, work);
    if done.is_err() {
        remove_with_sidecars(&temp);
    }
    done
}

fn refuse_data(dest: &Path, name: &str) -> Result<(), String> {
    match fs::metadata(dest) {
        Ok(found) if found.is_dir() || found.len() > 0 => Err(held(name)),
        _ => Ok(()),
    }
}

fn held(name: &str) -> String {
    format!(
        "{name} already exists and holds data (a copy goes into a new SQLite file or an empty \
         PostgreSQL database); it was left as it was"
    )
}

/// `.NAME.PID-NANOS.partial` beside `dest`: never the name itself, so nothing
/// incomplete is ever found under it.
fn temporary_beside(dest: &Path, name: &str) -> Result<PathBuf, String> {
    let file = dest
        .file_name()
        .ok_or_else(|| format!("{name} names no file to copy into"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = format!(
        ".{}.{}-{nanos}.partial",
        file.to_string_lossy(),
        std::process::id()
    );
    Ok(dest.with_file_name(temp))
}

fn build<T>(
    dest: &Path,
    temp: &Path,
    name: &str,
    work: impl FnOnce(&str, &mut dyn Sink) -> Result<T, String>,
) -> Result<T, String> {
    let cannot = |e: &dyn std::fmt::Display| format!("cannot write the copy {name}: {e}");
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(temp)
        .map_err(|e| cannot(&e))?;
    let mut conn = Connection::open(temp).map_err(|e| cannot(&e))?;
    // The schema as every new database gets it.
    crate::store::sqlite::migrate(&mut conn).map_err(|e| cannot(&e))?;
    // A file no one else sees yet, and removed if this fails: no journal and
    // no sync while it fills; it is synced once, whole, before it is named.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;
         PRAGMA cache_size = -65536; BEGIN",
    )
    .map_err(|e| cannot(&e))?;
    let made_again = set_aside(&conn).map_err(|e| cannot(&e))?;
    let done = work(name, &mut Filling { conn: &conn, name })?;
    for sql in made_again {
        conn.execute_batch(&sql).map_err(|e| cannot(&e))?;
    }
    conn.execute_batch("COMMIT; PRAGMA journal_mode = WAL")
        .map_err(|e| cannot(&e))?;
    conn.close().map_err(|(_, e)| cannot(&e))?;
    File::open(temp)
        .and_then(|file| file.sync_all())
        .map_err(|e| cannot(&e))?;
    publish(temp, dest, name)?;
    Ok(done)
}

/// The indexes the schema made (those of primary keys and UNIQUE apart,
/// which SQLite keeps with its table): dropped while the rows go in, and the
/// statements that make them again, as they were, returned. A whole table is
/// sorted into an index faster than it is updated row by row.
fn set_aside(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )?;
    let indexes: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX {}", quote(name)))?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// Gives the complete file its name, unless something took the name
/// meanwhile (a hard link never replaces), then syncs the folder.
fn publish(temp: &Path, dest: &Path, name: &str) -> Result<(), String> {
    let cannot = |e: std::io::Error| format!("cannot write the copy {name}: {e}");
    match fs::hard_link(temp, dest) {
        Ok(()) => fs::remove_file(temp).map_err(cannot)?,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            refuse_data(dest, name)?;
            // An empty file was there: it is replaced.
            fs::rename(temp, dest).map_err(cannot)?;
        }
        // A file system without hard links.
        Err(_) => fs::rename(temp, dest).map_err(cannot)?,
    }
    let folder = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(cannot)
}

fn remove_with_sidecars(temp: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = temp.as_os_str().to_owned();
        path.push(suffix);
        let _ = fs::remove_file(PathBuf::from(path));
    }
}

/// The new file while it fills, inside one transaction.
struct Filling<'c> {
    conn: &'c Connection,
    name: &'c str,
}

impl Sink for Filling<'_> {
    fn schema_version(&mut self) -> Result<i64, String> {
        version(self.conn).map_err(|e| format!("cannot read the copy {}: {e}", self.name))
    }

    fn tables(&mut self) -> Result<Vec<Table>, String> {
        tables(self.conn).map_err(|e| format!("cannot read the copy {}: {e}", self.name))
    }

    fn load(&mut self, plan: &Plan, source: &mut dyn Source) -> Result<u64, String> {
        let marks: Vec<String> = (1..=plan.write.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(&plan.dest.name),
            quoted_list(&plan.write),
            marks.join(", ")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| e.to_string())?;
        source.rows(plan.source, &plan.read, &mut |row| {
            stmt.execute(rusqlite::params_from_iter(row.iter()))
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }
}
