//! Versioned schema steps, applied on open. The version is the one row of
//! `schema_version`. Each step is one transaction that first takes an advisory
//! lock and reads the version again under it, so that of several instances
//! starting at once on an empty database, one makes the schema and the others
//! find it made. Version numbers are SQLite's: "schema version N" means the
//! same tables on both engines.

use postgres::GenericClient;

use super::MIGRATION_LOCK;

/// Each step brings a database from `from` to `to`. The first brings an empty
/// database to what SQLite's schema.sql is at version 4.
const MIGRATIONS: &[(i64, i64, &str)] = &[
    (
        0,
        4,
        include_str!("../../../migrations/postgres/004_schema.sql"),
    ),
    (
        4,
        5,
        include_str!("../../../migrations/postgres/005_roles_and_amr.sql"),
    ),
    (
        5,
        6,
        include_str!("../../../migrations/postgres/006_audit_events.sql"),
    ),
    (
        6,
        7,
        include_str!("../../../migrations/postgres/007_api_keys.sql"),
    ),
    (
        7,
        8,
        include_str!("../../../migrations/postgres/008_last_login.sql"),
    ),
    (
        8,
        9,
        include_str!("../../../migrations/postgres/009_mfa.sql"),
    ),
    (
        9,
        10,
        include_str!("../../../migrations/postgres/010_users_by_email_bytes.sql"),
    ),
    (
        10,
        11,
        include_str!("../../../migrations/postgres/011_passkeys.sql"),
    ),
    (
        11,
        12,
        include_str!("../../../migrations/postgres/012_outbox.sql"),
    ),
    (
        12,
        13,
        include_str!("../../../migrations/postgres/013_oidc.sql"),
    ),
];
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].1;

/// Brings the database's schema to SCHEMA_VERSION, or says why not.
/// Inside a transaction (a copy's), each step is a savepoint of it.
pub fn migrate(client: &mut impl GenericClient) -> Result<(), String> {
    let found = read_version(client)?;
    match found {
        v if v == SCHEMA_VERSION => return Ok(()),
        v if v > SCHEMA_VERSION => return Err(newer(v)),
        _ => {}
    }
    loop {
        let mut tx = client
            .transaction()
            .map_err(|e| format!("cannot begin to apply the schema: {}", super::describe(&e)))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| {
                format!(
                    "cannot lock it to apply the schema: {}",
                    super::describe(&e)
                )
            })?;
        let version = read_version(&mut tx)?;
        let (target, sql) = match version {
            v if v == SCHEMA_VERSION => return Ok(()),
            v if v > SCHEMA_VERSION => return Err(newer(v)),
            v => MIGRATIONS
                .iter()
                .find(|(from, _, _)| *from == v)
                .map(|&(_, to, sql)| (to, sql))
                .ok_or_else(|| format!("schema version {v} is unknown to this authlite"))?,
        };
        let step = |e: postgres::Error| {
            format!(
                "cannot bring the schema to version {target}: {}",
                super::describe(&e)
            )
        };
        if version == 0 {
            tx.batch_execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
                .map_err(step)?;
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])
                .map_err(step)?;
        }
        tx.batch_execute(sql).map_err(step)?;
        tx.execute("UPDATE schema_version SET version = $1", &[&target])
            .map_err(step)?;
        tx.commit().map_err(step)?;
        // A new database is made in steps too, and is not migrated.
        if found > 0 {
            log::info!("database schema migrated to version {target}");
        }
    }
}

/// 0 for a database without authlite's tables yet.
pub(in crate::store) fn read_version(client: &mut impl GenericClient) -> Result<i64, String> {
    let failed =
        |e: postgres::Error| format!("cannot read the schema version: {}", super::describe(&e));
    let exists: bool = client
        // The catalog read as a table, with this statement's snapshot: after
        // the lock it sees a schema another instance has just committed
        // (to_regclass could answer from a stale cache).
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
                             WHERE schemaname = current_schema() AND tablename = 'schema_version')",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(failed)?;
    if !exists {
        return Ok(0);
    }
    let version: Option<i64> = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .and_then(|row| row.try_get(0))
        .map_err(failed)?;
    Ok(version.unwrap_or(0))
}

fn newer(version: i64) -> String {
    format!(
        "schema version {version} is newer than this authlite understands ({SCHEMA_VERSION}); \
         run a newer authlite"
    )
}
