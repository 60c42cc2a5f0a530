//! Failed logins, one row each, keyed by email or client address. Several
//! instances write here at once: `lock_keys` takes a transaction-scoped
//! advisory lock per key, so that a count and the row taken after it (the
//! trait's `reserve_failures`) cannot interleave with another attempt's on the
//! same key, in this process or another.

use super::conn::Conn;
use super::{count, int, time, FAILURE_LOCKS};
use crate::store::{Result, PRUNE_CHUNK};

/// Until the transaction ends, no other one counts or adds failures under
/// these keys. The caller gives them sorted, and every caller takes them in
/// that order, so two attempts never wait for each other in a circle. Two keys
/// whose hashes meet share a lock: that only serialises a little more.
pub fn lock_keys(conn: &mut Conn, keys: &[&str]) -> Result<()> {
    for key in keys {
        conn.query_one(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&FAILURE_LOCKS, key],
        )?;
    }
    Ok(())
}

/// Gives back reserved rows: the attempt did not fail.
pub fn release(conn: &mut Conn, rows: &[i64]) -> Result<()> {
    if !rows.is_empty() {
        conn.execute("DELETE FROM login_failures WHERE id = ANY($1)", &[&rows])?;
    }
    Ok(())
}

/// Records one failure; returns its row.
pub fn record(conn: &mut Conn, key: &str, now: u64) -> Result<i64> {
    let row = conn.query_one(
        "INSERT INTO login_failures (key, at) VALUES ($1, $2) RETURNING id",
        &[&key, &int(now)],
    )?;
    Ok(row.try_get(0)?)
}

/// When `key` may try again, if it has `max` failures within the last `window` seconds.
/// The lock lasts until the oldest of the newest `max` failures leaves the window.
pub fn locked_until(
    conn: &mut Conn,
    key: &str,
    max: u32,
    window: u64,
    now: u64,
) -> Result<Option<u64>> {
    if max == 0 {
        return Ok(None);
    }
    let nth_newest = conn.query_opt(
        "SELECT at FROM login_failures WHERE key = $1 AND at > $2
         ORDER BY at DESC LIMIT 1 OFFSET $3",
        &[&key, &int(now.saturating_sub(window)), &i64::from(max - 1)],
    )?;
    let nth_newest = nth_newest.map(|row| time(&row, 0)).transpose()?;
    Ok(nth_newest
        .map(|at| at.saturating_add(window))
        .filter(|&until| until > now))
}

pub fn clear(conn: &mut Conn, key: &str) -> Result<usize> {
    let changed = conn.execute("DELETE FROM login_failures WHERE key = $1", &[&key])?;
    Ok(count(changed))
}

/// Deletes up to PRUNE_CHUNK failures that have left the window; returns how
/// many. Rows another instance is pruning now are skipped, not waited for.
pub fn prune(conn: &mut Conn, now: u64, window: u64) -> Result<usize> {
    let changed = conn.execute(
        "DELETE FROM login_failures WHERE id IN
             (SELECT id FROM login_failures WHERE at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        &[&int(now.saturating_sub(window)), &i64::from(PRUNE_CHUNK)],
    )?;
    Ok(count(changed))
}
