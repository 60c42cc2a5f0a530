//! `GET /admin/audit` (SPEC §8): who may read it, its filters, its pages
//! while events keep coming, and every query it refuses.

use authlite::settings::Settings;
use authlite::store::{AuditEvent, Database};
use serde_json::{json, Value};

use crate::audit_admin::audit_page;
use crate::helpers::*;

/// Appends events as the store would, at the times given: their ids.
fn append(app: &TestApp, events: &[AuditEvent]) -> Vec<i64> {
    let db = Database::open(&app.db, Default::default()).expect("open the database");
    db.transaction(|s| events.iter().map(|e| s.append_event(e)).collect())
        .expect("append")
}

/// A server whose upkeep keeps events of 1970, the times these tests write
/// (the default retention would prune them at any moment of the test).
fn keeping_old_events() -> TestApp {
    spawn_app_with(Settings {
        audit_retention: 36_500,
        ..test_settings()
    })
}

fn ids(page: &Value) -> Vec<i64> {
    let events = page["events"].as_array().expect("events");
    events
        .iter()
        .map(|e| e["id"].as_i64().expect("an id"))
        .collect()
}

fn ats(page: &Value) -> Vec<u64> {
    let events = page["events"].as_array().expect("events");
    events
        .iter()
        .map(|e| e["at"].as_u64().expect("at"))
        .collect()
}

fn key_with(app: &TestApp, admin: &str, scope: &str) -> String {
    let body = json!({"name": "k", "scopes": [scope]});
    let made = app.admin("POST", "/admin/api-keys", admin, Some(body));
    assert_eq!(made.status, 201, "{}", made.text);
    made.json()["key"].as_str().expect("a key").to_string()
}

#[test]
fn only_an_admin_or_a_key_with_audit_read_reads_the_log() {
    let app = spawn_app();
    let admin = app.admin_token();
    app.send(Req::new("GET", "/admin/audit"))
        .assert_error(401, "MISSING_TOKEN");
    let bob = app.login_ok(BOB, BOB_PASSWORD).access;
    app.admin("GET", "/admin/audit", &bob, None)
        .assert_error(403, "FORBIDDEN");
    // Each scope against a read of users and of the log: (scope, users, audit).
    let matrix = [
        ("users:read", 200, 403),
        ("users:write", 200, 403),
        ("audit:read", 403, 200),
        ("clients:write", 403, 403),
    ];
    for (scope, users, audit) in matrix {
        let key = key_with(&app, &admin, scope);
        let answers =
            ["/admin/users", "/admin/audit"].map(|path| app.admin("GET", path, &key, None).status);
        assert_eq!(answers, [users, audit], "{scope}");
    }
    assert_eq!(app.admin("GET", "/admin/audit", &admin, None).status, 200);
    let head = app.send(Req::new("HEAD", "/admin/audit").bearer(&admin));
    assert_eq!(head.status, 200);
    let post = app.send(Req::new("POST", "/admin/audit").bearer(&admin));
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, HEAD"))
    );
}

#[test]
fn the_filters_pick_by_user_type_and_time_both_ends_included() {
    let app = keeping_old_events();
    let admin = app.admin_token();
    let event =
        |kind: &str, user: &str, at: u64| AuditEvent::new(kind, "cli", at, json!({})).user(user);
    append(
        &app,
        &[
            event("key.rotated", "u-1", 1000),
            event("key.retired", "u-1", 2000),
            event("key.rotated", "u-2", 3000),
            event("key.rotated", "u-1", 4000),
        ],
    );
    let at = |query: &str| ats(&audit_page(&app, &admin, query));
    assert_eq!(at("?userId=u-1"), [4000, 2000, 1000]);
    assert_eq!(at("?type=key.rotated&until=3000"), [3000, 1000]);
    assert_eq!(at("?userId=u-1&type=key.rotated"), [4000, 1000]);
    assert_eq!(at("?userId=u-1&since=2000&until=4000"), [4000, 2000]);
    assert_eq!(at("?since=1001&until=2999"), [2000]);
    assert_eq!(at("?userId=u-3"), Vec::<u64>::new());
    assert_eq!(at("?since=4000&until=1000"), Vec::<u64>::new());
    let page = audit_page(&app, &admin, "?type=key.retired");
    let expected = json!({"success": true, "nextCursor": null, "events": [{
        "id": page["events"][0]["id"], "at": 2000, "type": "key.retired", "userId": "u-1",
        "actor": "cli", "ip": null, "userAgent": null, "detail": {}}]});
    assert_eq!(page, expected);
}

#[test]
fn pages_follow_the_cursor_without_a_gap_or_a_repeat_while_events_are_added() {
    let app = keeping_old_events();
    let admin = app.admin_token();
    let old: Vec<AuditEvent> = (0..11)
        .map(|n| AuditEvent::new("key.rotated", "cli", 100 + n, json!({ "n": n })))
        .collect();
    append(&app, &old);
    let everything = ids(&audit_page(&app, &admin, "?limit=200"));
    assert!(everything.len() > 11, "{everything:?}");
    let (mut seen, mut added) = (Vec::new(), 0);
    let mut page = audit_page(&app, &admin, "?limit=4");
    loop {
        assert!(ids(&page).len() <= 4);
        seen.extend(ids(&page));
        // Newer events, between the pages, are not on the later ones.
        append(
            &app,
            &[AuditEvent::new("key.retired", "cli", 999, json!({}))],
        );
        added += 1;
        match page["nextCursor"].as_str() {
            Some(cursor) => page = audit_page(&app, &admin, &format!("?limit=4&cursor={cursor}")),
            None => break,
        }
    }
    assert_eq!(
        (seen, added),
        (everything.clone(), everything.len().div_ceil(4))
    );
    let default = audit_page(&app, &admin, "");
    let all = everything.len() + added;
    assert!(all < 50, "{all}");
    assert_eq!(default["events"].as_array().map(Vec::len), Some(all));
}

#[test]
fn a_bad_query_is_400_invalid_request() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bad = [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=ten",
        "limit=1.5",
        "cursor=abc",
        "cursor=-5",
        "cursor=1234567890123456789",
        "cursor=",
        "since=-1",
        "since=yesterday",
        "since=1.5",
        "until=253402300800",
        "until=99999999999999999999",
        "type=login",
        "type=LOGIN.FAILED",
        "type=",
    ];
    for query in bad {
        let resp = app.admin("GET", &format!("/admin/audit?{query}"), &admin, None);
        assert_eq!(
            (resp.status, resp.error_shape()),
            (400, Ok("INVALID_REQUEST".to_string())),
            "{query}: {}",
            resp.text
        );
    }
    for fine in [
        "limit=1",
        "limit=200",
        "cursor=0",
        "since=0",
        "until=253402300799",
    ] {
        let page = audit_page(&app, &admin, &format!("?{fine}"));
        assert_eq!(page["success"], true, "{fine}");
    }
}
