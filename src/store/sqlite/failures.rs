//! Failed logins, one row each, keyed by email or client address.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::failures::count_then_take;
use crate::store::{Failures, Limit, Result, PRUNE_CHUNK};

impl Failures for SqliteStore<'_> {
    /// Nothing to lock first: every write here is serialised (the writer
    /// thread, or an IMMEDIATE transaction), so a count and the row taken after
    /// it cannot interleave with another attempt's.
    fn reserve_failures(
        &mut self,
        limits: &[Limit],
        window: u64,
        now: u64,
    ) -> Result<std::result::Result<Vec<i64>, u64>> {
        count_then_take(self, limits, window, now)
    }

    fn locked_until(&mut self, key: &str, max: u32, window: u64, now: u64) -> Result<Option<u64>> {
        if max == 0 {
            return Ok(None);
        }
        let nth_newest: Option<u64> = self
            .0
            .prepare_cached(
                "SELECT at FROM login_failures WHERE key = ?1 AND at > ?2
                 ORDER BY at DESC LIMIT 1 OFFSET ?3",
            )?
            .query_row(params![key, now.saturating_sub(window), max - 1], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(nth_newest
            .map(|at| at.saturating_add(window))
            .filter(|&until| until > now))
    }

    fn record_failure(&mut self, key: &str, now: u64) -> Result<i64> {
        self.0
            .prepare_cached("INSERT INTO login_failures (key, at) VALUES (?1, ?2)")?
            .execute(params![key, now])?;
        Ok(self.0.last_insert_rowid())
    }

    fn release_failures(&mut self, rows: &[i64]) -> Result<()> {
        let mut stmt = self
            .0
            .prepare_cached("DELETE FROM login_failures WHERE rowid = ?1")?;
        for row in rows {
            stmt.execute([row])?;
        }
        Ok(())
    }

    fn clear_failures(&mut self, key: &str) -> Result<usize> {
        let mut stmt = self
            .0
            .prepare_cached("DELETE FROM login_failures WHERE key = ?1")?;
        Ok(stmt.execute([key])?)
    }

    fn prune_failures(&mut self, now: u64, window: u64) -> Result<usize> {
        let mut stmt = self.0.prepare_cached(
            "DELETE FROM login_failures WHERE rowid IN
                 (SELECT rowid FROM login_failures WHERE at <= ?1 LIMIT ?2)",
        )?;
        Ok(stmt.execute(params![now.saturating_sub(window), PRUNE_CHUNK])?)
    }
}
