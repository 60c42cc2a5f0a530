//! The admin API's changes to users (SPEC section 8): create, read, patch,
//! delete, password, link and unlock, each refusal leaving everything as it was.

use serde_json::{json, Value};

use crate::admin_users::{cast_by_email, emails, list};
use crate::helpers::*;

#[test]
fn an_admin_creates_a_user_who_can_sign_in() {
    let app = spawn_app();
    let admin = app.admin_token();
    let body = json!({"email": " New@Acme.TEST ", "name": "New One", "orgId": "acme",
        "roles": ["support", "billing"], "password": "a fine long pass phrase"});
    let resp = app.admin("POST", "/admin/users", &admin, Some(body));
    assert_eq!(resp.status, 201, "{}", resp.text);
    let user = &resp.json()["user"];
    assert_eq!(
        (
            &user["email"],
            &user["name"],
            &user["orgId"],
            &user["roles"],
            &user["status"]
        ),
        (
            &json!("new@acme.test"),
            &json!("New One"),
            &json!("acme"),
            &json!(["billing", "support"]),
            &json!("active")
        )
    );
    assert_eq!(
        (&user["hasPassword"], &user["lastLoginAt"]),
        (&json!(true), &Value::Null)
    );
    let tokens = app.login_ok("new@acme.test", "a fine long pass phrase");
    assert_eq!(
        claims(&tokens.access)["roles"],
        json!(["billing", "support"])
    );
    let bare = app.admin(
        "POST",
        "/admin/users",
        &admin,
        Some(json!({"email": "bare@acme.test", "name": "Bare", "status": "inactive"})),
    );
    assert_eq!(bare.status, 201, "{}", bare.text);
    assert_eq!(bare.json()["user"]["status"], "inactive");
    assert_eq!(bare.json()["user"]["orgId"], Value::Null);
    assert_eq!(bare.json()["user"]["hasPassword"], false);
}

#[test]
fn a_refused_creation_creates_nothing() {
    let app = spawn_app();
    let admin = app.admin_token();
    let cases = [
        (
            json!({"email": "ADA@acme.test", "name": "Again"}),
            409,
            "EMAIL_TAKEN",
        ),
        (
            json!({"email": "x@acme.test", "name": "X", "orgId": "nowhere"}),
            404,
            "ORG_NOT_FOUND",
        ),
        (
            json!({"email": "x@acme.test", "name": "X", "password": "password"}),
            400,
            "WEAK_PASSWORD",
        ),
        (
            json!({"email": "x@acme.test", "name": "X", "password": "x@acme.test"}),
            400,
            "WEAK_PASSWORD",
        ),
        (
            json!({"email": "x@acme.test", "name": "X", "invite": true}),
            501,
            "EMAIL_DISABLED",
        ),
        (
            json!({"email": "not an email", "name": "X"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            json!({"email": "x@acme.test", "name": "tab\there"}),
            400,
            "INVALID_REQUEST",
        ),
        (json!({"email": "x@acme.test"}), 400, "INVALID_REQUEST"),
        (
            json!({"email": "x@acme.test", "name": "X", "roles": ["Admin"]}),
            400,
            "INVALID_REQUEST",
        ),
        (
            json!({"email": "x@acme.test", "name": "X", "roles": "admin"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            json!({"email": "x@acme.test", "name": "X", "status": "gone"}),
            400,
            "INVALID_REQUEST",
        ),
    ];
    for (body, status, code) in cases {
        let resp = app.admin("POST", "/admin/users", &admin, Some(body.clone()));
        assert_eq!(resp.status, status, "{body}: {}", resp.text);
        resp.assert_error(status, code);
    }
    assert_eq!(emails(&list(&app, &admin, "")), cast_by_email());
}

#[test]
fn a_user_is_read_by_id_and_an_unknown_id_is_not_found() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    let resp = app.admin("GET", &format!("/admin/users/{bob}"), &admin, None);
    resp.assert_success();
    assert_eq!(resp.json()["user"]["email"], BOB);
    assert_eq!(
        app.send(Req::new("HEAD", &format!("/admin/users/{bob}")).bearer(&admin))
            .status,
        200
    );
    for path in ["/admin/users/nobody", "/admin/users/nobody/sessions"] {
        app.admin("GET", path, &admin, None)
            .assert_error(404, "USER_NOT_FOUND");
    }
    app.admin(
        "PATCH",
        "/admin/users/nobody",
        &admin,
        Some(json!({"name": "X"})),
    )
    .assert_error(404, "USER_NOT_FOUND");
    app.admin("DELETE", "/admin/users/nobody", &admin, None)
        .assert_error(404, "USER_NOT_FOUND");
}

#[test]
fn a_patch_changes_what_it_names_and_a_status_ends_every_session() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob_tokens = app.login_ok(BOB, BOB_PASSWORD);
    let bob = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob}");
    let resp = app.admin("PATCH", &path, &admin,
        Some(json!({"name": "Robert", "orgId": "acme", "roles": ["support"], "email": "Robert@Globex.test"})));
    resp.assert_success();
    let user = &resp.json()["user"];
    assert_eq!(
        (
            &user["email"],
            &user["name"],
            &user["orgId"],
            &user["roles"],
            &user["status"]
        ),
        (
            &json!("robert@globex.test"),
            &json!("Robert"),
            &json!("acme"),
            &json!(["support"]),
            &json!("active")
        )
    );
    app.me(&bob_tokens.access).assert_success();
    let resp = app.admin("PATCH", &path, &admin, Some(json!({"orgId": null})));
    assert_eq!(resp.json()["user"]["orgId"], Value::Null);
    let resp = app.admin("PATCH", &path, &admin, Some(json!({"status": "banned"})));
    assert_eq!(resp.json()["user"]["status"], "banned");
    app.me(&bob_tokens.access)
        .assert_error(401, "TOKEN_REVOKED");
    app.refresh(&bob_tokens.refresh)
        .assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn a_refused_patch_changes_nothing() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob}");
    let before = app.admin("GET", &path, &admin, None).json();
    let cases = [
        (json!({"name": "X", "email": ADA}), 409, "EMAIL_TAKEN"),
        (
            json!({"name": "X", "orgId": "nowhere"}),
            404,
            "ORG_NOT_FOUND",
        ),
        (
            json!({"name": "X", "status": "gone"}),
            400,
            "INVALID_REQUEST",
        ),
        (
            json!({"name": "X", "roles": ["no way"]}),
            400,
            "INVALID_REQUEST",
        ),
        (
            json!({"name": "X", "email": "nope"}),
            400,
            "INVALID_REQUEST",
        ),
        (json!({"name": 7}), 400, "INVALID_REQUEST"),
    ];
    for (body, status, code) in cases {
        app.admin("PATCH", &path, &admin, Some(body))
            .assert_error(status, code);
    }
    assert_eq!(app.admin("GET", &path, &admin, None).json(), before);
}

#[test]
fn a_delete_marks_the_user_deleted_and_erase_removes_them_for_good() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob_tokens = app.login_ok(BOB, BOB_PASSWORD);
    let bob = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob}");
    app.admin("DELETE", &format!("{path}?erase=maybe"), &admin, None)
        .assert_error(400, "INVALID_REQUEST");
    app.me(&bob_tokens.access).assert_success();
    app.admin("DELETE", &path, &admin, None).assert_success();
    assert_eq!(
        app.admin("GET", &path, &admin, None).json()["user"]["status"],
        "deleted"
    );
    app.refresh(&bob_tokens.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.login(BOB, BOB_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
    app.admin("DELETE", &format!("{path}?erase=true"), &admin, None)
        .assert_success();
    app.admin("GET", &path, &admin, None)
        .assert_error(404, "USER_NOT_FOUND");
    let again = app.admin(
        "POST",
        "/admin/users",
        &admin,
        Some(json!({"email": BOB, "name": "Bob again"})),
    );
    assert_eq!(again.status, 201, "{}", again.text);
    assert_ne!(again.json()["user"]["id"], json!(bob));
}

#[test]
fn an_admin_sets_a_password_under_the_policy_and_ends_sessions_and_links() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob_tokens = app.login_ok(BOB, BOB_PASSWORD);
    let link = app.link_token(BOB, &[]);
    let path = format!("/admin/users/{}/password", app.user_id(&admin, BOB));
    for weak in ["short", "password", BOB] {
        app.admin("POST", &path, &admin, Some(json!({"password": weak})))
            .assert_error(400, "WEAK_PASSWORD");
    }
    app.admin("POST", &path, &admin, Some(json!({})))
        .assert_error(400, "INVALID_REQUEST");
    app.me(&bob_tokens.access).assert_success();
    app.admin(
        "POST",
        &path,
        &admin,
        Some(json!({"password": "a brand new phrase"})),
    )
    .assert_success();
    app.me(&bob_tokens.access)
        .assert_error(401, "TOKEN_REVOKED");
    app.login(BOB, BOB_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    app.login_ok(BOB, "a brand new phrase");
    app.reset_password(&link, "yet another phrase")
        .assert_error(401, "INVALID_TOKEN");
    app.admin(
        "POST",
        "/admin/users/nobody/password",
        &admin,
        Some(json!({"password": "a brand new phrase"})),
    )
    .assert_error(404, "USER_NOT_FOUND");
}

#[test]
fn an_admin_makes_a_set_password_link_as_the_cli_does() {
    let app = spawn_app();
    let admin = app.admin_token();
    let invited = app.user_id(&admin, INVITED);
    let path = format!("/admin/users/{invited}/link");
    let resp = app.admin("POST", &path, &admin, Some(json!({"ttl": 600})));
    resp.assert_success();
    let body = resp.json();
    let url = body["url"].as_str().unwrap();
    let token = url
        .strip_prefix("http://127.0.0.1:8080/#set-password=")
        .unwrap_or_else(|| panic!("{url}"));
    assert!(
        (body["expiresAt"].as_i64().unwrap() - now() - 600).abs() <= 2,
        "{body}"
    );
    // No body at all: the default lifetime; a newer link replaces the first.
    let second = app.send(Req::new("POST", &path).bearer(&admin));
    second.assert_success();
    assert!((second.json()["expiresAt"].as_i64().unwrap() - now() - 86_400).abs() <= 2);
    app.reset_password(token, "a fine new phrase")
        .assert_error(401, "INVALID_TOKEN");
    app.admin("POST", &path, &admin, Some(json!({"send": true})))
        .assert_error(501, "EMAIL_DISABLED");
    for ttl in [json!(0), json!(315_360_001), json!(-5), json!("long")] {
        app.admin("POST", &path, &admin, Some(json!({"ttl": ttl})))
            .assert_error(400, "INVALID_REQUEST");
    }
    let deleted = app.user_id(&admin, DELETED);
    app.admin(
        "POST",
        &format!("/admin/users/{deleted}/link"),
        &admin,
        None,
    )
    .assert_error(404, "USER_NOT_FOUND");
}

#[test]
fn a_locked_account_shows_until_when_and_unlock_clears_it() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    for _ in 0..5 {
        app.login(BOB, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    app.login(BOB, BOB_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    let path = format!("/admin/users/{bob}");
    let locked = app.admin("GET", &path, &admin, None).json()["user"]["lockedUntil"].clone();
    assert!(locked.as_i64().is_some_and(|t| t > now()), "{locked}");
    app.admin("POST", &format!("{path}/unlock"), &admin, None)
        .assert_success();
    assert_eq!(
        app.admin("GET", &path, &admin, None).json()["user"]["lockedUntil"],
        Value::Null
    );
    app.login_ok(BOB, BOB_PASSWORD);
    app.admin("POST", "/admin/users/nobody/unlock", &admin, None)
        .assert_error(404, "USER_NOT_FOUND");
}
