//! What an operator's `user set-password` and `user set-status` do to a
//! running server's sessions and outstanding set-password links.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::*;

const NEW_PASSWORD: &str = "the admin's new pass phrase";

/// `authlite user set-password EMAIL --password-stdin` on the app's database.
pub fn cli_set_password(app: &TestApp, email: &str, password: &str) {
    let mut child = Command::new(bin())
        .args([
            "--db",
            &app.db,
            "--pbkdf2-iterations",
            &ITERATIONS.to_string(),
        ])
        .args(["user", "set-password", email, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the authlite binary");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(password.as_bytes()).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("wait for authlite");
    assert!(
        out.status.success(),
        "set-password failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn set_password_from_the_cli_kills_the_users_link_and_sessions() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let second = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    let link = app.link_token(ADA, &[]);

    cli_set_password(&app, ADA, NEW_PASSWORD);

    app.reset_password(&link, "the link holder's own choice")
        .assert_error(401, "INVALID_TOKEN");
    for session in [&first, &second] {
        app.refresh(&session.refresh)
            .assert_error(401, "TOKEN_REVOKED");
        app.sessions(&session.access)
            .assert_error(401, "TOKEN_REVOKED");
    }
    app.login(ADA, ADA_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    app.login_ok(ADA, NEW_PASSWORD);
    app.refresh_ok(&bob.refresh);
}

#[test]
fn banning_a_user_from_the_cli_kills_their_link() {
    let app = spawn_app();
    let link = app.link_token(ADA, &[]);

    app.cli(&["user", "set-status", ADA, "banned"]);

    app.reset_password(&link, "the link holder's own choice")
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn a_deleted_users_link_does_not_come_back_with_the_account() {
    let app = spawn_app();
    let link = app.link_token(ADA, &[]);

    app.cli(&["user", "set-status", ADA, "deleted"]);
    app.reset_password(&link, "the link holder's own choice")
        .assert_error(401, "USER_NOT_FOUND");
    app.cli(&["user", "set-status", ADA, "active"]);

    app.reset_password(&link, "the link holder's own choice")
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn deactivating_a_user_keeps_their_link() {
    let app = spawn_app();
    let link = app.link_token(ADA, &[]);

    app.cli(&["user", "set-status", ADA, "inactive"]);

    let resp = app.reset_password(&link, "the link holder's own choice");
    resp.assert_success();
}
