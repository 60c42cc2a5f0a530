//! The admin API's users and orgs.

use std::collections::HashMap;

use postgres::types::ToSql;

use super::users::{from_row, user_columns};
use super::values::{int, opt_time, text, time};
use super::PgStore;
use crate::store::{
    lockout_end, Directory, MfaState, Org, Result, StoreError, User, UserDetails, UserFilter,
    UserTimes,
};

/// A search whose trigrams match fewer users than this starts from them.
const FEW: i64 = 5000;

/// The users search over `$source` (the users as `u`), led by `$from`: the
/// cursor's condition, a text of its own for each, so that the one with a
/// cursor is planned as an index range. `strpos` rather than LIKE, so that `%`
/// and `_` in the query are plain characters.
macro_rules! search_sql {
    ($source:expr, $from:literal) => {
        concat!(
            "SELECT ",
            user_columns!("u."),
            " FROM ",
            $source,
            " WHERE ",
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

/// The first 2,000 users in email order from the cursor on, searched.
macro_rules! walk_sql {
    ($from:literal) => {
        search_sql!(
            concat!(
                "(SELECT * FROM users WHERE ",
                $from,
                " ORDER BY email COLLATE \"C\" LIMIT 2000) u"
            ),
            "true"
        )
    };
}

/// The users whose email or lower-cased name is LIKE `$7` (the query, escaped,
/// between `%`s), found by the trigram indexes of step 10 (pg_trgm) and then
/// sorted: MATERIALIZED, so that it is never a walk of the email index, and
/// whole rows, so that a generic plan cannot join them to a scan of `users`.
const TRIGRAM_SQL: &str = search_sql!(
    "(WITH found AS MATERIALIZED
        (SELECT * FROM users WHERE email LIKE $7::text OR lower(name) LIKE $7::text)
      SELECT * FROM found) u",
    "($1::text IS NULL OR u.email COLLATE \"C\" > $1::text)"
);

/// The query as a LIKE pattern that matches it anywhere, `\`, `%` and `_`
/// escaped, when trigrams can find it: 3 characters or more.
fn like_pattern(query: &str) -> Option<String> {
    let escaped = query
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    (query.chars().count() >= 3).then(|| format!("%{escaped}%"))
}

impl Directory for PgStore<'_> {
    /// COLLATE "C": the same byte order as SQLite's, whatever the database's
    /// locale, and that of the index `users_by_email_bytes` (step 10), which a
    /// page after a cursor seeks into with `u.email > $1` alone. As on SQLite,
    /// a query of 3 characters or more that few users match starts from the
    /// trigram indexes; one that many match walks the emails in order, and
    /// turns to the trigrams if the first 2,000 do not hold a page.
    fn search_users(
        &mut self,
        filter: &UserFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>> {
        let status = filter.status.map(|s| s.as_str());
        let limit = i64::from(limit);
        let params: [&(dyn ToSql + Sync); 6] = [
            &after,
            &filter.query,
            &status,
            &filter.org_id,
            &filter.role,
            &limit,
        ];
        let Some(pattern) = filter.query.as_deref().and_then(like_pattern) else {
            let sql = match after {
                Some(_) => search_sql!("users u", "u.email COLLATE \"C\" > $1::text"),
                None => search_sql!("users u", "$1::text IS NULL"),
            };
            return self.0.query(sql, &params)?.iter().map(from_row).collect();
        };
        let candidates: i64 = self
            .0
            .query_one(
                "SELECT count(*) FROM (SELECT 1 FROM users
                 WHERE email LIKE $1::text OR lower(name) LIKE $1::text LIMIT $2) c",
                &[&pattern, &FEW],
            )?
            .try_get(0)?;
        if candidates == FEW {
            let sql = match after {
                Some(_) => walk_sql!("email COLLATE \"C\" > $1::text"),
                None => walk_sql!("$1::text IS NULL"),
            };
            let found = self.0.query(sql, &params)?;
            if found.len() as i64 == limit {
                return found.iter().map(from_row).collect();
            }
        }
        let mut with_pattern = params.to_vec();
        with_pattern.push(&pattern);
        let rows = self.0.query(TRIGRAM_SQL, &with_pattern)?;
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

    fn user_details(
        &mut self,
        users: &[(String, String)],
        max: u32,
        window: u64,
        now: u64,
    ) -> Result<HashMap<String, UserDetails>> {
        let (ids, keys): (Vec<&str>, Vec<&str>) = users
            .iter()
            .map(|(id, key)| (id.as_str(), key.as_str()))
            .unzip();
        let rows = self.0.query(
            "SELECT u.id, u.updated_at, u.last_login_at,
                    EXISTS (SELECT 1 FROM mfa_totp t
                            WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL),
                    (SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = u.id),
                    (SELECT f.at FROM login_failures f WHERE f.key = p.key AND f.at > $3
                     ORDER BY f.at DESC LIMIT 1 OFFSET $4),
                    (SELECT count(*) FROM passkeys k WHERE k.user_id = u.id)
             FROM unnest($1::text[], $2::text[]) AS p (id, key) JOIN users u ON u.id = p.id",
            &[
                &ids,
                &keys,
                &int(now.saturating_sub(window)),
                &i64::from(max.saturating_sub(1)),
            ],
        )?;
        rows.iter()
            .map(|row| {
                let left: i64 = row.try_get(4)?;
                let passkeys: i64 = row.try_get(6)?;
                let nth_newest = opt_time(row, 5)?;
                let details = UserDetails {
                    times: UserTimes {
                        updated_at: time(row, 1)?,
                        last_login_at: opt_time(row, 2)?,
                    },
                    mfa: MfaState {
                        totp: row.try_get(3)?,
                        recovery_codes_left: u32::try_from(left)
                            .map_err(|_| StoreError::Failed(format!("{left} recovery codes")))?,
                        passkeys: u32::try_from(passkeys)
                            .map_err(|_| StoreError::Failed(format!("{passkeys} passkeys")))?,
                    },
                    locked_until: lockout_end(nth_newest, max, window, now),
                };
                Ok((text(row, 0)?, details))
            })
            .collect()
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
