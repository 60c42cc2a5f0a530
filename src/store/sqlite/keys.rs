//! Signing keys and `meta`. Key changes need no lock of their own here: they
//! run in IMMEDIATE transactions, which keep every other write out.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::{KeyChanges, Result, SigningKeys, StoredKey};

impl SigningKeys for SqliteStore<'_> {
    fn list_keys(&mut self) -> Result<Vec<StoredKey>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT kid, algorithm, key_pair, created_at, retired_at, distrusted_at
               FROM signing_keys ORDER BY created_at, rowid",
        )?;
        let keys = stmt.query_map([], |row| {
            Ok(StoredKey {
                kid: row.get(0)?,
                algorithm: row.get(1)?,
                key_pair: row.get(2)?,
                created_at: row.get(3)?,
                retired_at: row.get(4)?,
                distrusted_at: row.get(5)?,
            })
        })?;
        Ok(keys.collect::<rusqlite::Result<_>>()?)
    }

    fn key_generation(&mut self) -> Result<(i64, i64, i64)> {
        let mut stmt = self.0.prepare_cached(
            "SELECT count(*), coalesce(max(rowid), 0), count(distrusted_at) FROM signing_keys",
        )?;
        Ok(stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?)
    }

    fn current_kid(&mut self) -> Result<Option<String>> {
        let kid = self.0.query_row(
            "SELECT kid FROM signing_keys WHERE retired_at IS NULL",
            [],
            |row| row.get(0),
        );
        Ok(kid.optional()?)
    }

    fn meta(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        let value = self
            .0
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
                row.get(0)
            });
        Ok(value.optional()?)
    }
}

impl KeyChanges for SqliteStore<'_> {
    fn make_key_current(
        &mut self,
        kid: &str,
        algorithm: &str,
        key_pair: &[u8],
        now: u64,
    ) -> Result<()> {
        self.0.execute(
            "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
            [now],
        )?;
        self.0.execute(
            "INSERT INTO signing_keys (kid, algorithm, key_pair, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![kid, algorithm, key_pair, now],
        )?;
        Ok(())
    }

    fn distrust_key(&mut self, kid: &str, now: u64) -> Result<bool> {
        let changed = self.0.execute(
            "UPDATE signing_keys SET distrusted_at = coalesce(distrusted_at, ?2),
                    retired_at = coalesce(retired_at, ?2)
              WHERE kid = ?1",
            params![kid, now],
        )?;
        Ok(changed == 1)
    }

    fn set_key_pair(&mut self, kid: &str, key_pair: &[u8]) -> Result<()> {
        self.0.execute(
            "UPDATE signing_keys SET key_pair = ?2 WHERE kid = ?1",
            params![kid, key_pair],
        )?;
        Ok(())
    }

    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<()> {
        self.0.execute(
            "INSERT INTO meta (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

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
        let keys = SqliteStore(&conn).list_keys().unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().all(|k| k.algorithm == "EdDSA"));
        let current = SqliteStore(&conn).current_kid().unwrap();
        assert_eq!(current.as_deref(), Some("new"));
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
                .map(std::result::Result::unwrap)
                .collect()
        };
        for table in ["signing_keys", "meta"] {
            assert_eq!(columns(&fresh, table), columns(&migrated, table), "{table}");
        }
    }
}
