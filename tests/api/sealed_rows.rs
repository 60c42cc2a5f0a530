//! A sealed database refuses secrets it did not seal in their own rows: a plain
//! key planted by hand, a sealed key pair or grace answer moved to another row.
//! Both engines.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authlite::settings::Settings;
use jwt_simple::prelude::Ed25519KeyPair;

use crate::helpers::*;

/// The database as someone with write access to it sees it, on either engine.
pub enum Raw {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl Raw {
    pub fn open(app: &TestApp) -> Raw {
        if app.db.starts_with("postgres") {
            let client = postgres::Client::connect(&app.db, postgres::NoTls).unwrap();
            Raw::Postgres(Box::new(client))
        } else {
            Raw::Sqlite(rusqlite::Connection::open(&app.db).unwrap())
        }
    }

    /// `bytes` as a literal of this engine's blob type.
    pub fn blob(&self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        match self {
            Raw::Sqlite(_) => format!("X'{hex}'"),
            Raw::Postgres(_) => format!("'\\x{hex}'::bytea"),
        }
    }

    pub fn execute(&mut self, sql: &str) {
        match self {
            Raw::Sqlite(conn) => conn.execute_batch(sql).unwrap(),
            Raw::Postgres(client) => client.batch_execute(sql).unwrap(),
        }
    }

    /// (kid, key pair) of every signing key, oldest first.
    pub fn keys(&mut self) -> Vec<(String, Vec<u8>)> {
        let sql = "SELECT kid, key_pair FROM signing_keys ORDER BY created_at, kid";
        match self {
            Raw::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql).unwrap();
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)));
                rows.unwrap().map(Result::unwrap).collect()
            }
            Raw::Postgres(client) => client
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        }
    }
}

fn key_file(dir: &Path, byte: u8) -> PathBuf {
    let path = dir.join(format!("key-{byte}"));
    std::fs::write(&path, [byte; 32]).unwrap();
    path
}

pub fn sealed(file: &Path) -> Settings {
    Settings {
        master_key_file: Some(file.to_path_buf()),
        ..test_settings()
    }
}

/// Why a server on `app`'s database with `settings` does not start.
pub fn start_error(app: &TestApp, settings: Settings) -> String {
    start_error_on(&app.db, settings)
}

pub fn start_error_on(target: &str, settings: Settings) -> String {
    let db = authlite::store::Database::open(target, Default::default()).unwrap();
    match authlite::state::AppState::new(db, settings) {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

/// Runs the binary (`serve` too: it must end by itself within 20 s), stderr
/// and exit status.
fn run_binary(app: &TestApp, args: &[&str]) -> (String, Option<i32>) {
    let mut child = Command::new(bin())
        .arg("--db")
        .arg(&app.db)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("authlite {args:?} is still running");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// One line, naming `kid` and what to do, and nothing of a panic.
pub fn assert_refuses(message: &str, kid: &str) {
    let message = message.trim_end();
    assert!(
        message.contains(&format!("signing key {kid} ")),
        "{message}"
    );
    assert!(message.contains("keys retire"), "{message}");
    assert!(
        !message.contains('\n') && !message.contains("panic"),
        "{message}"
    );
}

#[test]
fn a_plain_key_planted_in_a_sealed_database_is_refused_by_serve_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = key_file(dir.path(), 7);
    let mut app = spawn_app_with(sealed(&file));
    app.login_ok(ADA, ADA_PASSWORD);
    app.stop();
    let mut raw = Raw::open(&app);
    let plain = raw.blob(&Ed25519KeyPair::generate().to_bytes());
    raw.execute(&format!(
        "UPDATE signing_keys SET retired_at = {now} WHERE retired_at IS NULL;
         INSERT INTO signing_keys (kid, key_pair, created_at, algorithm)
         VALUES ('planted', {plain}, {now}, 'EdDSA');",
        now = now()
    ));
    let before = raw.keys();

    let message = start_error(&app, sealed(&file));
    assert_refuses(&message, "planted");
    assert!(message.contains("unsealed"), "{message}");
    let key = file.to_str().unwrap();
    for command in [
        vec!["serve", "--bind", "127.0.0.1:0"],
        vec!["keys", "list"],
        vec!["keys", "rotate"],
    ] {
        let mut args = vec!["--master-key-file", key];
        args.extend(command);
        let (stderr, code) = run_binary(&app, &args);
        assert_eq!(code, Some(1), "authlite {args:?}: {stderr}");
        assert_refuses(&stderr, "planted");
    }
    assert_eq!(raw.keys(), before, "a refused command changed the keys");

    // The way out the sentence gives: the planted key is distrusted.
    let (stderr, code) = run_binary(
        &app,
        &["--master-key-file", key, "keys", "retire", "planted"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let again = app.spawn_on_same_db(sealed(&file));
    let tokens = again.login_ok(ADA, ADA_PASSWORD);
    assert_ne!(tokens.kid(), "planted");
}

#[test]
fn a_sealed_key_pair_moved_into_another_kids_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = key_file(dir.path(), 7);
    let mut app = spawn_app_with(sealed(&file));
    let old = app.login_ok(ADA, ADA_PASSWORD);
    let key = file.to_str().unwrap();
    let (stderr, code) = run_binary(&app, &["--master-key-file", key, "keys", "rotate"]);
    assert_eq!(code, Some(0), "{stderr}");
    app.stop();
    let mut raw = Raw::open(&app);
    let kids: Vec<String> = raw.keys().into_iter().map(|(kid, _)| kid).collect();
    let new = kids.iter().find(|kid| **kid != old.kid()).unwrap();
    assert_eq!(kids.len(), 2);
    raw.execute(&format!(
        "UPDATE signing_keys SET key_pair =
           (SELECT key_pair FROM signing_keys WHERE kid = '{old}') WHERE kid = '{new}'",
        old = old.kid(),
    ));

    let message = start_error(&app, sealed(&file));
    assert_refuses(&message, new);
    assert!(message.contains("another row"), "{message}");
    let (stderr, code) = run_binary(&app, &["--master-key-file", key, "keys", "list"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_refuses(&stderr, new);
}

#[test]
fn a_grace_answer_moved_to_another_session_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let file = key_file(dir.path(), 7);
    let app = spawn_app_with(sealed(&file));
    let (one, two) = (
        app.login_ok(ADA, ADA_PASSWORD),
        app.login_ok(ADA, ADA_PASSWORD),
    );
    let one_answer = app.refresh_ok(&one.refresh);
    app.refresh_ok(&two.refresh);
    // Within the grace each session replays its own answer.
    assert_eq!(app.refresh_ok(&one.refresh).access, one_answer.access);

    Raw::open(&app).execute(&format!(
        "UPDATE sessions SET grace_answer =
           (SELECT grace_answer FROM sessions WHERE id = '{one}') WHERE id = '{two}'",
        one = one.sid(),
        two = two.sid()
    ));
    app.refresh(&two.refresh).assert_error(401, "TOKEN_REUSED");
    app.me(&one_answer.access).assert_success();
}

#[test]
fn a_plain_key_planted_under_a_running_server_never_signs() {
    let dir = tempfile::tempdir().unwrap();
    let file = key_file(dir.path(), 7);
    let app = spawn_app_with(sealed(&file));
    let before = app.login_ok(ADA, ADA_PASSWORD);
    let mut raw = Raw::open(&app);
    let plain = raw.blob(&Ed25519KeyPair::generate().to_bytes());
    raw.execute(&format!(
        "UPDATE signing_keys SET retired_at = {now} WHERE retired_at IS NULL;
         INSERT INTO signing_keys (kid, key_pair, created_at, algorithm)
         VALUES ('planted', {plain}, {now}, 'EdDSA');",
        now = now()
    ));
    // The server looks at the key table every half second: it keeps its ring.
    std::thread::sleep(Duration::from_millis(1200));
    let after = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(after.kid(), before.kid());
    app.me(&after.access).assert_success();
}
