//! `authlite copy` to and from PostgreSQL (SPEC §14): SQLite → PostgreSQL →
//! SQLite gives back every row; a copy of a PostgreSQL database in use
//! accepts its tokens; sequences go on past the copied numbers; a database
//! with data is refused and left as it was.

use std::path::Path;
use std::time::Duration;

use crate::harness::Database;
use crate::helpers::{assert_exit, assert_fails_naming, run, stdout};
use crate::support::fill::{self, Load};

fn copy(db: &str, key: &Path, to: &str) -> std::process::Output {
    let mut cmd = fill::command(db, key);
    cmd.args(["copy", "--to", to]);
    run(cmd, None)
}

fn kids(db: &str, key: &Path) -> Vec<String> {
    fill::cli_ok(db, key, &["keys", "list"])
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn sqlite_to_postgresql_and_back_gives_every_row_of_every_table() {
    let Some(pg) = Database::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = dir.path().join("source.db").display().to_string();
    let back = dir.path().join("back.db").display().to_string();
    let filled = fill::fill(&source, &key);
    drop(filled.server);
    let counts = fill::counts(&source);
    fill::assert_every_table_has_rows(&counts);

    let out = copy(&source, &key, &pg.url);
    assert_exit(&out, 0);
    assert_eq!(fill::counts(&pg.url), counts);
    // Keys, indexes and foreign keys are the ones the migrations make.
    let Some(fresh) = Database::create() else {
        return;
    };
    fill::cli_ok(&fresh.url, &key, &["user", "list"]);
    assert_eq!(fill::shape(&pg.url), fill::shape(&fresh.url));
    assert_exit(&copy(&pg.url, &key, &back), 0);
    assert_eq!(fill::integrity(&back), "ok");
    assert_eq!(fill::tables(&back), fill::tables(&source));
    for table in fill::tables(&source) {
        assert_eq!(
            fill::rows(&back, &table),
            fill::rows(&source, &table),
            "{table}"
        );
    }
    // The keys in the order they were made, on both engines.
    assert_eq!(kids(&pg.url, &key), kids(&source, &key));
    assert_eq!(kids(&back, &key), kids(&source, &key));

    // A server on the PostgreSQL copy takes the source's tokens, and numbers
    // new audit events and keys after the copied ones.
    let server = fill::serve(&pg.url, &key);
    fill::assert_tokens_work(&server, &filled.access, &filled.refresh);
    let mut passkey = filled.passkey;
    fill::assert_passkey_works(&server, &mut passkey);
    let max_before: i64 = pg
        .query("SELECT max(id) FROM audit_events WHERE type = 'key.rotated'")
        .parse()
        .unwrap();
    fill::cli_ok(&pg.url, &key, &["keys", "rotate"]);
    let newest: i64 = pg
        .query("SELECT max(id) FROM audit_events")
        .parse()
        .unwrap();
    assert!(newest > max_before, "{newest} after {max_before}");
    assert_eq!(kids(&pg.url, &key).len(), kids(&source, &key).len() + 1);
}

#[test]
fn a_postgresql_database_in_use_copies_to_sqlite_and_to_postgresql_and_its_tokens_work_there() {
    let Some(source) = Database::create() else {
        return;
    };
    let Some(other) = Database::create() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let filled = fill::fill(&source.url, &key);

    let load = Load::start(&filled.server);
    while load.count() < 20 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let sqlite = dir.path().join("copy.db").display().to_string();
    let before = load.count();
    let to_sqlite = copy(&source.url, &key, &sqlite);
    let to_postgres = copy(&source.url, &key, &other.url);
    assert!(load.count() > before, "the server went on refreshing");
    load.finish();
    // The load changes sessions' rows, never how many rows there are.
    let counts = fill::counts(&source.url);
    // meta holds only the master key check here: /healthz probes without a write.
    fill::assert_every_table_has_rows(&counts);
    assert_exit(&to_sqlite, 0);
    assert_exit(&to_postgres, 0);
    assert!(
        stdout(&to_postgres).contains(&other.name),
        "{}",
        stdout(&to_postgres)
    );

    assert_eq!(fill::integrity(&sqlite), "ok");
    assert_eq!(fill::counts(&sqlite), counts);
    assert_eq!(fill::counts(&other.url), counts);
    drop(filled.server);
    for copied in [&sqlite, &other.url] {
        let server = fill::serve(copied, &key);
        fill::assert_tokens_work(&server, &filled.access, &filled.refresh);
    }
    // Sequences of the PostgreSQL copy go on after the copied numbers.
    let copied_max: i64 = source
        .query("SELECT max(id) FROM audit_events")
        .parse()
        .unwrap();
    fill::cli_ok(&other.url, &key, &["keys", "rotate"]);
    let now_max: i64 = other
        .query("SELECT max(id) FROM audit_events")
        .parse()
        .unwrap();
    assert!(now_max > copied_max, "{now_max} after {copied_max}");
}

#[test]
fn a_postgresql_dest_with_data_is_refused_and_left_as_it_was() {
    let Some(dest) = Database::seeded() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = dir.path().join("source.db").display().to_string();
    fill::cli_ok(&source, &key, &["seed", crate::helpers::DEMO_SEED]);
    let before = fill::counts(&dest.url);
    let users = dest.query("SELECT id, email FROM users ORDER BY id");

    let out = copy(&source, &key, &dest.url);
    assert_fails_naming(&out, &["already holds data"]);
    assert_eq!(fill::counts(&dest.url), before);
    assert_eq!(dest.query("SELECT id, email FROM users ORDER BY id"), users);
}

#[test]
fn a_failed_copy_into_postgresql_leaves_the_database_empty() {
    let Some(dest) = Database::create() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = dir.path().join("source.db").display().to_string();
    fill::cli_ok(&source, &key, &["seed", crate::helpers::DEMO_SEED]);
    // A row PostgreSQL refuses (a NUL in text), after others went in.
    rusqlite::Connection::open(&source)
        .unwrap()
        .execute(
            "UPDATE users SET name = 'Ada' || char(0) WHERE email = ?1",
            [crate::helpers::ADA],
        )
        .unwrap();
    let out = copy(&source, &key, &dest.url);
    assert_fails_naming(&out, &["users"]);
    assert_eq!(
        dest.query("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"),
        "0"
    );
}
