//! Failed logins, one row each, keyed by email or client address.
//! Kept in the database so a lock survives a restart and `user unlock` acts at once.

use rusqlite::{params, Connection, OptionalExtension};

pub fn email_key(email: &str) -> String {
    format!("email:{email}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

pub fn record(conn: &Connection, key: &str, now: u64) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO login_failures (key, at) VALUES (?1, ?2)")?
        .execute(params![key, now])?;
    Ok(())
}

/// When `key` may try again, if it has `max` failures within the last `window` seconds.
/// The lock lasts until the oldest of the newest `max` failures leaves the window.
pub fn locked_until(
    conn: &Connection,
    key: &str,
    max: u32,
    window: u64,
    now: u64,
) -> rusqlite::Result<Option<u64>> {
    if max == 0 {
        return Ok(None);
    }
    let nth_newest: Option<u64> = conn
        .prepare_cached(
            "SELECT at FROM login_failures WHERE key = ?1 AND at > ?2
             ORDER BY at DESC LIMIT 1 OFFSET ?3",
        )?
        .query_row(params![key, now.saturating_sub(window), max - 1], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(nth_newest
        .map(|at| at + window)
        .filter(|&until| until > now))
}

pub fn clear(conn: &Connection, key: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM login_failures WHERE key = ?1")?
        .execute([key])
}

pub fn prune(conn: &Connection, now: u64, window: u64) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM login_failures WHERE at <= ?1",
        [now.saturating_sub(window)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("../../schema.sql"))
            .unwrap();
        conn
    }

    #[test]
    fn a_key_locks_at_the_limit_and_frees_when_the_window_passes() {
        let conn = conn();
        record(&conn, "email:a@b", 100).unwrap();
        record(&conn, "email:a@b", 110).unwrap();
        assert_eq!(locked_until(&conn, "email:a@b", 3, 60, 111).unwrap(), None);
        record(&conn, "email:a@b", 120).unwrap();
        assert_eq!(
            locked_until(&conn, "email:a@b", 3, 60, 121).unwrap(),
            Some(160)
        );
        assert_eq!(locked_until(&conn, "email:a@b", 3, 60, 160).unwrap(), None);
        assert_eq!(
            locked_until(&conn, "email:other", 3, 60, 121).unwrap(),
            None
        );
    }

    #[test]
    fn clearing_a_key_unlocks_it() {
        let conn = conn();
        for at in 0..5 {
            record(&conn, "ip:1.2.3.4", 100 + at).unwrap();
        }
        assert!(locked_until(&conn, "ip:1.2.3.4", 5, 900, 105)
            .unwrap()
            .is_some());
        assert_eq!(clear(&conn, "ip:1.2.3.4").unwrap(), 5);
        assert_eq!(
            locked_until(&conn, "ip:1.2.3.4", 5, 900, 105).unwrap(),
            None
        );
    }
}
