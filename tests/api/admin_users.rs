//! The admin API's users (SPEC section 8): who may call it, and the list and
//! its pages.

use serde_json::{json, Value};

use crate::helpers::*;

pub fn emails(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users: {page}"))
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

pub fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app.admin("GET", &format!("/admin/users{query}"), token, None);
    resp.assert_success();
    resp.json()
}

const CAST: [&str; 7] = [ADA, BOB, DELETED, DORMANT, BANNED, INVITED, SLEEPY];

pub fn cast_by_email() -> Vec<String> {
    let mut all: Vec<String> = CAST.iter().map(|e| e.to_string()).collect();
    all.sort();
    all
}

#[test]
fn callers_without_a_live_admin_token_are_refused() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    app.send(Req::new("GET", "/admin/users"))
        .assert_error(401, "MISSING_TOKEN");
    app.admin("GET", "/admin/users", "not.a.token", None)
        .assert_error(401, "INVALID_TOKEN");
    app.admin("GET", "/admin/users", &bob.refresh, None)
        .assert_error(401, "INVALID_TOKEN");
    app.admin("GET", "/admin/users", &bob.access, None)
        .assert_error(403, "FORBIDDEN");
    let create = json!({"email": "new@acme.test", "name": "New"});
    app.admin("POST", "/admin/users", &bob.access, Some(create.clone()))
        .assert_error(403, "FORBIDDEN");
    app.send(Req::new("POST", "/admin/users").json(&create))
        .assert_error(401, "MISSING_TOKEN");
    app.logout_bearer(&admin).assert_success();
    app.admin("GET", "/admin/users", &admin, None)
        .assert_error(401, "TOKEN_REVOKED");
    app.admin("POST", "/admin/users", &admin, Some(create))
        .assert_error(401, "TOKEN_REVOKED");
    let listed = list(&app, &app.login_ok(ADA, ADA_PASSWORD).access, "");
    assert!(!emails(&listed).contains(&"new@acme.test".to_string()));
}

#[test]
fn a_role_removed_closes_the_admin_api_at_once() {
    let app = spawn_app();
    let admin = app.admin_token();
    let ada = app.user_id(&admin, ADA);
    let patch = json!({"roles": []});
    let resp = app.admin("PATCH", &format!("/admin/users/{ada}"), &admin, Some(patch));
    resp.assert_success();
    app.admin("GET", "/admin/users", &admin, None)
        .assert_error(403, "FORBIDDEN");
}

#[test]
fn the_list_gives_every_user_by_email_as_an_admin_sees_them() {
    let app = spawn_app();
    let admin = app.admin_token();
    let page = list(&app, &admin, "");
    assert_eq!(emails(&page), cast_by_email());
    assert_eq!(page["nextCursor"], Value::Null);
    let ada = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == ADA)
        .unwrap()
        .clone();
    let mut keys: Vec<&str> = ada
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
            "email",
            "hasPassword",
            "id",
            "lastLoginAt",
            "lockedUntil",
            "mfa",
            "name",
            "orgId",
            "roles",
            "status",
            "updatedAt"
        ]
    );
    assert_eq!(
        (&ada["name"], &ada["orgId"], &ada["roles"], &ada["status"]),
        (
            &json!(ADA_NAME),
            &json!("acme"),
            &json!(["admin"]),
            &json!("active")
        )
    );
    assert_eq!(ada["hasPassword"], true);
    assert_eq!(ada["lockedUntil"], Value::Null);
    assert_eq!(
        ada["mfa"],
        json!({"totp": false, "recoveryCodesLeft": 0, "passkeys": 0})
    );
    let last_login = ada["lastLoginAt"].as_i64().expect("Ada signed in");
    assert!((now() - last_login).abs() <= 5, "{last_login}");
    assert!(ada["updatedAt"].as_i64() >= ada["createdAt"].as_i64());
    let invited = app.admin(
        "GET",
        &format!("/admin/users/{}", app.user_id(&admin, INVITED)),
        &admin,
        None,
    );
    invited.assert_success();
    assert_eq!(invited.json()["user"]["hasPassword"], false);
    assert_eq!(invited.json()["user"]["lastLoginAt"], Value::Null);
}

#[test]
fn the_list_filters_by_query_status_org_and_role() {
    let app = spawn_app();
    let admin = app.admin_token();
    assert_eq!(emails(&list(&app, &admin, "?query=GLOBEX")), [BOB]);
    // The name, in any case: "Bøb Büilder".
    assert_eq!(emails(&list(&app, &admin, "?query=B%C3%BCILDER")), [BOB]);
    assert_eq!(emails(&list(&app, &admin, "?query=sleep")), [SLEEPY]);
    assert_eq!(emails(&list(&app, &admin, "?status=banned")), [BANNED]);
    assert_eq!(emails(&list(&app, &admin, "?orgId=globex")), [BOB]);
    assert_eq!(emails(&list(&app, &admin, "?role=admin")), [ADA]);
    assert_eq!(
        emails(&list(&app, &admin, "?status=inactive&query=dorm")),
        [DORMANT]
    );
    assert!(emails(&list(&app, &admin, "?query=%25")).is_empty());
    let long = "x".repeat(10 * 1024);
    assert!(emails(&list(&app, &admin, &format!("?query={long}"))).is_empty());
}

#[test]
fn bad_limits_cursors_statuses_and_roles_are_refused() {
    let app = spawn_app();
    let admin = app.admin_token();
    for query in [
        "?limit=0",
        "?limit=201",
        "?limit=abc",
        "?limit=-1",
        "?status=gone",
        "?status=",
        "?role=Admin",
        "?cursor=***",
        "?cursor=%FF%FE",
        "?cursor=_w",
    ] {
        let resp = app.admin("GET", &format!("/admin/users{query}"), &admin, None);
        assert_eq!(resp.status, 400, "{query}: {}", resp.text);
        resp.assert_error(400, "INVALID_REQUEST");
    }
    // PostgreSQL refuses a NUL in text; no email, name or org id holds one,
    // so on both engines such a filter finds nobody (not a 500), and a
    // cursor ends at its first NUL.
    for query in ["?query=a%00b", "?orgId=ac%00me"] {
        assert_eq!(
            list(&app, &admin, query),
            serde_json::json!({"success": true, "users": [], "nextCursor": null}),
            "{query}"
        );
    }
    assert_eq!(
        list(&app, &admin, "?cursor=6100"),
        list(&app, &admin, "?cursor=61")
    );
    assert_eq!(
        list(&app, &admin, "?limit=200")["users"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
}

#[test]
fn pages_neither_repeat_nor_skip_users_added_between_them() {
    let app = spawn_app();
    let admin = app.admin_token();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut added = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_string(),
        };
        let page = list(&app, &admin, &query);
        let got = emails(&page);
        assert!(got.len() <= 2);
        seen.extend(got);
        // One user sorts before every page, one after the last seen so far.
        for email in [
            format!("aaa{added}@new.test"),
            format!("zzz{added}@new.test"),
        ] {
            let body = json!({"email": email, "name": "New"});
            assert_eq!(
                app.admin("POST", "/admin/users", &admin, Some(body)).status,
                201
            );
        }
        added += 1;
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let mut expected = cast_by_email();
    expected.extend((0..added).map(|i| format!("zzz{i}@new.test")));
    expected.sort();
    // Every zzz user sorted after the cursor when it was added, except the last.
    expected.retain(|e| *e != format!("zzz{}@new.test", added - 1));
    assert_eq!(seen, expected);
}
