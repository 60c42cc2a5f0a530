//! Set-password links: one row per user, keyed by the digest of its token.

use super::conn::Conn;
use super::{int, text, time};
use crate::store::{Link, Result};

/// Stores a new link for the user, replacing any older one.
pub fn replace(
    conn: &mut Conn,
    user_id: &str,
    token_hash: &[u8],
    expires_at: u64,
    now: u64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO password_links (user_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET
             token_hash = excluded.token_hash, expires_at = excluded.expires_at,
             created_at = excluded.created_at",
        &[&user_id, &token_hash, &int(expires_at), &int(now)],
    )?;
    Ok(())
}

pub fn find(conn: &mut Conn, token_hash: &[u8]) -> Result<Option<Link>> {
    let row = conn.query_opt(
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

/// Uses the link up; false if it was spent or replaced meanwhile (of two
/// racing uses, the second finds the row gone once the first commits).
pub fn spend(conn: &mut Conn, token_hash: &[u8]) -> Result<bool> {
    let gone = conn.execute(
        "DELETE FROM password_links WHERE token_hash = $1",
        &[&token_hash],
    )?;
    Ok(gone == 1)
}

/// Drops the user's link, if any: a password changed by its owner ends it.
pub fn remove_for_user(conn: &mut Conn, user_id: &str) -> Result<()> {
    conn.execute("DELETE FROM password_links WHERE user_id = $1", &[&user_id])?;
    Ok(())
}
