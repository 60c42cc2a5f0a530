//! The admin API's sessions (SPEC section 8): a user's live sessions, ending
//! them all or one.

use serde_json::Value;

use crate::helpers::*;

#[test]
fn an_admin_lists_a_users_live_sessions_without_current() {
    let app = spawn_app();
    let admin = app.admin_token();
    let first = app.login_ok(BOB, BOB_PASSWORD);
    let second = app.login_ok(BOB, BOB_PASSWORD);
    app.logout_bearer(&first.access).assert_success();
    let bob = app.user_id(&admin, BOB);
    let resp = app.admin("GET", &format!("/admin/users/{bob}/sessions"), &admin, None);
    resp.assert_success();
    let sessions = resp.json()["sessions"].clone();
    let list = sessions.as_array().unwrap();
    assert_eq!(list.len(), 1, "{sessions}");
    assert_eq!(list[0]["sid"], second.sid());
    let mut keys: Vec<&str> = list[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "expiresAt",
            "ip",
            "lastUsedAt",
            "sid",
            "userAgent"
        ]
    );
    let head = Req::new("HEAD", "/admin/users/x/sessions").bearer(&admin);
    assert_eq!(app.send(head).status, 404);
}

#[test]
fn an_admin_ends_one_session_by_its_id() {
    let app = spawn_app();
    let admin = app.admin_token();
    let one = app.login_ok(BOB, BOB_PASSWORD);
    let other = app.login_ok(BOB, BOB_PASSWORD);
    let path = format!("/admin/sessions/{}", one.sid());
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    app.admin("DELETE", &path, &bob.access, None)
        .assert_error(403, "FORBIDDEN");
    app.me(&one.access).assert_success();
    app.admin("DELETE", &path, &admin, None).assert_success();
    app.me(&one.access).assert_error(401, "TOKEN_REVOKED");
    app.me(&other.access).assert_success();
    app.admin("DELETE", &path, &admin, None)
        .assert_error(404, "SESSION_NOT_FOUND");
    app.admin("DELETE", "/admin/sessions/nothing", &admin, None)
        .assert_error(404, "SESSION_NOT_FOUND");
    let wrong = app.send(Req::new("GET", &path).bearer(&admin));
    wrong.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(wrong.header("Allow"), Some("DELETE"));
}

#[test]
fn an_admin_ends_every_session_of_a_user_and_no_one_elses() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob_sessions = [
        app.login_ok(BOB, BOB_PASSWORD),
        app.login_ok(BOB, BOB_PASSWORD),
    ];
    let bob = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob}/sessions");
    app.admin("DELETE", &path, &admin, None).assert_success();
    for tokens in &bob_sessions {
        app.refresh(&tokens.refresh)
            .assert_error(401, "TOKEN_REVOKED");
    }
    let listed = app.admin("GET", &path, &admin, None).json();
    assert_eq!(listed["sessions"], Value::Array(vec![]));
    app.me(&admin).assert_success();
    app.admin("DELETE", "/admin/users/nobody/sessions", &admin, None)
        .assert_error(404, "USER_NOT_FOUND");
}
