//! API keys: a row each, found by the digest of the key.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::{ApiKey, ApiKeys, Result};

fn api_key(row: &Row) -> rusqlite::Result<ApiKey> {
    let scopes: String = row.get(2)?;
    Ok(ApiKey {
        id: row.get(0)?,
        name: row.get(1)?,
        scopes: scopes.split_whitespace().map(String::from).collect(),
        created_at: row.get(3)?,
        expires_at: row.get(4)?,
        last_used_at: row.get(5)?,
        revoked_at: row.get(6)?,
    })
}

impl ApiKeys for SqliteStore<'_> {
    fn insert_api_key(&mut self, key: &ApiKey, digest: &[u8]) -> Result<()> {
        self.0.execute(
            "INSERT INTO api_keys (id, name, scopes, digest, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.id,
                key.name,
                key.scopes.join(" "),
                digest,
                key.created_at,
                key.expires_at
            ],
        )?;
        Ok(())
    }

    fn find_api_key(&mut self, digest: &[u8]) -> Result<Option<ApiKey>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at
             FROM api_keys WHERE digest = ?1",
        )?;
        Ok(stmt.query_row([digest], api_key).optional()?)
    }

    fn list_api_keys(&mut self) -> Result<Vec<ApiKey>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at
             FROM api_keys ORDER BY created_at DESC, id DESC",
        )?;
        let keys = stmt.query_map([], api_key)?;
        Ok(keys.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_api_key(&mut self, id: &str, now: u64) -> Result<bool> {
        let found = self
            .0
            .prepare_cached(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            )?
            .execute(params![id, now])?;
        Ok(found == 1)
    }

    fn touch_api_key(&mut self, id: &str, at: u64) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE api_keys SET last_used_at = ?2
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
            )?
            .execute(params![id, at])?;
        Ok(())
    }
}
