//! Failed logins, one row each, keyed by email or client address. Several
//! instances write here at once: `reserve_failures` locks its keys, so that a
//! count and the row taken after it cannot interleave with another attempt's
//! on the same key, in this process or another.

use super::values::{count, int, time};
use super::{PgStore, FAILURE_LOCKS};
use crate::store::failures::count_then_take;
use crate::store::{Failures, Limit, Result, PRUNE_CHUNK};

impl Failures for PgStore<'_> {
    /// Counts and then inserts, after taking a transaction-scoped advisory lock
    /// per key (sorted, so that two attempts never wait for each other in a
    /// circle). The next attempt on a key waits for it and, its count being a new
    /// statement, sees the rows this one committed. So no more than the limit get
    /// past it, however many instances try at once. Serialisable isolation would
    /// give the same with retries; the lock needs none. Two keys whose hashes meet
    /// share a lock: that only serialises a little more.
    fn reserve_failures(
        &mut self,
        limits: &[Limit],
        window: u64,
        now: u64,
    ) -> Result<std::result::Result<Vec<i64>, u64>> {
        let mut keys: Vec<&str> = limits.iter().map(|l| l.key).collect();
        keys.sort_unstable();
        for key in keys {
            self.0.query_one(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&FAILURE_LOCKS, &key],
            )?;
        }
        count_then_take(self, limits, window, now)
    }

    fn release_failures(&mut self, rows: &[i64]) -> Result<()> {
        if !rows.is_empty() {
            self.0
                .execute("DELETE FROM login_failures WHERE id = ANY($1)", &[&rows])?;
        }
        Ok(())
    }

    fn record_failure(&mut self, key: &str, now: u64) -> Result<i64> {
        let row = self.0.query_one(
            "INSERT INTO login_failures (key, at) VALUES ($1, $2) RETURNING id",
            &[&key, &int(now)],
        )?;
        Ok(row.try_get(0)?)
    }

    fn locked_until(&mut self, key: &str, max: u32, window: u64, now: u64) -> Result<Option<u64>> {
        if max == 0 {
            return Ok(None);
        }
        let nth_newest = self.0.query_opt(
            "SELECT at FROM login_failures WHERE key = $1 AND at > $2
         ORDER BY at DESC LIMIT 1 OFFSET $3",
            &[&key, &int(now.saturating_sub(window)), &i64::from(max - 1)],
        )?;
        let nth_newest = nth_newest.map(|row| time(&row, 0)).transpose()?;
        Ok(nth_newest
            .map(|at| at.saturating_add(window))
            .filter(|&until| until > now))
    }

    fn clear_failures(&mut self, key: &str) -> Result<usize> {
        let changed = self
            .0
            .execute("DELETE FROM login_failures WHERE key = $1", &[&key])?;
        Ok(count(changed))
    }

    /// Rows another instance is pruning now are skipped, not waited for.
    fn prune_failures(&mut self, now: u64, window: u64) -> Result<usize> {
        let changed = self.0.execute(
            "DELETE FROM login_failures WHERE id IN
             (SELECT id FROM login_failures WHERE at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&int(now.saturating_sub(window)), &i64::from(PRUNE_CHUNK)],
        )?;
        Ok(count(changed))
    }
}
