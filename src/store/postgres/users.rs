//! Users: lookup by email or id, create, and change.

use postgres::Row;

use super::conn::Conn;
use super::{int, opt_text, text, time};
use crate::store::{Result, Status, User};

/// The columns `from_row` reads, first in every query that gives a user.
macro_rules! user_columns {
    ($prefix:literal) => {
        concat!(
            $prefix,
            "id, ",
            $prefix,
            "email, ",
            $prefix,
            "name, ",
            $prefix,
            "org_id, ",
            $prefix,
            "password_hash, ",
            $prefix,
            "status, ",
            $prefix,
            "created_at"
        )
    };
}
pub(super) use user_columns;

pub(super) fn from_row(row: &Row) -> Result<User> {
    let status: String = text(row, 5)?;
    Ok(User {
        id: text(row, 0)?,
        email: text(row, 1)?,
        name: text(row, 2)?,
        org_id: opt_text(row, 3)?,
        password_hash: opt_text(row, 4)?,
        // The CHECK constraint keeps other values out.
        status: status.parse().unwrap_or(Status::Inactive),
        created_at: time(row, 6)?,
    })
}

pub fn find_by_email(conn: &mut Conn, email: &str) -> Result<Option<User>> {
    let sql = concat!("SELECT ", user_columns!(""), " FROM users WHERE email = $1");
    conn.query_opt(sql, &[&email])?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub fn find_by_id(conn: &mut Conn, id: &str) -> Result<Option<User>> {
    let sql = concat!("SELECT ", user_columns!(""), " FROM users WHERE id = $1");
    conn.query_opt(sql, &[&id])?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user of session `sid`, and whether that session is revoked.
pub fn find_by_session(conn: &mut Conn, sid: &str) -> Result<Option<(User, bool)>> {
    let sql = concat!(
        "SELECT ",
        user_columns!("u."),
        ", s.revoked_at IS NOT NULL
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
    );
    match conn.query_opt(sql, &[&sid])? {
        Some(row) => Ok(Some((from_row(&row)?, row.try_get(7)?))),
        None => Ok(None),
    }
}

pub fn list(conn: &mut Conn) -> Result<Vec<User>> {
    let sql = concat!(
        "SELECT ",
        user_columns!(""),
        " FROM users ORDER BY created_at, email"
    );
    conn.query(sql, &[])?.iter().map(from_row).collect()
}

pub fn insert(conn: &mut Conn, user: &User, now: u64) -> Result<()> {
    conn.execute(
        "INSERT INTO users (id, email, name, org_id, password_hash, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        &[
            &user.id,
            &user.email,
            &user.name,
            &user.org_id,
            &user.password_hash,
            &user.status.as_str(),
            &int(now),
        ],
    )?;
    Ok(())
}

/// Name, org and status: what a seed file may change about an existing user.
pub fn update_profile(conn: &mut Conn, user: &User, now: u64) -> Result<()> {
    conn.execute(
        "UPDATE users SET name = $2, org_id = $3, status = $4, updated_at = $5 WHERE id = $1",
        &[
            &user.id,
            &user.name,
            &user.org_id,
            &user.status.as_str(),
            &int(now),
        ],
    )?;
    Ok(())
}

pub fn set_password_hash(conn: &mut Conn, id: &str, hash: &str, now: u64) -> Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        &[&id, &hash, &int(now)],
    )?;
    Ok(())
}

pub fn set_status(conn: &mut Conn, id: &str, status: Status, now: u64) -> Result<()> {
    conn.execute(
        "UPDATE users SET status = $2, updated_at = $3 WHERE id = $1",
        &[&id, &status.as_str(), &int(now)],
    )?;
    Ok(())
}
