//! Signing keys and `meta`. Changes run only inside `Db::change_keys`, which
//! takes the key lock first: instances starting at once on a new database
//! make one first key between them.

use super::values::{bytes, int, opt_time, text, time};
use super::PgStore;
use crate::store::{KeyChanges, Result, SigningKeys, StoredKey};

impl SigningKeys for PgStore<'_> {
    fn list_keys(&mut self) -> Result<Vec<StoredKey>> {
        let rows = self.0.query(
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

    fn key_generation(&mut self) -> Result<(i64, i64, i64)> {
        let row = self.0.query_one(
            "SELECT count(*), coalesce(max(generation), 0), count(distrusted_at) FROM signing_keys",
            &[],
        )?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    fn current_kid(&mut self) -> Result<Option<String>> {
        match self
            .0
            .query_opt("SELECT kid FROM signing_keys WHERE retired_at IS NULL", &[])?
        {
            Some(row) => Ok(Some(text(&row, 0)?)),
            None => Ok(None),
        }
    }

    fn meta(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        match self
            .0
            .query_opt("SELECT value FROM meta WHERE name = $1", &[&name])?
        {
            Some(row) => Ok(Some(bytes(&row, 0)?)),
            None => Ok(None),
        }
    }
}

impl KeyChanges for PgStore<'_> {
    fn make_key_current(
        &mut self,
        kid: &str,
        algorithm: &str,
        key_pair: &[u8],
        now: u64,
    ) -> Result<()> {
        self.0.execute(
            "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL",
            &[&int(now)],
        )?;
        self.0.execute(
            "INSERT INTO signing_keys (kid, algorithm, key_pair, created_at)
             VALUES ($1, $2, $3, $4)",
            &[&kid, &algorithm, &key_pair, &int(now)],
        )?;
        self.notify_change()
    }

    fn distrust_key(&mut self, kid: &str, now: u64) -> Result<bool> {
        let changed = self.0.execute(
            "UPDATE signing_keys SET distrusted_at = coalesce(distrusted_at, $2),
                    retired_at = coalesce(retired_at, $2)
              WHERE kid = $1",
            &[&kid, &int(now)],
        )?;
        if changed == 1 {
            self.notify_change()?;
        }
        Ok(changed == 1)
    }

    fn set_key_pair(&mut self, kid: &str, key_pair: &[u8]) -> Result<()> {
        self.0.execute(
            "UPDATE signing_keys SET key_pair = $2 WHERE kid = $1",
            &[&kid, &key_pair],
        )?;
        Ok(())
    }

    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<()> {
        self.0.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&name, &value],
        )?;
        Ok(())
    }
}
