//! Users and orgs.

use postgres::Row;

use super::conn::Conn;
use super::values::{count, int, opt_text, text, time};
use super::PgStore;
use crate::store::users::roles_from_text;
use crate::store::{Result, Status, User, Users};

/// The columns `from_row` reads, first in every query that gives a user; the
/// roles are read by the user's id (unqualified, it can only mean `users.id`).
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
            "created_at, (SELECT string_agg(r.role, ' ') FROM user_roles r WHERE r.user_id = ",
            $prefix,
            "id)"
        )
    };
}
pub(super) use user_columns;

/// Columns `from_row` reads: the next one a query adds is at this index.
pub(super) const USER_COLUMNS: usize = 8;

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
        roles: roles_from_text(opt_text(row, 7)?),
    })
}

fn insert_roles(conn: &mut Conn, user_id: &str, roles: &[String]) -> Result<usize> {
    let added = conn.execute(
        "INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[])
         ON CONFLICT DO NOTHING",
        &[&user_id, &roles],
    )?;
    Ok(count(added))
}

/// Holds the user's row until the transaction ends, so that two changes of
/// one user's roles run one after the other.
fn lock_user(conn: &mut Conn, user_id: &str) -> Result<()> {
    conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", &[&user_id])?;
    Ok(())
}

fn touch(conn: &mut Conn, user_id: &str, now: u64) -> Result<()> {
    conn.execute(
        "UPDATE users SET updated_at = $2 WHERE id = $1",
        &[&user_id, &int(now)],
    )?;
    Ok(())
}

impl Users for PgStore<'_> {
    fn find_user_by_email(&mut self, email: &str) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(""), " FROM users WHERE email = $1");
        self.0
            .query_opt(sql, &[&email])?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    fn find_user_by_id(&mut self, id: &str) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(""), " FROM users WHERE id = $1");
        self.0
            .query_opt(sql, &[&id])?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    fn find_user_by_session(&mut self, sid: &str) -> Result<Option<(User, bool)>> {
        let sql = concat!(
            "SELECT ",
            user_columns!("u."),
            ", s.revoked_at IS NOT NULL
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
        );
        match self.0.query_opt(sql, &[&sid])? {
            Some(row) => Ok(Some((from_row(&row)?, row.try_get(USER_COLUMNS)?))),
            None => Ok(None),
        }
    }

    fn list_users(&mut self) -> Result<Vec<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(""),
            " FROM users ORDER BY created_at, email"
        );
        self.0.query(sql, &[])?.iter().map(from_row).collect()
    }

    fn insert_user(&mut self, user: &User, now: u64) -> Result<()> {
        self.0.execute(
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
        insert_roles(self.0, &user.id, &user.roles)?;
        Ok(())
    }

    fn update_user_profile(&mut self, user: &User, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET name = $2, org_id = $3, status = $4, updated_at = $5 WHERE id = $1",
            &[
                &user.id,
                &user.name,
                &user.org_id,
                &user.status.as_str(),
                &int(now),
            ],
        )?;
        self.notify_change()
    }

    fn set_password_hash(&mut self, id: &str, hash: &str, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
            &[&id, &hash, &int(now)],
        )?;
        Ok(())
    }

    fn set_user_status(&mut self, id: &str, status: Status, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET status = $2, updated_at = $3 WHERE id = $1",
            &[&id, &status.as_str(), &int(now)],
        )?;
        self.notify_change()
    }

    fn set_user_roles(&mut self, user_id: &str, roles: &[String], now: u64) -> Result<()> {
        lock_user(self.0, user_id)?;
        self.0
            .execute("DELETE FROM user_roles WHERE user_id = $1", &[&user_id])?;
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
        lock_user(self.0, user_id)?;
        let added = insert_roles(self.0, user_id, add)?;
        let removed = self.0.execute(
            "DELETE FROM user_roles WHERE user_id = $1 AND role = ANY($2)",
            &[&user_id, &remove],
        )?;
        if added > 0 || removed > 0 {
            touch(self.0, user_id, now)?;
        }
        let rows = self.0.query(
            "SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role",
            &[&user_id],
        )?;
        rows.iter().map(|row| text(row, 0)).collect()
    }

    fn org_name(&mut self, id: &str) -> Result<Option<String>> {
        match self
            .0
            .query_opt("SELECT name FROM orgs WHERE id = $1", &[&id])?
        {
            Some(row) => Ok(Some(text(&row, 0)?)),
            None => Ok(None),
        }
    }

    fn upsert_org(&mut self, id: &str, name: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO orgs (id, name) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            &[&id, &name],
        )?;
        Ok(())
    }
}
