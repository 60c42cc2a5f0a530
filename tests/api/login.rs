use serde_json::json;

use crate::helpers::*;

#[test]
fn login_with_the_right_password_returns_a_token_pair_and_the_user() {
    let app = spawn_app();

    let resp = app.login(ADA, ADA_PASSWORD);

    assert_eq!(resp.status, 200, "{}", resp.text);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body = resp.json();
    assert_eq!(body["success"], json!(true));
    for key in ["accessToken", "refreshToken", "tokenId"] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key}: {body}"
        );
    }
    assert!(body["expiresAt"].is_i64(), "{body}");
    let user = &body["user"];
    assert!(user["id"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    assert_eq!(user["email"], json!(ADA));
    assert_eq!(user["name"], json!("Ada Lovelace"));
    assert_eq!(user["orgId"], json!("acme"));
}

#[test]
fn expires_at_is_the_access_tokens_exp_and_token_id_is_the_refresh_tokens_jti() {
    let app = spawn_app();

    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    assert_eq!(json!(tokens.expires_at), claims(&tokens.access)["exp"]);
    assert_eq!(json!(tokens.token_id), claims(&tokens.refresh)["jti"]);
}

#[test]
fn the_access_token_carries_every_claim_the_spec_lists() {
    let app = spawn_app_with(authlite::settings::Settings {
        access_ttl: 600,
        ..test_settings()
    });
    let before = now();

    let tokens = app.login_ok(BOB, BOB_PASSWORD);

    let header = jwt_header(&tokens.access);
    assert_eq!(header["alg"], json!("EdDSA"), "{header}");
    assert!(
        header["kid"].as_str().is_some_and(|k| !k.is_empty()),
        "{header}"
    );
    let c = claims(&tokens.access);
    assert_eq!(c["iss"], json!("authlite"), "{c}");
    assert_eq!(c["sub"], tokens.user["id"], "{c}");
    assert_eq!(c["typ"], json!("access"), "{c}");
    assert_eq!(c["email"], json!(BOB), "{c}");
    assert_eq!(c["name"], json!("Bøb Büilder"), "{c}");
    assert_eq!(c["orgId"], json!("globex"), "{c}");
    assert!(c["jti"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
    assert!(c["sid"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
    let iat = c["iat"].as_i64().expect("integer iat");
    let exp = c["exp"].as_i64().expect("integer exp");
    assert!((before - 1..=now() + 1).contains(&iat), "iat {iat}");
    assert_eq!(exp - iat, 600, "{c}");
}

#[test]
fn the_refresh_token_carries_every_claim_the_spec_lists() {
    let app = spawn_app_with(authlite::settings::Settings {
        refresh_ttl: 7200,
        ..test_settings()
    });
    let before = now();

    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    let header = jwt_header(&tokens.refresh);
    assert_eq!(header["alg"], json!("EdDSA"), "{header}");
    assert!(
        header["kid"].as_str().is_some_and(|k| !k.is_empty()),
        "{header}"
    );
    let c = claims(&tokens.refresh);
    let access = claims(&tokens.access);
    assert_eq!(c["iss"], json!("authlite"), "{c}");
    assert_eq!(c["sub"], tokens.user["id"], "{c}");
    assert_eq!(c["typ"], json!("refresh"), "{c}");
    assert_eq!(c["jti"], json!(tokens.token_id), "{c}");
    assert_eq!(c["sid"], access["sid"], "{c}");
    assert_ne!(c["jti"], access["jti"], "access and refresh share a jti");
    let iat = c["iat"].as_i64().expect("integer iat");
    let exp = c["exp"].as_i64().expect("integer exp");
    assert!((before - 1..=now() + 1).contains(&iat), "iat {iat}");
    assert_eq!(exp - iat, 7200, "{c}");
}

#[test]
fn two_logins_open_two_sessions() {
    let app = spawn_app();

    let first = app.login_ok(ADA, ADA_PASSWORD);
    let second = app.login_ok(ADA, ADA_PASSWORD);

    assert_ne!(first.sid(), second.sid());
    assert_ne!(first.token_id, second.token_id);
}

#[test]
fn the_email_is_trimmed_and_compared_case_insensitively() {
    let app = spawn_app();

    let tokens = app.login_ok("  ADA@Acme.TEST \t", ADA_PASSWORD);

    assert_eq!(tokens.user["email"], json!(ADA));
    app.login(" Ada@ACME.test", "wrong")
        .assert_error(401, "INVALID_PASSWORD");
}

#[test]
fn an_unknown_email_is_user_not_found() {
    let app = spawn_app();

    app.login(UNKNOWN, ADA_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn a_deleted_user_is_user_not_found_even_with_the_right_password() {
    let app = spawn_app();

    app.login(DELETED, DELETED_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
    app.login(DELETED, "wrong")
        .assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn a_user_without_a_password_is_no_password_set() {
    let app = spawn_app();

    app.login(INVITED, "anything")
        .assert_error(401, "NO_PASSWORD_SET");
    app.login(INVITED, "").assert_error(401, "NO_PASSWORD_SET");
    // The first rule that applies wins: no password comes before inactive.
    app.login(DORMANT, "anything")
        .assert_error(401, "NO_PASSWORD_SET");
}

#[test]
fn a_wrong_password_is_invalid_password() {
    let app = spawn_app();

    app.login(ADA, "correct horse battery stapler")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(ADA, &ADA_PASSWORD.to_uppercase())
        .assert_error(401, "INVALID_PASSWORD");
}

#[test]
fn an_empty_password_is_a_wrong_password() {
    let app = spawn_app();

    app.login(ADA, "").assert_error(401, "INVALID_PASSWORD");
}

#[test]
fn inactive_and_banned_users_with_the_right_password_are_user_inactive() {
    let app = spawn_app();

    app.login(SLEEPY, SLEEPY_PASSWORD)
        .assert_error(401, "USER_INACTIVE");
    app.login(BANNED, BANNED_PASSWORD)
        .assert_error(401, "USER_INACTIVE");
}

#[test]
fn inactive_and_banned_users_with_a_wrong_password_are_invalid_password() {
    let app = spawn_app();

    app.login(SLEEPY, "wrong")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(BANNED, "wrong")
        .assert_error(401, "INVALID_PASSWORD");
}

#[test]
fn a_malformed_json_body_is_invalid_request() {
    let app = spawn_app();

    for body in [
        "{\"email\": \"ada@acme.test\", \"password\": ",
        "not json",
        "",
        "[]",
        "null",
        "\"ada@acme.test\"",
        "{\"email\": \"ada@acme.test\", \"password\": \"x\"} trailing",
    ] {
        let resp = app.send(Req::new("POST", "/user/login").raw("application/json", body));
        assert_eq!(
            (resp.status, resp.error_shape()),
            (400, Ok("INVALID_REQUEST".to_string())),
            "body {body:?} got {}",
            resp.text
        );
    }
}

#[test]
fn a_login_with_a_missing_field_is_invalid_request() {
    let app = spawn_app();

    app.post_json("/user/login", &json!({ "email": ADA }))
        .assert_error(400, "INVALID_REQUEST");
    app.post_json("/user/login", &json!({ "password": ADA_PASSWORD }))
        .assert_error(400, "INVALID_REQUEST");
    app.post_json("/user/login", &json!({}))
        .assert_error(400, "INVALID_REQUEST");
}

#[test]
fn a_login_with_a_field_of_the_wrong_type_is_invalid_request() {
    let app = spawn_app();

    for body in [
        json!({ "email": ADA, "password": 12345 }),
        json!({ "email": ADA, "password": null }),
        json!({ "email": ADA, "password": [ADA_PASSWORD] }),
        json!({ "email": ["ada@acme.test"], "password": ADA_PASSWORD }),
        json!({ "email": { "address": ADA }, "password": ADA_PASSWORD }),
        json!({ "email": true, "password": ADA_PASSWORD }),
    ] {
        let resp = app.post_json("/user/login", &body);
        assert_eq!(
            (resp.status, resp.error_shape()),
            (400, Ok("INVALID_REQUEST".to_string())),
            "body {body} got {}",
            resp.text
        );
    }
}

#[test]
fn a_login_with_an_email_that_is_not_an_email_is_invalid_request() {
    let app = spawn_app();

    for email in ["not-an-email", "", "   "] {
        let resp = app.login(email, ADA_PASSWORD);
        assert_eq!(
            (resp.status, resp.error_shape()),
            (400, Ok("INVALID_REQUEST".to_string())),
            "email {email:?} got {}",
            resp.text
        );
    }
}

#[test]
fn unknown_request_fields_are_ignored() {
    let app = spawn_app();

    let resp = app.post_json(
        "/user/login",
        &json!({ "email": ADA, "password": ADA_PASSWORD, "rememberMe": true, "extra": { "a": [1] } }),
    );

    Tokens::from_resp(&resp);
}

#[test]
fn a_body_of_exactly_16_kib_is_read() {
    let app = spawn_app();
    let body = padded_login_body(16 * 1024);

    let resp = app.send(Req::new("POST", "/user/login").raw("application/json", &body));

    Tokens::from_resp(&resp);
}

#[test]
fn a_body_over_16_kib_is_refused_with_413() {
    let app = spawn_app();

    for size in [16 * 1024 + 1, 64 * 1024] {
        let body = padded_login_body(size);
        for path in ["/user/login", "/user/refresh", "/user/logout"] {
            let resp = app.send(Req::new("POST", path).raw("application/json", &body));
            assert_eq!(resp.status, 413, "{path} size {size}: {}", resp.text);
            resp.assert_error(413, "PAYLOAD_TOO_LARGE");
        }
    }
}

#[test]
fn a_chunked_body_over_16_kib_is_refused_with_413() {
    let app = spawn_app();

    let small = padded_login_body(4 * 1024);
    Tokens::from_resp(&post_chunked(&app.address, "/user/login", small.as_bytes()));

    let big = padded_login_body(20 * 1024);
    post_chunked(&app.address, "/user/login", big.as_bytes())
        .assert_error(413, "PAYLOAD_TOO_LARGE");
}

/// A valid login body for Ada, padded with an unknown field to exactly `size` bytes.
fn padded_login_body(size: usize) -> String {
    let empty = json!({ "email": ADA, "password": ADA_PASSWORD, "padding": "" }).to_string();
    let body = json!({ "email": ADA, "password": ADA_PASSWORD, "padding": "x".repeat(size - empty.len()) })
        .to_string();
    assert_eq!(body.len(), size);
    body
}
