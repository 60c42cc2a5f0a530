//! Running the binary to its end and asserting on how it ended.
//! The CLI suite names this module `helpers`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_authlite");
pub const DEMO_SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-seed.json");
/// The cast's hash cost, as the `--pbkdf2-iterations` flag takes it.
pub const ITERATIONS: &str = "1000";
pub use super::cast::{ADA, ADA_PASSWORD};

// ---------------------------------------------------------------- runners

/// The binary with none of the caller's `AUTHLITE_*` or `RUST_LOG` variables,
/// so a developer's shell cannot change what a test sees.
pub fn bare_command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AUTHLITE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

/// `authlite --db DB`, with the binary's own hash cost.
pub fn command_without_cost(db: &Path) -> Command {
    let mut cmd = bare_command();
    cmd.arg("--db").arg(db);
    cmd
}

/// `authlite --db DB --pbkdf2-iterations 1000`, ready for a command.
pub fn command(db: &Path) -> Command {
    let mut cmd = command_without_cost(db);
    cmd.args(["--pbkdf2-iterations", ITERATIONS]);
    cmd
}

/// Runs `authlite --db DB --pbkdf2-iterations 1000 ARGS` with an empty stdin.
pub fn authlite(db: &Path, args: &[&str]) -> Output {
    let mut cmd = command(db);
    cmd.args(args);
    run(cmd, None)
}

/// Like [`authlite`], with `input` on stdin.
pub fn authlite_stdin(db: &Path, args: &[&str], input: &str) -> Output {
    let mut cmd = command(db);
    cmd.args(args);
    run(cmd, Some(input))
}

/// Like [`authlite`], asserting exit 0; returns stdout.
#[track_caller]
pub fn succeeds(db: &Path, args: &[&str]) -> String {
    let out = authlite(db, args);
    assert_exit(&out, 0);
    stdout(&out)
}

/// `user add --email EMAIL --name NAME EXTRA…`
pub fn user_add<'a>(email: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["user", "add", "--email", email, "--name", name];
    args.extend_from_slice(extra);
    args
}

/// Runs `cmd user add --email EMAIL --name NAME --password-stdin` with
/// `password` on stdin, which must succeed.
#[track_caller]
pub fn add_with_password(mut cmd: Command, email: &str, name: &str, password: &str) {
    cmd.args(user_add(email, name, &["--password-stdin"]));
    assert_exit(&run(cmd, Some(password)), 0);
}

/// Runs a prepared command to its end (at most a minute), capturing both streams.
pub fn run(mut cmd: Command, input: Option<&str>) -> Output {
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

pub fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for the child's exit; on timeout it is killed and `None` returned.
pub fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
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

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------- assertions

#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
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
pub fn assert_no_panic(text: &str) {
    for word in ["panicked", "RUST_BACKTRACE"] {
        assert!(!text.contains(word), "output contains {word:?}:\n{text}");
    }
}

/// Exit 1 with one line of explanation on stderr that mentions each of `names`.
#[track_caller]
pub fn assert_fails_naming(out: &Output, names: &[&str]) {
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

/// Exit 2 with a message on stderr; `what` names the invocation in a failure.
#[track_caller]
pub fn assert_usage_error(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "`{what}` should be a usage error\n--- stdout:\n{}\n--- stderr:\n{}",
        stdout(out),
        stderr(out)
    );
    assert_exit(out, 2);
    assert!(
        !stderr(out).trim().is_empty(),
        "a usage error must explain itself on stderr"
    );
}

/// Refused either way, as a usage error (2) or a runtime one (1), without a panic.
#[track_caller]
pub fn assert_refused(out: &Output) {
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "exit {:?}: {}",
        out.status.code(),
        stderr(out)
    );
    assert_no_panic(&stderr(out));
}
