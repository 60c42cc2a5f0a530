//! The outbox, the throttle and pending sign-ups. A claim takes due rows
//! `FOR UPDATE SKIP LOCKED` and moves their `next_at` past the lease in the
//! same statement: of instances claiming at once, each gets other messages,
//! and none sees a claimed one again before its lease lapses. The throttle is
//! one upsert, whose conflict locks the row: of racing calls one wins.

use postgres::Row;

use super::values::{count, int, opt_text, text, time};
use super::PgStore;
use crate::store::mail::{FAILED, QUEUED, SENT};
use crate::store::{ClaimedMail, Mail, NewMail, Registration, Result, StoreError, PRUNE_CHUNK};

impl Mail for PgStore<'_> {
    fn queue_mail(&mut self, mail: &NewMail) -> Result<()> {
        self.0.execute(
            "INSERT INTO mail_outbox
                 (id, kind, recipient, user_id, message, state, created_at, next_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            &[
                &mail.id,
                &mail.kind,
                &mail.recipient,
                &mail.user_id,
                &mail.message,
                &QUEUED,
                &int(mail.created_at),
            ],
        )?;
        Ok(())
    }

    fn claim_mail(
        &mut self,
        now: u64,
        lease_until: u64,
        limit: u32,
        only: Option<&str>,
    ) -> Result<Vec<ClaimedMail>> {
        let rows = self.0.query(
            "UPDATE mail_outbox SET next_at = $2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox
                          WHERE state = $3 AND next_at <= $1 AND ($5::text IS NULL OR id = $5)
                          ORDER BY next_at LIMIT $4 FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, recipient, user_id, message, attempts, created_at",
            &[
                &int(now),
                &int(lease_until),
                &QUEUED,
                &i64::from(limit),
                &only,
            ],
        )?;
        rows.iter().map(claimed).collect()
    }

    fn mail_sent(&mut self, id: &str, now: u64) -> Result<()> {
        self.0.execute(
            "UPDATE mail_outbox SET state = $2, message = NULL, sent_at = $3, last_error = NULL
             WHERE id = $1",
            &[&id, &SENT, &int(now)],
        )?;
        Ok(())
    }

    fn mail_retry(&mut self, id: &str, next_at: u64, error: &str) -> Result<()> {
        self.0.execute(
            "UPDATE mail_outbox SET next_at = $2, last_error = $3 WHERE id = $1 AND state = $4",
            &[&id, &int(next_at), &error, &QUEUED],
        )?;
        Ok(())
    }

    fn mail_failed(&mut self, id: &str, error: &str) -> Result<()> {
        self.0.execute(
            "UPDATE mail_outbox SET state = $2, message = NULL, last_error = $3 WHERE id = $1",
            &[&id, &FAILED, &error],
        )?;
        Ok(())
    }

    fn queued_mail(&mut self) -> Result<u64> {
        let row = self.0.query_one(
            "SELECT count(*) FROM mail_outbox WHERE state = $1",
            &[&QUEUED],
        )?;
        time(&row, 0)
    }

    fn mail_state(&mut self, id: &str) -> Result<Option<(String, u32)>> {
        let row = self.0.query_opt(
            "SELECT state, attempts FROM mail_outbox WHERE id = $1",
            &[&id],
        )?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((text(&row, 0)?, attempts(&row, 1)?)))
    }

    fn throttle_mail(&mut self, digest: &[u8], now: u64, window: u64) -> Result<bool> {
        let changed = self.0.execute(
            "INSERT INTO mail_throttle (digest, last_at) VALUES ($1, $2)
             ON CONFLICT (digest) DO UPDATE SET last_at = excluded.last_at
             WHERE mail_throttle.last_at <= excluded.last_at - $3",
            &[&digest, &int(now), &int(window)],
        )?;
        Ok(changed == 1)
    }

    fn replace_registration(&mut self, pending: &Registration) -> Result<()> {
        self.0.execute(
            "INSERT INTO registrations
                 (email, token_hash, name, password_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (email) DO UPDATE SET
                 token_hash = excluded.token_hash, name = excluded.name,
                 password_hash = excluded.password_hash,
                 created_at = excluded.created_at, expires_at = excluded.expires_at",
            &[
                &pending.email,
                &pending.token_hash,
                &pending.name,
                &pending.password_hash,
                &int(pending.created_at),
                &int(pending.expires_at),
            ],
        )?;
        Ok(())
    }

    fn find_registration(&mut self, token_hash: &[u8]) -> Result<Option<Registration>> {
        let row = self.0.query_opt(
            "SELECT email, token_hash, name, password_hash, created_at, expires_at
             FROM registrations WHERE token_hash = $1",
            &[&token_hash],
        )?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Registration {
            email: text(&row, 0)?,
            token_hash: row.try_get(1)?,
            name: text(&row, 2)?,
            password_hash: text(&row, 3)?,
            created_at: time(&row, 4)?,
            expires_at: time(&row, 5)?,
        }))
    }

    /// Of two racing uses, the second finds the row gone once the first commits.
    fn spend_registration(&mut self, token_hash: &[u8]) -> Result<bool> {
        let gone = self.0.execute(
            "DELETE FROM registrations WHERE token_hash = $1",
            &[&token_hash],
        )?;
        Ok(gone == 1)
    }

    fn prune_mail(
        &mut self,
        throttled_before: u64,
        expired_before: u64,
        done_before: u64,
    ) -> Result<usize> {
        let chunk = i64::from(PRUNE_CHUNK);
        let marks = self.0.execute(
            "DELETE FROM mail_throttle WHERE digest IN
             (SELECT digest FROM mail_throttle WHERE last_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&int(throttled_before), &chunk],
        )?;
        let pending = self.0.execute(
            "DELETE FROM registrations WHERE email IN
             (SELECT email FROM registrations WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&int(expired_before), &chunk],
        )?;
        let done = self.0.execute(
            "DELETE FROM mail_outbox WHERE id IN
             (SELECT id FROM mail_outbox WHERE created_at < $1 AND state <> $2
              LIMIT $3 FOR UPDATE SKIP LOCKED)",
            &[&int(done_before), &QUEUED, &chunk],
        )?;
        Ok(count(marks).max(count(pending)).max(count(done)))
    }
}

fn claimed(row: &Row) -> Result<ClaimedMail> {
    Ok(ClaimedMail {
        id: text(row, 0)?,
        kind: text(row, 1)?,
        recipient: text(row, 2)?,
        user_id: opt_text(row, 3)?,
        message: row.try_get(4)?,
        attempts: attempts(row, 5)?,
        created_at: time(row, 6)?,
    })
}

fn attempts(row: &Row, i: usize) -> Result<u32> {
    let n: i64 = row.try_get(i)?;
    u32::try_from(n)
        .map_err(|_| StoreError::Failed(format!("a stored count is out of range ({n})")))
}
