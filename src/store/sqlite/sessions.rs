//! Sessions (one per login) and the refresh tokens issued in them.

use rusqlite::{params, Connection, OptionalExtension};

use super::users;
use crate::store::{NewRefresh, RefreshRecord, Session, PRUNE_CHUNK};

pub fn create(conn: &Connection, s: &Session, refresh: &NewRefresh) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip,
                               refresh_jti, refresh_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
    ])?;
    Ok(())
}

const COLUMNS: &str =
    "id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip";

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
    })
}

pub fn find(conn: &Connection, id: &str) -> rusqlite::Result<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()
}

/// The user's sessions that are neither revoked nor expired, newest first.
pub fn list_live(conn: &Connection, user_id: &str, now: u64) -> rusqlite::Result<Vec<Session>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions
         WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2
         ORDER BY created_at DESC, id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let sessions = stmt.query_map(params![user_id, now], from_row)?.collect();
    sessions
}

pub fn count_live(conn: &Connection, now: u64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?1",
    )?
    .query_row([now], |row| row.get(0))
}

/// Revokes one session; false if it was already revoked or does not exist.
pub fn revoke(conn: &Connection, id: &str, now: u64) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(params![id, now])?;
    Ok(changed > 0)
}

/// Revokes the user's sessions, all but `keep` if given.
pub fn revoke_all_for_user(
    conn: &Connection,
    user_id: &str,
    keep: Option<&str>,
    now: u64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE user_id = ?1 AND id IS NOT ?2 AND revoked_at IS NULL",
        params![user_id, keep, now],
    )
}

pub fn find_refresh(conn: &Connection, sid: &str) -> rusqlite::Result<Option<RefreshRecord>> {
    conn.prepare_cached(
        "SELECT u.id, u.email, u.name, u.org_id, u.password_hash, u.status, u.created_at,
                s.revoked_at IS NOT NULL, s.refresh_jti, s.refresh_hash,
                s.spent_jti, s.spent_at_ms, s.grace_answer
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1",
    )?
    .query_row([sid], |row| {
        Ok(RefreshRecord {
            user: users::from_row(row)?,
            revoked: row.get(7)?,
            refresh_jti: row.get(8)?,
            refresh_hash: row.get(9)?,
            spent_jti: row.get(10)?,
            spent_at_ms: row.get(11)?,
            grace_answer: row.get(12)?,
        })
    })
    .optional()
}

/// Spends the session's newest token `spent_jti` and records `next` in its
/// place, with the answer to replay within the grace. One conditional UPDATE:
/// false if another use came first or the session has ended.
pub fn rotate(
    conn: &Connection,
    sid: &str,
    spent_jti: &str,
    next: &NewRefresh,
    now_ms: u64,
    grace_answer: &[u8],
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE sessions
             SET refresh_jti = ?3, refresh_hash = ?4, expires_at = ?5, last_used_at = ?6 / 1000,
                 spent_jti = refresh_jti, spent_at_ms = ?6, grace_answer = ?7
             WHERE id = ?1 AND refresh_jti = ?2 AND revoked_at IS NULL",
        )?
        .execute(params![
            sid,
            spent_jti,
            next.jti,
            next.hash,
            next.expires_at,
            now_ms,
            grace_answer
        ])?;
    Ok(changed == 1)
}

/// Deletes up to PRUNE_CHUNK sessions whose newest token has expired; returns how many.
pub fn prune_expired(conn: &Connection, now: u64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM sessions WHERE rowid IN
             (SELECT rowid FROM sessions WHERE expires_at <= ?1 LIMIT ?2)",
    )?
    .execute(params![now, PRUNE_CHUNK])
}

/// Clears up to PRUNE_CHUNK grace answers spent before `spent_before_ms`; returns how many.
pub fn clear_grace_answers(conn: &Connection, spent_before_ms: u64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE sessions SET grace_answer = NULL WHERE rowid IN
             (SELECT rowid FROM sessions WHERE grace_answer IS NOT NULL AND spent_at_ms < ?1 LIMIT ?2)",
    )?
    .execute(params![spent_before_ms, PRUNE_CHUNK])
}

/// Clears every stored grace answer at once (when a plain database is sealed).
pub fn forget_grace_answers(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE sessions SET grace_answer = NULL WHERE grace_answer IS NOT NULL",
        [],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn_with_sessions(n: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("../../../schema.sql"))
            .unwrap();
        conn.execute(
            "INSERT INTO users (id, email, name, created_at, updated_at) VALUES ('u', 'a@b.c', 'A', 0, 0)",
            [],
        )
        .unwrap();
        for i in 0..n {
            let session = Session {
                id: format!("s{i}"),
                user_id: "u".into(),
                created_at: 0,
                last_used_at: 0,
                expires_at: 100 + i as u64,
                revoked_at: None,
                user_agent: None,
                ip: None,
            };
            let jti = format!("j{i}");
            let first = NewRefresh {
                jti: &jti,
                hash: &[1; 32],
                expires_at: 100 + i as u64,
            };
            create(&conn, &session, &first).unwrap();
        }
        conn
    }

    #[test]
    fn only_the_newest_token_rotates_and_the_spent_one_keeps_its_answer() {
        let conn = conn_with_sessions(1);
        let next = NewRefresh {
            jti: "j1",
            hash: &[2; 32],
            expires_at: 500,
        };
        assert!(rotate(&conn, "s0", "j0", &next, 7_000, b"answer").unwrap());
        assert!(!rotate(&conn, "s0", "j0", &next, 8_000, b"again").unwrap());
        let record = find_refresh(&conn, "s0").unwrap().unwrap();
        assert_eq!(record.refresh_jti, "j1");
        assert_eq!(record.spent_jti.as_deref(), Some("j0"));
        assert_eq!(record.spent_at_ms, Some(7_000));
        assert_eq!(record.grace_answer.as_deref(), Some(&b"answer"[..]));
        assert_eq!(find(&conn, "s0").unwrap().unwrap().last_used_at, 7);
    }

    #[test]
    fn grace_answers_are_cleared_once_spent_before_the_cutoff() {
        let conn = conn_with_sessions(2);
        let next = NewRefresh {
            jti: "n0",
            hash: &[2; 32],
            expires_at: 500,
        };
        rotate(&conn, "s0", "j0", &next, 1_000, b"old").unwrap();
        let next = NewRefresh {
            jti: "n1",
            hash: &[2; 32],
            expires_at: 500,
        };
        rotate(&conn, "s1", "j1", &next, 9_000, b"new").unwrap();
        assert_eq!(clear_grace_answers(&conn, 5_000).unwrap(), 1);
        assert!(find_refresh(&conn, "s0")
            .unwrap()
            .unwrap()
            .grace_answer
            .is_none());
        assert!(find_refresh(&conn, "s1")
            .unwrap()
            .unwrap()
            .grace_answer
            .is_some());
    }

    #[test]
    fn expired_sessions_are_pruned_a_chunk_at_a_time() {
        let conn = conn_with_sessions(PRUNE_CHUNK as usize + 3);
        let expired_all = 100 + u64::from(PRUNE_CHUNK) + 3;
        assert_eq!(
            prune_expired(&conn, expired_all).unwrap(),
            PRUNE_CHUNK as usize
        );
        assert_eq!(prune_expired(&conn, expired_all).unwrap(), 3);
        assert_eq!(prune_expired(&conn, expired_all).unwrap(), 0);
    }
}
