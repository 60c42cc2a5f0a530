//! Opening the database: processes racing on a new file, and files that are
//! not databases.

use std::thread;
use std::time::{Duration, Instant};

use crate::helpers::*;
use crate::state::temp;

#[test]
fn processes_opening_one_new_database_at_once_all_succeed_with_one_schema_and_one_key() {
    for _ in 0..5 {
        let (_dir, db) = temp();
        let racers: Vec<_> = (0..4)
            .map(|i| {
                let db = db.clone();
                thread::spawn(move || match i % 2 {
                    0 => authlite(&db, &["keys", "list"]),
                    _ => authlite(&db, &["seed", DEMO_SEED]),
                })
            })
            .collect();
        for racer in racers {
            assert_exit(&racer.join().expect("a racer"), 0);
        }

        let keys = succeeds(&db, &["keys", "list"]);
        let current = keys.lines().filter(|l| l.contains("current")).count();
        assert_eq!(current, 1, "one current key:\n{keys}");
    }
}

#[test]
fn a_file_that_is_not_a_database_fails_at_once_with_one_sentence() {
    let (_dir, db) = temp();
    std::fs::write(&db, vec![b'x'; 8192]).expect("write a junk file");

    let started = Instant::now();
    let out = authlite(&db, &["user", "list"]);

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_fails_naming(&out, &["not an SQLite database", &db.display().to_string()]);
    assert_eq!(std::fs::read(&db).expect("read it back"), vec![b'x'; 8192]);
}

#[test]
fn a_database_from_a_newer_authlite_is_refused_and_left_alone() {
    let (_dir, db) = temp();
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.pragma_update(None, "user_version", 999)
        .expect("set version");
    drop(conn);

    let out = authlite(&db, &["user", "list"]);

    assert_fails_naming(&out, &["schema version 999", "newer"]);
}
