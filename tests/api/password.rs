//! POST /user/password (change, signed in) and POST /user/password/reset (a
//! set-password link from `authlite user link`): every code, the lockout, the
//! revocations, and the links' replacement, expiry and single use.

use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new pass phrase 7";

fn three_strikes() -> Settings {
    Settings {
        max_failures: 3,
        ..test_settings()
    }
}

// ---------------------------------------------------------------- change

#[test]
fn a_change_replaces_the_password_and_ends_every_other_session_but_this_one() {
    let app = spawn_app();
    let this = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    let bobs = app.login_ok(BOB, BOB_PASSWORD);

    app.change_password(&this.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_success();

    app.login(ADA, ADA_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    app.login_ok(ADA, NEW_PASSWORD);
    app.refresh(&other.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&other.access).assert_error(401, "TOKEN_REVOKED");
    // The calling session goes on, and so does everybody else's.
    app.me(&this.access).assert_success();
    let renewed = app.refresh_ok(&this.refresh);
    app.me(&renewed.access).assert_success();
    app.refresh_ok(&bobs.refresh);
}

#[test]
fn the_new_hash_is_made_at_the_current_cost() {
    let app = spawn_app_with(Settings {
        pbkdf2_iterations: 2_000,
        ..test_settings()
    });
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_success();
    let hash = app.stored_hash(ADA).unwrap();
    assert!(hash.starts_with("$pbkdf2-sha256$i=2000,"), "{hash}");
}

#[test]
fn a_change_without_a_live_access_token_gets_the_codes_of_user_me() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let body = json!({ "currentPassword": ADA_PASSWORD, "newPassword": NEW_PASSWORD });

    app.post_json("/user/password", &body)
        .assert_error(401, "MISSING_TOKEN");
    app.change_password("not.a.token", ADA_PASSWORD, NEW_PASSWORD)
        .assert_error(401, "INVALID_TOKEN");
    app.change_password(&ada.refresh, ADA_PASSWORD, NEW_PASSWORD)
        .assert_error(401, "INVALID_TOKEN");
    app.logout_bearer(&ada.access).assert_success();
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_error(401, "TOKEN_REVOKED");

    let ada = app.login_ok(ADA, ADA_PASSWORD);
    app.cli(&["user", "set-status", ADA, "inactive"]);
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_error(401, "USER_INACTIVE");
    // Nothing was changed by any of them.
    app.cli(&["user", "set-status", ADA, "active"]);
    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn a_change_with_an_expired_access_token_is_token_expired() {
    let app = spawn_app_with(Settings {
        access_ttl: 1,
        ..test_settings()
    });
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    sleep_past(ada.expires_at);
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_error(401, "TOKEN_EXPIRED");
}

#[test]
fn a_malformed_change_request_is_invalid_request() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    for body in [
        json!({ "currentPassword": ADA_PASSWORD }),
        json!({ "newPassword": NEW_PASSWORD }),
        json!({ "currentPassword": ADA_PASSWORD, "newPassword": 12345678 }),
        json!("a string"),
    ] {
        app.send(
            Req::new("POST", "/user/password")
                .bearer(&ada.access)
                .json(&body),
        )
        .assert_error(400, "INVALID_REQUEST");
    }
    app.send(
        Req::new("POST", "/user/password")
            .bearer(&ada.access)
            .raw("application/json", "{not json"),
    )
    .assert_error(400, "INVALID_REQUEST");
    app.login_ok(ADA, ADA_PASSWORD);
}

/// SPEC §2: a body that is not a JSON object is INVALID_REQUEST, and changes nothing.
#[test]
fn a_json_array_body_is_invalid_request() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let body = json!([ADA_PASSWORD, NEW_PASSWORD]);
    app.send(
        Req::new("POST", "/user/password")
            .bearer(&ada.access)
            .json(&body),
    )
    .assert_error(400, "INVALID_REQUEST");
}

#[test]
fn a_weak_new_password_is_refused_for_each_reason_and_changes_nothing() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let too_long = "x".repeat(1025);
    for weak in [
        "seven!7",
        "äöüäöüä",
        too_long.as_str(),
        ADA,
        " Ada@Acme.test ",
        "password1",
        "iloveyou1",
        "QWERTYUIOP",
    ] {
        app.change_password(&ada.access, ADA_PASSWORD, weak)
            .assert_error(400, "WEAK_PASSWORD");
    }
    // Eight characters of two bytes each are long enough; 1024 bytes are not too long.
    app.change_password(&ada.access, ADA_PASSWORD, "äöüäöüäx")
        .assert_success();
    app.change_password(&ada.access, "äöüäöüäx", &"y".repeat(1024))
        .assert_success();
}

#[test]
fn min_password_length_sets_the_shortest_accepted() {
    let app = spawn_app_with(Settings {
        min_password_length: 30,
        ..test_settings()
    });
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_error(400, "WEAK_PASSWORD");
    app.change_password(
        &ada.access,
        ADA_PASSWORD,
        &format!("{NEW_PASSWORD} and more"),
    )
    .assert_success();
}

#[test]
fn a_weak_new_password_is_answered_before_the_current_one_is_checked_or_counted() {
    let app = spawn_app_with(three_strikes());
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    for _ in 0..4 {
        app.change_password(&ada.access, "wrong", "password1")
            .assert_error(400, "WEAK_PASSWORD");
    }
    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn a_wrong_current_password_counts_as_a_failed_login_until_the_account_is_locked() {
    let app = spawn_app_with(three_strikes());
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    app.login(ADA, "wrong")
        .assert_error(401, "INVALID_PASSWORD");
    for _ in 0..2 {
        app.change_password(&ada.access, "wrong", NEW_PASSWORD)
            .assert_error(401, "INVALID_PASSWORD");
    }

    let locked = app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD);
    locked.assert_error(429, "TOO_MANY_ATTEMPTS");
    let retry: u64 = locked
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("integer seconds");
    assert!(retry > 0 && retry <= 900, "{retry}");
    app.login(ADA, ADA_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");

    app.cli(&["user", "unlock", ADA]);
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_success();
}

#[test]
fn a_good_change_clears_the_failed_login_count() {
    let app = spawn_app_with(three_strikes());
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    for _ in 0..2 {
        app.change_password(&ada.access, "wrong", NEW_PASSWORD)
            .assert_error(401, "INVALID_PASSWORD");
    }
    app.change_password(&ada.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_success();
    for _ in 0..2 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    app.login_ok(ADA, NEW_PASSWORD);
}

// ---------------------------------------------------------------- reset

#[test]
fn a_link_sets_the_password_and_ends_every_session() {
    let app = spawn_app();
    let before = app.login_ok(ADA, ADA_PASSWORD);
    let token = app.link_token(ADA, &[]);

    let resp = app.reset_password(&token, NEW_PASSWORD);
    resp.assert_success();
    let user = &resp.json()["user"];
    assert_eq!(user["email"], json!(ADA));
    assert_eq!(user["name"], json!("Ada Lovelace"));
    assert_eq!(user["orgId"], json!("acme"));
    assert!(user["id"].is_string());

    app.refresh(&before.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&before.access).assert_error(401, "TOKEN_REVOKED");
    app.login(ADA, ADA_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    let after = app.login_ok(ADA, NEW_PASSWORD);
    assert_eq!(after.user["id"], user["id"]);
}

#[test]
fn an_invited_user_without_a_password_sets_one_by_link() {
    let app = spawn_app();
    app.login(INVITED, "anything")
        .assert_error(401, "NO_PASSWORD_SET");
    let token = app.link_token(INVITED, &[]);
    app.reset_password(&token, NEW_PASSWORD).assert_success();
    app.login_ok(INVITED, NEW_PASSWORD);
}

#[test]
fn a_link_works_once() {
    let app = spawn_app();
    let token = app.link_token(ADA, &[]);
    app.reset_password(&token, NEW_PASSWORD).assert_success();
    app.reset_password(&token, "yet another pass phrase")
        .assert_error(401, "INVALID_TOKEN");
    app.login_ok(ADA, NEW_PASSWORD);
}

#[test]
fn a_newer_link_replaces_the_older_one() {
    let app = spawn_app();
    let older = app.link_token(ADA, &[]);
    let newer = app.link_token(ADA, &[]);
    assert_ne!(older, newer);
    app.reset_password(&older, NEW_PASSWORD)
        .assert_error(401, "INVALID_TOKEN");
    app.reset_password(&newer, NEW_PASSWORD).assert_success();
    // Another user's link is its own.
    let bobs = app.link_token(BOB, &[]);
    app.link_token(ADA, &[]);
    app.reset_password(&bobs, NEW_PASSWORD).assert_success();
}

#[test]
fn a_link_past_its_ttl_is_token_expired() {
    let app = spawn_app();
    let token = app.link_token(ADA, &["--ttl", "1"]);
    // The link expires a second after the CLI made it, which was before now.
    sleep_past(now() + 1);
    app.reset_password(&token, NEW_PASSWORD)
        .assert_error(401, "TOKEN_EXPIRED");
    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn an_unknown_token_is_invalid_token() {
    let app = spawn_app();
    app.link_token(ADA, &[]);
    for token in ["", "nope", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        app.reset_password(token, NEW_PASSWORD)
            .assert_error(401, "INVALID_TOKEN");
    }
}

#[test]
fn a_link_of_a_user_deleted_since_is_user_not_found() {
    let app = spawn_app();
    let token = app.link_token(ADA, &[]);
    app.cli(&["user", "set-status", ADA, "deleted"]);
    app.reset_password(&token, NEW_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn a_refused_reset_does_not_spend_the_link() {
    let app = spawn_app();
    let token = app.link_token(ADA, &[]);
    for weak in ["short", "password123", ADA] {
        app.reset_password(&token, weak)
            .assert_error(400, "WEAK_PASSWORD");
    }
    app.post_json("/user/password/reset", &json!({ "token": token }))
        .assert_error(400, "INVALID_REQUEST");
    app.post_json(
        "/user/password/reset",
        &json!({ "token": 7, "newPassword": NEW_PASSWORD }),
    )
    .assert_error(400, "INVALID_REQUEST");
    app.login_ok(ADA, ADA_PASSWORD);
    app.reset_password(&token, NEW_PASSWORD).assert_success();
}

#[test]
fn a_reset_clears_the_lock_and_keeps_the_status() {
    let app = spawn_app_with(three_strikes());
    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    app.login(ADA, ADA_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    let token = app.link_token(ADA, &[]);
    app.reset_password(&token, NEW_PASSWORD).assert_success();
    app.login_ok(ADA, NEW_PASSWORD);

    let token = app.link_token(SLEEPY, &[]);
    app.reset_password(&token, NEW_PASSWORD).assert_success();
    app.login(SLEEPY, NEW_PASSWORD)
        .assert_error(401, "USER_INACTIVE");
}

#[test]
fn both_endpoints_take_only_post() {
    let app = spawn_app();
    for path in ["/user/password", "/user/password/reset"] {
        app.get(path).assert_error(405, "METHOD_NOT_ALLOWED");
    }
}
