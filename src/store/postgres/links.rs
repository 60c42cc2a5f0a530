//! Set-password links: one row per user, keyed by the digest of its token.

use super::values::{int, text, time};
use super::PgStore;
use crate::store::{Link, Links, Result};

impl Links for PgStore<'_> {
    fn replace_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: u64,
        now: u64,
    ) -> Result<()> {
        self.0.execute(
            "INSERT INTO password_links (user_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET
             token_hash = excluded.token_hash, expires_at = excluded.expires_at,
             created_at = excluded.created_at",
            &[&user_id, &token_hash, &int(expires_at), &int(now)],
        )?;
        Ok(())
    }

    fn find_link(&mut self, token_hash: &[u8]) -> Result<Option<Link>> {
        let row = self.0.query_opt(
            "SELECT user_id, expires_at FROM password_links WHERE token_hash = $1",
            &[&token_hash],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Link {
            user_id: text(&row, 0)?,
            expires_at: time(&row, 1)?,
        }))
    }

    /// Of two racing uses, the second finds the row gone once the first commits.
    fn spend_link(&mut self, token_hash: &[u8]) -> Result<bool> {
        let gone = self.0.execute(
            "DELETE FROM password_links WHERE token_hash = $1",
            &[&token_hash],
        )?;
        Ok(gone == 1)
    }

    fn remove_user_links(&mut self, user_id: &str) -> Result<()> {
        self.0
            .execute("DELETE FROM password_links WHERE user_id = $1", &[&user_id])?;
        Ok(())
    }
}
