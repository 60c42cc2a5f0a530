//! Sessions (one per login) and the refresh tokens issued in them.

use rusqlite::{params, Connection, OptionalExtension};

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: u64,
    pub last_used_at: u64,
    pub expires_at: u64,
    pub revoked_at: Option<u64>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

pub struct RefreshRecord {
    pub session_id: String,
    /// SHA-256 of the token as issued.
    pub token_hash: Vec<u8>,
    /// When it was first used, Unix milliseconds.
    pub used_at_ms: Option<u64>,
    /// The answer its first use returned (JSON holding tokens: never log it).
    pub rotated_to: Option<String>,
}

pub fn create(conn: &Connection, s: &Session) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        s.id,
        s.user_id,
        s.created_at,
        s.last_used_at,
        s.expires_at,
        s.user_agent,
        s.ip
    ])?;
    Ok(())
}

const COLUMNS: &str =
    "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip";

fn from_row(row: &rusqlite::Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: row.get(0)?,
        user_id: row.get(1)?,
        created_at: row.get(2)?,
        last_used_at: row.get(3)?,
        expires_at: row.get(4)?,
        revoked_at: row.get(5)?,
        user_agent: row.get(6)?,
        ip: row.get(7)?,
    })
}

pub fn find(conn: &Connection, id: &str) -> rusqlite::Result<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()
}

/// The user's sessions that are neither revoked nor expired, newest first.
pub fn list_live(conn: &Connection, user_id: &str, now: u64) -> rusqlite::Result<Vec<Session>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions
         WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
         ORDER BY created_at DESC, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let sessions = stmt.query_map(params![user_id, now], from_row)?.collect();
    sessions
}

pub fn count_live(conn: &Connection, now: u64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1",
    )?
    .query_row([now], |row| row.get(0))
}

/// Revokes one session; false if it was already revoked or does not exist.
pub fn revoke(conn: &Connection, id: &str, now: u64) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(params![id, now])?;
    Ok(changed > 0)
}

pub fn revoke_all_for_user(conn: &Connection, user_id: &str, now: u64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user_id, now],
    )
}

/// Records a refresh of the session: its newest token now expires at `expires_at`.
pub fn touch(conn: &Connection, id: &str, now: u64, expires_at: u64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE sessions SET last_used_at = ?2, expires_at = ?3 WHERE id = ?1")?
        .execute(params![id, now, expires_at])?;
    Ok(())
}

pub fn insert_refresh(
    conn: &Connection,
    jti: &str,
    session_id: &str,
    expires_at: u64,
    token_hash: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (jti, session_id, expires_at, token_hash) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![jti, session_id, expires_at, token_hash])?;
    Ok(())
}

pub fn find_refresh(conn: &Connection, jti: &str) -> rusqlite::Result<Option<RefreshRecord>> {
    conn.prepare_cached(
        "SELECT session_id, token_hash, used_at_ms, rotated_to FROM refresh_tokens WHERE jti = ?1",
    )?
    .query_row([jti], |row| {
        Ok(RefreshRecord {
            session_id: row.get(0)?,
            token_hash: row.get(1)?,
            used_at_ms: row.get(2)?,
            rotated_to: row.get(3)?,
        })
    })
    .optional()
}

/// Marks a refresh token used, with the answer it got; false if another use came
/// first or its session has ended.
pub fn claim_refresh(
    conn: &Connection,
    jti: &str,
    now_ms: u64,
    rotated_to: &str,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE refresh_tokens SET used_at_ms = ?2, rotated_to = ?3
             WHERE jti = ?1 AND used_at_ms IS NULL AND EXISTS
                 (SELECT 1 FROM sessions WHERE id = session_id AND revoked_at IS NULL)",
        )?
        .execute(params![jti, now_ms, rotated_to])?;
    Ok(changed == 1)
}

/// Drops what can no longer matter: expired refresh tokens, stored answers past
/// the reuse grace, and sessions that ended long ago.
pub fn prune(conn: &Connection, now: u64, reuse_grace: u64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "UPDATE refresh_tokens SET rotated_to = NULL
         WHERE rotated_to IS NOT NULL AND used_at_ms < ?1",
        [now.saturating_sub(reuse_grace) * 1000],
    )?;
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    Ok(())
}

/// Revokes every session of the user but `keep` (the one changing the password).
pub fn revoke_all_for_user_except(
    conn: &Connection,
    user_id: &str,
    keep: &str,
    now: u64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE user_id = ?1 AND id <> ?2 AND revoked_at IS NULL",
        params![user_id, keep, now],
    )
}
