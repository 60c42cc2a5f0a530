//! Set-password links: one row per user, keyed by the digest of its token.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::Link;

/// Stores a new link for the user, replacing any older one.
pub fn replace(
    conn: &Connection,
    user_id: &str,
    token_hash: &[u8],
    expires_at: u64,
    now: u64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO password_links (user_id, token_hash, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id) DO UPDATE SET
             token_hash = excluded.token_hash, expires_at = excluded.expires_at,
             created_at = excluded.created_at",
        params![user_id, token_hash, expires_at, now],
    )?;
    Ok(())
}

pub fn find(conn: &Connection, token_hash: &[u8]) -> rusqlite::Result<Option<Link>> {
    conn.prepare_cached("SELECT user_id, expires_at FROM password_links WHERE token_hash = ?1")?
        .query_row([token_hash], |row| {
            Ok(Link {
                user_id: row.get(0)?,
                expires_at: row.get(1)?,
            })
        })
        .optional()
}

/// Uses the link up; false if it was spent or replaced meanwhile.
pub fn spend(conn: &Connection, token_hash: &[u8]) -> rusqlite::Result<bool> {
    let gone = conn
        .prepare_cached("DELETE FROM password_links WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(gone == 1)
}

/// Drops the user's link, if any: a password changed by its owner ends it.
pub fn remove_for_user(conn: &Connection, user_id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM password_links WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(())
}
