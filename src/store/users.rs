//! Users: lookup by email or id, create, and change.

use std::fmt;
use std::str::FromStr;

use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
    Banned,
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Banned => "banned",
            Status::Deleted => "deleted",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Status::Active),
            "inactive" => Ok(Status::Inactive),
            "banned" => Ok(Status::Banned),
            "deleted" => Ok(Status::Deleted),
            other => Err(format!(
                "\"{other}\" is not a status (active, inactive, banned or deleted)"
            )),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org_id: Option<String>,
    pub password_hash: Option<String>,
    pub status: Status,
    pub created_at: u64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Trims and lower-cases an email, or says why it is not one.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err("is not an email address (no @)");
    };
    let well_formed = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(email)
    } else {
        Err("is not an email address")
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Ada@Acme.TEST "),
            Ok("ada@acme.test".into())
        );
    }

    #[test]
    fn things_that_are_not_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@acme.test",
            "ada@",
            "a@b@c",
            "a b@c.d",
            "ada@.test",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for s in [
            Status::Active,
            Status::Inactive,
            Status::Banned,
            Status::Deleted,
        ] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("gone".parse::<Status>().is_err());
    }
}
