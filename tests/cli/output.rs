//! Standard output that cannot be written (SPEC §1): a closed pipe ends the
//! command quietly, a full disk is one sentence and exit 1; never a panic.

use std::fs::File;
use std::process::{Command, Output, Stdio};

use crate::helpers::*;
use crate::state::*;

/// Runs the command with its standard output a pipe whose reading end is
/// closed before the command writes anything (`… | head -0`).
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

fn into_dev_full(mut cmd: Command) -> Output {
    let full = File::create("/dev/full").expect("open /dev/full");
    cmd.stdin(Stdio::null())
        .stdout(full)
        .output()
        .expect("run authlite")
}

fn with_args(cmd: Command, args: &[&str]) -> Command {
    let mut cmd = cmd;
    cmd.args(args);
    cmd
}

const COMMANDS: &[&[&str]] = &[
    &["user", "list"],
    &["user", "list", "--json"],
    &["keys", "list"],
    &["seed", DEMO_SEED],
    &["--help"],
];

#[test]
fn a_closed_pipe_on_stdout_ends_every_command_quietly() {
    let (_dir, db) = seeded();
    for args in COMMANDS {
        let out = into_closed_pipe(with_args(command(&db), args));
        assert_exit(&out, 0);
        assert_eq!(stderr(&out), "", "authlite {args:?} said something");
    }
}

#[test]
fn a_full_disk_on_stdout_is_one_sentence_and_exit_1() {
    let (_dir, db) = seeded();
    for args in COMMANDS {
        let out = into_dev_full(with_args(command(&db), args));
        assert_fails_naming(&out, &["standard output", "No space left on device"]);
    }
}
