//! `authlite copy --to DEST` between SQLite files, and `serve --backup-dir`
//! (SPEC §14). PostgreSQL's side is in tests/postgres/copy.rs.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::helpers::{assert_exit, assert_fails_naming, stderr, stdout};
use crate::support::fill::{self, Load};

fn copy(db: &str, key: &Path, to: &str) -> std::process::Output {
    let mut cmd = fill::command(db, key);
    cmd.args(["copy", "--to", to]);
    crate::helpers::run(cmd, None)
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn a_copy_made_under_a_steady_refresh_load_holds_every_row_and_accepts_the_sources_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let (source, dest) = (path(dir.path(), "source.db"), path(dir.path(), "copy.db"));
    let filled = fill::fill(&source, &key);

    let load = Load::start(&filled.server);
    while load.count() < 20 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = load.count();
    let out = copy(&source, &key, &dest);
    let during = load.count() - before;
    load.finish();
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with("copied ") && stdout(&out).contains(&format!("to {dest}")),
        "{}",
        stdout(&out)
    );
    assert!(
        during > 0,
        "the server went on refreshing while the copy ran"
    );

    assert_eq!(fill::integrity(&dest), "ok");
    // The schema is the one the migrations make, indexes included.
    let fresh = path(dir.path(), "fresh.db");
    fill::cli_ok(&fresh, &key, &["user", "list"]);
    assert_eq!(fill::shape(&dest), fill::shape(&fresh));
    let counts = fill::counts(&source);
    fill::assert_every_table_has_rows(&counts);
    assert_eq!(fill::counts(&dest), counts);
    let mode = fs::metadata(&dest).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    // Nothing but the copy beside it: no temporary file, no side files.
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("copy") || n.starts_with(".copy"))
        .collect();
    names.sort();
    assert_eq!(names, ["copy.db"]);

    // Every table's rows are the same, apart from Grace's session, which the
    // load went on refreshing after the snapshot.
    drop(filled.server);
    for table in fill::tables(&source).iter().filter(|t| *t != "sessions") {
        assert_eq!(
            fill::rows(&dest, table),
            fill::rows(&source, table),
            "{table}"
        );
    }

    let server = fill::serve(&dest, &key);
    fill::assert_tokens_work(&server, &filled.access, &filled.refresh);
    let mut passkey = filled.passkey;
    fill::assert_passkey_works(&server, &mut passkey);
}

#[test]
fn a_dest_that_holds_data_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let (source, other) = (path(dir.path(), "source.db"), path(dir.path(), "other.db"));
    fill::cli_ok(&source, &key, &["seed", crate::helpers::DEMO_SEED]);
    fill::cli_ok(&other, &key, &["user", "list"]);
    let before = fs::read(&other).unwrap();

    let out = copy(&source, &key, &other);
    assert_fails_naming(&out, &[&other, "already exists and holds data"]);
    assert_eq!(fs::read(&other).unwrap(), before);

    // Nor is the source itself a destination.
    let out = copy(&source, &key, &source);
    assert_fails_naming(&out, &[&source, "holds data"]);
}

#[test]
fn an_unwritable_dest_fails_with_a_sentence_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = path(dir.path(), "source.db");
    fill::cli_ok(&source, &key, &["seed", crate::helpers::DEMO_SEED]);
    // The source's -wal and -shm come and go as SQLite opens and closes it
    // (the copy reads it): they are not what a copy leaves behind.
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| !name.starts_with("source.db-"))
            .collect();
        names.sort();
        names
    };
    let before = listing(dir.path());
    for dest in [
        path(dir.path(), "no/such/folder/copy.db"),
        path(dir.path(), "master.key/copy.db"),
    ] {
        let out = copy(&source, &key, &dest);
        assert_fails_naming(&out, &[&dest, "cannot write the copy"]);
        assert_eq!(listing(dir.path()), before, "{dest}");
    }
}

#[test]
fn a_bad_url_a_missing_source_and_another_schema_version_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = path(dir.path(), "source.db");
    fill::cli_ok(&source, &key, &["seed", crate::helpers::DEMO_SEED]);

    let out = copy(&source, &key, "postgres://ada:s3cret@db:notaport/auth");
    assert_fails_naming(&out, &["postgres://ada@db:notaport/auth"]);
    assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));

    let missing = path(dir.path(), "missing.db");
    let out = copy(&missing, &key, &path(dir.path(), "copy.db"));
    assert_fails_naming(&out, &[&missing, "does not exist"]);
    assert!(!Path::new(&missing).exists());
    assert!(!dir.path().join("copy.db").exists());

    let newer = path(dir.path(), "newer.db");
    fs::copy(&source, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let out = copy(&newer, &key, &path(dir.path(), "copy.db"));
    assert_fails_naming(&out, &[&newer, "schema version 99"]);
    assert!(!dir.path().join("copy.db").exists());
}

/// A file that is a whole SQLite database: its header's page count times its
/// page size is its length.
fn is_complete(bytes: &[u8]) -> bool {
    if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
        return false;
    }
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        size => usize::from(size),
    };
    let pages = u32::from_be_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]) as usize;
    pages * page_size == bytes.len()
}

fn backups(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("authlite-") && n.ends_with("Z.db"))
        .collect();
    names.sort();
    names
}

#[test]
fn backups_are_whole_private_files_and_only_the_newest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = path(dir.path(), "source.db");
    fill::cli_ok(&source, &key, &["seed", crate::helpers::DEMO_SEED]);
    let folder = dir.path().join("backups");
    fs::create_dir(&folder).unwrap();
    let mut cmd = fill::command(&source, &key);
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--backup-interval",
        "1",
        "--backup-keep",
        "2",
    ])
    .arg("--backup-dir")
    .arg(&folder);
    let server = crate::server::Server::start(cmd);
    let load = Load::start(&server);

    // Watched while they are written: whatever carries a backup's name is whole.
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 4 && Instant::now() < deadline {
        for name in backups(&folder) {
            let Ok(bytes) = fs::read(folder.join(&name)) else {
                continue; // removed as the oldest between the listing and the read
            };
            assert!(is_complete(&bytes), "{name} is not a whole database");
            let mode = fs::metadata(folder.join(&name)).map(|m| m.permissions());
            if let Ok(mode) = mode {
                assert_eq!(
                    std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
                    0o600
                );
            }
            seen.insert(name);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    load.finish();
    assert!(
        seen.len() >= 4,
        "4 backups within 30 s at one a second: {seen:?}"
    );

    let metrics = crate::server::http_agent()
        .get(server.url("/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let last: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("authlite_backup_last_success_timestamp_seconds "))
        .unwrap_or_else(|| panic!("no backup metric in {metrics}"))
        .parse()
        .unwrap();
    assert!(last + 60 > crate::server::now() as u64, "{last}");
    drop(server);

    let kept = backups(&folder);
    assert_eq!(kept.len(), 2, "{kept:?}");
    let newest: Vec<&String> = seen.iter().rev().take(2).collect();
    assert!(
        kept.iter().all(|k| *k >= *newest[1]),
        "{kept:?} of {seen:?}"
    );
    let restored = path(dir.path(), "restored.db");
    let backup = folder.join(&kept[1]).display().to_string();
    assert_exit(&copy(&backup, &key, &restored), 0);
    assert_eq!(fill::integrity(&restored), "ok");
    let users = fill::cli_ok(&restored, &key, &["user", "list"]);
    assert_eq!(users.lines().count(), 6, "{users}");
}

#[test]
fn a_backup_dir_that_is_not_a_directory_stops_serve_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let key = fill::master_key(dir.path());
    let source = path(dir.path(), "source.db");
    let missing = path(dir.path(), "nowhere");
    let mut cmd = fill::command(&source, &key);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--backup-dir", &missing]);
    let out = crate::helpers::run(cmd, None);
    assert_fails_naming(&out, &["--backup-dir", &missing, "not a directory"]);
}
