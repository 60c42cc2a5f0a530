//! Sessions (one per login) and the refresh tokens issued in them.

use rusqlite::{params, OptionalExtension};

use super::users::{self, user_columns, USER_COLUMNS};
use super::SqliteStore;
use crate::store::sessions::{amr_from_text, amr_to_text};
use crate::store::users::roles_to_text;
use crate::store::{
    NewRefresh, RefreshRecord, Result, Rotation, Session, Sessions, Spent, PRUNE_CHUNK,
};

const COLUMNS: &str =
    "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip, amr";

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
        amr: amr_from_text(&row.get::<_, String>(8)?),
    })
}

impl Sessions for SqliteStore<'_> {
    fn create_session(&mut self, s: &Session, refresh: &NewRefresh) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at,
                                       user_agent, ip, refresh_jti, refresh_hash, amr)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                s.id,
                s.user_id,
                s.created_at,
                s.last_used_at,
                refresh.expires_at,
                s.user_agent,
                s.ip,
                refresh.jti,
                refresh.hash,
                amr_to_text(&s.amr),
            ])?;
        Ok(())
    }

    fn find_session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1");
        let mut stmt = self.0.prepare_cached(&sql)?;
        Ok(stmt.query_row([id], from_row).optional()?)
    }

    fn list_live_sessions(&mut self, user_id: &str, now: u64) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions
             WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
             ORDER BY created_at DESC, id"
        );
        let mut stmt = self.0.prepare_cached(&sql)?;
        let sessions = stmt.query_map(params![user_id, now], from_row)?;
        Ok(sessions.collect::<rusqlite::Result<_>>()?)
    }

    fn count_live_sessions(&mut self, now: u64) -> Result<i64> {
        let mut stmt = self.0.prepare_cached(
            "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1",
        )?;
        Ok(stmt.query_row([now], |row| row.get(0))?)
    }

    fn revoke_session(&mut self, id: &str, now: u64) -> Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![id, now])?;
        Ok(changed > 0)
    }

    fn revoke_user_sessions(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<usize> {
        Ok(self.0.execute(
            "UPDATE sessions SET revoked_at = ?3
             WHERE user_id = ?1 AND id IS NOT ?2 AND revoked_at IS NULL",
            params![user_id, keep, now],
        )?)
    }

    fn find_refresh(&mut self, sid: &str) -> Result<Option<RefreshRecord>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            ", s.revoked_at IS NOT NULL, s.refresh_jti, s.refresh_hash,
                    s.spent_jti, s.spent_at_ms, s.grace_answer, s.amr
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1"
        );
        let mut stmt = self.0.prepare_cached(sql)?;
        let record = stmt.query_row([sid], |row| {
            let at = |i: usize| USER_COLUMNS + i;
            Ok(RefreshRecord {
                user: users::from_row(row)?,
                revoked: row.get(at(0))?,
                refresh_jti: row.get(at(1))?,
                refresh_hash: row.get(at(2))?,
                spent_jti: row.get(at(3))?,
                spent_at_ms: row.get(at(4))?,
                grace_answer: row.get(at(5))?,
                amr: amr_from_text(&row.get::<_, String>(at(6))?),
            })
        });
        Ok(record.optional()?)
    }

    /// Every write here is serialised (the writer thread, or an IMMEDIATE
    /// transaction), so of two uses of one token the second finds it spent.
    fn rotate_refresh(
        &mut self,
        spent: &Spent,
        next: &NewRefresh,
        now_ms: u64,
        grace_answer: &[u8],
    ) -> Result<bool> {
        let user = spent.user;
        let changed = self
            .0
            .prepare_cached(
                "UPDATE sessions
                 SET refresh_jti = ?5, refresh_hash = ?6, expires_at = ?7,
                     last_used_at = ?8 / 1000,
                     spent_jti = refresh_jti, spent_at_ms = ?8, grace_answer = ?9
                 WHERE id = ?1 AND refresh_jti = ?2 AND refresh_hash = ?3 AND user_id = ?4
                   AND revoked_at IS NULL AND amr = ?14
                   AND EXISTS (SELECT 1 FROM users u WHERE u.id = ?4 AND u.status = 'active'
                               AND u.email = ?10 AND u.name = ?11 AND u.org_id IS ?12)
                   AND (SELECT group_concat(role, ' ' ORDER BY role) FROM user_roles
                        WHERE user_id = ?4) IS ?13
                   AND EXISTS (SELECT 1 FROM oidc_grants g WHERE g.sid = ?1) = ?15",
            )?
            .execute(params![
                spent.sid,
                spent.jti,
                spent.hash,
                user.id,
                next.jti,
                next.hash,
                next.expires_at,
                now_ms,
                grace_answer,
                user.email,
                user.name,
                user.org_id,
                roles_to_text(&user.roles),
                amr_to_text(spent.amr),
                spent.for_client
            ])?;
        Ok(changed == 1)
    }

    /// One after the other: the writer already commits a batch of requests'
    /// writes at once.
    fn rotate_refreshes(&mut self, batch: &[Rotation]) -> Vec<Result<bool>> {
        batch.iter().map(|rotation| rotation.apply(self)).collect()
    }

    fn prune_expired_sessions(&mut self, now: u64) -> Result<usize> {
        let mut stmt = self.0.prepare_cached(
            "DELETE FROM sessions WHERE rowid IN
                 (SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?2)",
        )?;
        Ok(stmt.execute(params![now, PRUNE_CHUNK])?)
    }

    fn clear_grace_answers(&mut self, spent_before_ms: u64) -> Result<usize> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE sessions SET grace_answer = NULL WHERE rowid IN
                 (SELECT rowid FROM sessions
                  WHERE grace_answer IS NOT NULL AND spent_at_ms < ?1 LIMIT ?2)",
        )?;
        Ok(stmt.execute(params![spent_before_ms, PRUNE_CHUNK])?)
    }

    fn forget_grace_answers(&mut self) -> Result<usize> {
        Ok(self.0.execute(
            "UPDATE sessions SET grace_answer = NULL WHERE grace_answer IS NOT NULL",
            [],
        )?)
    }
}
