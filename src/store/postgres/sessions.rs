//! Sessions (one per login) and the refresh tokens issued in them.

use postgres::Row;

use super::conn::Conn;
use super::users::{self, user_columns};
use super::{bytes, count, int, opt_bytes, opt_text, opt_time, text, time};
use crate::store::{NewRefresh, RefreshRecord, Result, Session, PRUNE_CHUNK};

pub fn create(conn: &mut Conn, s: &Session, refresh: &NewRefresh) -> Result<()> {
    conn.execute(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip,
                               refresh_jti, refresh_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        ],
    )?;
    Ok(())
}

macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip"
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
    })
}

pub fn find(conn: &mut Conn, id: &str) -> Result<Option<Session>> {
    let sql = concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions WHERE id = $1"
    );
    conn.query_opt(sql, &[&id])?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user's sessions that are neither revoked nor expired, newest first.
pub fn list_live(conn: &mut Conn, user_id: &str, now: u64) -> Result<Vec<Session>> {
    let sql = concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC, id"
    );
    conn.query(sql, &[&user_id, &int(now)])?
        .iter()
        .map(from_row)
        .collect()
}

pub fn count_live(conn: &mut Conn, now: u64) -> Result<i64> {
    let row = conn.query_one(
        "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
        &[&int(now)],
    )?;
    Ok(row.try_get(0)?)
}

/// Revokes one session; false if it was already revoked or does not exist.
pub fn revoke(conn: &mut Conn, id: &str, now: u64) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &[&id, &int(now)],
    )?;
    Ok(changed > 0)
}

/// Revokes the user's sessions, all but `keep` if given.
pub fn revoke_all_for_user(
    conn: &mut Conn,
    user_id: &str,
    keep: Option<&str>,
    now: u64,
) -> Result<usize> {
    let changed = conn.execute(
        "UPDATE sessions SET revoked_at = $3
         WHERE user_id = $1 AND id IS DISTINCT FROM $2 AND revoked_at IS NULL",
        &[&user_id, &keep, &int(now)],
    )?;
    Ok(count(changed))
}

pub fn find_refresh(conn: &mut Conn, sid: &str) -> Result<Option<RefreshRecord>> {
    let sql = concat!(
        "SELECT ",
        user_columns!("u."),
        ", s.revoked_at IS NOT NULL, s.refresh_jti, s.refresh_hash,
           s.spent_jti, s.spent_at_ms, s.grace_answer
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
    );
    let Some(row) = conn.query_opt(sql, &[&sid])? else {
        return Ok(None);
    };
    Ok(Some(RefreshRecord {
        user: users::from_row(&row)?,
        revoked: row.try_get(7)?,
        refresh_jti: text(&row, 8)?,
        refresh_hash: bytes(&row, 9)?,
        spent_jti: opt_text(&row, 10)?,
        spent_at_ms: opt_time(&row, 11)?,
        grace_answer: opt_bytes(&row, 12)?,
    }))
}

/// Spends the session's newest token `spent_jti` and records `next` in its
/// place, with the answer to replay within the grace. One conditional UPDATE:
/// false if another use came first or the session has ended. Of two racing
/// uses, the second waits for the first's row lock; once that commits,
/// PostgreSQL checks the WHERE again on the new row, where `refresh_jti` is no
/// longer `spent_jti`, so the second changes nothing.
pub fn rotate(
    conn: &mut Conn,
    sid: &str,
    spent_jti: &str,
    next: &NewRefresh,
    now_ms: u64,
    grace_answer: &[u8],
) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE sessions
         SET refresh_jti = $3, refresh_hash = $4, expires_at = $5, last_used_at = $6::BIGINT / 1000,
             spent_jti = refresh_jti, spent_at_ms = $6, grace_answer = $7
         WHERE id = $1 AND refresh_jti = $2 AND revoked_at IS NULL",
        &[
            &sid,
            &spent_jti,
            &next.jti,
            &next.hash,
            &int(next.expires_at),
            &int(now_ms),
            &grace_answer,
        ],
    )?;
    Ok(changed == 1)
}

/// Deletes up to PRUNE_CHUNK sessions whose newest token has expired; returns
/// how many. Rows another instance is pruning or rotating right now are
/// skipped, not waited for: the next round takes them.
pub fn prune_expired(conn: &mut Conn, now: u64) -> Result<usize> {
    let changed = conn.execute(
        "DELETE FROM sessions WHERE id IN
             (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        &[&int(now), &i64::from(PRUNE_CHUNK)],
    )?;
    Ok(count(changed))
}

/// Clears up to PRUNE_CHUNK grace answers spent before `spent_before_ms`; returns how many.
pub fn clear_grace_answers(conn: &mut Conn, spent_before_ms: u64) -> Result<usize> {
    let changed = conn.execute(
        "UPDATE sessions SET grace_answer = NULL WHERE id IN
             (SELECT id FROM sessions WHERE grace_answer IS NOT NULL AND spent_at_ms < $1
              LIMIT $2 FOR UPDATE SKIP LOCKED)",
        &[&int(spent_before_ms), &i64::from(PRUNE_CHUNK)],
    )?;
    Ok(count(changed))
}

/// Clears every stored grace answer at once (when a plain database is sealed).
pub fn forget_grace_answers(conn: &mut Conn) -> Result<usize> {
    let changed = conn.execute(
        "UPDATE sessions SET grace_answer = NULL WHERE grace_answer IS NOT NULL",
        &[],
    )?;
    Ok(count(changed))
}
