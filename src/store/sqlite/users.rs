//! Users: lookup by email or id, create, and change.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::store::{Status, User};

const COLUMNS: &str = "id, email, name, org_id, password_hash, status, created_at";

pub(super) fn from_row(row: &Row) -> rusqlite::Result<User> {
    let status: String = row.get(5)?;
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        org_id: row.get(3)?,
        password_hash: row.get(4)?,
        // The CHECK constraint keeps other values out.
        status: status.parse().unwrap_or(Status::Inactive),
        created_at: row.get(6)?,
    })
}

pub fn find_by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = ?1");
    conn.prepare_cached(&sql)?
        .query_row([email], from_row)
        .optional()
}

pub fn find_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()
}

/// The user of session `sid`, and whether that session is revoked.
pub fn find_by_session(conn: &Connection, sid: &str) -> rusqlite::Result<Option<(User, bool)>> {
    conn.prepare_cached(
        "SELECT u.id, u.email, u.name, u.org_id, u.password_hash, u.status, u.created_at,
                s.revoked_at IS NOT NULL
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1",
    )?
    .query_row([sid], |row| Ok((from_row(row)?, row.get(7)?)))
    .optional()
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, email");
    let mut stmt = conn.prepare(&sql)?;
    let users = stmt.query_map([], from_row)?.collect();
    users
}

pub fn insert(conn: &Connection, user: &User, now: u64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO users (id, email, name, org_id, password_hash, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            user.id,
            user.email,
            user.name,
            user.org_id,
            user.password_hash,
            user.status.as_str(),
            now
        ],
    )?;
    Ok(())
}

/// Name, org and status: what a seed file may change about an existing user.
pub fn update_profile(conn: &Connection, user: &User, now: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET name = ?2, org_id = ?3, status = ?4, updated_at = ?5 WHERE id = ?1",
        params![user.id, user.name, user.org_id, user.status.as_str(), now],
    )?;
    Ok(())
}

pub fn set_password_hash(
    conn: &Connection,
    id: &str,
    hash: &str,
    now: u64,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, hash, now])?;
    Ok(())
}

pub fn set_status(conn: &Connection, id: &str, status: Status, now: u64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status.as_str(), now],
    )?;
    Ok(())
}
