//! The admin API's users and orgs.

use rusqlite::{params, OptionalExtension};

use super::users::{from_row, user_columns};
use super::SqliteStore;
use crate::store::{Directory, Org, Result, User, UserFilter, UserTimes};

impl Directory for SqliteStore<'_> {
    /// `instr` rather than LIKE, so that `%` and `_` in the query are plain
    /// characters; `lower` folds ASCII only. A page after a cursor starts with
    /// `u.email > ?1` alone, a range the email index seeks to (inside an `OR`
    /// it was a scan of every email before the cursor).
    fn search_users(
        &mut self,
        filter: &UserFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let from = match after {
            Some(_) => "u.email > ?1",
            None => "?1 IS NULL",
        };
        let sql = format!(
            "SELECT {} FROM users u
             WHERE {from}
               AND (?2 IS NULL OR instr(u.email, ?2) > 0 OR instr(lower(u.name), ?2) > 0)
               AND (?3 IS NULL OR u.status = ?3)
               AND (?4 IS NULL OR u.org_id = ?4)
               AND (?5 IS NULL OR EXISTS
                    (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?5))
             ORDER BY u.email LIMIT ?6",
            user_columns!()
        );
        let mut stmt = self.0.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                after,
                filter.query,
                filter.status.map(|s| s.as_str()),
                filter.org_id,
                filter.role,
                limit
            ],
            from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn user_times(&mut self, user_id: &str) -> Result<Option<UserTimes>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT updated_at, last_login_at FROM users WHERE id = ?1")?;
        let times = stmt.query_row([user_id], |row| {
            Ok(UserTimes {
                updated_at: row.get(0)?,
                last_login_at: row.get(1)?,
            })
        });
        Ok(times.optional()?)
    }

    fn update_user(&mut self, user: &User, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE users SET email = ?2, name = ?3, org_id = ?4, status = ?5, updated_at = ?6
             WHERE id = ?1",
            params![
                user.id,
                user.email,
                user.name,
                user.org_id,
                user.status.as_str(),
                now
            ],
        )?;
        Ok(())
    }

    fn record_login(&mut self, user_id: &str, now: u64) -> Result<()> {
        self.0
            .prepare_cached("UPDATE users SET last_login_at = ?2 WHERE id = ?1")?
            .execute(params![user_id, now])?;
        Ok(())
    }

    fn erase_user(&mut self, user_id: &str) -> Result<bool> {
        Ok(self
            .0
            .execute("DELETE FROM users WHERE id = ?1", [user_id])?
            > 0)
    }

    fn list_orgs(&mut self) -> Result<Vec<Org>> {
        let mut stmt = self.0.prepare(
            "SELECT o.id, o.name,
                    (SELECT count(*) FROM users u WHERE u.org_id = o.id AND u.status <> 'deleted')
             FROM orgs o ORDER BY o.id",
        )?;
        let orgs = stmt.query_map([], |row| {
            Ok(Org {
                id: row.get(0)?,
                name: row.get(1)?,
                users: row.get(2)?,
            })
        })?;
        Ok(orgs.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_org(&mut self, id: &str, name: &str) -> Result<bool> {
        let added = self.0.execute(
            "INSERT INTO orgs (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
            params![id, name],
        )?;
        Ok(added > 0)
    }

    fn rename_org(&mut self, id: &str, name: &str) -> Result<bool> {
        let changed = self
            .0
            .execute("UPDATE orgs SET name = ?2 WHERE id = ?1", params![id, name])?;
        Ok(changed > 0)
    }

    fn count_org_members(&mut self, id: &str) -> Result<i64> {
        Ok(self.0.query_row(
            "SELECT count(*) FROM users WHERE org_id = ?1 AND status <> 'deleted'",
            [id],
            |row| row.get(0),
        )?)
    }

    fn delete_org(&mut self, id: &str) -> Result<bool> {
        self.0.execute(
            "UPDATE users SET org_id = NULL WHERE org_id = ?1 AND status = 'deleted'",
            [id],
        )?;
        Ok(self.0.execute("DELETE FROM orgs WHERE id = ?1", [id])? > 0)
    }
}
