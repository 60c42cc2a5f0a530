//! ES256 beside EdDSA, the audience, and tokens forged with another algorithm
//! than their key's: refused with INVALID_TOKEN at every endpoint.

use authlite::settings::Settings;
use authlite::tokens::Algorithm;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::helpers::*;

fn settings_with(algorithm: Algorithm, audience: Option<&str>) -> Settings {
    Settings {
        algorithm,
        audience: audience.map(str::to_string),
        ..test_settings()
    }
}

/// Every endpoint that reads a token answers 401 INVALID_TOKEN to these.
#[track_caller]
fn assert_invalid_everywhere(app: &TestApp, access: &str, refresh: &str, sid: &str) {
    let answers = [
        ("GET /user/me", app.me(access)),
        ("GET /user/sessions", app.sessions(access)),
        (
            "DELETE /user/sessions/{sid}",
            app.delete_session(access, sid),
        ),
        ("POST /user/logout (bearer)", app.logout_bearer(access)),
        ("POST /user/refresh", app.refresh(refresh)),
        ("POST /user/logout (refresh)", app.logout_refresh(refresh)),
    ];
    for (endpoint, resp) in answers {
        assert_eq!(
            (resp.status, resp.error_shape().ok().as_deref()),
            (401, Some("INVALID_TOKEN")),
            "{endpoint}: {}",
            resp.text
        );
    }
}

fn jwk_of<'a>(jwks: &'a Value, kid: &str) -> &'a Value {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .unwrap_or_else(|| panic!("{kid} not in {jwks}"))
}

#[test]
fn an_es256_server_signs_es256_tokens_that_a_standard_library_verifies_from_the_jwks() {
    let app = spawn_app_with(settings_with(Algorithm::ES256, None));
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(jwt_header(&tokens.access)["alg"], json!("ES256"));

    let jwks = app.jwks();
    let jwk = jwk_of(&jwks, &tokens.kid());
    let mut fields: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["alg", "crv", "kid", "kty", "use", "x", "y"],
        "{jwk}"
    );
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["alg"], &jwk["use"]),
        (
            &json!("EC"),
            &json!("P-256"),
            &json!("ES256"),
            &json!("sig")
        )
    );
    let key =
        DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
            .expect("an EC key");
    let mut validation = Validation::new(JwtAlgorithm::ES256);
    validation.set_issuer(&["authlite"]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(&tokens.access, &key, &validation).expect("verifies");

    app.me(&tokens.access).assert_success();
    let next = app.refresh_ok(&tokens.refresh);
    app.me(&next.access).assert_success();
}

#[test]
fn a_database_rotated_from_eddsa_to_es256_keeps_old_tokens_valid() {
    let app = spawn_app();
    let old = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(jwt_header(&old.access)["alg"], json!("EdDSA"));

    app.cli(&["keys", "rotate", "--algorithm", "ES256"]);

    // The running server signs with the new key within a second.
    let started = Instant::now();
    let fresh = loop {
        let fresh = app.login_ok(ADA, ADA_PASSWORD);
        if fresh.kid() != old.kid() || started.elapsed() > Duration::from_secs(2) {
            break fresh;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(jwt_header(&fresh.access)["alg"], json!("ES256"));
    let jwks = app.jwks();
    assert_eq!(jwk_of(&jwks, &old.kid())["kty"], json!("OKP"));
    assert_eq!(jwk_of(&jwks, &fresh.kid())["kty"], json!("EC"));
    let discovery = app.get("/.well-known/openid-configuration").json();
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["EdDSA", "ES256"])
    );

    app.me(&old.access).assert_success();
    let rotated = app.refresh_ok(&old.refresh);
    assert_eq!(jwt_header(&rotated.access)["alg"], json!("ES256"));
    app.me(&rotated.access).assert_success();

    // And after a restart as well.
    let restarted = app.spawn_on_same_db(test_settings());
    restarted.me(&old.access).assert_success();
}

#[test]
fn tokens_forged_with_another_algorithm_than_their_keys_are_invalid_everywhere() {
    for algorithm in [Algorithm::EdDSA, Algorithm::ES256] {
        let app = spawn_app_with(settings_with(algorithm, None));
        let tokens = app.login_ok(ADA, ADA_PASSWORD);
        let kid = tokens.kid();
        let jwks = app.jwks();
        let public = b64url_decode(jwk_of(&jwks, &kid)["x"].as_str().unwrap()).unwrap();
        let other = match algorithm {
            Algorithm::EdDSA => "ES256",
            Algorithm::ES256 | Algorithm::RS256 => "EdDSA",
        };
        for alg in [other, "HS256", "Ed25519", "none", "RS256"] {
            let access = sign_as(alg, &kid, &claims(&tokens.access), &public);
            let refresh = sign_as(alg, &kid, &claims(&tokens.refresh), &public);
            assert_invalid_everywhere(&app, &access, &refresh, &tokens.sid());
        }
        // alg none with no signature at all.
        let none = json!({ "alg": "none", "kid": kid });
        let access = forge(&none, &claims(&tokens.access), b"");
        let refresh = forge(&none, &claims(&tokens.refresh), b"");
        assert_invalid_everywhere(&app, &access, &refresh, &tokens.sid());
        // The real tokens still work: nothing above revoked anything.
        app.me(&tokens.access).assert_success();
    }
}

#[test]
fn tokens_carry_the_audience_and_another_audience_is_invalid_everywhere() {
    let app = spawn_app_with(settings_with(Algorithm::EdDSA, Some("https://api.a.test")));
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(claims(&tokens.access)["aud"], json!("https://api.a.test"));
    assert_eq!(claims(&tokens.refresh)["aud"], json!("https://api.a.test"));
    app.me(&tokens.access).assert_success();

    let other = app.spawn_on_same_db(settings_with(Algorithm::EdDSA, Some("https://api.b.test")));
    assert_invalid_everywhere(&other, &tokens.access, &tokens.refresh, &tokens.sid());

    // A token with no audience at all, from the same keys.
    let plain = app.spawn_on_same_db(test_settings());
    let without = plain.login_ok(ADA, ADA_PASSWORD);
    assert!(claims(&without.access).get("aud").is_none());
    assert_invalid_everywhere(&app, &without.access, &without.refresh, &without.sid());

    // The first server's own tokens were untouched by all of that.
    app.me(&tokens.access).assert_success();
    app.refresh_ok(&tokens.refresh);
}

#[test]
fn the_discovery_document_names_the_issuer_and_the_jwks_at_the_public_url() {
    let app = spawn_app_with(Settings {
        issuer: "https://auth.example.test".into(),
        public_url: Some("https://auth.example.test".into()),
        ..test_settings()
    });
    let resp = app.get("/.well-known/openid-configuration");
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
    let doc = resp.json();
    assert_eq!(doc["issuer"], json!("https://auth.example.test"));
    assert_eq!(
        doc["jwks_uri"],
        json!("https://auth.example.test/.well-known/jwks.json")
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["EdDSA"])
    );

    // Without --public-url (in-process), the address the request came to.
    let local = spawn_app();
    let doc = local.get("/.well-known/openid-configuration").json();
    assert_eq!(doc["issuer"], json!("authlite"));
    assert_eq!(
        doc["jwks_uri"],
        json!(format!("{}/.well-known/jwks.json", local.address))
    );
    let via_uri = local.get(
        doc["jwks_uri"]
            .as_str()
            .unwrap()
            .trim_start_matches(&local.address),
    );
    assert_eq!(via_uri.json(), local.jwks());
}
