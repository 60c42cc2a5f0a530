//! Signing keys: raw Ed25519 key pairs, the newest unretired one is current.

use std::fmt;

use rusqlite::{params, Connection};

pub struct StoredKey {
    pub kid: String,
    pub key_pair: Vec<u8>,
    pub created_at: u64,
    pub retired_at: Option<u64>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Every key, oldest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<StoredKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kid, key_pair, created_at, retired_at FROM signing_keys ORDER BY created_at, rowid",
    )?;
    let keys = stmt
        .query_map([], |row| {
            Ok(StoredKey {
                kid: row.get(0)?,
                key_pair: row.get(1)?,
                created_at: row.get(2)?,
                retired_at: row.get(3)?,
            })
        })?
        .collect();
    keys
}

/// A cheap fingerprint of the key table, to notice a `keys rotate` from another process.
pub fn generation(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached("SELECT count(*), coalesce(max(rowid), 0) FROM signing_keys")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
}

/// Retires the current key (if any) and makes `kid` current.
pub fn make_current(
    conn: &Connection,
    kid: &str,
    key_pair: &[u8],
    now: u64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
        [now],
    )?;
    conn.execute(
        "INSERT INTO signing_keys (kid, key_pair, created_at) VALUES (?1, ?2, ?3)",
        params![kid, key_pair, now],
    )?;
    Ok(())
}
