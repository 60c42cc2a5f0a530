//! Failed logins, one row each, keyed by email or client address. Every write
//! here is serialised (the writer thread, or an IMMEDIATE transaction), so a count
//! and the row taken after it cannot interleave with another attempt's.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::PRUNE_CHUNK;

/// Gives back reserved rows: the attempt did not fail.
pub fn release(conn: &Connection, rows: &[i64]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM login_failures WHERE rowid = ?1")?;
    for row in rows {
        stmt.execute([row])?;
    }
    Ok(())
}

/// Records one failure; returns its row.
pub fn record(conn: &Connection, key: &str, now: u64) -> rusqlite::Result<i64> {
    conn.prepare_cached("INSERT INTO login_failures (key, at) VALUES (?1, ?2)")?
        .execute(params![key, now])?;
    Ok(conn.last_insert_rowid())
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
        .map(|at| at.saturating_add(window))
        .filter(|&until| until > now))
}

pub fn clear(conn: &Connection, key: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM login_failures WHERE key = ?1")?
        .execute([key])
}

/// Deletes up to `chunk` failures that have left the window; returns how many.
pub fn prune(conn: &Connection, now: u64, window: u64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM login_failures WHERE rowid IN
             (SELECT rowid FROM login_failures WHERE at <= ?1 LIMIT ?2)",
    )?
    .execute(params![now.saturating_sub(window), PRUNE_CHUNK])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{Limit, Store};

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("../../../schema.sql"))
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
    fn a_reservation_counts_until_released_and_none_is_taken_past_the_limit() {
        let conn = conn();
        let limits = [
            Limit {
                key: "email:a@b",
                max: 2,
            },
            Limit {
                key: "ip:1.2.3.4",
                max: 9,
            },
        ];
        let first = SqliteStore(&conn)
            .reserve_failures(&limits, 60, 100)
            .unwrap()
            .unwrap();
        let second = SqliteStore(&conn)
            .reserve_failures(&limits, 60, 100)
            .unwrap()
            .unwrap();
        assert_eq!(
            SqliteStore(&conn)
                .reserve_failures(&limits, 60, 100)
                .unwrap(),
            Err(160)
        );
        release(&conn, &second).unwrap();
        assert!(SqliteStore(&conn)
            .reserve_failures(&limits, 60, 100)
            .unwrap()
            .is_ok());
        assert_eq!(first.len(), 2);
        let ip_rows: i64 = conn
            .query_row(
                "SELECT count(*) FROM login_failures WHERE key = 'ip:1.2.3.4'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(ip_rows, 2);
    }

    #[test]
    fn pruning_goes_in_chunks() {
        let conn = conn();
        for at in 0..PRUNE_CHUNK + 7 {
            record(&conn, "email:a@b", u64::from(at)).unwrap();
        }
        assert_eq!(prune(&conn, 1000, 10).unwrap(), PRUNE_CHUNK as usize);
        assert_eq!(prune(&conn, 1000, 10).unwrap(), 7);
        assert_eq!(prune(&conn, 1000, 10).unwrap(), 0);
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
