//! Sessions (one per login) and the refresh tokens issued in them.

use postgres::Row;

use super::users::{self, user_columns, USER_COLUMNS};
use super::values::{bytes, count, int, opt_bytes, opt_text, opt_time, text, time};
use super::PgStore;
use crate::store::sessions::{amr_from_text, amr_to_text};
use crate::store::users::roles_to_text;
use crate::store::{
    NewRefresh, RefreshRecord, Result, Rotation, Session, Sessions, Spent, PRUNE_CHUNK,
};

macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip, amr"
    };
}

fn from_row(row: &Row) -> Result<Session> {
    Ok(Session {
        id: text(row, 0)?,
        user_id: text(row, 1)?,
        created_at: time(row, 2)?,
        last_used_at: time(row, 3)?,
        expires_at: time(row, 4)?,
        revoked_at: opt_time(row, 5)?,
        user_agent: opt_text(row, 6)?,
        ip: opt_text(row, 7)?,
        amr: amr_from_text(&text(row, 8)?),
    })
}

impl Sessions for PgStore<'_> {
    fn create_session(&mut self, s: &Session, refresh: &NewRefresh) -> Result<()> {
        self.0.execute(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip,
                               refresh_jti, refresh_hash, amr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &s.id,
            &s.user_id,
            &int(s.created_at),
            &int(s.last_used_at),
            &int(refresh.expires_at),
            &s.user_agent,
            &s.ip,
            &refresh.jti,
            &refresh.hash,
            &amr_to_text(&s.amr),
        ],
    )?;
        Ok(())
    }

    fn find_session(&mut self, id: &str) -> Result<Option<Session>> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id = $1"
        );
        self.0
            .query_opt(sql, &[&id])?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    fn list_live_sessions(&mut self, user_id: &str, now: u64) -> Result<Vec<Session>> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC, id"
        );
        self.0
            .query(sql, &[&user_id, &int(now)])?
            .iter()
            .map(from_row)
            .collect()
    }

    fn count_live_sessions(&mut self, now: u64) -> Result<i64> {
        let row = self.0.query_one(
            "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
            &[&int(now)],
        )?;
        Ok(row.try_get(0)?)
    }

    fn revoke_session(&mut self, id: &str, now: u64) -> Result<bool> {
        let changed = self.0.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &int(now)],
        )?;
        if changed > 0 {
            self.notify_change()?;
        }
        Ok(changed > 0)
    }

    fn revoke_user_sessions(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<usize> {
        let changed = self.0.execute(
            "UPDATE sessions SET revoked_at = $3
         WHERE user_id = $1 AND id IS DISTINCT FROM $2 AND revoked_at IS NULL",
            &[&user_id, &keep, &int(now)],
        )?;
        if changed > 0 {
            self.notify_change()?;
        }
        Ok(count(changed))
    }

    fn find_refresh(&mut self, sid: &str) -> Result<Option<RefreshRecord>> {
        let sql = concat!(
            "SELECT ",
            user_columns!("u."),
            ", s.revoked_at IS NOT NULL, s.refresh_jti, s.refresh_hash,
           s.spent_jti, s.spent_at_ms, s.grace_answer, s.amr
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
        );
        let Some(row) = self.0.query_opt(sql, &[&sid])? else {
            return Ok(None);
        };
        let at = |i: usize| USER_COLUMNS + i;
        Ok(Some(RefreshRecord {
            user: users::from_row(&row)?,
            revoked: row.try_get(at(0))?,
            refresh_jti: text(&row, at(1))?,
            refresh_hash: bytes(&row, at(2))?,
            spent_jti: opt_text(&row, at(3))?,
            spent_at_ms: opt_time(&row, at(4))?,
            grace_answer: opt_bytes(&row, at(5))?,
            amr: amr_from_text(&text(&row, at(6))?),
        }))
    }

    /// Of two racing uses, the second waits for the first's row lock; once that
    /// commits, PostgreSQL checks the WHERE again on the new row, where
    /// `refresh_jti` is no longer the spent one, so exactly one use wins.
    /// Revoking is one UPDATE too, so a reuse revokes the session everywhere.
    /// Outside a transaction this is the refresh's one round trip.
    fn rotate_refresh(
        &mut self,
        spent: &Spent,
        next: &NewRefresh,
        now_ms: u64,
        grace_answer: &[u8],
    ) -> Result<bool> {
        let user = spent.user;
        let changed = self.0.execute(
            "UPDATE sessions
         SET refresh_jti = $5, refresh_hash = $6, expires_at = $7, last_used_at = $8::BIGINT / 1000,
             spent_jti = refresh_jti, spent_at_ms = $8, grace_answer = $9
         WHERE id = $1 AND refresh_jti = $2 AND refresh_hash = $3 AND user_id = $4
           AND revoked_at IS NULL AND amr = $14
           AND EXISTS (SELECT 1 FROM users u WHERE u.id = $4 AND u.status = 'active'
                       AND u.email = $10 AND u.name = $11 AND u.org_id IS NOT DISTINCT FROM $12)
           AND (SELECT string_agg(role, ' ' ORDER BY role) FROM user_roles
                WHERE user_id = $4) IS NOT DISTINCT FROM $13
           AND EXISTS (SELECT 1 FROM oidc_grants g WHERE g.sid = $1) = $15",
            &[
                &spent.sid,
                &spent.jti,
                &spent.hash,
                &user.id,
                &next.jti,
                &next.hash,
                &int(next.expires_at),
                &int(now_ms),
                &grace_answer,
                &user.email,
                &user.name,
                &user.org_id,
                &roles_to_text(&user.roles),
                &amr_to_text(spent.amr),
                &spent.for_client,
            ],
        )?;
        Ok(changed == 1)
    }

    /// Several in one statement, which costs PostgreSQL far less than one
    /// each (one commit, one round trip). If the database refuses it (a
    /// value it cannot hold, a deadlock with another instance's batch), each
    /// is tried alone, so that only the one at fault fails.
    fn rotate_refreshes(&mut self, batch: &[Rotation]) -> Vec<Result<bool>> {
        if let [one] = batch {
            return vec![one.apply(self)];
        }
        match self.rotate_at_once(batch) {
            Ok(won) => won.into_iter().map(Ok).collect(),
            Err(_) => batch.iter().map(|rotation| rotation.apply(self)).collect(),
        }
    }

    /// Rows another instance is pruning or rotating right now are
    /// skipped, not waited for: the next round takes them.
    fn prune_expired_sessions(&mut self, now: u64) -> Result<usize> {
        let changed = self.0.execute(
            "DELETE FROM sessions WHERE id IN
             (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&int(now), &i64::from(PRUNE_CHUNK)],
        )?;
        Ok(count(changed))
    }

    /// Rows another instance is clearing now are skipped, as in pruning.
    fn clear_grace_answers(&mut self, spent_before_ms: u64) -> Result<usize> {
        let changed = self.0.execute(
            "UPDATE sessions SET grace_answer = NULL WHERE id IN
             (SELECT id FROM sessions WHERE grace_answer IS NOT NULL AND spent_at_ms < $1
              LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&int(spent_before_ms), &i64::from(PRUNE_CHUNK)],
        )?;
        Ok(count(changed))
    }

    fn forget_grace_answers(&mut self) -> Result<usize> {
        let changed = self.0.execute(
            "UPDATE sessions SET grace_answer = NULL WHERE grace_answer IS NOT NULL",
            &[],
        )?;
        Ok(count(changed))
    }
}

impl PgStore<'_> {
    /// The conditions of `rotate_refresh` for every row of `batch`, in one
    /// UPDATE over the batch as arrays. Its rows are sorted by session, so
    /// that two instances' batches lock shared rows in one order. A session
    /// twice in the batch is updated once: the number RETURNING gives says
    /// which of the two won.
    fn rotate_at_once(&mut self, batch: &[Rotation]) -> Result<Vec<bool>> {
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|&a, &b| batch[a].sid.cmp(&batch[b].sid));
        let sorted: Vec<&Rotation> = order.iter().map(|&i| &batch[i]).collect();
        let texts = |f: fn(&Rotation) -> &str| sorted.iter().map(|r| f(r)).collect::<Vec<_>>();
        let blobs = |f: fn(&Rotation) -> &[u8]| sorted.iter().map(|r| f(r)).collect::<Vec<_>>();
        let ints = |f: fn(&Rotation) -> u64| sorted.iter().map(|r| int(f(r))).collect::<Vec<_>>();
        let orgs: Vec<Option<&str>> = sorted.iter().map(|r| r.user.org_id.as_deref()).collect();
        let roles: Vec<Option<String>> = sorted
            .iter()
            .map(|r| roles_to_text(&r.user.roles))
            .collect();
        let amrs: Vec<String> = sorted.iter().map(|r| amr_to_text(&r.amr)).collect();
        let for_client: Vec<bool> = sorted.iter().map(|r| r.for_client).collect();
        let rows = self.0.query(
            "UPDATE sessions s
                SET refresh_jti = v.next_jti, refresh_hash = v.next_hash,
                    expires_at = v.expires_at, last_used_at = v.now_ms / 1000,
                    spent_jti = s.refresh_jti, spent_at_ms = v.now_ms, grace_answer = v.grace
               FROM unnest($1::TEXT[], $2::TEXT[], $3::BYTEA[], $4::TEXT[], $5::TEXT[],
                           $6::BYTEA[], $7::BIGINT[], $8::BIGINT[], $9::BYTEA[], $10::TEXT[],
                           $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::TEXT[], $15::BOOL[])
                    WITH ORDINALITY AS v(sid, jti, hash, user_id, next_jti, next_hash,
                                         expires_at, now_ms, grace, email, name, org_id,
                                         roles, amr, for_client, n)
              WHERE s.id = v.sid AND s.refresh_jti = v.jti AND s.refresh_hash = v.hash
                AND s.user_id = v.user_id AND s.revoked_at IS NULL AND s.amr = v.amr
                AND EXISTS (SELECT 1 FROM users u WHERE u.id = v.user_id
                            AND u.status = 'active' AND u.email = v.email AND u.name = v.name
                            AND u.org_id IS NOT DISTINCT FROM v.org_id)
                AND (SELECT string_agg(role, ' ' ORDER BY role) FROM user_roles
                     WHERE user_id = v.user_id) IS NOT DISTINCT FROM v.roles
                AND EXISTS (SELECT 1 FROM oidc_grants g WHERE g.sid = v.sid) = v.for_client
             RETURNING v.n",
            &[
                &texts(|r| &r.sid),
                &texts(|r| &r.jti),
                &blobs(|r| &r.hash),
                &texts(|r| &r.user.id),
                &texts(|r| &r.next_jti),
                &blobs(|r| &r.next_hash),
                &ints(|r| r.expires_at),
                &ints(|r| r.now_ms),
                &blobs(|r| &r.grace_answer),
                &texts(|r| &r.user.email),
                &texts(|r| &r.user.name),
                &orgs,
                &roles,
                &amrs,
                &for_client,
            ],
        )?;
        let mut won = vec![false; batch.len()];
        for row in &rows {
            let n: i64 = row.try_get(0)?;
            let place = usize::try_from(n - 1).ok().and_then(|i| order.get(i));
            if let Some(&i) = place {
                won[i] = true;
            }
        }
        Ok(won)
    }
}
