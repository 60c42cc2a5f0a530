//! Set-password links: one row per user, keyed by the digest of its token.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::{Link, Links, Result};

impl Links for SqliteStore<'_> {
    fn replace_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: u64,
        now: u64,
    ) -> Result<()> {
        self.0.execute(
            "INSERT INTO password_links (user_id, token_hash, expires_at, created_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id) DO UPDATE SET
                 token_hash = excluded.token_hash, expires_at = excluded.expires_at,
                 created_at = excluded.created_at",
            params![user_id, token_hash, expires_at, now],
        )?;
        Ok(())
    }

    fn find_link(&mut self, token_hash: &[u8]) -> Result<Option<Link>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT user_id, expires_at FROM password_links WHERE token_hash = ?1",
        )?;
        let link = stmt.query_row([token_hash], |row| {
            Ok(Link {
                user_id: row.get(0)?,
                expires_at: row.get(1)?,
            })
        });
        Ok(link.optional()?)
    }

    fn spend_link(&mut self, token_hash: &[u8]) -> Result<bool> {
        let gone = self
            .0
            .prepare_cached("DELETE FROM password_links WHERE token_hash = ?1")?
            .execute([token_hash])?;
        Ok(gone == 1)
    }

    fn remove_user_links(&mut self, user_id: &str) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM password_links WHERE user_id = ?1")?
            .execute([user_id])?;
        Ok(())
    }
}
