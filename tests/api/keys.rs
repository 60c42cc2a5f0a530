use std::collections::BTreeSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use authlite::settings::Settings;

use crate::helpers::*;

fn kids(jwks: &Value) -> BTreeSet<String> {
    jwks["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect()
}

/// Verifies a token the way an outside service would: from the JWKS alone.
fn verify_from_jwks(jwks: &Value, token: &str, issuer: &str) -> Value {
    let kid = jwt_header(token)["kid"].as_str().expect("kid").to_string();
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS {jwks}"));
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().expect("x")).expect("x decodes");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.leeway = 0;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("jsonwebtoken rejects the token: {e:?}"))
        .claims
}

#[test]
fn the_jwks_lists_each_key_with_exactly_the_spec_fields() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    let resp = app.get("/.well-known/jwks.json");

    assert_eq!(resp.status, 200, "{}", resp.text);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let jwks = resp.json();
    assert_eq!(jwks.as_object().map(|o| o.len()), Some(1), "{jwks}");
    let keys = jwks["keys"].as_array().expect("keys array");
    assert!(!keys.is_empty(), "{jwks}");
    for key in keys {
        let mut fields: Vec<&str> = key
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x"], "{key}");
        assert_eq!(key["kty"], json!("OKP"));
        assert_eq!(key["crv"], json!("Ed25519"));
        assert_eq!(key["alg"], json!("EdDSA"));
        assert_eq!(key["use"], json!("sig"));
        let x = key["x"].as_str().expect("x");
        assert!(!x.contains('='), "x must be unpadded base64url: {x}");
        assert_eq!(b64url_decode(x).map(|b| b.len()), Some(32), "{key}");
    }
    assert!(kids(&jwks).contains(&tokens.kid()), "{jwks}");
}

#[test]
fn a_standard_jwt_library_verifies_the_tokens_from_the_jwks_alone() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let jwks = app.jwks();

    let access = verify_from_jwks(&jwks, &tokens.access, "authlite");
    let refresh = verify_from_jwks(&jwks, &tokens.refresh, "authlite");

    assert_eq!(access["sub"], tokens.user["id"]);
    assert_eq!(access["typ"], json!("access"));
    assert_eq!(refresh["jti"], json!(tokens.token_id));
}

#[test]
fn a_standard_jwt_library_rejects_a_token_with_another_issuer() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let jwks = app.jwks();
    let kid = tokens.kid();
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .expect("kid listed")
        .clone();
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().expect("x")).expect("x");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["someone-else"]);
    validation.validate_aud = false;

    assert!(jsonwebtoken::decode::<Value>(&tokens.access, &key, &validation).is_err());
}

#[test]
fn after_keys_rotate_old_tokens_keep_working_and_new_tokens_use_the_new_key() {
    let mut app = spawn_app();
    let old = app.login_ok(ADA, ADA_PASSWORD);
    let old_kid = old.kid();
    app.stop();

    app.cli(&["keys", "rotate"]);
    let restarted = app.spawn_on_same_db(test_settings());

    let jwks = restarted.jwks();
    let listed = kids(&jwks);
    assert!(
        listed.contains(&old_kid),
        "old kid {old_kid} gone from {jwks}"
    );
    assert!(listed.len() >= 2, "{jwks}");
    restarted.me(&old.access).assert_success();
    verify_from_jwks(&jwks, &old.access, "authlite");

    let fresh = restarted.login_ok(ADA, ADA_PASSWORD);
    assert_ne!(fresh.kid(), old_kid);
    assert!(listed.contains(&fresh.kid()), "{jwks}");
    verify_from_jwks(&jwks, &fresh.access, "authlite");

    let rotated = restarted.refresh_ok(&old.refresh);
    assert_eq!(rotated.kid(), fresh.kid());
    assert_eq!(jwt_header(&rotated.refresh)["kid"], json!(fresh.kid()));
    restarted.me(&rotated.access).assert_success();
}

#[test]
fn a_restarted_server_accepts_the_tokens_of_the_previous_run() {
    let mut app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let jwks_before = app.jwks();
    app.stop();

    let restarted = app.spawn_on_same_db(test_settings());

    assert_eq!(kids(&restarted.jwks()), kids(&jwks_before));
    let me = restarted.me(&tokens.access);
    me.assert_success();
    assert_eq!(me.json()["user"]["id"], tokens.user["id"]);
    let list = restarted.sessions(&tokens.access);
    list.assert_success();
    assert!(
        session_by_sid(&list.json(), &tokens.sid()).is_some(),
        "{}",
        list.text
    );
    let next = restarted.refresh_ok(&tokens.refresh);
    assert_eq!(next.kid(), tokens.kid());
}

#[test]
fn a_key_retired_on_a_running_server_leaves_the_jwks_and_its_tokens_are_refused_within_a_second() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    // Verified once, so that the server holds it in its cache of verified tokens.
    app.me(&tokens.access).assert_success();
    let kid = tokens.kid();

    let printed = app.cli(&["keys", "retire", &kid]);
    let retired = std::time::Instant::now();

    assert!(printed.contains(&kid), "{printed}");
    loop {
        let me = app.me(&tokens.access);
        if me.status == 401 {
            me.assert_error(401, "INVALID_TOKEN");
            break;
        }
        me.assert_success();
        assert!(
            retired.elapsed() < std::time::Duration::from_secs(1),
            "the retired key's token still works after a second"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(retired.elapsed() < std::time::Duration::from_secs(1));
    app.refresh(&tokens.refresh)
        .assert_error(401, "INVALID_TOKEN");
    app.sessions(&tokens.access)
        .assert_error(401, "INVALID_TOKEN");
    app.logout_bearer(&tokens.access)
        .assert_error(401, "INVALID_TOKEN");
    assert!(!kids(&app.jwks()).contains(&kid), "{}", app.jwks());

    // A new key became current first: signing in works, with it.
    let fresh = app.login_ok(ADA, ADA_PASSWORD);
    assert_ne!(fresh.kid(), kid);
    app.me(&fresh.access).assert_success();
    assert_eq!(kids(&app.jwks()), BTreeSet::from([fresh.kid()]));
}

#[test]
fn a_rotated_out_key_leaves_the_jwks_once_its_tokens_have_expired_without_a_restart() {
    let app = spawn_app_with(Settings {
        access_ttl: 1,
        refresh_ttl: 2,
        ..test_settings()
    });
    let old = app.login_ok(ADA, ADA_PASSWORD);
    app.cli(&["keys", "rotate"]);
    let rotated = std::time::Instant::now();
    assert!(kids(&app.jwks()).contains(&old.kid()));

    // Its last token expires 2 s after the rotation; a second or two of slack
    // covers a server that learnt of the rotation late.
    let gone = loop {
        if !kids(&app.jwks()).contains(&old.kid()) {
            break rotated.elapsed();
        }
        assert!(
            rotated.elapsed() < std::time::Duration::from_secs(8),
            "the old key is still published: {}",
            app.jwks()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        gone >= std::time::Duration::from_secs(2),
        "left after {gone:?}"
    );
    assert_eq!(kids(&app.jwks()).len(), 1);
    let refused = app.refresh(&old.refresh);
    assert_eq!(refused.status, 401, "{}", refused.text);
}

#[test]
fn verifiers_may_cache_the_keys_for_a_minute_at_most() {
    let app = spawn_app();
    for path in [
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        let resp = app.get(path);
        assert_eq!(resp.status, 200, "{path}: {}", resp.text);
        assert_eq!(
            resp.header("cache-control"),
            Some("public, max-age=60"),
            "{path}"
        );
    }
}
