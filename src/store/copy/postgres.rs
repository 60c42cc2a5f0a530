//! The PostgreSQL side of a copy: a REPEATABLE READ snapshot read with
//! `COPY … TO STDOUT`, and an empty database filled in one transaction with
//! `COPY … FROM STDIN`, both in the binary format.

use postgres::binary_copy::{BinaryCopyInWriter, BinaryCopyOutIter};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};

use super::value::PgKind;
use super::{quote, quoted_list, Column, Each, Plan, Sink, Source, Table, Value};
use crate::store::postgres::{describe, migrate, url, MIGRATION_LOCK};

/// The one table that is the engine's bookkeeping: each database has its own.
const BOOKKEEPING: &str = "schema_version";

/// A connection of the copy's own: a copy takes as long as its rows, so none
/// of a server connection's limits on a statement or an idle transaction.
fn connect(url: &str) -> Result<(Client, String), String> {
    let target = url::parse(url)?;
    let name = target.name.clone();
    let mut client = target
        .config
        .connect(target.tls.clone())
        .map_err(|e| format!("cannot open the database {name}: {}", describe(&e)))?;
    client
        .batch_execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")
        .map_err(|e| format!("cannot use the database {name}: {}", describe(&e)))?;
    Ok((client, name))
}

/// A database read in one REPEATABLE READ, READ ONLY transaction: every
/// statement sees what had committed when the first began.
pub(super) struct Snapshot {
    client: Client,
    pub(super) name: String,
}

impl Snapshot {
    pub(super) fn open(url: &str) -> Result<Snapshot, String> {
        let (mut client, name) = connect(url)?;
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| format!("cannot read the database {name}: {}", describe(&e)))?;
        Ok(Snapshot { client, name })
    }
}

impl Source for Snapshot {
    fn schema_version(&mut self) -> Result<i64, String> {
        migrate::read_version(&mut self.client)
    }

    fn tables(&mut self) -> Result<Vec<Table>, String> {
        tables(&mut self.client, &self.name)
    }

    fn rows(&mut self, table: &Table, columns: &[Column], each: Each) -> Result<u64, String> {
        let types: Vec<Type> = columns.iter().filter_map(|c| c.pg_type.clone()).collect();
        let kinds: Vec<PgKind> = types.iter().filter_map(PgKind::of).collect();
        let order: Vec<String> = table.made_in_order_of.iter().map(|c| quote(c)).collect();
        let order = match order.is_empty() {
            true => String::new(),
            false => format!(" ORDER BY {}", order.join(", ")),
        };
        let sql = format!(
            "COPY (SELECT {} FROM {}{order}) TO STDOUT (FORMAT binary)",
            quoted_list(columns),
            quote(&table.name)
        );
        let name = self.name.clone();
        let failed =
            |e: postgres::Error| format!("cannot read the database {name}: {}", describe(&e));
        let reader = self.client.copy_out(&sql).map_err(failed)?;
        let mut rows = BinaryCopyOutIter::new(reader, &types);
        let mut values = Vec::with_capacity(kinds.len());
        let mut count = 0;
        while let Some(row) = rows.next().map_err(failed)? {
            values.clear();
            for (i, kind) in kinds.iter().enumerate() {
                values.push(read(&row, i, *kind).map_err(failed)?);
            }
            each(&values)?;
            count += 1;
        }
        Ok(count)
    }
}

fn read(
    row: &postgres::binary_copy::BinaryCopyOutRow,
    i: usize,
    kind: PgKind,
) -> Result<Value, postgres::Error> {
    Ok(match kind {
        PgKind::Int8 => row
            .try_get::<Option<i64>>(i)?
            .map_or(Value::Null, Value::Int),
        PgKind::Int4 => row
            .try_get::<Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        PgKind::Int2 => row
            .try_get::<Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        PgKind::Float8 => row
            .try_get::<Option<f64>>(i)?
            .map_or(Value::Null, Value::Real),
        PgKind::Float4 => row
            .try_get::<Option<f32>>(i)?
            .map_or(Value::Null, |v| Value::Real(v.into())),
        PgKind::Bool => row
            .try_get::<Option<bool>>(i)?
            .map_or(Value::Null, Value::Bool),
        PgKind::Text => row
            .try_get::<Option<&str>>(i)?
            .map_or(Value::Null, |v| Value::Text(v.to_owned())),
        PgKind::Bytes => row
            .try_get::<Option<&[u8]>>(i)?
            .map_or(Value::Null, |v| Value::Bytes(v.to_vec())),
    })
}

/// Every table of the current schema but the bookkeeping, with its columns
/// (generated ones are made again, not copied), which of them a sequence
/// numbers, and what its foreign keys point at. A column of a type the copy
/// does not know is refused here, by name, before anything is written.
fn tables(client: &mut impl postgres::GenericClient, name: &str) -> Result<Vec<Table>, String> {
    let failed = |e: postgres::Error| format!("cannot read the tables of {name}: {}", describe(&e));
    let columns = client.query(
        "SELECT c.relname::text, a.attname::text, a.atttypid, format_type(a.atttypid, a.atttypmod),
                pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                                       a.attname) IS NOT NULL
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid
          WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> $1
            AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
          ORDER BY c.relname, a.attnum",
        &[&BOOKKEEPING],
    ).map_err(failed)?;
    let references = client
        .query(
            "SELECT DISTINCT c.relname::text, p.relname::text
           FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_class p ON p.oid = k.confrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE k.contype = 'f' AND n.nspname = current_schema()",
            &[],
        )
        .map_err(failed)?;
    let mut tables: Vec<Table> = Vec::new();
    for row in columns {
        let table: String = row.try_get(0).map_err(failed)?;
        let oid: u32 = row.try_get(2).map_err(failed)?;
        let pg_type = Type::from_oid(oid).filter(|t| PgKind::of(t).is_some());
        let column = Column {
            name: row.try_get(1).map_err(failed)?,
            pg_type,
            serial: row.try_get(4).map_err(failed)?,
        };
        if column.pg_type.is_none() {
            let shown: String = row.try_get(3).map_err(failed)?;
            return Err(format!(
                "{name}: the column {table}.{} is of type {shown}, which authlite copy does not know",
                column.name
            ));
        }
        match tables.last_mut().filter(|t| t.name == table) {
            Some(last) => last.columns.push(column),
            None => tables.push(Table {
                name: table,
                columns: vec![column],
                parents: Vec::new(),
                made_in_order_of: Vec::new(),
            }),
        }
    }
    for row in references {
        let child: String = row.try_get(0).map_err(failed)?;
        let parent: String = row.try_get(1).map_err(failed)?;
        if let Some(table) = tables.iter_mut().find(|t| t.name == child) {
            table.parents.push(parent);
        }
    }
    for table in &mut tables {
        let serial = table.columns.iter().filter(|c| c.serial);
        table.made_in_order_of = serial.map(|c| c.name.clone()).collect();
    }
    Ok(tables)
}

/// Fills the empty database at `url` in one transaction, which `work` runs
/// in: the migration lock first (so that no server makes the schema at the
/// same time), a refusal if any table holds a row, the schema by the usual
/// steps, then `work`. Anything that fails rolls it all back.
pub(super) fn into<T>(
    url: &str,
    work: impl FnOnce(&str, &mut dyn Sink) -> Result<T, String>,
) -> Result<T, String> {
    let (mut client, name) = connect(url)?;
    let failed = |e: postgres::Error| format!("cannot write the copy {name}: {}", describe(&e));
    let mut tx = client.transaction().map_err(failed)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(failed)?;
    refuse_data(&mut tx, &name)?;
    migrate::migrate(&mut tx).map_err(|e| format!("database {name}: {e}"))?;
    let made_again = set_aside(&mut tx).map_err(failed)?;
    let done = work(
        &name,
        &mut Filling {
            tx: &mut tx,
            name: &name,
        },
    )?;
    for sql in made_again {
        tx.batch_execute(&sql)
            .map_err(|e| format!("cannot write the copy {name}: {} ({sql})", describe(&e)))?;
    }
    tx.commit().map_err(failed)?;
    Ok(done)
}

/// PostgreSQL checks a foreign key and updates every index row by row; after
/// the rows are in, it builds an index and checks a key for a whole table at
/// once, five times faster (as pg_restore does). So, inside the copy's
/// transaction, the foreign keys, the primary and unique keys and the other
/// indexes of the schema the migrations made are dropped here, and the
/// statements that make them again from their own definitions returned: keys
/// first, then indexes, then the foreign keys, which check every copied row.
fn set_aside(tx: &mut Transaction) -> Result<Vec<String>, postgres::Error> {
    let constraints = |kinds: &str| {
        format!(
            "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid)
               FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
              WHERE n.nspname = current_schema() AND c.contype IN ({kinds})
              ORDER BY 1, 2"
        )
    };
    let foreign = tx.query(&constraints("'f'"), &[])?;
    let keys = tx.query(&constraints("'p', 'u'"), &[])?;
    let indexes = tx.query(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = current_schema()
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                             WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
          ORDER BY 1",
        &[],
    )?;
    let mut again = Vec::new();
    let mut foreign_again = Vec::new();
    for (rows, made) in [(&foreign, &mut foreign_again), (&keys, &mut again)] {
        for row in rows {
            let (table, name, def): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            tx.batch_execute(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT {}",
                quote(&name)
            ))?;
            made.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {def}",
                quote(&name)
            ));
        }
    }
    for row in &indexes {
        let (index, def): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        tx.batch_execute(&format!("DROP INDEX {index}"))?;
        again.push(def);
    }
    again.extend(foreign_again);
    Ok(again)
}

fn refuse_data(tx: &mut Transaction, name: &str) -> Result<(), String> {
    let failed = |e: postgres::Error| format!("cannot read the database {name}: {}", describe(&e));
    let tables = tx
        .query(
            "SELECT tablename::text FROM pg_tables
              WHERE schemaname = current_schema() AND tablename <> $1 ORDER BY tablename",
            &[&BOOKKEEPING],
        )
        .map_err(failed)?;
    for row in tables {
        let table: String = row.try_get(0).map_err(failed)?;
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quote(&table));
        let held: bool = tx
            .query_one(&sql, &[])
            .and_then(|row| row.try_get(0))
            .map_err(failed)?;
        if held {
            return Err(format!(
                "{name} already holds data (its table {table} has rows; a copy goes into a new \
                 SQLite file or an empty PostgreSQL database); it was left as it was"
            ));
        }
    }
    Ok(())
}

/// The database while it fills, inside the copy's transaction.
struct Filling<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    name: &'t str,
}

impl Sink for Filling<'_, '_> {
    fn schema_version(&mut self) -> Result<i64, String> {
        migrate::read_version(self.tx)
    }

    fn tables(&mut self) -> Result<Vec<Table>, String> {
        tables(self.tx, self.name)
    }

    fn load(&mut self, plan: &Plan, source: &mut dyn Source) -> Result<u64, String> {
        let types: Vec<Type> = plan
            .write
            .iter()
            .filter_map(|c| c.pg_type.clone())
            .collect();
        let table = quote(&plan.dest.name);
        let sql = format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            quoted_list(&plan.write)
        );
        let failed = |e: postgres::Error| describe(&e);
        let writer = self.tx.copy_in(&sql).map_err(failed)?;
        let mut writer = BinaryCopyInWriter::new(writer, &types);
        let rows = source.rows(plan.source, &plan.read, &mut |row| {
            let values: Vec<&(dyn ToSql + Sync)> =
                row.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            writer.write(&values).map_err(failed)
        })?;
        writer.finish().map_err(failed)?;
        // Numbers a sequence gives from now on come after the copied ones.
        for column in plan.dest.columns.iter().filter(|c| c.serial) {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2)::regclass, m)
                   FROM (SELECT max({}) AS m FROM {table}) AS copied WHERE m IS NOT NULL",
                quote(&column.name)
            );
            self.tx
                .execute(&sql, &[&table, &column.name])
                .map_err(failed)?;
        }
        Ok(rows)
    }
}
