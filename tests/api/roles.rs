//! Roles and `amr` as a user meets them (SPEC sections 3 and 8): in the user
//! object of every answer, in the access token's claims, after a refresh,
//! and after `authlite user roles` changes them under a running server.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;

/// Gives `email` these roles with the real binary, as an operator would.
fn add_roles(app: &TestApp, email: &str, roles: &[&str]) {
    let mut args = vec!["user", "roles", email];
    for role in roles {
        args.extend(["--add", role]);
    }
    app.cli(&args);
}

/// The user object the contract promises for Ada, with her id from `seen`.
fn ada(seen: &Value, roles: Value) -> Value {
    json!({ "id": seen["id"], "email": ADA, "name": "Ada Lovelace", "orgId": "acme",
            "roles": roles })
}

fn claim_names(token: &str) -> Vec<String> {
    let mut names: Vec<String> = claims(token)
        .as_object()
        .expect("claims are an object")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

#[test]
fn every_answer_that_carries_the_user_carries_their_roles() {
    let app = spawn_app();
    add_roles(&app, ADA, &["ops", "admin"]);

    let login = app.login_ok(ADA, ADA_PASSWORD);
    let want = ada(&login.user, json!(["admin", "ops"]));
    assert_eq!(login.user, want);
    assert_eq!(app.refresh_ok(&login.refresh).user, want);
    let me = app.me(&login.access);
    me.assert_success();
    assert_eq!(me.json()["user"], want);
    let token = app.link_token(ADA, &[]);
    let reset = app.reset_password(&token, "a brand new passphrase");
    reset.assert_success();
    assert_eq!(reset.json()["user"], want);

    assert_eq!(app.login_ok(BOB, BOB_PASSWORD).user["roles"], json!([]));
}

#[test]
fn the_access_token_carries_roles_and_amr_after_login_and_after_refresh() {
    let app = spawn_app();
    add_roles(&app, ADA, &["billing:read", "admin"]);

    let login = app.login_ok(ADA, ADA_PASSWORD);
    let refreshed = app.refresh_ok(&login.refresh);
    for access in [&login.access, &refreshed.access] {
        let c = claims(access);
        assert_eq!(c["roles"], json!(["admin", "billing:read"]), "{c}");
        assert_eq!(c["amr"], json!(["pwd"]), "{c}");
        assert_eq!(
            claim_names(access),
            [
                "amr", "email", "exp", "iat", "iss", "jti", "name", "orgId", "roles", "sid", "sub",
                "typ"
            ]
        );
    }
    // The refresh token says nothing of either.
    assert_eq!(
        claim_names(&refreshed.refresh),
        ["exp", "iat", "iss", "jti", "sid", "sub", "typ"]
    );
    let bob = claims(&app.login_ok(BOB, BOB_PASSWORD).access);
    assert_eq!((&bob["roles"], &bob["amr"]), (&json!([]), &json!(["pwd"])));
}

#[test]
fn a_role_removed_on_a_running_server_reaches_the_next_refresh_and_me_within_a_second() {
    let app = spawn_app();
    add_roles(&app, ADA, &["admin", "ops"]);
    let login = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(
        app.me(&login.access).json()["user"]["roles"],
        json!(["admin", "ops"])
    );

    app.cli(&["user", "roles", ADA, "--remove", "admin"]);
    let removed_at = Instant::now();

    let refreshed = app.refresh_ok(&login.refresh);
    assert_eq!(refreshed.user["roles"], json!(["ops"]));
    assert_eq!(claims(&refreshed.access)["roles"], json!(["ops"]));
    assert_eq!(claims(&refreshed.access)["amr"], json!(["pwd"]));
    let seen = loop {
        let roles = app.me(&login.access).json()["user"]["roles"].clone();
        if roles == json!(["ops"]) || removed_at.elapsed() > Duration::from_secs(1) {
            break roles;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(seen, json!(["ops"]), "after {:?}", removed_at.elapsed());
    assert!(removed_at.elapsed() <= Duration::from_secs(1));

    // The token issued before keeps its claims, and still works, until it expires.
    assert_eq!(claims(&login.access)["roles"], json!(["admin", "ops"]));
    app.me(&login.access).assert_success();
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1.sqlite");
const FIXTURE_TOKENS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1-tokens.json");

#[test]
fn a_database_from_before_roles_gives_its_users_none_and_its_sessions_pwd() {
    let app = spawn_app_on_copy(Path::new(FIXTURE), test_settings());
    let text = std::fs::read_to_string(FIXTURE_TOKENS).expect("read the fixture tokens");
    let tokens: Value = serde_json::from_str(&text).expect("fixture tokens are JSON");
    let token = |name: &str| tokens[name].as_str().expect("a fixture token").to_string();

    // An access token from before the upgrade has neither claim, and still works.
    let old = token("a_access");
    assert!(claims(&old).get("roles").is_none());
    let me = app.me(&old);
    me.assert_success();
    assert_eq!(me.json()["user"]["roles"], json!([]));

    let refreshed = app.refresh_ok(&token("a_current"));
    assert_eq!(refreshed.user["roles"], json!([]));
    assert_eq!(claims(&refreshed.access)["roles"], json!([]));
    assert_eq!(claims(&refreshed.access)["amr"], json!(["pwd"]));
}
