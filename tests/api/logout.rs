//! POST /user/logout obeys only a live session: a token of an ended session, or
//! a refresh token `/user/refresh` would not take, is refused and ends nothing.

use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;

fn logout_all_by_refresh(app: &TestApp, refresh_token: &str) -> Resp {
    app.post_json(
        "/user/logout",
        &json!({ "refreshToken": refresh_token, "all": true }),
    )
}

/// Every session in `alive` still refreshes (each one's newest token).
#[track_caller]
fn still_alive(app: &TestApp, alive: &[&Tokens]) {
    for tokens in alive {
        app.me(&tokens.access).assert_success();
        app.refresh_ok(&tokens.refresh);
    }
}

#[test]
fn a_rotated_refresh_token_cannot_log_out_everywhere() {
    let app = spawn_app_with(Settings {
        reuse_grace: 0,
        ..test_settings()
    });
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    let rotated = app.refresh_ok(&first.refresh);
    past_a_grace_of_zero();

    logout_all_by_refresh(&app, &first.refresh).assert_error(401, "TOKEN_REVOKED");
    app.logout_refresh(&first.refresh)
        .assert_error(401, "TOKEN_REVOKED");

    still_alive(&app, &[&rotated, &other]);
}

#[test]
fn a_refresh_token_spent_within_the_grace_still_logs_out() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    app.refresh_ok(&first.refresh);

    logout_all_by_refresh(&app, &first.refresh).assert_success();

    app.me(&other.access).assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn tokens_of_a_logged_out_session_cannot_log_out_everywhere() {
    let app = spawn_app();
    let ended = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    app.logout_bearer(&ended.access).assert_success();

    logout_all_by_refresh(&app, &ended.refresh).assert_error(401, "TOKEN_REVOKED");
    app.logout_all(&ended.access)
        .assert_error(401, "TOKEN_REVOKED");
    app.logout_bearer(&ended.access)
        .assert_error(401, "TOKEN_REVOKED");

    still_alive(&app, &[&other]);
}

#[test]
fn tokens_of_a_session_ended_by_a_password_change_cannot_log_out_everywhere() {
    let app = spawn_app();
    let ended = app.login_ok(ADA, ADA_PASSWORD);
    let kept = app.login_ok(ADA, ADA_PASSWORD);
    app.change_password(&kept.access, ADA_PASSWORD, "a brand new pass phrase")
        .assert_success();

    logout_all_by_refresh(&app, &ended.refresh).assert_error(401, "TOKEN_REVOKED");
    app.logout_all(&ended.access)
        .assert_error(401, "TOKEN_REVOKED");

    still_alive(&app, &[&kept]);
}

#[test]
fn a_token_of_a_session_revoked_by_reuse_detection_cannot_log_out_everywhere() {
    let app = spawn_app_with(Settings {
        reuse_grace: 0,
        ..test_settings()
    });
    let stolen = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    let rotated = app.refresh_ok(&stolen.refresh);
    past_a_grace_of_zero();
    app.refresh(&stolen.refresh)
        .assert_error(401, "TOKEN_REUSED");

    logout_all_by_refresh(&app, &rotated.refresh).assert_error(401, "TOKEN_REVOKED");
    app.logout_all(&rotated.access)
        .assert_error(401, "TOKEN_REVOKED");

    still_alive(&app, &[&other]);
}

#[test]
fn the_newest_refresh_token_logs_out_everywhere() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    let newest = app.refresh_ok(&first.refresh);

    logout_all_by_refresh(&app, &newest.refresh).assert_success();

    app.refresh(&newest.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.refresh(&other.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    still_alive(&app, &[&bob]);
}
