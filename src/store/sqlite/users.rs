//! Users and orgs.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::users::roles_from_text;
use crate::store::{Result, Status, User, Users};

/// What `from_row` reads, first in every query that gives a user, the user
/// being `u`.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.name, u.org_id, u.password_hash, u.status, u.created_at,
         (SELECT group_concat(r.role, ' ') FROM user_roles r WHERE r.user_id = u.id)"
    };
}
pub(super) use user_columns;

/// Columns `from_row` reads: the next one a query adds is at this index.
pub(super) const USER_COLUMNS: usize = 8;

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
        roles: roles_from_text(row.get(7)?),
    })
}

fn user_roles(conn: &Connection, user_id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role")?;
    let roles = stmt.query_map([user_id], |row| row.get(0))?;
    Ok(roles.collect::<rusqlite::Result<_>>()?)
}

fn insert_roles(conn: &Connection, user_id: &str, roles: &[String]) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO user_roles (user_id, role) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    let mut added = 0;
    for role in roles {
        added += stmt.execute(params![user_id, role])?;
    }
    Ok(added)
}

fn touch(conn: &Connection, user_id: &str, now: u64) -> Result<()> {
    conn.prepare_cached("UPDATE users SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![user_id, now])?;
    Ok(())
}

impl Users for SqliteStore<'_> {
    fn find_user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE email = ?1");
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.query_row([email], from_row).optional()?)
    }

    fn find_user_by_id(&mut self, id: &str) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE id = ?1");
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.query_row([id], from_row).optional()?)
    }

    fn find_user_by_session(&mut self, sid: &str) -> Result<Option<(User, bool)>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            ", s.revoked_at IS NOT NULL
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1"
        );
        let mut stmt = self.0.prepare_cached(sql)?;
        let found = stmt.query_row([sid], |row| Ok((from_row(row)?, row.get(USER_COLUMNS)?)));
        Ok(found.optional()?)
    }

    fn list_users(&mut self) -> Result<Vec<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u ORDER BY created_at, email"
        );
        let mut stmt = self.0.prepare(sql)?;
        let users = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<_>>();
        Ok(users?)
    }

    fn insert_user(&mut self, user: &User, now: u64) -> Result<()> {
        self.0.execute(
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
        insert_roles(self.0, &user.id, &user.roles)?;
        Ok(())
    }

    fn update_user_profile(&mut self, user: &User, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET name = ?2, org_id = ?3, status = ?4, updated_at = ?5 WHERE id = ?1",
            params![user.id, user.name, user.org_id, user.status.as_str(), now],
        )?;
        Ok(())
    }

    fn set_password_hash(&mut self, user_id: &str, hash: &str, now: u64) -> Result<()> {
        self.0
            .prepare_cached("UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![user_id, hash, now])?;
        Ok(())
    }

    fn set_user_status(&mut self, user_id: &str, status: Status, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![user_id, status.as_str(), now],
        )?;
        Ok(())
    }

    /// The IMMEDIATE transaction around it keeps other writers out.
    fn set_user_roles(&mut self, user_id: &str, roles: &[String], now: u64) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM user_roles WHERE user_id = ?1")?
            .execute([user_id])?;
        insert_roles(self.0, user_id, roles)?;
        touch(self.0, user_id, now)
    }

    fn change_user_roles(
        &mut self,
        user_id: &str,
        add: &[String],
        remove: &[String],
        now: u64,
    ) -> Result<Vec<String>> {
        let mut changed = insert_roles(self.0, user_id, add)?;
        let mut delete = self
            .0
            .prepare_cached("DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2")?;
        for role in remove {
            changed += delete.execute(params![user_id, role])?;
        }
        if changed > 0 {
            touch(self.0, user_id, now)?;
        }
        user_roles(self.0, user_id)
    }

    fn org_name(&mut self, id: &str) -> Result<Option<String>> {
        let name = self
            .0
            .query_row("SELECT name FROM orgs WHERE id = ?1", [id], |row| {
                row.get(0)
            });
        Ok(name.optional()?)
    }

    fn upsert_org(&mut self, id: &str, name: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO orgs (id, name) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            params![id, name],
        )?;
        Ok(())
    }
}
