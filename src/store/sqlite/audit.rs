//! The audit log. Ids are rowids: the one writer commits them in order, so
//! a cursor never skips an event committed after the page before it.

use rusqlite::{params, Row};

use super::SqliteStore;
use crate::store::audit::{email_needle, parse_detail, without_email};
use crate::store::{Audit, AuditEvent, AuditQuery, Result, PRUNE_CHUNK};

const COLUMNS: &str = "id, at, type, user_id, actor, ip, user_agent, detail";

/// The other filters, each skipped when its parameter is NULL (?1 user, ?2
/// type, ?3 since, ?4 until, ?5 before).
const REST: &str = "(?2 IS NULL OR type = ?2) AND (?3 IS NULL OR at >= ?3)
    AND (?4 IS NULL OR at <= ?4) AND (?5 IS NULL OR id < ?5)";

impl Audit for SqliteStore<'_> {
    fn append_event(&mut self, event: &AuditEvent) -> Result<i64> {
        self.0
            .prepare_cached(
                "INSERT INTO audit_events (at, type, user_id, actor, ip, user_agent, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                event.at,
                event.kind,
                event.user_id,
                event.actor,
                event.ip,
                event.user_agent,
                event.detail.to_string(),
            ])?;
        Ok(self.0.last_insert_rowid())
    }

    /// Led by the most selective filter given, so that an index finds the rows.
    fn list_events(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let lead = match (&q.user_id, &q.kind) {
            (Some(_), _) => "user_id = ?1",
            (None, Some(_)) => "?1 IS NULL AND type = ?2",
            (None, None) => "?1 IS NULL",
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE {lead} AND {REST} ORDER BY id DESC LIMIT ?6"
        );
        let mut stmt = self.0.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![q.user_id, q.kind, q.since, q.until, q.before, q.limit],
            read_row,
        )?;
        let mut events = Vec::new();
        for row in rows {
            let (mut event, detail) = row?;
            event.detail = parse_detail(&detail)?;
            events.push(event);
        }
        Ok(events)
    }

    fn prune_events(&mut self, cutoff: u64) -> Result<usize> {
        let mut stmt = self.0.prepare_cached(
            "DELETE FROM audit_events WHERE id IN
                 (SELECT id FROM audit_events WHERE at < ?1 ORDER BY id LIMIT ?2)",
        )?;
        Ok(stmt.execute(params![cutoff, PRUNE_CHUNK])?)
    }

    /// Reads every detail (an erasure is rare; the log has no index on its text).
    fn forget_email(&mut self, user_id: &str, email: &str) -> Result<usize> {
        let found: Vec<(i64, Option<String>, String)> = self
            .0
            .prepare(
                "SELECT id, user_id, detail FROM audit_events
                 WHERE user_id = ?1 OR instr(lower(detail), ?2) > 0",
            )?
            .query_map(params![user_id, email_needle(email)], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut update = self
            .0
            .prepare("UPDATE audit_events SET detail = ?2 WHERE id = ?1")?;
        let mut changed = 0;
        for (id, owner, text) in found {
            let mut detail = parse_detail(&text)?;
            if without_email(&mut detail, owner.as_deref() == Some(user_id), email) {
                changed += update.execute(params![id, detail.to_string()])?;
            }
        }
        Ok(changed)
    }
}

fn read_row(row: &Row) -> rusqlite::Result<(AuditEvent, String)> {
    let event = AuditEvent {
        id: row.get(0)?,
        at: row.get(1)?,
        kind: row.get(2)?,
        user_id: row.get(3)?,
        actor: row.get(4)?,
        ip: row.get(5)?,
        user_agent: row.get(6)?,
        detail: serde_json::Value::Null,
    };
    Ok((event, row.get(7)?))
}
