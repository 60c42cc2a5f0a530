//! Defects found from outside (issue 19): a closed pipe ended a command
//! with `process::exit`, before the log's last lines were out.

use std::process::{Command, Output, Stdio};

use crate::helpers::*;
use crate::state::*;

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
