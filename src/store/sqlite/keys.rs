//! Signing keys: key pairs (sealed when the database has a master key), the
//! one unretired key is current, a distrusted key verifies nothing.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::StoredKey;

/// Every key, oldest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<StoredKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kid, algorithm, key_pair, created_at, retired_at, distrusted_at
           FROM signing_keys ORDER BY created_at, rowid",
    )?;
    let keys = stmt
        .query_map([], |row| {
            Ok(StoredKey {
                kid: row.get(0)?,
                algorithm: row.get(1)?,
                key_pair: row.get(2)?,
                created_at: row.get(3)?,
                retired_at: row.get(4)?,
                distrusted_at: row.get(5)?,
            })
        })?
        .collect();
    keys
}

/// A cheap fingerprint of the key table, to notice a `keys rotate` or `keys
/// retire` from another process.
pub fn generation(conn: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    conn.prepare_cached(
        "SELECT count(*), coalesce(max(rowid), 0), count(distrusted_at) FROM signing_keys",
    )?
    .query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
}

/// The kid of the current key, if there is one.
pub fn current_kid(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT kid FROM signing_keys WHERE retired_at IS NULL",
        [],
        |row| row.get(0),
    )
    .optional()
}

/// Retires the current key (if any) and makes `kid` current.
pub fn make_current(
    conn: &Connection,
    kid: &str,
    algorithm: &str,
    key_pair: &[u8],
    now: u64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
        [now],
    )?;
    conn.execute(
        "INSERT INTO signing_keys (kid, algorithm, key_pair, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![kid, algorithm, key_pair, now],
    )?;
    Ok(())
}

/// Distrusts a key that is no longer current; false if there is no such key.
pub fn distrust(conn: &Connection, kid: &str, now: u64) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE signing_keys SET distrusted_at = coalesce(distrusted_at, ?2),
                retired_at = coalesce(retired_at, ?2)
          WHERE kid = ?1",
        params![kid, now],
    )?;
    Ok(changed == 1)
}

/// Replaces a key's stored bytes (sealing it in place).
pub fn set_key_pair(conn: &Connection, kid: &str, key_pair: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE signing_keys SET key_pair = ?2 WHERE kid = ?1",
        params![kid, key_pair],
    )
    .map(drop)
}

pub fn meta(conn: &Connection, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
        row.get(0)
    })
    .optional()
}

pub fn set_meta(conn: &Connection, name: &str, value: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing_keys table as schema version 1 made it.
    const VERSION_1: &str = "CREATE TABLE signing_keys (kid TEXT PRIMARY KEY,
        key_pair BLOB NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER);";

    #[test]
    fn the_migration_step_keeps_old_keys_and_leaves_one_current() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(VERSION_1).unwrap();
        conn.execute_batch(
            "INSERT INTO signing_keys VALUES ('old', x'01', 1, NULL), ('new', x'02', 2, NULL);",
        )
        .unwrap();
        conn.execute_batch(include_str!("../../../migrations/003_signing_keys.sql"))
            .unwrap();
        let keys = list(&conn).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().all(|k| k.algorithm == "EdDSA"));
        assert_eq!(current_kid(&conn).unwrap().as_deref(), Some("new"));
        let second = conn.execute(
            "INSERT INTO signing_keys (kid, key_pair, created_at) VALUES ('x', x'03', 3)",
            [],
        );
        assert!(second.is_err(), "a second current key was accepted");
    }

    #[test]
    fn the_schema_and_the_migration_agree_on_the_key_table() {
        let fresh = Connection::open_in_memory().unwrap();
        fresh
            .execute_batch(include_str!("../../../schema.sql"))
            .unwrap();
        let migrated = Connection::open_in_memory().unwrap();
        migrated.execute_batch(VERSION_1).unwrap();
        migrated
            .execute_batch(include_str!("../../../migrations/003_signing_keys.sql"))
            .unwrap();
        let columns = |conn: &Connection, table: &str| -> Vec<(String, String, bool)> {
            let mut stmt = conn
                .prepare(&format!("SELECT name, type, \"notnull\" FROM pragma_table_info('{table}') ORDER BY name"))
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        for table in ["signing_keys", "meta"] {
            assert_eq!(columns(&fresh, table), columns(&migrated, table), "{table}");
        }
    }
}
