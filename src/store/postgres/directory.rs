//! The admin API's users and orgs.

use super::users::{from_row, user_columns};
use super::values::{int, opt_time, text, time};
use super::PgStore;
use crate::store::{Directory, Org, Result, User, UserFilter, UserTimes};

/// The users search, led by `$from` (the cursor's condition): a text of its
/// own for each, so that the one with a cursor is planned as an index range.
macro_rules! search_sql {
    ($from:literal) => {
        concat!(
            "SELECT ",
            user_columns!("u."),
            " FROM users u WHERE ",
            $from,
            " AND ($2::text IS NULL OR strpos(u.email, $2::text) > 0
                    OR strpos(lower(u.name), $2::text) > 0)
               AND ($3::text IS NULL OR u.status = $3::text)
               AND ($4::text IS NULL OR u.org_id = $4::text)
               AND ($5::text IS NULL OR EXISTS
                    (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $5::text))
             ORDER BY u.email COLLATE \"C\" LIMIT $6"
        )
    };
}

impl Directory for PgStore<'_> {
    /// `strpos` rather than LIKE, so that `%` and `_` in the query are plain
    /// characters. COLLATE "C": the same byte order as SQLite's, whatever the
    /// database's locale, and that of the index `users_by_email_bytes` (step
    /// 10), which a page after a cursor seeks into with `u.email > $1` alone.
    fn search_users(
        &mut self,
        filter: &UserFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let sql = match after {
            Some(_) => search_sql!("u.email COLLATE \"C\" > $1::text"),
            None => search_sql!("$1::text IS NULL"),
        };
        let status = filter.status.map(|s| s.as_str());
        let rows = self.0.query(
            sql,
            &[
                &after,
                &filter.query,
                &status,
                &filter.org_id,
                &filter.role,
                &i64::from(limit),
            ],
        )?;
        rows.iter().map(from_row).collect()
    }

    fn user_times(&mut self, user_id: &str) -> Result<Option<UserTimes>> {
        let row = self.0.query_opt(
            "SELECT updated_at, last_login_at FROM users WHERE id = $1",
            &[&user_id],
        )?;
        match row {
            Some(row) => Ok(Some(UserTimes {
                updated_at: time(&row, 0)?,
                last_login_at: opt_time(&row, 1)?,
            })),
            None => Ok(None),
        }
    }

    fn update_user(&mut self, user: &User, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET email = $2, name = $3, org_id = $4, status = $5, updated_at = $6
             WHERE id = $1",
            &[
                &user.id,
                &user.email,
                &user.name,
                &user.org_id,
                &user.status.as_str(),
                &int(now),
            ],
        )?;
        Ok(())
    }

    fn record_login(&mut self, user_id: &str, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET last_login_at = $2 WHERE id = $1",
            &[&user_id, &int(now)],
        )?;
        Ok(())
    }

    fn erase_user(&mut self, user_id: &str) -> Result<bool> {
        Ok(self
            .0
            .execute("DELETE FROM users WHERE id = $1", &[&user_id])?
            > 0)
    }

    fn list_orgs(&mut self) -> Result<Vec<Org>> {
        let rows = self.0.query(
            "SELECT o.id, o.name,
                    (SELECT count(*) FROM users u WHERE u.org_id = o.id AND u.status <> 'deleted')
             FROM orgs o ORDER BY o.id COLLATE \"C\"",
            &[],
        )?;
        rows.iter()
            .map(|row| {
                Ok(Org {
                    id: text(row, 0)?,
                    name: text(row, 1)?,
                    users: row.try_get(2)?,
                })
            })
            .collect()
    }

    fn insert_org(&mut self, id: &str, name: &str) -> Result<bool> {
        let added = self.0.execute(
            "INSERT INTO orgs (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&id, &name],
        )?;
        Ok(added > 0)
    }

    fn rename_org(&mut self, id: &str, name: &str) -> Result<bool> {
        let changed = self
            .0
            .execute("UPDATE orgs SET name = $2 WHERE id = $1", &[&id, &name])?;
        Ok(changed > 0)
    }

    fn count_org_members(&mut self, id: &str) -> Result<i64> {
        let row = self.0.query_one(
            "SELECT count(*) FROM users WHERE org_id = $1 AND status <> 'deleted'",
            &[&id],
        )?;
        Ok(row.try_get(0)?)
    }

    fn delete_org(&mut self, id: &str) -> Result<bool> {
        self.0.execute(
            "UPDATE users SET org_id = NULL WHERE org_id = $1 AND status = 'deleted'",
            &[&id],
        )?;
        Ok(self.0.execute("DELETE FROM orgs WHERE id = $1", &[&id])? > 0)
    }
}
