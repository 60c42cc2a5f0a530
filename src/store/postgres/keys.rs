//! Signing keys: key pairs (sealed when the database has a master key), the
//! one unretired key is current, a distrusted key verifies nothing. Key
//! changes take one advisory lock (`lock`), so that instances starting at
//! once on a new database make one first key between them.

use super::conn::Conn;
use super::{bytes, int, opt_time, text, time, KEY_LOCK};
use crate::store::{Result, StoredKey};

/// Until the transaction ends, no other one changes the signing keys (every
/// change takes this lock first). Under READ COMMITTED each statement after
/// it sees what the one before it committed.
pub fn lock(conn: &mut Conn) -> Result<()> {
    conn.query_one("SELECT pg_advisory_xact_lock($1, 0)", &[&KEY_LOCK])?;
    Ok(())
}

/// Every key, oldest first.
pub fn list(conn: &mut Conn) -> Result<Vec<StoredKey>> {
    let rows = conn.query(
        "SELECT kid, algorithm, key_pair, created_at, retired_at, distrusted_at
           FROM signing_keys ORDER BY created_at, generation",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            Ok(StoredKey {
                kid: text(row, 0)?,
                algorithm: text(row, 1)?,
                key_pair: bytes(row, 2)?,
                created_at: time(row, 3)?,
                retired_at: opt_time(row, 4)?,
                distrusted_at: opt_time(row, 5)?,
            })
        })
        .collect()
}

/// A cheap fingerprint of the key table, to notice a `keys rotate` or `keys
/// retire` from another process.
pub fn generation(conn: &mut Conn) -> Result<(i64, i64, i64)> {
    let row = conn.query_one(
        "SELECT count(*), coalesce(max(generation), 0), count(distrusted_at) FROM signing_keys",
        &[],
    )?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// The kid of the current key, if there is one.
pub fn current_kid(conn: &mut Conn) -> Result<Option<String>> {
    match conn.query_opt("SELECT kid FROM signing_keys WHERE retired_at IS NULL", &[])? {
        Some(row) => Ok(Some(text(&row, 0)?)),
        None => Ok(None),
    }
}

/// Retires the current key (if any) and makes `kid` current.
pub fn make_current(
    conn: &mut Conn,
    kid: &str,
    algorithm: &str,
    key_pair: &[u8],
    now: u64,
) -> Result<()> {
    conn.execute(
        "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL",
        &[&int(now)],
    )?;
    conn.execute(
        "INSERT INTO signing_keys (kid, algorithm, key_pair, created_at) VALUES ($1, $2, $3, $4)",
        &[&kid, &algorithm, &key_pair, &int(now)],
    )?;
    Ok(())
}

/// Distrusts a key that is no longer current; false if there is no such key.
pub fn distrust(conn: &mut Conn, kid: &str, now: u64) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE signing_keys SET distrusted_at = coalesce(distrusted_at, $2),
                retired_at = coalesce(retired_at, $2)
          WHERE kid = $1",
        &[&kid, &int(now)],
    )?;
    Ok(changed == 1)
}

/// Replaces a key's stored bytes (sealing it in place).
pub fn set_key_pair(conn: &mut Conn, kid: &str, key_pair: &[u8]) -> Result<()> {
    conn.execute(
        "UPDATE signing_keys SET key_pair = $2 WHERE kid = $1",
        &[&kid, &key_pair],
    )?;
    Ok(())
}

pub fn meta(conn: &mut Conn, name: &str) -> Result<Option<Vec<u8>>> {
    match conn.query_opt("SELECT value FROM meta WHERE name = $1", &[&name])? {
        Some(row) => Ok(Some(bytes(&row, 0)?)),
        None => Ok(None),
    }
}

pub fn set_meta(conn: &mut Conn, name: &str, value: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&name, &value],
    )?;
    Ok(())
}
