//! The events the admin API writes (SPEC §8), read back through
//! `GET /admin/audit`: each with the admin or key that made it, the client's
//! address and user agent, and its detail.

use serde_json::{json, Value};

use crate::helpers::*;

pub const UA: &str = "admin-console/2.0";

/// An admin call with a user agent.
pub fn call(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
    let req = Req::new(method, path)
        .bearer(token)
        .header("user-agent", UA);
    app.send(match body {
        Some(body) => req.json(&body),
        None => req,
    })
}

/// `GET /admin/audit QUERY`: the page, asserted a success.
#[track_caller]
pub fn audit_page(app: &TestApp, token: &str, query: &str) -> Value {
    let resp = app.admin("GET", &format!("/admin/audit{query}"), token, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()
}

/// The events of a page without `id` and `at` (checked to be recent), and
/// without the sign-ins, which `audit.rs` checks.
#[track_caller]
pub fn shown(page: &Value) -> Vec<Value> {
    let events = page["events"].as_array().expect("events");
    events
        .iter()
        .filter(|e| !e["type"].as_str().unwrap_or_default().starts_with("login."))
        .map(|e| {
            let at = e["at"].as_u64().expect("at");
            assert!(at.abs_diff(now() as u64) < 60, "{e}");
            let mut e = e.clone();
            let fields = e.as_object_mut().expect("an object");
            fields.remove("id").expect("an id");
            fields.remove("at");
            e
        })
        .collect()
}

pub fn by(actor: &str, kind: &str, user: Option<&str>, detail: Value) -> Value {
    json!({"type": kind, "userId": user, "actor": actor, "ip": "127.0.0.1",
        "userAgent": UA, "detail": detail})
}

#[test]
fn each_change_to_a_user_records_its_event_by_the_admin_from_their_address() {
    let app = spawn_app();
    let admin = app.admin_token();
    let (ada, bob) = (app.user_id(&admin, ADA), app.user_id(&admin, BOB));
    let actor = format!("user:{ada}");
    let event = |kind: &str, detail: Value| by(&actor, kind, Some(&bob), detail);
    let ended =
        |sid: String, reason: &str| event("session.revoked", json!({"sid": sid, "reason": reason}));
    let path = |tail: &str| format!("/admin/users/{bob}{tail}");
    let mut expected = Vec::new();

    for _ in 0..2 {
        app.login(BOB, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    call(&app, "POST", &path("/unlock"), &admin, None).assert_success();
    expected.push(event("user.unlocked", json!({"cleared": 2})));

    let first = app.login_ok(BOB, BOB_PASSWORD);
    let password = json!({"password": "a newer pass phrase for Bob"});
    call(&app, "POST", &path("/password"), &admin, Some(password)).assert_success();
    expected.push(event("password.set", json!({})));
    expected.push(ended(first.sid(), "password"));

    let [second, third] = [(); 2].map(|_| app.login_ok(BOB, "a newer pass phrase for Bob"));
    let one = format!("/admin/sessions/{}", second.sid());
    call(&app, "DELETE", &one, &admin, None).assert_success();
    expected.push(ended(second.sid(), "admin"));
    call(&app, "DELETE", &path("/sessions"), &admin, None).assert_success();
    expected.push(ended(third.sid(), "admin"));

    let fourth = app.login_ok(BOB, "a newer pass phrase for Bob");
    let patch = json!({"name": "Bobby", "email": BOB, "roles": ["staff"], "status": "inactive"});
    call(&app, "PATCH", &path(""), &admin, Some(patch.clone())).assert_success();
    expected.push(ended(fourth.sid(), "status"));
    expected.push(event(
        "user.updated",
        json!({"fields": ["name", "roles", "status"]}),
    ));
    // The same values again change nothing, and record nothing.
    call(&app, "PATCH", &path(""), &admin, Some(patch)).assert_success();

    let link = call(
        &app,
        "POST",
        &path("/link"),
        &admin,
        Some(json!({"ttl": 600})),
    );
    link.assert_success();
    let expires_at = link.json()["expiresAt"].clone();
    expected.push(event(
        "link.created",
        json!({"expiresAt": expires_at, "sent": false}),
    ));

    call(&app, "DELETE", &path(""), &admin, None).assert_success();
    expected.push(event("user.deleted", json!({})));

    expected.reverse();
    expected.push(
        json!({"type": "user.created", "userId": bob, "actor": "cli", "ip": null,
        "userAgent": null, "detail": {}}),
    );
    let page = audit_page(&app, &admin, &format!("?userId={bob}"));
    assert_eq!(shown(&page), expected);
}

#[test]
fn a_user_made_and_deleted_through_a_key_names_the_key() {
    let app = spawn_app();
    let admin = app.admin_token();
    let made = app.admin(
        "POST",
        "/admin/api-keys",
        &admin,
        Some(json!({"name": "backend", "scopes": ["users:write", "audit:read"]})),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let (key_id, key) = (
        made.json()["apiKey"]["id"]
            .as_str()
            .expect("id")
            .to_string(),
        made.json()["key"].as_str().expect("key").to_string(),
    );
    let body =
        json!({"email": "new@acme.test", "name": "New", "password": "a pass phrase for New"});
    let created = call(&app, "POST", "/admin/users", &key, Some(body));
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["user"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let deleted = json!({"status": "deleted", "name": "Gone"});
    call(
        &app,
        "PATCH",
        &format!("/admin/users/{id}"),
        &key,
        Some(deleted),
    )
    .assert_success();
    let actor = format!("apikey:{key_id}");
    let page = audit_page(&app, &key, &format!("?userId={id}"));
    assert_eq!(
        shown(&page),
        [
            by(&actor, "user.deleted", Some(&id), json!({})),
            by(
                &actor,
                "user.updated",
                Some(&id),
                json!({"fields": ["name"]})
            ),
            by(&actor, "user.created", Some(&id), json!({})),
        ]
    );
}

#[test]
fn api_keys_made_and_revoked_over_http_are_recorded_once_by_the_admin() {
    let app = spawn_app();
    let admin = app.admin_token();
    let ada = app.user_id(&admin, ADA);
    let body = json!({"name": "backend", "scopes": ["users:read"]});
    let made = call(&app, "POST", "/admin/api-keys", &admin, Some(body));
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json()["apiKey"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    for _ in 0..2 {
        call(
            &app,
            "DELETE",
            &format!("/admin/api-keys/{id}"),
            &admin,
            None,
        )
        .assert_success();
    }
    call(&app, "DELETE", "/admin/api-keys/nope", &admin, None)
        .assert_error(404, "API_KEY_NOT_FOUND");
    let actor = format!("user:{ada}");
    let detail = json!({"apiKeyId": id});
    let revoked = audit_page(&app, &admin, "?type=apikey.revoked");
    let created = audit_page(&app, &admin, "?type=apikey.created");
    assert_eq!(
        (shown(&revoked), shown(&created)),
        (
            vec![by(&actor, "apikey.revoked", None, detail.clone())],
            vec![by(&actor, "apikey.created", None, detail)]
        )
    );
}

#[test]
fn a_change_refused_records_nothing() {
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    let before = audit_page(&app, &admin, "?limit=200")["events"].clone();
    let taken = json!({"email": ADA});
    call(
        &app,
        "PATCH",
        &format!("/admin/users/{bob}"),
        &admin,
        Some(taken),
    )
    .assert_error(409, "EMAIL_TAKEN");
    let weak = json!({"password": "x"});
    call(
        &app,
        "POST",
        &format!("/admin/users/{bob}/password"),
        &admin,
        Some(weak),
    )
    .assert_error(400, "WEAK_PASSWORD");
    call(&app, "DELETE", "/admin/users/nobody", &admin, None).assert_error(404, "USER_NOT_FOUND");
    call(&app, "DELETE", "/admin/sessions/nothing", &admin, None)
        .assert_error(404, "SESSION_NOT_FOUND");
    let bad = json!({"email": "x@acme.test", "name": "X", "orgId": "nowhere"});
    call(&app, "POST", "/admin/users", &admin, Some(bad)).assert_error(404, "ORG_NOT_FOUND");
    assert_eq!(audit_page(&app, &admin, "?limit=200")["events"], before);
}
