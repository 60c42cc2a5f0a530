//! Defects found from outside (issue 19): `serve --seed` with a bad file
//! wrote the first signing key before failing, and a closed pipe ended a
//! command with `process::exit`, before the log's last lines were out.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::*;
use crate::state::*;

/// The rows of each table a failed `serve --seed` must leave empty.
fn rows(db: &Path) -> Vec<(&'static str, i64)> {
    let conn = rusqlite::Connection::open(db).expect("open the database file");
    ["signing_keys", "meta", "orgs", "users"]
        .into_iter()
        .map(|table| {
            let count = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .expect("count rows");
            (table, count)
        })
        .collect()
}

const EMPTY: [(&str, i64); 4] = [("signing_keys", 0), ("meta", 0), ("orgs", 0), ("users", 0)];

/// Seed files that fail, and what the sentence must name: the file and the
/// line or the field. The last two fail only inside the seed's transaction
/// or after its checks, halfway through the file.
const BAD_SEEDS: &[(&str, &str, &[&str])] = &[
    ("syntax.json", "{ \"orgs\": [ }", &["syntax.json", "line 1"]),
    (
        "unknown-org.json",
        r#"{ "orgs": [{ "id": "acme", "name": "Acme" }],
             "users": [{ "email": "ada@acme.test", "name": "Ada", "orgId": "acme" },
                       { "email": "bob@acme.test", "name": "Bob", "orgId": "nowhere" }] }"#,
        &["unknown-org.json", "users[1].orgId", "nowhere"],
    ),
    (
        "bad-hash.json",
        r#"{ "orgs": [{ "id": "acme", "name": "Acme" }],
             "users": [{ "email": "ada@acme.test", "name": "Ada", "passwordHash": "$md5$nope" }] }"#,
        &["bad-hash.json", "users[0].passwordHash"],
    ),
];

#[test]
fn serve_with_a_bad_seed_on_a_new_database_writes_no_key_no_org_and_no_user() {
    for with_master_key in [false, true] {
        for (name, text, names) in BAD_SEEDS {
            let (dir, db) = temp();
            let file = write(&dir, name, text);
            let key = write(&dir, "authlite.key", &"k".repeat(32));
            let mut args = vec![];
            if with_master_key {
                args.extend(["--master-key-file", s(&key)]);
            }
            args.extend(["serve", "--bind", "127.0.0.1:0", "--seed", s(&file)]);
            let out = authlite(&db, &args);
            assert_fails_naming(&out, names);
            assert_eq!(rows(&db), EMPTY, "{name}, master key: {with_master_key}");
        }
    }
}

#[test]
fn serve_with_a_good_seed_on_a_sealed_database_without_its_master_key_applies_nothing() {
    let (dir, db) = temp();
    let key = write(&dir, "authlite.key", &"k".repeat(32));
    succeeds(&db, &["--master-key-file", s(&key), "keys", "rotate"]);
    let out = authlite(
        &db,
        &["serve", "--bind", "127.0.0.1:0", "--seed", DEMO_SEED],
    );
    assert_fails_naming(&out, &["--master-key-file"]);
    let count = |table| rows(&db).into_iter().find(|(t, _)| *t == table).unwrap().1;
    assert_eq!((count("orgs"), count("users")), (0, 0));
}

/// Runs `cmd` with its standard output a pipe closed before anything is
/// written, and standard error captured.
fn into_closed_pipe(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authlite");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for authlite")
}

#[test]
fn a_closed_pipe_ends_a_command_through_main_so_the_log_is_flushed() {
    let (_dir, db) = temp();
    let mut cmd = command(&db);
    // `keys rotate` logs its rotation, then prints the new kid.
    cmd.env("RUST_LOG", "info");
    cmd.args(["keys", "rotate"]);
    let first = into_closed_pipe(cmd);
    assert_exit(&first, 0);

    let mut cmd = command(&db);
    cmd.env("RUST_LOG", "info");
    cmd.args(["keys", "rotate"]);
    let out = into_closed_pipe(cmd);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("signing key rotated"),
        "the log's last line was lost:\n{err}"
    );
    assert_eq!(err.lines().count(), 1, "only the log line:\n{err}");
}

#[test]
fn user_commands_into_a_closed_pipe_exit_0_quietly() {
    let (_dir, db) = seeded();
    for args in [
        &["user", "unlock", ADA][..],
        &["user", "set-status", ADA, "active"],
        &["user", "link", ADA],
        &["user", "add", "--email", "new@acme.test", "--name", "New"],
    ] {
        let mut cmd = command(&db);
        cmd.args(args);
        let out = into_closed_pipe(cmd);
        assert_exit(&out, 0);
        assert_eq!(stderr(&out), "", "authlite {args:?} said something");
    }
}

#[test]
fn serve_with_a_seed_and_its_standard_output_closed_goes_on_serving() {
    let (_dir, db) = temp();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut cmd = command(&db);
    cmd.args(["serve", "--bind", &bind, "--seed", DEMO_SEED]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn authlite");
    drop(child.stdout.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answered = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!("serve ended with {status}"));
        }
        if ureq::get(&format!("http://{bind}/healthz")).call().is_ok() {
            break Ok(());
        }
        if std::time::Instant::now() > deadline {
            break Err("no answer on /healthz within 30 s".to_string());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    answered.expect("serve goes on serving");
}

#[test]
fn user_commands_into_a_full_disk_are_one_sentence_and_exit_1() {
    let (_dir, db) = seeded();
    for args in [
        &["user", "unlock", ADA][..],
        &["user", "set-status", ADA, "active"],
        &["user", "link", ADA],
    ] {
        let mut cmd = command(&db);
        cmd.args(args);
        let full = std::fs::File::create("/dev/full").expect("open /dev/full");
        let out = cmd
            .stdin(Stdio::null())
            .stdout(full)
            .output()
            .expect("run authlite");
        assert_fails_naming(&out, &["standard output", "No space left on device"]);
    }
}
