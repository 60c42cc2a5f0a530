//! The admin API's users and orgs.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use super::users::{from_row, user_columns};
use super::SqliteStore;
use crate::store::{
    lockout_end, Directory, MfaState, Org, Result, User, UserDetails, UserFilter, UserTimes,
};

/// A search whose trigrams match fewer users than this starts from them.
const FEW: u32 = 5000;
/// Users a search reads in email order before it turns to the trigrams.
const WALK: i64 = 2000;

/// The users search over `source` (the users as `u`); `?7` is the trigram
/// phrase or the bound of the walk. `instr` rather than LIKE, so that `%` and
/// `_` in the query are plain characters; `lower` folds ASCII only.
fn search_sql(source: &str) -> String {
    format!(
        "SELECT {} FROM {source}
         WHERE (?2 IS NULL OR instr(u.email, ?2) > 0 OR instr(lower(u.name), ?2) > 0)
           AND (?3 IS NULL OR u.status = ?3)
           AND (?4 IS NULL OR u.org_id = ?4)
           AND (?5 IS NULL OR EXISTS
                (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?5))
         ORDER BY u.email LIMIT ?6",
        user_columns!()
    )
}

/// The users in email order (`bound` of them at most, -1: all), from the
/// cursor on: a page after a cursor starts with `email > ?1` alone, a range the
/// email index seeks to (inside an `OR` it was a scan of every email before it).
fn walk_sql(after: bool) -> String {
    let from = if after { "email > ?1" } else { "?1 IS NULL" };
    search_sql(&format!(
        "(SELECT * FROM users WHERE {from} ORDER BY email LIMIT ?7) u"
    ))
}

/// The users whose email or name holds every trigram of the phrase `?7`, a
/// superset of the matches (the trigrams fold case), checked by the search.
/// CROSS JOIN: from the few the index finds to their rows, never the reverse.
fn trigram_sql() -> String {
    search_sql(
        "users_search(?7) s CROSS JOIN users u ON u.rowid = s.rowid
         AND (?1 IS NULL OR u.email > ?1)",
    )
}

/// The query as an FTS5 phrase (quotes doubled), when the trigram index can
/// answer it: 3 characters or more, none NUL.
fn trigram_phrase(query: &str) -> Option<String> {
    (query.chars().count() >= 3 && !query.contains('\0'))
        .then(|| format!("\"{}\"", query.replace('"', "\"\"")))
}

impl SqliteStore<'_> {
    fn search(
        &self,
        sql: &str,
        filter: &UserFilter,
        after: Option<&str>,
        limit: u32,
        seventh: &dyn rusqlite::ToSql,
    ) -> Result<Vec<User>> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let rows = stmt.query_map(
            params![
                after,
                filter.query,
                filter.status.map(|s| s.as_str()),
                filter.org_id,
                filter.role,
                limit,
                seventh
            ],
            from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Directory for SqliteStore<'_> {
    /// A query of 3 characters or more that few users match starts from the
    /// trigram index (`users_search`, step 10). One that many match walks
    /// the emails in order, which soon finds a page of them; if the first
    /// WALK users do not hold a page (the matches come late in the order),
    /// the trigram index finds them all. Shorter queries walk the emails.
    fn search_users(
        &mut self,
        filter: &UserFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let walk = walk_sql(after.is_some());
        let Some(phrase) = filter.query.as_deref().and_then(trigram_phrase) else {
            return self.search(&walk, filter, after, limit, &-1i64);
        };
        let candidates: u32 = self
            .0
            .prepare_cached("SELECT count(*) FROM (SELECT 1 FROM users_search(?1) LIMIT ?2)")?
            .query_row(params![phrase, FEW], |row| row.get(0))?;
        if candidates == FEW {
            let found = self.search(&walk, filter, after, limit, &WALK)?;
            if found.len() == limit as usize {
                return Ok(found);
            }
        }
        self.search(&trigram_sql(), filter, after, limit, &phrase)
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

    /// The page's (id, key) pairs travel as one JSON array.
    fn user_details(
        &mut self,
        users: &[(String, String)],
        max: u32,
        window: u64,
        now: u64,
    ) -> Result<HashMap<String, UserDetails>> {
        let page = serde_json::to_string(users)
            .map_err(|e| crate::store::StoreError::Failed(e.to_string()))?;
        let mut stmt = self.0.prepare_cached(
            "WITH page (id, key) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
             SELECT u.id, u.updated_at, u.last_login_at,
                    EXISTS (SELECT 1 FROM mfa_totp t
                            WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL),
                    (SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = u.id),
                    (SELECT f.at FROM login_failures f WHERE f.key = p.key AND f.at > ?2
                     ORDER BY f.at DESC LIMIT 1 OFFSET ?3),
                    (SELECT count(*) FROM passkeys k WHERE k.user_id = u.id)
             FROM page p CROSS JOIN users u ON u.id = p.id",
        )?;
        let rows = stmt.query_map(
            params![page, now.saturating_sub(window), max.saturating_sub(1)],
            |row| {
                let details = UserDetails {
                    times: UserTimes {
                        updated_at: row.get(1)?,
                        last_login_at: row.get(2)?,
                    },
                    mfa: MfaState {
                        totp: row.get(3)?,
                        recovery_codes_left: row.get(4)?,
                        passkeys: row.get(6)?,
                    },
                    locked_until: lockout_end(row.get(5)?, max, window, now),
                };
                Ok((row.get(0)?, details))
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
