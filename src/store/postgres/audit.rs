//! The audit log. Ids come from an identity column; several instances commit
//! out of order only within the moments their transactions overlap.

use postgres::Row;

use super::values::{int, opt_text, text, time};
use super::PgStore;
use crate::store::audit::{email_needle, parse_detail, without_email};
use crate::store::{Audit, AuditEvent, AuditQuery, Result, PRUNE_CHUNK};

/// One statement per leading filter, so that its index finds the rows (a
/// generic plan of one statement for all would scan); the other filters are
/// skipped when their parameter is NULL ($1 user, $2 type, $3 since, $4
/// until, $5 before, $6 limit).
const BY_USER: &str = "SELECT id, at, type, user_id, actor, ip, user_agent, detail
    FROM audit_events WHERE user_id = $1
    AND ($2::text IS NULL OR type = $2) AND ($3::bigint IS NULL OR at >= $3)
    AND ($4::bigint IS NULL OR at <= $4) AND ($5::bigint IS NULL OR id < $5)
    ORDER BY id DESC LIMIT $6";
const BY_TYPE: &str = "SELECT id, at, type, user_id, actor, ip, user_agent, detail
    FROM audit_events WHERE $1::text IS NULL AND type = $2
    AND ($3::bigint IS NULL OR at >= $3)
    AND ($4::bigint IS NULL OR at <= $4) AND ($5::bigint IS NULL OR id < $5)
    ORDER BY id DESC LIMIT $6";
const ALL: &str = "SELECT id, at, type, user_id, actor, ip, user_agent, detail
    FROM audit_events WHERE $1::text IS NULL AND $2::text IS NULL
    AND ($3::bigint IS NULL OR at >= $3)
    AND ($4::bigint IS NULL OR at <= $4) AND ($5::bigint IS NULL OR id < $5)
    ORDER BY id DESC LIMIT $6";

impl Audit for PgStore<'_> {
    fn append_event(&mut self, event: &AuditEvent) -> Result<i64> {
        let row = self.0.query_one(
            "INSERT INTO audit_events (at, type, user_id, actor, ip, user_agent, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &int(event.at),
                &event.kind,
                &event.user_id,
                &event.actor,
                &event.ip,
                &event.user_agent,
                &event.detail.to_string(),
            ],
        )?;
        Ok(row.try_get(0)?)
    }

    fn list_events(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let sql = match (&q.user_id, &q.kind) {
            (Some(_), _) => BY_USER,
            (None, Some(_)) => BY_TYPE,
            (None, None) => ALL,
        };
        let rows = self.0.query(
            sql,
            &[
                &q.user_id,
                &q.kind,
                &q.since.map(int),
                &q.until.map(int),
                &q.before,
                &i64::from(q.limit),
            ],
        )?;
        rows.iter().map(read_row).collect()
    }

    /// Rows another instance is pruning now are skipped, not waited for.
    fn prune_events(&mut self, cutoff: u64) -> Result<usize> {
        let changed = self.0.execute(
            "DELETE FROM audit_events WHERE id IN
             (SELECT id FROM audit_events WHERE at < $1 ORDER BY id LIMIT $2
              FOR UPDATE SKIP LOCKED)",
            &[&int(cutoff), &i64::from(PRUNE_CHUNK)],
        )?;
        Ok(super::values::count(changed))
    }

    /// Reads every detail (an erasure is rare; the log has no index on its text).
    fn forget_email(&mut self, user_id: &str, email: &str) -> Result<usize> {
        let found = self.0.query(
            "SELECT id, user_id, detail FROM audit_events
             WHERE user_id = $1 OR strpos(lower(detail), $2) > 0",
            &[&user_id, &email_needle(email)],
        )?;
        let mut changed = 0;
        for row in found {
            let id: i64 = row.try_get(0)?;
            let mut detail = parse_detail(&text(&row, 2)?)?;
            let theirs = opt_text(&row, 1)?.as_deref() == Some(user_id);
            if without_email(&mut detail, theirs, email) {
                changed += self.0.execute(
                    "UPDATE audit_events SET detail = $2 WHERE id = $1",
                    &[&id, &detail.to_string()],
                )?;
            }
        }
        Ok(super::values::count(changed))
    }
}

fn read_row(row: &Row) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: row.try_get(0)?,
        at: time(row, 1)?,
        kind: text(row, 2)?,
        user_id: opt_text(row, 3)?,
        actor: text(row, 4)?,
        ip: opt_text(row, 5)?,
        user_agent: opt_text(row, 6)?,
        detail: parse_detail(&text(row, 7)?)?,
    })
}
