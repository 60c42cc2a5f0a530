//! `DELETE /admin/users/{id}?erase=true` (SPEC §8): the user and everything
//! of theirs goes for good; their events stay under the id, and no byte of
//! the database (on SQLite: the file and its log) holds their email.

use serde_json::json;

use crate::audit_admin::{audit_page, by, call, shown};
use crate::audit_secrets::{contains, database_bytes};
use crate::helpers::*;

const RENAMED: &str = "robert@globex.test";

#[test]
fn an_erased_user_leaves_their_id_in_the_log_and_their_email_nowhere() {
    let app = spawn_app();
    let admin = app.admin_token();
    let (ada, bob) = (app.user_id(&admin, ADA), app.user_id(&admin, BOB));
    // Failures recorded and cleared, a sign-in, an address changed and
    // failed against too, a live session: every place an email is written.
    for _ in 0..2 {
        app.login(BOB, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    let first = app.login_ok(BOB, BOB_PASSWORD);
    let rename = json!({"email": RENAMED});
    call(
        &app,
        "PATCH",
        &format!("/admin/users/{bob}"),
        &admin,
        Some(rename),
    )
    .assert_success();
    app.login(RENAMED, "wrong")
        .assert_error(401, "INVALID_PASSWORD");
    let live = app.login_ok(RENAMED, BOB_PASSWORD);
    let before = audit_page(&app, &admin, &format!("?userId={bob}&limit=200"));
    let events_before = before["events"].as_array().map(Vec::len).unwrap_or(0);

    call(
        &app,
        "DELETE",
        &format!("/admin/users/{bob}?erase=true"),
        &admin,
        None,
    )
    .assert_success();

    app.admin("GET", &format!("/admin/users/{bob}"), &admin, None)
        .assert_error(404, "USER_NOT_FOUND");
    let page = audit_page(&app, &admin, &format!("?userId={bob}&limit=200"));
    let events = page["events"].as_array().expect("events");
    assert_eq!(events.len(), events_before + 3, "{page}");
    let actor = format!("user:{ada}");
    let mut sids = [first.sid(), live.sid()];
    sids.sort();
    let ended = sids.map(|sid| {
        let detail = json!({"sid": sid, "reason": "admin"});
        by(&actor, "session.revoked", Some(&bob), detail)
    });
    let mut newest = shown(&page)[..3].to_vec();
    newest[1..].sort_by_key(|e| e["detail"]["sid"].as_str().map(String::from));
    let erased = by(&actor, "user.erased", Some(&bob), json!({}));
    assert_eq!(newest, [&[erased][..], &ended[..]].concat());
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "login.failed")
        .map(|e| e["detail"].clone())
        .collect();
    let gone = json!({"email": null, "code": "INVALID_PASSWORD"});
    assert_eq!(failed, [gone.clone(), gone.clone(), gone]);

    let log = audit_page(&app, &admin, "?limit=200").to_string();
    let stored = database_bytes(&app);
    for email in [BOB, RENAMED] {
        assert!(!log.contains(email), "the log holds {email}: {log}");
        assert!(
            !contains(&stored, email.as_bytes()),
            "the database holds {email}"
        );
    }
    // The scan sees stored emails: the other users' are there.
    assert!(contains(&stored, ADA.as_bytes()));
    app.login(RENAMED, BOB_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn erase_is_true_or_false_and_an_unknown_user_is_404() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob}?erase=yes");
    call(&app, "DELETE", &path, &admin, None).assert_error(400, "INVALID_REQUEST");
    call(
        &app,
        "DELETE",
        "/admin/users/nobody?erase=true",
        &admin,
        None,
    )
    .assert_error(404, "USER_NOT_FOUND");
    let page = audit_page(&app, &admin, "?type=user.erased");
    assert_eq!(page["events"], json!([]));
    app.login_ok(BOB, BOB_PASSWORD);
}
