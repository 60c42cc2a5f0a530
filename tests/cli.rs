//! The real `authlite` binary driven from the outside, as SPEC section 1
//! describes it: every command, its exit status, its environment variables,
//! and `serve` starting, stopping on SIGTERM and restarting on the same file.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pbkdf2::password_hash::PasswordVerifier;
use pbkdf2::phc::PasswordHash;
use serde_json::{json, Value};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_authlite");
const DEMO_SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-seed.json");
/// The cheapest cost the binary accepts, so that hashing stays fast in tests.
const ITERATIONS: &str = "1000";
const ADA: &str = "ada@acme.test";
const ADA_PASSWORD: &str = "correct horse battery staple";
const LISTENING: &str = "authlite listening on http://";

// ---------------------------------------------------------------- runners

/// The binary with none of the caller's `AUTHLITE_*` or `RUST_LOG` variables,
/// so a developer's shell cannot change what a test sees.
fn bare_command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AUTHLITE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

/// `authlite --db DB --pbkdf2-iterations 1000`, ready for a command.
fn command(db: &Path) -> Command {
    let mut cmd = bare_command();
    cmd.arg("--db")
        .arg(db)
        .args(["--pbkdf2-iterations", ITERATIONS]);
    cmd
}

/// Runs `authlite --db DB --pbkdf2-iterations 1000 ARGS` with an empty stdin.
fn authlite(db: &Path, args: &[&str]) -> Output {
    let mut cmd = command(db);
    cmd.args(args);
    run(cmd, None)
}

/// Like [`authlite`], with `input` on stdin.
fn authlite_stdin(db: &Path, args: &[&str], input: &str) -> Output {
    let mut cmd = command(db);
    cmd.args(args);
    run(cmd, Some(input))
}

/// Runs a prepared command to its end (at most a minute), capturing both streams.
fn run(mut cmd: Command, input: Option<&str>) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the authlite binary starts");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // A binary that exits early (a usage error) closes the pipe; that is its answer.
        let _ = stdin.write_all(input.as_bytes());
    }
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let status = wait_for(&mut child, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("authlite {:?} did not finish within 60 s", cmd.get_args()));
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for the child's exit; on timeout it is killed and `None` returned.
fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------- assertions

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit status {code}\n--- stdout:\n{}\n--- stderr:\n{}",
        stdout(out),
        stderr(out)
    );
    assert_no_panic(&stdout(out));
    assert_no_panic(&stderr(out));
}

#[track_caller]
fn assert_no_panic(text: &str) {
    for word in ["panicked", "RUST_BACKTRACE"] {
        assert!(!text.contains(word), "output contains {word:?}:\n{text}");
    }
}

/// Exit 1 with one line of explanation on stderr that mentions each of `names`.
#[track_caller]
fn assert_fails_naming(out: &Output, names: &[&str]) {
    assert_exit(out, 1);
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one sentence on stderr, got:\n{err}"
    );
    for name in names {
        assert!(
            err.to_lowercase().contains(&name.to_lowercase()),
            "stderr does not name {name:?}:\n{err}"
        );
    }
}

/// Exit 2 with a message on stderr.
#[track_caller]
fn assert_usage_error(out: &Output) {
    assert_exit(out, 2);
    assert!(
        !stderr(out).trim().is_empty(),
        "a usage error must explain itself on stderr"
    );
}

// ---------------------------------------------------------------- reading state

fn temp() -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("authlite.db");
    (dir, db)
}

/// `user list --json`, parsed.
fn users(db: &Path) -> Vec<Value> {
    let out = authlite(db, &["user", "list", "--json"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("`user list --json` is not JSON ({e}):\n{text}"));
    value
        .as_array()
        .unwrap_or_else(|| panic!("`user list --json` is not an array:\n{text}"))
        .clone()
}

fn user<'a>(list: &'a [Value], email: &str) -> Option<&'a Value> {
    list.iter().find(|u| {
        u["email"]
            .as_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

#[track_caller]
fn field(list: &[Value], email: &str, name: &str) -> String {
    let u = user(list, email).unwrap_or_else(|| panic!("{email} is not in {list:?}"));
    u[name]
        .as_str()
        .unwrap_or_else(|| panic!("{email} has no string field {name:?}: {u}"))
        .to_owned()
}

/// `users.password_hash` (SPEC section 4) read straight from the file; `None` = no password.
fn password_hash(db: &Path, email: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(db).expect("open the database file");
    conn.query_row(
        "SELECT password_hash FROM users WHERE email = ?1 COLLATE NOCASE",
        [email],
        |row| row.get::<_, Option<String>>(0),
    )
    .unwrap_or_else(|e| panic!("no users row for {email}: {e}"))
}

#[track_caller]
fn assert_password(hash: &str, password: &str, iterations: u32) {
    assert!(
        hash.starts_with(&format!("$pbkdf2-sha256$i={iterations},")),
        "expected a PBKDF2-SHA256 PHC string at {iterations} iterations, got {hash}"
    );
    let parsed = PasswordHash::new(hash).expect("a PHC string");
    pbkdf2::Pbkdf2::default()
        .verify_password(password.as_bytes(), &parsed)
        .unwrap_or_else(|_| panic!("{hash} does not verify {password:?}"));
}

/// Created / updated / unchanged, as a seed summary reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    created: u32,
    updated: u32,
    unchanged: u32,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct SeedCounts {
    orgs: Tally,
    users: Tally,
}

fn tally(created: u32, updated: u32, unchanged: u32) -> Tally {
    Tally {
        created,
        updated,
        unchanged,
    }
}

/// Reads the counts out of a seed summary written in words, whatever their
/// order: "orgs: 1 created, 0 updated; users: 5 created" or "created 1 org
/// and 5 users" or "1 user would be created". The spec fixes the numbers,
/// not the sentence.
fn seed_counts(text: &str) -> SeedCounts {
    let mut counts = SeedCounts::default();
    for clause in text.split(['\n', ';']) {
        let words: Vec<String> = clause
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let mut entity_so_far = None;
        for (i, word) in words.iter().enumerate() {
            if let Some(entity) = entity_of(word) {
                entity_so_far = Some(entity);
            }
            let Ok(n) = word.parse::<u32>() else { continue };
            let next_is_entity = words.get(i + 1).and_then(|w| entity_of(w));
            let (entity, after) = match next_is_entity {
                Some(entity) => (Some(entity), i + 2),
                None => (entity_so_far, i + 1),
            };
            let action = words
                .iter()
                .skip(after)
                .take(3)
                .take_while(|w| w.parse::<u32>().is_err())
                .find_map(|w| action_of(w))
                .or_else(|| i.checked_sub(1).and_then(|p| action_of(&words[p])));
            let (Some(entity), Some(action)) = (entity, action) else {
                continue;
            };
            let tally = if entity == "org" {
                &mut counts.orgs
            } else {
                &mut counts.users
            };
            match action {
                "created" => tally.created += n,
                "updated" => tally.updated += n,
                _ => tally.unchanged += n,
            }
        }
    }
    counts
}

fn entity_of(word: &str) -> Option<&'static str> {
    if word.starts_with("org") {
        Some("org")
    } else if word.starts_with("user") {
        Some("user")
    } else {
        None
    }
}

fn action_of(word: &str) -> Option<&'static str> {
    match word {
        "created" | "create" | "creates" | "new" | "added" | "add" | "inserted" => Some("created"),
        "updated" | "update" | "updates" | "changed" | "modified" => Some("updated"),
        "unchanged" | "same" | "skipped" | "kept" => Some("unchanged"),
        _ => None,
    }
}

#[track_caller]
fn assert_seed_counts(out: &Output, orgs: Tally, users: Tally) {
    assert_exit(out, 0);
    let text = stdout(out);
    assert_eq!(
        seed_counts(&text),
        SeedCounts { orgs, users },
        "seed summary was:\n{text}"
    );
}

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

fn demo_seed() -> String {
    std::fs::read_to_string(DEMO_SEED).expect("examples/demo-seed.json")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

// ---------------------------------------------------------------- serve

/// A running `authlite serve`, killed when dropped if it is still alive.
struct Server {
    child: Child,
    base: String,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Server {
    /// Starts `cmd` (which must include `serve`) and waits for its listening line.
    fn start(mut cmd: Command) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the authlite binary starts");
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        let out = child.stdout.take().expect("stdout is piped");
        let (lines, received) = mpsc::channel();
        thread::spawn(move || {
            // Keep reading to the end so the server never blocks on a full pipe.
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = lines.send(line);
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            stderr: Some(stderr),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.trim().strip_prefix(LISTENING) {
                        assert!(
                            !addr.ends_with(":0"),
                            "the listening line must show the bound port: {line}"
                        );
                        server.base = format!("http://{addr}");
                        return server;
                    }
                }
                Err(_) => {
                    let _ = server.child.kill();
                    let _ = server.child.wait();
                    panic!(
                        "no `{LISTENING}ADDR` line on stdout within 30 s; stderr:\n{}",
                        server.take_stderr()
                    );
                }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits up to 5 s; returns the exit status and stderr.
    fn terminate(&mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_for(&mut self.child, Duration::from_secs(5));
        let err = self.take_stderr();
        let status = status
            .unwrap_or_else(|| panic!("serve did not exit within 5 s of SIGTERM; stderr:\n{err}"));
        (status, err)
    }

    fn take_stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[track_caller]
fn assert_clean_stop(server: &mut Server) {
    let (status, err) = server.terminate();
    assert_no_panic(&err);
    assert_eq!(
        status.code(),
        Some(0),
        "serve must exit 0 on SIGTERM; stderr:\n{err}"
    );
}

fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// POSTs JSON; returns the status, the `Retry-After` header and the JSON body.
fn post(agent: &ureq::Agent, url: &str, body: Value) -> (u16, Option<String>, Value) {
    let mut resp = agent
        .post(url)
        .send_json(&body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.body_mut().read_to_string().expect("a response body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("POST {url} answered {status} with non-JSON ({e}): {text}"));
    (status, retry_after, json)
}

fn login(agent: &ureq::Agent, server: &Server, email: &str, password: &str) -> (u16, Value) {
    let (status, _, body) = post(
        agent,
        &server.url("/user/login"),
        json!({"email": email, "password": password}),
    );
    (status, body)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).expect("a JWT")
}

// ================================================================ help and usage

#[test]
fn help_works_on_every_command_and_subcommand() {
    let (_dir, db) = temp();
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["seed"],
        &["user"],
        &["user", "add"],
        &["user", "set-password"],
        &["user", "set-status"],
        &["user", "list"],
        &["user", "unlock"],
        &["keys"],
        &["keys", "rotate"],
        &["keys", "list"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let out = authlite(&db, &args);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("Usage"),
            "`authlite {}` printed no usage:\n{}",
            args.join(" "),
            stdout(&out)
        );
    }
}

/// Help text is where a user learns the variables; clap prints `[env: …]` for
/// every flag that reads one.
fn assert_help_names_env(command: &[&str], vars: &[&str]) {
    let (_dir, db) = temp();
    let mut args = command.to_vec();
    args.push("--help");
    let out = authlite(&db, &args);
    assert_exit(&out, 0);
    let help = stdout(&out);
    let missing: Vec<&&str> = vars.iter().filter(|v| !help.contains(*v)).collect();
    assert!(
        missing.is_empty(),
        "`authlite {}` does not mention {missing:?}:\n{help}",
        args.join(" ")
    );
}

#[test]
fn help_names_the_environment_variable_of_every_global_and_serve_flag() {
    assert_help_names_env(&[], &["AUTHLITE_DB", "AUTHLITE_PBKDF2_ITERATIONS"]);
    assert_help_names_env(
        &["serve"],
        &[
            "AUTHLITE_BIND",
            "AUTHLITE_SEED",
            "AUTHLITE_ACCESS_TTL",
            "AUTHLITE_REFRESH_TTL",
            "AUTHLITE_ISSUER",
            "AUTHLITE_REUSE_GRACE",
            "AUTHLITE_MAX_FAILURES",
            "AUTHLITE_LOCKOUT",
            "AUTHLITE_MAX_FAILURES_PER_IP",
            "AUTHLITE_CONCEAL_ACCOUNTS",
            "AUTHLITE_TRUSTED_PROXIES",
            "AUTHLITE_STATIC",
        ],
    );
}

/// SPEC: "Every flag also reads an environment variable", read to the letter.
#[test]
fn help_names_the_environment_variable_of_every_other_flag() {
    assert_help_names_env(&["seed"], &["AUTHLITE_DRY_RUN"]);
    assert_help_names_env(
        &["user", "add"],
        &[
            "AUTHLITE_EMAIL",
            "AUTHLITE_NAME",
            "AUTHLITE_ORG",
            "AUTHLITE_PASSWORD_STDIN",
            "AUTHLITE_STATUS",
        ],
    );
    assert_help_names_env(&["user", "set-password"], &["AUTHLITE_PASSWORD_STDIN"]);
    assert_help_names_env(&["user", "list"], &["AUTHLITE_JSON"]);
}

#[test]
fn usage_errors_exit_2_with_a_message_and_no_panic() {
    let (_dir, db) = temp();
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["user", "list", "--bogus"],
        &["--bogus", "user", "list"],
        &["user"],
        &["user", "add", "--name", "No Email"],
        &["user", "add", "--email", "x@acme.test"],
        &["user", "add", "--email"],
        &["user", "set-status", ADA],
        &["user", "set-status"],
        &["user", "set-status", ADA, "suspended"],
        &[
            "user",
            "add",
            "--email",
            "x@acme.test",
            "--name",
            "X",
            "--status",
            "suspended",
        ],
        &["user", "set-password"],
        &["user", "unlock"],
        &["seed"],
        &["keys"],
        &["keys", "shred"],
        &["serve", "--access-ttl", "soon"],
        &["serve", "--max-failures", "-1"],
        &["serve", "--trusted-proxies", "proxy.local"],
    ];
    for args in cases {
        let out = authlite(&db, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "`authlite {}` should be a usage error\n--- stdout:\n{}\n--- stderr:\n{}",
            args.join(" "),
            stdout(&out),
            stderr(&out)
        );
        assert_usage_error(&out);
    }

    let mut cmd = command(&db);
    cmd.env("AUTHLITE_ACCESS_TTL", "soon").arg("serve");
    let out = run(cmd, None);
    assert_usage_error(&out);
    assert!(stderr(&out).contains("soon"), "{}", stderr(&out));
}

#[test]
fn pbkdf2_iterations_of_zero_or_not_a_number_is_a_usage_error() {
    let (_dir, db) = temp();
    for bad in ["0", "many", "1e6", ""] {
        let mut cmd = bare_command();
        cmd.arg("--db")
            .arg(&db)
            .args(["--pbkdf2-iterations", bad, "user", "list"]);
        let out = run(cmd, None);
        assert_eq!(
            out.status.code(),
            Some(2),
            "--pbkdf2-iterations {bad:?}: {}",
            stderr(&out)
        );
        assert_usage_error(&out);

        let mut cmd = bare_command();
        cmd.arg("--db")
            .arg(&db)
            .env("AUTHLITE_PBKDF2_ITERATIONS", bad)
            .args(["user", "list"]);
        if !bad.is_empty() {
            let out = run(cmd, None);
            assert_eq!(
                out.status.code(),
                Some(2),
                "AUTHLITE_PBKDF2_ITERATIONS={bad:?}: {}",
                stderr(&out)
            );
            assert_usage_error(&out);
        }
    }
}

// ================================================================ the database file

#[test]
fn the_database_file_is_created_with_mode_0600() {
    let (_dir, db) = temp();
    assert!(!db.exists());
    assert_exit(&authlite(&db, &["user", "list"]), 0);
    let mode = std::fs::metadata(&db)
        .expect("the database file exists after the first command")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode is {:o}", mode & 0o777);
}

#[test]
fn a_database_in_a_missing_directory_fails_with_one_sentence() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("no-such-dir").join("authlite.db");
    let out = authlite(&db, &["user", "list"]);
    assert_fails_naming(&out, &["no-such-dir"]);

    let out = authlite(&db, &["serve", "--bind", "127.0.0.1:0"]);
    assert_fails_naming(&out, &["no-such-dir"]);
    assert!(
        !stdout(&out).contains(LISTENING),
        "serve must not claim to listen without a database"
    );
}

// ================================================================ seed

#[test]
fn seeding_the_demo_file_creates_every_org_and_user_in_its_state() {
    let (_dir, db) = temp();
    let out = authlite(&db, &["seed", DEMO_SEED]);
    assert_seed_counts(&out, tally(1, 0, 0), tally(5, 0, 0));

    let list = users(&db);
    assert_eq!(list.len(), 5, "{list:?}");
    assert_eq!(field(&list, ADA, "name"), "Ada Lovelace");
    assert_eq!(field(&list, ADA, "orgId"), "acme");
    assert_eq!(field(&list, "grace@acme.test", "name"), "Grace Hopper");
    for (email, status) in [
        (ADA, "active"),
        ("grace@acme.test", "active"),
        ("invited@acme.test", "active"),
        ("inactive@acme.test", "inactive"),
        ("banned@acme.test", "banned"),
    ] {
        assert_eq!(field(&list, email, "status"), status, "{email}");
    }

    let hash = password_hash(&db, ADA).expect("ada has a password");
    assert_password(&hash, ADA_PASSWORD, 1000);
    assert_eq!(password_hash(&db, "invited@acme.test"), None);
    assert!(password_hash(&db, "banned@acme.test").is_some());
}

#[test]
fn seeding_the_same_file_twice_changes_nothing_the_second_time() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let before = users(&db);
    let ada_hash = password_hash(&db, ADA);
    let grace_hash = password_hash(&db, "grace@acme.test");

    let out = authlite(&db, &["seed", DEMO_SEED]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 0, 5));

    assert_eq!(users(&db), before);
    // A password that still verifies is not re-hashed (a new salt would show).
    assert_eq!(password_hash(&db, ADA), ada_hash);
    assert_eq!(password_hash(&db, "grace@acme.test"), grace_hash);
}

#[test]
fn seed_dash_reads_the_file_from_stdin() {
    let (_dir, db) = temp();
    let out = authlite_stdin(&db, &["seed", "-"], &demo_seed());
    assert_seed_counts(&out, tally(1, 0, 0), tally(5, 0, 0));
    assert_eq!(users(&db).len(), 5);
}

#[test]
fn a_dry_run_reports_what_would_change_and_changes_nothing() {
    let (dir, db) = temp();
    let out = authlite(&db, &["seed", DEMO_SEED, "--dry-run"]);
    assert_seed_counts(&out, tally(1, 0, 0), tally(5, 0, 0));
    assert_eq!(users(&db), Vec::<Value>::new());

    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let before = users(&db);
    let renamed = write(
        &dir,
        "renamed.json",
        &demo_seed().replace("Ada Lovelace", "Augusta Ada King"),
    );
    let out = authlite(&db, &["seed", s(&renamed), "--dry-run"]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 1, 4));
    assert_eq!(users(&db), before);
}

#[test]
fn changing_a_name_in_the_file_reports_one_user_updated() {
    let (dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let renamed = write(
        &dir,
        "renamed.json",
        &demo_seed().replace("Ada Lovelace", "Augusta Ada King"),
    );
    let out = authlite(&db, &["seed", s(&renamed)]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 1, 4));
    assert_eq!(field(&users(&db), ADA, "name"), "Augusta Ada King");
}

#[test]
fn changing_a_password_in_the_file_re_hashes_only_that_user() {
    let (dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let ada_hash = password_hash(&db, ADA);
    let changed = write(
        &dir,
        "changed.json",
        &demo_seed().replace("cobol compiler nanosecond wire", "a new password"),
    );
    let out = authlite(&db, &["seed", s(&changed)]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 1, 4));
    let grace = password_hash(&db, "grace@acme.test").expect("grace has a password");
    assert_password(&grace, "a new password", 1000);
    assert_eq!(password_hash(&db, ADA), ada_hash);
}

#[test]
fn seed_matches_users_by_email_in_any_case() {
    let (dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let shouting = write(
        &dir,
        "shouting.json",
        &demo_seed().replace("\"ada@acme.test\"", "\" ADA@ACME.TEST \""),
    );
    let out = authlite(&db, &["seed", s(&shouting)]);
    assert_exit(&out, 0);
    let counts = seed_counts(&stdout(&out));
    assert_eq!(counts.users.created, 0, "{}", stdout(&out));
    assert_eq!(users(&db).len(), 5);
}

/// A seed file whose third user (line 6) is broken in `third`.
fn seed_with_third_user(third: &str) -> String {
    format!(
        r#"{{
  "orgs": [{{ "id": "acme", "name": "Acme Inc" }}],
  "users": [
    {{ "email": "a@acme.test", "name": "A", "orgId": "acme", "password": "pw a" }},
    {{ "email": "b@acme.test", "name": "B", "orgId": "acme" }},
    {third},
    {{ "email": "d@acme.test", "name": "D", "orgId": "acme", "password": "pw d" }},
    {{ "email": "e@acme.test", "name": "E", "orgId": "acme" }}
  ]
}}
"#
    )
}

#[test]
fn a_bad_seed_file_names_the_file_and_the_problem_and_applies_nothing() {
    // (file name, third user, words of which stderr must contain at least one)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "not-an-email.json",
            r#"{ "email": "not-an-email", "name": "C", "orgId": "acme" }"#,
            &["email", "not-an-email"],
        ),
        (
            "unknown-org.json",
            r#"{ "email": "c@acme.test", "name": "C", "orgId": "nope" }"#,
            &["nope"],
        ),
        (
            "typo.json",
            r#"{ "email": "c@acme.test", "name": "C", "orgId": "acme", "pasword": "x" }"#,
            &["pasword"],
        ),
        (
            "bad-status.json",
            r#"{ "email": "c@acme.test", "name": "C", "orgId": "acme", "status": "suspended" }"#,
            &["status", "suspended"],
        ),
        (
            "malformed.json",
            r#"{ "email": "c@acme.test" "name": "C", "orgId": "acme" }"#,
            &["line 6"],
        ),
    ];
    for (name, third, words) in cases {
        let (dir, db) = temp();
        let file = write(&dir, name, &seed_with_third_user(third));
        let out = authlite(&db, &["seed", s(&file)]);
        assert_fails_naming(&out, &[name]);
        let err = stderr(&out);
        assert!(
            words.iter().any(|w| err.contains(w)),
            "{name}: stderr names none of {words:?}:\n{err}"
        );
        assert!(
            err.contains("users[2]") || err.contains("line 6"),
            "{name}: stderr points at neither `users[2]` nor `line 6`:\n{err}"
        );
        assert_eq!(users(&db), Vec::<Value>::new(), "{name} applied users");
        // The org in the same file was not applied either.
        let out = authlite(
            &db,
            &[
                "user",
                "add",
                "--email",
                "z@acme.test",
                "--name",
                "Z",
                "--org",
                "acme",
            ],
        );
        assert_fails_naming(&out, &["acme"]);
    }
}

// ================================================================ user

#[test]
fn user_add_creates_a_user_without_a_password_by_default() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let out = authlite(
        &db,
        &[
            "user",
            "add",
            "--email",
            "new@acme.test",
            "--name",
            "New Person",
            "--org",
            "acme",
        ],
    );
    assert_exit(&out, 0);
    let list = users(&db);
    assert_eq!(list.len(), 6);
    assert_eq!(field(&list, "new@acme.test", "name"), "New Person");
    assert_eq!(field(&list, "new@acme.test", "orgId"), "acme");
    assert_eq!(field(&list, "new@acme.test", "status"), "active");
    assert_eq!(password_hash(&db, "new@acme.test"), None);
}

#[test]
fn user_add_without_an_org_creates_the_user() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &[
            "user",
            "add",
            "--email",
            "solo@example.test",
            "--name",
            "Solo",
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(field(&users(&db), "solo@example.test", "name"), "Solo");
}

#[test]
fn user_add_with_password_stdin_stores_a_pbkdf2_hash_of_that_password() {
    let (_dir, db) = temp();
    let out = authlite_stdin(
        &db,
        &[
            "user",
            "add",
            "--email",
            "pw@example.test",
            "--name",
            "Pw",
            "--password-stdin",
        ],
        "s3cret passphrase",
    );
    assert_exit(&out, 0);
    let hash = password_hash(&db, "pw@example.test").expect("a password was set");
    assert_password(&hash, "s3cret passphrase", 1000);
}

/// Spec-silent: `echo pw | authlite …` is how people type it, so one trailing
/// newline is taken as the end of the line, not part of the password.
#[test]
fn a_trailing_newline_on_stdin_is_not_part_of_the_password() {
    let (_dir, db) = temp();
    let out = authlite_stdin(
        &db,
        &[
            "user",
            "add",
            "--email",
            "nl@example.test",
            "--name",
            "Nl",
            "--password-stdin",
        ],
        "piped password\n",
    );
    assert_exit(&out, 0);
    let hash = password_hash(&db, "nl@example.test").expect("a password was set");
    assert_password(&hash, "piped password", 1000);
}

#[test]
fn user_add_with_a_status_creates_the_user_in_that_status() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &[
            "user",
            "add",
            "--email",
            "b@example.test",
            "--name",
            "B",
            "--status",
            "banned",
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(field(&users(&db), "b@example.test", "status"), "banned");
}

#[test]
fn user_add_trims_the_email_and_refuses_a_duplicate_in_another_case() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &[
            "user",
            "add",
            "--email",
            "  ada@acme.test ",
            "--name",
            "Ada",
        ],
    );
    assert_exit(&out, 0);
    let list = users(&db);
    let stored = list[0]["email"].as_str().expect("an email");
    assert!(stored.eq_ignore_ascii_case(ADA), "stored {stored:?}");

    let out = authlite(
        &db,
        &["user", "add", "--email", "Ada@Acme.test", "--name", "Ada 2"],
    );
    assert_fails_naming(&out, &["Ada@Acme.test"]);
    assert_eq!(users(&db).len(), 1);
}

#[test]
fn user_add_refuses_an_email_that_is_not_an_email() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &["user", "add", "--email", "not-an-email", "--name", "X"],
    );
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    assert_no_panic(&stderr(&out));
    assert!(stderr(&out).contains("not-an-email"), "{}", stderr(&out));
    assert_eq!(users(&db), Vec::<Value>::new());
}

#[test]
fn user_add_with_an_unknown_org_fails_naming_the_org() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &[
            "user",
            "add",
            "--email",
            "x@example.test",
            "--name",
            "X",
            "--org",
            "ghost-org",
        ],
    );
    assert_fails_naming(&out, &["ghost-org"]);
    assert_eq!(users(&db), Vec::<Value>::new());
}

#[test]
fn user_set_password_sets_and_replaces_the_password() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);

    let out = authlite_stdin(
        &db,
        &[
            "user",
            "set-password",
            "invited@acme.test",
            "--password-stdin",
        ],
        "first password",
    );
    assert_exit(&out, 0);
    let hash = password_hash(&db, "invited@acme.test").expect("now has a password");
    assert_password(&hash, "first password", 1000);

    let out = authlite_stdin(
        &db,
        &["user", "set-password", "ADA@acme.test", "--password-stdin"],
        "second password",
    );
    assert_exit(&out, 0);
    let hash = password_hash(&db, ADA).expect("still has a password");
    assert_password(&hash, "second password", 1000);
}

#[test]
fn user_set_status_accepts_each_of_the_four_statuses() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    for status in ["inactive", "banned", "active", "deleted"] {
        assert_exit(
            &authlite(&db, &["user", "set-status", "Grace@Acme.test", status]),
            0,
        );
        let list = users(&db);
        match user(&list, "grace@acme.test") {
            Some(u) => assert_eq!(u["status"], status, "{u}"),
            // A listing may leave deleted users out.
            None => assert_eq!(status, "deleted", "grace vanished from the list"),
        }
    }
}

#[test]
fn user_commands_on_an_unknown_email_fail_naming_the_email() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let out = authlite_stdin(
        &db,
        &[
            "user",
            "set-password",
            "nobody@acme.test",
            "--password-stdin",
        ],
        "whatever",
    );
    assert_fails_naming(&out, &["nobody@acme.test"]);
    let out = authlite(&db, &["user", "set-status", "nobody@acme.test", "banned"]);
    assert_fails_naming(&out, &["nobody@acme.test"]);
    assert_eq!(users(&db).len(), 5);
}

#[test]
fn user_list_never_shows_a_password_or_a_hash() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let text = authlite(&db, &["user", "list"]);
    assert_exit(&text, 0);
    let json = authlite(&db, &["user", "list", "--json"]);
    assert_exit(&json, 0);
    for out in [&text, &json] {
        let shown = stdout(out);
        assert!(shown.contains(ADA), "the list does not show ada:\n{shown}");
        for secret in ["$pbkdf2", "pbkdf2", ADA_PASSWORD, "banned password"] {
            assert!(
                !shown.contains(secret),
                "the list shows {secret:?}:\n{shown}"
            );
        }
    }
    assert_eq!(users(&db).len(), 5);
}

#[test]
fn user_unlock_exits_0() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    assert_exit(&authlite(&db, &["user", "unlock", ADA]), 0);
}

// ================================================================ keys

/// The lines of `keys list` that describe a key: a header, if any, carries no digit.
fn key_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "\"',;=()[]{}".contains(c))
        .map(|t| t.trim_matches(|c: char| c == ':' || c == '.'))
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn keys_list_shows_one_key_and_rotate_adds_a_new_current_one() {
    let (_dir, db) = temp();
    let first = authlite(&db, &["keys", "list"]);
    assert_exit(&first, 0);
    let before = key_lines(&stdout(&first));
    assert_eq!(
        before.len(),
        1,
        "one key after the first open:\n{}",
        stdout(&first)
    );

    let rotated = authlite(&db, &["keys", "rotate"]);
    assert_exit(&rotated, 0);
    let after_out = authlite(&db, &["keys", "list"]);
    assert_exit(&after_out, 0);
    let after = key_lines(&stdout(&after_out));
    assert_eq!(
        after.len(),
        2,
        "two keys after a rotation:\n{}",
        stdout(&after_out)
    );

    // The new kid: printed by `rotate`, listed now, and not listed before.
    let old_tokens = tokens(&before[0]);
    let new_kid = tokens(&stdout(&rotated))
        .into_iter()
        .filter(|t| t.len() >= 4 && !old_tokens.contains(t))
        .filter(|t| after.iter().any(|l| tokens(l).contains(t)))
        .max_by_key(|t| t.len())
        .unwrap_or_else(|| {
            panic!(
                "`keys rotate` printed no kid that `keys list` shows:\n{}\n---\n{}",
                stdout(&rotated),
                stdout(&after_out)
            )
        })
        .to_owned();
    let new_line = after
        .iter()
        .find(|l| tokens(l).contains(&new_kid.as_str()))
        .expect("the new kid's line");
    let old_line = after
        .iter()
        .find(|l| !tokens(l).contains(&new_kid.as_str()))
        .expect("the old kid's line");
    let marked = |l: &str| l.to_ascii_lowercase().contains("current") || l.contains('*');
    assert!(
        marked(new_line),
        "the new key is not marked current:\n{}",
        stdout(&after_out)
    );
    assert!(
        !marked(old_line) || old_line.contains("not current"),
        "the old key is still marked current:\n{}",
        stdout(&after_out)
    );
}

// ================================================================ environment variables

#[test]
fn the_database_path_is_read_from_authlite_db() {
    let (_dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let cwd = TempDir::new().expect("temp dir");
    let mut cmd = bare_command();
    cmd.current_dir(cwd.path())
        .env("AUTHLITE_DB", &db)
        .args(["user", "list", "--json"]);
    let out = run(cmd, None);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(ADA), "{}", stdout(&out));
    assert!(
        !cwd.path().join("authlite.db").exists(),
        "the default path was used"
    );
}

#[test]
fn a_db_flag_wins_over_authlite_db() {
    let (dir, db) = temp();
    assert_exit(&authlite(&db, &["seed", DEMO_SEED]), 0);
    let other = dir.path().join("other.db");
    let mut cmd = command(&db);
    cmd.env("AUTHLITE_DB", &other)
        .args(["user", "list", "--json"]);
    let out = run(cmd, None);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(ADA), "{}", stdout(&out));
    assert!(!other.exists(), "the environment's path was opened");
}

#[test]
fn the_hash_cost_is_read_from_authlite_pbkdf2_iterations_and_the_flag_wins() {
    let (_dir, db) = temp();
    let mut cmd = bare_command();
    cmd.arg("--db")
        .arg(&db)
        .env("AUTHLITE_PBKDF2_ITERATIONS", "2000")
        .args([
            "user",
            "add",
            "--email",
            "env@example.test",
            "--name",
            "Env",
            "--password-stdin",
        ]);
    assert_exit(&run(cmd, Some("env password")), 0);
    let hash = password_hash(&db, "env@example.test").expect("a password");
    assert_password(&hash, "env password", 2000);

    let mut cmd = command(&db);
    cmd.env("AUTHLITE_PBKDF2_ITERATIONS", "2000").args([
        "user",
        "add",
        "--email",
        "flag@example.test",
        "--name",
        "Flag",
        "--password-stdin",
    ]);
    assert_exit(&run(cmd, Some("flag password")), 0);
    let hash = password_hash(&db, "flag@example.test").expect("a password");
    assert_password(&hash, "flag password", 1000);
}

#[test]
fn new_hashes_cost_600000_iterations_by_default() {
    let (_dir, db) = temp();
    let mut cmd = bare_command();
    cmd.arg("--db").arg(&db).args([
        "user",
        "add",
        "--email",
        "d@example.test",
        "--name",
        "D",
        "--password-stdin",
    ]);
    assert_exit(&run(cmd, Some("default cost")), 0);
    let hash = password_hash(&db, "d@example.test").expect("a password");
    assert!(
        hash.starts_with("$pbkdf2-sha256$i=600000,"),
        "expected the default cost, got {hash}"
    );
}

#[test]
fn serve_settings_are_read_from_their_environment_variables_and_flags_win() {
    let (dir, db) = temp();
    let with_env = || {
        let mut cmd = bare_command();
        cmd.current_dir(dir.path())
            .env("AUTHLITE_DB", &db)
            .env("AUTHLITE_PBKDF2_ITERATIONS", ITERATIONS)
            .env("AUTHLITE_BIND", "127.0.0.1:0")
            .env("AUTHLITE_SEED", DEMO_SEED)
            .env("AUTHLITE_ACCESS_TTL", "120")
            .env("AUTHLITE_ISSUER", "issuer-from-env")
            .env("AUTHLITE_CONCEAL_ACCOUNTS", "true")
            .arg("serve");
        cmd
    };
    let agent = http_agent();

    let mut server = Server::start(with_env());
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(status, 200, "{body}");
    let expires = body["expiresAt"].as_i64().expect("expiresAt");
    assert!(
        (now() + 100..=now() + 130).contains(&expires),
        "expiresAt {expires}, now {}",
        now()
    );
    assert_eq!(
        claims(body["accessToken"].as_str().expect("accessToken"))["iss"],
        "issuer-from-env"
    );
    let (status, body) = login(&agent, &server, "nobody@acme.test", "x");
    assert_eq!(
        (status, &body["error_code"]),
        (401, &json!("INVALID_PASSWORD")),
        "{body}"
    );
    assert_clean_stop(&mut server);

    let mut cmd = with_env();
    cmd.args(["--access-ttl", "300", "--issuer", "issuer-from-flag"]);
    let mut server = Server::start(cmd);
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(status, 200, "{body}");
    let expires = body["expiresAt"].as_i64().expect("expiresAt");
    assert!(
        (now() + 280..=now() + 310).contains(&expires),
        "expiresAt {expires}, now {}",
        now()
    );
    assert_eq!(
        claims(body["accessToken"].as_str().expect("accessToken"))["iss"],
        "issuer-from-flag"
    );
    drop(agent);
    assert_clean_stop(&mut server);
}

// ================================================================ serve

#[test]
fn serve_logs_in_the_demo_user_stops_cleanly_on_sigterm_and_keeps_sessions_across_a_restart() {
    let (_dir, db) = temp();
    let mut cmd = command(&db);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--seed", DEMO_SEED]);
    let mut server = Server::start(cmd);

    let agent = http_agent();
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["user"]["email"], ADA);
    assert_eq!(body["user"]["name"], "Ada Lovelace");
    assert_eq!(body["user"]["orgId"], "acme");
    let refresh = body["refreshToken"]
        .as_str()
        .expect("refreshToken")
        .to_owned();
    let access = body["accessToken"]
        .as_str()
        .expect("accessToken")
        .to_owned();
    // The agent keeps its connection open: an idle keep-alive must not delay the stop.
    assert_clean_stop(&mut server);
    drop(agent);
    // A clean stop folds the write-ahead log back in: the .db file alone is complete.
    let wal = db.with_extension("db-wal");
    let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_len, 0, "{} still holds {wal_len} bytes", wal.display());

    // The same command again, as a service manager would run it: re-seeding is a no-op.
    let mut cmd = command(&db);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--seed", DEMO_SEED]);
    let mut server = Server::start(cmd);
    let agent = http_agent();
    let (status, _, body) = post(
        &agent,
        &server.url("/user/refresh"),
        json!({ "refreshToken": refresh }),
    );
    assert_eq!(
        status, 200,
        "the refresh token did not survive a restart: {body}"
    );
    assert_eq!(body["user"]["email"], ADA);
    assert_ne!(
        body["refreshToken"].as_str(),
        Some(refresh.as_str()),
        "refresh tokens rotate"
    );

    let mut me = agent
        .get(server.url("/user/me"))
        .header("Authorization", format!("Bearer {access}"))
        .call()
        .expect("GET /user/me");
    let me_status = me.status().as_u16();
    let me_body = me.body_mut().read_to_string().expect("a body");
    assert_eq!(
        me_status, 200,
        "the signing key did not survive a restart: {me_body}"
    );
    drop(agent);
    assert_clean_stop(&mut server);
}

#[test]
fn user_unlock_takes_effect_on_a_running_server() {
    let (_dir, db) = temp();
    let mut cmd = command(&db);
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--seed",
        DEMO_SEED,
        "--max-failures",
        "2",
    ]);
    let mut server = Server::start(cmd);
    let agent = http_agent();
    for _ in 0..2 {
        let (status, body) = login(&agent, &server, ADA, "wrong");
        assert_eq!(
            (status, &body["error_code"]),
            (401, &json!("INVALID_PASSWORD")),
            "{body}"
        );
    }
    let (status, retry_after, body) = post(
        &agent,
        &server.url("/user/login"),
        json!({ "email": ADA, "password": ADA_PASSWORD }),
    );
    assert_eq!(
        (status, &body["error_code"]),
        (429, &json!("TOO_MANY_ATTEMPTS")),
        "{body}"
    );
    assert!(retry_after.is_some(), "a 429 carries Retry-After");

    assert_exit(&authlite(&db, &["user", "unlock", ADA]), 0);
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(
        status, 200,
        "unlock did not reach the running server: {body}"
    );
    drop(agent);
    assert_clean_stop(&mut server);
}

#[test]
fn serve_on_an_address_in_use_fails_with_one_sentence() {
    let (_dir, db) = temp();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("local addr").to_string();
    let out = authlite(&db, &["serve", "--bind", &addr]);
    assert_fails_naming(&out, &[&addr]);
    assert!(!stdout(&out).contains(LISTENING), "{}", stdout(&out));
}

#[test]
fn serve_with_a_bind_address_that_is_not_an_address_is_refused() {
    let (_dir, db) = temp();
    let out = authlite(&db, &["serve", "--bind", "localhost:port"]);
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    assert_no_panic(&stderr(&out));
    assert!(!stderr(&out).trim().is_empty());
}

#[test]
fn serve_with_a_bad_seed_file_fails_before_listening() {
    let (dir, db) = temp();
    let file = write(&dir, "broken.json", "{ \"orgs\": [ }");
    let out = authlite(&db, &["serve", "--bind", "127.0.0.1:0", "--seed", s(&file)]);
    assert_fails_naming(&out, &["broken.json", "line 1"]);
    assert!(!stdout(&out).contains(LISTENING), "{}", stdout(&out));
}

#[test]
fn serve_with_a_static_folder_that_does_not_exist_fails_with_one_sentence() {
    let (dir, db) = temp();
    let missing = dir.path().join("no-pages");
    let out = authlite(
        &db,
        &["serve", "--bind", "127.0.0.1:0", "--static", s(&missing)],
    );
    assert_fails_naming(&out, &["no-pages"]);
}
