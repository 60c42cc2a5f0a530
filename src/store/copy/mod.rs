//! `authlite copy` (SPEC §14): every table of one database, read in one
//! consistent snapshot while servers go on writing, into a new SQLite file or
//! an empty PostgreSQL database, engine to engine. The tables and columns are
//! read from the source's catalog and the destination's schema is made by its
//! engine's own migration steps, so a table a later step adds is copied with no
//! change here. Values go as they are stored: sealed secrets stay sealed, and
//! token digests, ids and keys are the same, so every token still works.

mod postgres;
mod sqlite;
mod value;

use std::path::Path;

pub use value::Value;

/// What a copy moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The source and the destination, as messages name them (no password).
    pub from: String,
    pub to: String,
    /// Rows written, per table in the order they were written.
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

/// A column as its engine's catalog declares it.
#[derive(Clone, Debug)]
struct Column {
    name: String,
    /// PostgreSQL's type; `None` on SQLite, where a column takes any value.
    pg_type: Option<::postgres::types::Type>,
    /// Numbered by a sequence when no value is given: PostgreSQL's BIGSERIAL
    /// and identity columns, some of which stand where SQLite has its rowid.
    serial: bool,
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    columns: Vec<Column>,
    /// The tables its foreign keys point at.
    parents: Vec<String>,
    /// What orders its rows as they were made (SQLite's rowid, PostgreSQL's
    /// sequences), so that the copy makes them in that order too.
    made_in_order_of: Vec<String>,
}

/// One table: the source's columns, read in order into the destination's.
struct Plan<'a> {
    source: &'a Table,
    dest: &'a Table,
    read: Vec<Column>,
    write: Vec<Column>,
}

type Each<'a> = &'a mut dyn FnMut(&[Value]) -> Result<(), String>;

/// A database read in one snapshot: what `rows` reads stays as it was when
/// the first read began, whatever commits meanwhile.
trait Source {
    fn schema_version(&mut self) -> Result<i64, String>;
    /// Every table but the engine's own bookkeeping.
    fn tables(&mut self) -> Result<Vec<Table>, String>;
    /// Calls `each` with every row's `columns`, in the order the rows were made.
    fn rows(&mut self, table: &Table, columns: &[Column], each: Each) -> Result<u64, String>;
}

/// A destination with its schema made, inside what makes it all or nothing.
trait Sink {
    fn schema_version(&mut self) -> Result<i64, String>;
    fn tables(&mut self) -> Result<Vec<Table>, String>;
    /// Writes every row of the plan's table that `source` reads; how many.
    fn load(&mut self, plan: &Plan, source: &mut dyn Source) -> Result<u64, String>;
}

/// Copies everything in `from` (`--db`) into `to`: a new SQLite file, or an
/// empty PostgreSQL database. `Err` is one sentence, and `to` is as it was.
pub fn copy(from: &str, to: &str) -> Result<Copied, String> {
    let (mut source, from_name, binary): (Box<dyn Source>, String, i64) =
        if super::postgres::is_url(from) {
            let source = postgres::Snapshot::open(from)?;
            let name = source.name.clone();
            (Box::new(source), name, super::postgres::SCHEMA_VERSION)
        } else {
            let source = sqlite::Snapshot::open(Path::new(from))?;
            let name = source.name.clone();
            (Box::new(source), name, super::sqlite::SCHEMA_VERSION)
        };
    let version = source.schema_version()?;
    if version == 0 {
        return Err(format!(
            "{from_name} holds no authlite database: nothing to copy"
        ));
    }
    if version != binary {
        let what = match version < binary {
            true => "open it with this authlite first (any command migrates it)",
            false => "copy it with a newer authlite",
        };
        return Err(format!(
            "{from_name} is at schema version {version} and this authlite at {binary}: {what}"
        ));
    }
    let tables = source.tables()?;
    let work = |to_name: &str, sink: &mut dyn Sink| -> Result<Copied, String> {
        let made = sink.schema_version()?;
        if made != version {
            return Err(format!(
                "{to_name} was made at schema version {made}, but {from_name} is at {version}"
            ));
        }
        let dest_tables = sink.tables()?;
        let mut copied = Vec::new();
        for dest in in_order_of_references(&dest_tables) {
            let source_table = tables.iter().find(|t| t.name == dest.name).ok_or_else(|| {
                format!(
                    "{from_name} has no table {} to copy into {to_name}",
                    dest.name
                )
            })?;
            let plan = plan(source_table, dest, to_name)?;
            let rows = sink
                .load(&plan, &mut *source)
                .map_err(|e| format!("copying the table {}: {e}", dest.name))?;
            copied.push((dest.name.clone(), rows));
        }
        if let Some(left) = tables
            .iter()
            .find(|t| !dest_tables.iter().any(|d| d.name == t.name))
        {
            return Err(format!("{to_name} has no table {} to copy into", left.name));
        }
        Ok(Copied {
            from: from_name.clone(),
            to: to_name.to_string(),
            tables: copied,
        })
    };
    if super::postgres::is_url(to) {
        postgres::into(to, work)
    } else {
        sqlite::into(Path::new(to), work)
    }
}

/// Which source column goes into which destination column. A sequence's
/// numbers with no column on the other side are not copied: the rows are made
/// in their order instead (PostgreSQL's `signing_keys.generation` and SQLite's
/// rowid stand for each other).
fn plan<'a>(source: &'a Table, dest: &'a Table, to_name: &str) -> Result<Plan<'a>, String> {
    let (mut read, mut write) = (Vec::new(), Vec::new());
    for column in &source.columns {
        match dest.columns.iter().find(|c| c.name == column.name) {
            Some(into) => {
                read.push(column.clone());
                write.push(into.clone());
            }
            None if column.serial => {}
            None => {
                return Err(format!(
                    "{to_name} has no column {}.{} to copy into",
                    dest.name, column.name
                ))
            }
        }
    }
    let unfilled = dest
        .columns
        .iter()
        .find(|c| !c.serial && !source.columns.iter().any(|s| s.name == c.name));
    if let Some(column) = unfilled {
        return Err(format!(
            "the source has no column {}.{} to fill {to_name}'s",
            dest.name, column.name
        ));
    }
    Ok(Plan {
        source,
        dest,
        read,
        write,
    })
}

/// The tables with every table a foreign key points at before the tables
/// pointing at it, so that each row's reference is there when it is written.
fn in_order_of_references(tables: &[Table]) -> Vec<&Table> {
    let mut left: Vec<&Table> = tables.iter().collect();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    let mut ordered: Vec<&Table> = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            t.parents.iter().all(|p| {
                *p == t.name
                    || ordered.iter().any(|o| o.name == *p)
                    || !left.iter().any(|l| l.name == *p)
            })
        });
        // A cycle of references: the rest as they come (the engine says if it minds).
        ordered.push(left.remove(ready.unwrap_or(0)));
    }
    ordered
}

/// An identifier as SQL quotes it, whatever it holds.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quoted_list(columns: &[Column]) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    names.join(", ")
}
