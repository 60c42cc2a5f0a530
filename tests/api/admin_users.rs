//! The admin API's users (SPEC section 8): who may call it, the list and its
//! pages, and each change, with what a failed change leaves alone.

use serde_json::{json, Value};

use crate::helpers::*;

fn emails(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users: {page}"))
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app.admin("GET", &format!("/admin/users{query}"), token, None);
    resp.assert_success();
    resp.json()
}

const CAST: [&str; 7] = [ADA, BOB, DELETED, DORMANT, BANNED, INVITED, SLEEPY];

fn cast_by_email() -> Vec<String> {
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
            json!({"email": "x@acme.test", "name": " "}),
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
