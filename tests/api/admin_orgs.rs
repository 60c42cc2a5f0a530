//! The admin API's orgs (SPEC section 8).

use serde_json::{json, Value};

use crate::helpers::*;

fn orgs(app: &TestApp, token: &str) -> Value {
    let resp = app.admin("GET", "/admin/orgs", token, None);
    resp.assert_success();
    resp.json()["orgs"].clone()
}

#[test]
fn orgs_are_listed_with_their_users_deleted_ones_aside() {
    let app = spawn_app();
    let admin = app.admin_token();
    assert_eq!(
        orgs(&app, &admin),
        json!([
            {"id": "acme", "name": "Acme Inc", "users": 5},
            {"id": "globex", "name": "Globex", "users": 1}
        ])
    );
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    app.admin("GET", "/admin/orgs", &bob.access, None)
        .assert_error(403, "FORBIDDEN");
    app.send(Req::new("GET", "/admin/orgs"))
        .assert_error(401, "MISSING_TOKEN");
}

#[test]
fn an_org_is_created_renamed_and_removed() {
    let app = spawn_app();
    let admin = app.admin_token();
    let resp = app.admin(
        "POST",
        "/admin/orgs",
        &admin,
        Some(json!({"id": "initech", "name": "Initech"})),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        resp.json(),
        json!({"success": true, "org": {"id": "initech", "name": "Initech", "users": 0}})
    );
    let resp = app.admin(
        "PATCH",
        "/admin/orgs/acme",
        &admin,
        Some(json!({"name": "Acme Corp"})),
    );
    resp.assert_success();
    assert_eq!(
        resp.json()["org"],
        json!({"id": "acme", "name": "Acme Corp", "users": 5})
    );
    app.admin("DELETE", "/admin/orgs/initech", &admin, None)
        .assert_success();
    app.admin("DELETE", "/admin/orgs/initech", &admin, None)
        .assert_error(404, "ORG_NOT_FOUND");
    let ids: Vec<Value> = orgs(&app, &admin)
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(ids, [json!("acme"), json!("globex")]);
}

#[test]
fn refused_org_changes_change_nothing() {
    let app = spawn_app();
    let admin = app.admin_token();
    let before = orgs(&app, &admin);
    let cases = [
        (
            "POST",
            "/admin/orgs",
            json!({"id": "acme", "name": "Other"}),
            409,
            "ORG_EXISTS",
        ),
        (
            "POST",
            "/admin/orgs",
            json!({"id": "", "name": "Blank"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/admin/orgs",
            json!({"id": "x", "name": ""}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/admin/orgs",
            json!({"id": "x"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "POST",
            "/admin/orgs",
            json!({"id": "x".repeat(201), "name": "Long"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            "PATCH",
            "/admin/orgs/nowhere",
            json!({"name": "X"}),
            404,
            "ORG_NOT_FOUND",
        ),
        (
            "PATCH",
            "/admin/orgs/acme",
            json!({"name": "\u{7}"}),
            400,
            "INVALID_REQUEST",
        ),
    ];
    for (method, path, body, status, code) in cases {
        app.admin(method, path, &admin, Some(body))
            .assert_error(status, code);
    }
    app.admin("DELETE", "/admin/orgs/acme", &admin, None)
        .assert_error(409, "ORG_NOT_EMPTY");
    app.admin("DELETE", "/admin/orgs/nowhere", &admin, None)
        .assert_error(404, "ORG_NOT_FOUND");
    assert_eq!(orgs(&app, &admin), before);
}

#[test]
fn an_org_whose_users_are_all_deleted_can_be_removed() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    app.admin("DELETE", &format!("/admin/users/{bob}"), &admin, None)
        .assert_success();
    app.admin("DELETE", "/admin/orgs/globex", &admin, None)
        .assert_success();
    let user = app.admin("GET", &format!("/admin/users/{bob}"), &admin, None);
    assert_eq!(user.json()["user"]["orgId"], Value::Null);
    assert_eq!(user.json()["user"]["status"], "deleted");
}
