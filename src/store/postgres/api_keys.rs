//! API keys: a row each, found by the digest of the key. Every write is one
//! statement on one row; a revocation keeps the first time it was made.

use postgres::Row;

use super::values::{int, opt_time, text, time};
use super::PgStore;
use crate::store::{ApiKey, ApiKeys, Result};

fn api_key(row: &Row) -> Result<ApiKey> {
    Ok(ApiKey {
        id: text(row, 0)?,
        name: text(row, 1)?,
        scopes: text(row, 2)?.split_whitespace().map(String::from).collect(),
        created_at: time(row, 3)?,
        expires_at: opt_time(row, 4)?,
        last_used_at: opt_time(row, 5)?,
        revoked_at: opt_time(row, 6)?,
    })
}

impl ApiKeys for PgStore<'_> {
    fn insert_api_key(&mut self, key: &ApiKey, digest: &[u8]) -> Result<()> {
        self.0.execute(
            "INSERT INTO api_keys (id, name, scopes, digest, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &key.id,
                &key.name,
                &key.scopes.join(" "),
                &digest,
                &int(key.created_at),
                &key.expires_at.map(int),
            ],
        )?;
        Ok(())
    }

    fn find_api_key(&mut self, digest: &[u8]) -> Result<Option<ApiKey>> {
        let row = self.0.query_opt(
            "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at
             FROM api_keys WHERE digest = $1",
            &[&digest],
        )?;
        row.as_ref().map(api_key).transpose()
    }

    fn list_api_keys(&mut self) -> Result<Vec<ApiKey>> {
        let rows = self.0.query(
            "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at
             FROM api_keys ORDER BY created_at DESC, id DESC",
            &[],
        )?;
        rows.iter().map(api_key).collect()
    }

    fn revoke_api_key(&mut self, id: &str, now: u64) -> Result<bool> {
        let found = self.0.execute(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            &[&id, &int(now)],
        )?;
        Ok(found == 1)
    }

    fn touch_api_key(&mut self, id: &str, at: u64) -> Result<()> {
        self.0.execute(
            "UPDATE api_keys SET last_used_at = $2
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
            &[&id, &int(at)],
        )?;
        Ok(())
    }
}
