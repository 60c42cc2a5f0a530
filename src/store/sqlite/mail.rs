//! The outbox, the throttle and pending sign-ups. The single writer makes
//! each claim whole: no other sender sees a message between its read and write.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::mail::{FAILED, QUEUED, SENT};
use crate::store::{ClaimedMail, Mail, NewMail, Registration, Result, PRUNE_CHUNK};

impl Mail for SqliteStore<'_> {
    fn queue_mail(&mut self, mail: &NewMail) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO mail_outbox
                     (id, kind, recipient, user_id, message, state, created_at, next_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                mail.id,
                mail.kind,
                mail.recipient,
                mail.user_id,
                mail.message,
                QUEUED,
                mail.created_at
            ])?;
        Ok(())
    }

    fn claim_mail(
        &mut self,
        now: u64,
        lease_until: u64,
        limit: u32,
        only: Option<&str>,
    ) -> Result<Vec<ClaimedMail>> {
        let mut stmt = self.0.prepare_cached(
            "UPDATE mail_outbox SET next_at = ?2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox
                          WHERE state = ?3 AND next_at <= ?1 AND (?5 IS NULL OR id = ?5)
                          ORDER BY next_at LIMIT ?4)
             RETURNING id, kind, recipient, user_id, message, attempts, created_at",
        )?;
        let rows = stmt.query_map(params![now, lease_until, QUEUED, limit, only], claimed)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn mail_sent(&mut self, id: &str, now: u64) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE mail_outbox SET state = ?2, message = NULL, sent_at = ?3, last_error = NULL
                 WHERE id = ?1",
            )?
            .execute(params![id, SENT, now])?;
        Ok(())
    }

    fn mail_retry(&mut self, id: &str, next_at: u64, error: &str) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE mail_outbox SET next_at = ?2, last_error = ?3 WHERE id = ?1 AND state = ?4",
            )?
            .execute(params![id, next_at, error, QUEUED])?;
        Ok(())
    }

    fn mail_failed(&mut self, id: &str, error: &str) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE mail_outbox SET state = ?2, message = NULL, last_error = ?3 WHERE id = ?1",
            )?
            .execute(params![id, FAILED, error])?;
        Ok(())
    }

    fn queued_mail(&mut self) -> Result<u64> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT count(*) FROM mail_outbox WHERE state = ?1")?;
        Ok(stmt.query_row([QUEUED], |row| row.get(0))?)
    }

    fn mail_state(&mut self, id: &str) -> Result<Option<(String, u32)>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT state, attempts FROM mail_outbox WHERE id = ?1")?;
        let found = stmt.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)));
        Ok(found.optional()?)
    }

    fn throttle_mail(&mut self, digest: &[u8], now: u64, window: u64) -> Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "INSERT INTO mail_throttle (digest, last_at) VALUES (?1, ?2)
                 ON CONFLICT (digest) DO UPDATE SET last_at = excluded.last_at
                 WHERE mail_throttle.last_at <= excluded.last_at - ?3",
            )?
            .execute(params![digest, now, window])?;
        Ok(changed == 1)
    }

    fn replace_registration(&mut self, pending: &Registration) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO registrations
                     (email, token_hash, name, password_hash, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (email) DO UPDATE SET
                     token_hash = excluded.token_hash, name = excluded.name,
                     password_hash = excluded.password_hash,
                     created_at = excluded.created_at, expires_at = excluded.expires_at",
            )?
            .execute(params![
                pending.email,
                pending.token_hash,
                pending.name,
                pending.password_hash,
                pending.created_at,
                pending.expires_at
            ])?;
        Ok(())
    }

    fn find_registration(&mut self, token_hash: &[u8]) -> Result<Option<Registration>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT email, token_hash, name, password_hash, created_at, expires_at
             FROM registrations WHERE token_hash = ?1",
        )?;
        let found = stmt.query_row([token_hash], |row| {
            Ok(Registration {
                email: row.get(0)?,
                token_hash: row.get(1)?,
                name: row.get(2)?,
                password_hash: row.get(3)?,
                created_at: row.get(4)?,
                expires_at: row.get(5)?,
            })
        });
        Ok(found.optional()?)
    }

    fn spend_registration(&mut self, token_hash: &[u8]) -> Result<bool> {
        let gone = self
            .0
            .prepare_cached("DELETE FROM registrations WHERE token_hash = ?1")?
            .execute([token_hash])?;
        Ok(gone == 1)
    }

    fn prune_mail(
        &mut self,
        throttled_before: u64,
        expired_before: u64,
        done_before: u64,
    ) -> Result<usize> {
        let marks = self
            .0
            .prepare_cached(
                "DELETE FROM mail_throttle WHERE digest IN
                 (SELECT digest FROM mail_throttle WHERE last_at < ?1 LIMIT ?2)",
            )?
            .execute(params![throttled_before, PRUNE_CHUNK])?;
        let pending = self
            .0
            .prepare_cached(
                "DELETE FROM registrations WHERE email IN
                 (SELECT email FROM registrations WHERE expires_at < ?1 LIMIT ?2)",
            )?
            .execute(params![expired_before, PRUNE_CHUNK])?;
        let done = self
            .0
            .prepare_cached(
                "DELETE FROM mail_outbox WHERE id IN
                 (SELECT id FROM mail_outbox WHERE created_at < ?1 AND state <> ?2 LIMIT ?3)",
            )?
            .execute(params![done_before, QUEUED, PRUNE_CHUNK])?;
        Ok(marks.max(pending).max(done))
    }
}

fn claimed(row: &Row) -> rusqlite::Result<ClaimedMail> {
    Ok(ClaimedMail {
        id: row.get(0)?,
        kind: row.get(1)?,
        recipient: row.get(2)?,
        user_id: row.get(3)?,
        message: row.get(4)?,
        attempts: row.get(5)?,
        created_at: row.get(6)?,
    })
}
