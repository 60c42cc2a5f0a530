use std::sync::Barrier;

use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;

fn no_grace() -> Settings {
    Settings {
        reuse_grace: 0,
        ..test_settings()
    }
}

#[test]
fn a_refresh_token_is_exchanged_for_a_new_pair_in_the_same_session() {
    let app = spawn_app();
    let old = app.login_ok(ADA, ADA_PASSWORD);

    let new = app.refresh_ok(&old.refresh);

    assert_ne!(new.access, old.access);
    assert_ne!(new.refresh, old.refresh);
    assert_ne!(new.token_id, old.token_id);
    assert_eq!(new.user, old.user);
    assert_eq!(json!(new.expires_at), claims(&new.access)["exp"]);
    assert_eq!(json!(new.token_id), claims(&new.refresh)["jti"]);
    assert_eq!(claims(&new.refresh)["typ"], json!("refresh"));
    assert_eq!(claims(&new.access)["typ"], json!("access"));
    assert_eq!(new.sid(), old.sid());
    assert_eq!(claims(&new.refresh)["sid"], json!(old.sid()));
    app.me(&new.access).assert_success();
    app.refresh_ok(&new.refresh);
}

#[test]
fn a_used_refresh_token_presented_after_the_grace_is_token_reused_and_ends_the_session() {
    let app = spawn_app_with(no_grace());
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let second = app.refresh_ok(&first.refresh);
    // "More than --reuse-grace seconds ago", counted in milliseconds.
    past_a_grace_of_zero();

    app.refresh(&first.refresh)
        .assert_error(401, "TOKEN_REUSED");

    app.refresh(&second.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&second.access).assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn reuse_revokes_only_the_session_it_happened_in() {
    let app = spawn_app_with(no_grace());
    let victim = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);
    app.refresh_ok(&victim.refresh);
    past_a_grace_of_zero();

    app.refresh(&victim.refresh)
        .assert_error(401, "TOKEN_REUSED");

    app.refresh_ok(&other.refresh);
}

#[test]
fn within_the_grace_a_used_refresh_token_returns_the_same_new_pair() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);

    let a = app.refresh_ok(&first.refresh);
    let b = app.refresh_ok(&first.refresh);

    assert_eq!(a.access, b.access);
    assert_eq!(a.refresh, b.refresh);
    assert_eq!(a.token_id, b.token_id);
    assert_eq!(a.expires_at, b.expires_at);
    app.refresh_ok(&a.refresh);
}

#[test]
fn eight_tabs_refreshing_the_same_token_at_once_all_get_the_same_new_pair() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let barrier = Barrier::new(8);

    let answers: Vec<Resp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    app.refresh(&first.refresh)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });

    let pairs: Vec<Tokens> = answers.iter().map(Tokens::from_resp).collect();
    for p in &pairs[1..] {
        assert_eq!(
            (&p.access, &p.refresh, &p.token_id),
            (&pairs[0].access, &pairs[0].refresh, &pairs[0].token_id)
        );
    }
    app.refresh_ok(&pairs[0].refresh);
}

#[test]
fn garbage_is_invalid_token() {
    let app = spawn_app();

    for token in [
        "garbage",
        "",
        "a.b.c",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA",
        "....",
        "Bearer x",
    ] {
        let resp = app.refresh(token);
        assert_eq!(
            (resp.status, resp.error_shape()),
            (401, Ok("INVALID_TOKEN".to_string())),
            "token {token:?} got {}",
            resp.text
        );
    }
}

#[test]
fn an_access_token_is_not_accepted_as_a_refresh_token() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    app.refresh(&tokens.access)
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn a_token_signed_by_another_key_with_the_same_kid_is_invalid_token() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    let forged = sign_with_foreign_key(&jwt_header(&tokens.refresh), &claims(&tokens.refresh));

    app.refresh(&forged).assert_error(401, "INVALID_TOKEN");
    app.refresh_ok(&tokens.refresh);
}

#[test]
fn a_token_with_an_unknown_kid_is_invalid_token() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    let forged = sign_with_foreign_key(&json!({ "kid": "no-such-key" }), &claims(&tokens.refresh));
    app.refresh(&forged).assert_error(401, "INVALID_TOKEN");

    // The real signature under a header with a changed or missing kid.
    let sig = tokens.refresh.split('.').nth(2).expect("signature");
    let sig = b64url_decode(sig).expect("base64url");
    let mut header = jwt_header(&tokens.refresh);
    header["kid"] = json!("no-such-key");
    app.refresh(&forge(&header, &claims(&tokens.refresh), &sig))
        .assert_error(401, "INVALID_TOKEN");
    header.as_object_mut().expect("object").remove("kid");
    app.refresh(&forge(&header, &claims(&tokens.refresh), &sig))
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn an_hs256_token_keyed_with_the_public_key_is_invalid_token() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let jwks = app.jwks();
    let x = jwks["keys"][0]["x"].as_str().expect("x").to_string();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(tokens.kid());

    for secret in [b64url_decode(&x).expect("x is base64url"), x.into_bytes()] {
        let forged = jsonwebtoken::encode(
            &header,
            &claims(&tokens.refresh),
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .expect("sign HS256");
        app.refresh(&forged).assert_error(401, "INVALID_TOKEN");
    }
}

#[test]
fn an_unsigned_alg_none_token_is_invalid_token() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let header = json!({ "alg": "none", "typ": "JWT", "kid": tokens.kid() });

    app.refresh(&forge(&header, &claims(&tokens.refresh), b""))
        .assert_error(401, "INVALID_TOKEN");
    let two_parts = forge(&header, &claims(&tokens.refresh), b"")
        .trim_end_matches('.')
        .to_string();
    app.refresh(&two_parts).assert_error(401, "INVALID_TOKEN");
}

#[test]
fn a_token_with_a_tampered_payload_is_invalid_token() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    let sig = b64url_decode(ada.refresh.split('.').nth(2).expect("sig")).expect("base64url");

    let mut c = claims(&ada.refresh);
    c["sub"] = bob.user["id"].clone();
    app.refresh(&forge(&jwt_header(&ada.refresh), &c, &sig))
        .assert_error(401, "INVALID_TOKEN");

    let mut c = claims(&ada.refresh);
    c["exp"] = json!(c["exp"].as_i64().expect("exp") + 1000);
    app.refresh(&forge(&jwt_header(&ada.refresh), &c, &sig))
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn a_token_from_another_authlite_server_is_invalid_token() {
    let app = spawn_app();
    let elsewhere = spawn_app_with(Settings {
        issuer: "https://elsewhere.test".into(),
        ..test_settings()
    });
    let foreign = elsewhere.login_ok(ADA, ADA_PASSWORD);

    app.refresh(&foreign.refresh)
        .assert_error(401, "INVALID_TOKEN");
    app.me(&foreign.access).assert_error(401, "INVALID_TOKEN");
}

#[test]
fn a_token_with_another_issuer_is_invalid_token_even_under_the_same_keys() {
    let app = spawn_app();
    let other_issuer = app.spawn_on_same_db(Settings {
        issuer: "https://other-issuer.test".into(),
        ..test_settings()
    });
    let foreign = other_issuer.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(
        claims(&foreign.refresh)["iss"],
        json!("https://other-issuer.test")
    );

    app.refresh(&foreign.refresh)
        .assert_error(401, "INVALID_TOKEN");
    app.me(&foreign.access).assert_error(401, "INVALID_TOKEN");
    let ours = app.login_ok(ADA, ADA_PASSWORD);
    other_issuer
        .refresh(&ours.refresh)
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn an_expired_refresh_token_is_token_expired() {
    let app = spawn_app_with(Settings {
        refresh_ttl: 1,
        ..test_settings()
    });
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    sleep_past(claims(&tokens.refresh)["exp"].as_i64().expect("exp"));

    app.refresh(&tokens.refresh)
        .assert_error(401, "TOKEN_EXPIRED");
}

#[test]
fn after_the_user_is_deleted_refresh_is_user_not_found_and_the_session_is_revoked() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    app.cli(&["user", "set-status", ADA, "deleted"]);
    app.refresh(&tokens.refresh)
        .assert_error(401, "USER_NOT_FOUND");

    // Even if the account comes back, that session stays revoked.
    app.cli(&["user", "set-status", ADA, "active"]);
    app.refresh(&tokens.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&tokens.access).assert_error(401, "TOKEN_REVOKED");
    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn after_the_user_is_deactivated_refresh_is_user_inactive_and_the_session_is_revoked() {
    let app = spawn_app();

    for status in ["inactive", "banned"] {
        let tokens = app.login_ok(ADA, ADA_PASSWORD);
        app.cli(&["user", "set-status", ADA, status]);

        app.refresh(&tokens.refresh)
            .assert_error(401, "USER_INACTIVE");

        app.cli(&["user", "set-status", ADA, "active"]);
        app.refresh(&tokens.refresh)
            .assert_error(401, "TOKEN_REVOKED");
    }
}

#[test]
fn unknown_fields_in_a_refresh_body_are_ignored() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    let resp = app.post_json(
        "/user/refresh",
        &json!({ "refreshToken": tokens.refresh, "client": "tab 3", "n": [1, 2] }),
    );

    Tokens::from_resp(&resp);
}

#[test]
fn a_refresh_body_without_a_token_string_is_invalid_request() {
    let app = spawn_app();

    for body in [
        json!({}),
        json!({ "refresh_token": "x" }),
        json!({ "refreshToken": 42 }),
        json!({ "refreshToken": null }),
        json!({ "refreshToken": ["x"] }),
    ] {
        let resp = app.post_json("/user/refresh", &body);
        assert_eq!(
            (resp.status, resp.error_shape()),
            (400, Ok("INVALID_REQUEST".to_string())),
            "body {body} got {}",
            resp.text
        );
    }
}
