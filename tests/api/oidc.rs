//! The OpenID Connect provider over HTTP (SPEC §13): authorize → the page's
//! continuation → token, as a relying party and the login page drive it.

use std::time::Duration;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use authlite::settings::Settings;

use crate::helpers::*;
use crate::jwt::claims;

pub const CALLBACK: &str = "https://tool.acme.test/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A relying party registered on `app`: its id and secret (None: public).
pub struct Rp {
    pub id: String,
    pub secret: Option<String>,
}

/// An agent that shows redirects instead of following them.
pub fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// Registers a client through the CLI: `client add --name Tool --redirect-uri CALLBACK …`.
pub fn add_client(app: &TestApp, extra: &[&str]) -> Rp {
    let mut args = vec![
        "client",
        "add",
        "--name",
        "Tool",
        "--redirect-uri",
        CALLBACK,
        "--post-logout-uri",
        "https://tool.acme.test/bye",
    ];
    args.extend_from_slice(extra);
    let out = app.cli(&args);
    let value = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    Rp {
        id: value("client_id").expect("client_id printed"),
        secret: value("client_secret"),
    }
}

pub fn challenge(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

pub fn location(resp: &Resp) -> String {
    assert_eq!(resp.status, 303, "{}", resp.text);
    resp.header("location").expect("a Location").to_string()
}

/// The value of query parameter `name` in `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// GET /oauth/authorize with these parameters (each given Some).
pub fn authorize(app: &TestApp, pairs: &[(&str, &str)]) -> Resp {
    let query = serde_urlencoded::to_string(pairs).unwrap();
    send_with(
        &no_redirects(),
        &app.address,
        Req::new("GET", &format!("/oauth/authorize?{query}")),
    )
}

/// The usual request of `rp`: code flow with PKCE, a state and a nonce.
pub fn start(app: &TestApp, rp: &Rp, scope: &str, prompt: Option<&str>) -> String {
    let challenge = challenge(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", rp.id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if let Some(prompt) = prompt {
        pairs.push(("prompt", prompt));
    }
    let to = location(&authorize(app, &pairs));
    let (page, id) = to.split_once("/#authorize=").expect("to the page");
    assert_eq!(page, app.address, "the page of this server");
    id.to_string()
}

/// What the page sends: POST /oauth/continue, with its session's bearer.
pub fn continue_with(app: &TestApp, id: &str, bearer: Option<&str>) -> Resp {
    let req = Req::new("POST", "/oauth/continue").json(&json!({ "requestId": id }));
    app.send(match bearer {
        Some(token) => req.bearer(token),
        None => req,
    })
}

/// The code the page's session gets for request `id`.
pub fn code_for(app: &TestApp, id: &str, bearer: &str) -> String {
    let resp = continue_with(app, id, Some(bearer));
    assert_eq!(resp.status, 200, "{}", resp.text);
    let to = resp.json()["redirectUrl"].as_str().unwrap().to_string();
    assert!(to.starts_with(CALLBACK), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    param(&to, "code").expect("a code")
}

/// POST /oauth/token with a form, authenticated with Basic when `basic` is given.
pub fn token(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Resp {
    let body = serde_urlencoded::to_string(form).unwrap();
    let mut req = Req::new("POST", "/oauth/token").raw("application/x-www-form-urlencoded", body);
    if let Some((id, secret)) = basic {
        let encoded = Base64::encode_string(format!("{id}:{secret}").as_bytes());
        req = req.header("Authorization", format!("Basic {encoded}"));
    }
    app.send(req)
}

pub fn redeem(app: &TestApp, rp: &Rp, code: &str) -> Resp {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    match &rp.secret {
        Some(secret) => token(app, &form, Some((&rp.id, secret))),
        None => token(
            app,
            &[&form[..], &[("client_id", rp.id.as_str())]].concat(),
            None,
        ),
    }
}

pub fn oauth_error(resp: &Resp, status: u16, error: &str) {
    assert_eq!(
        (resp.status, resp.json()["error"].as_str()),
        (status, Some(error)),
        "{}",
        resp.text
    );
    assert_eq!(resp.header("cache-control"), Some("no-store"));
}

/// Verifies a token with another library, from the JWKS alone.
fn verify_with_jwks(app: &TestApp, token: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks = app.jwks();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| Some(k["kid"].as_str().unwrap()) == header.kid.as_deref())
        .expect("the key is published")
        .clone();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&["authlite"]);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the ID token verifies")
        .claims
}

#[test]
fn the_code_flow_gives_tokens_an_id_token_and_userinfo_by_scope() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let id = start(&app, &rp, "openid email profile groups", None);
    let code = code_for(&app, &id, &ada.access);
    let resp = redeem(&app, &rp, &code);
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = resp.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid email profile groups");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access: {body}"
    );
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((3599..=3600).contains(&expires_in), "{expires_in}");

    let id_token = body["id_token"].as_str().unwrap();
    let c = verify_with_jwks(&app, id_token, &rp.id);
    let ada_id = claims(&ada.access)["sub"].as_str().unwrap().to_string();
    assert_eq!(c["sub"], ada_id.as_str());
    assert_eq!(
        (c["nonce"].as_str(), c["email"].as_str()),
        (Some("n-1"), Some(ADA))
    );
    assert_eq!(
        (&c["email_verified"], &c["name"]),
        (&json!(true), &json!(ADA_NAME))
    );
    assert_eq!(c["preferred_username"], ADA);
    assert_eq!(c["amr"], json!(["pwd"]));
    assert_eq!(c["groups"], json!([]));
    let auth_time = c["auth_time"].as_i64().unwrap();
    assert!(auth_time <= now() && auth_time > now() - 60, "{auth_time}");
    assert!(c["sid"].as_str().is_some_and(|sid| sid != ada.sid()));

    let access = body["access_token"].as_str().unwrap();
    let a = claims(access);
    assert_eq!(
        (a["client_id"].as_str(), a["scope"].as_str()),
        (Some(rp.id.as_str()), Some("openid email profile groups"))
    );
    assert_eq!(a["sid"], c["sid"]);
    app.me(access).assert_success();
    let info = app.send(Req::new("GET", "/oauth/userinfo").bearer(access));
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(
        info.json(),
        json!({"sub": ada_id, "email": ADA, "email_verified": true, "name": ADA_NAME,
               "preferred_username": ADA, "groups": []})
    );
    let posted = app.send(Req::new("POST", "/oauth/userinfo").bearer(access));
    assert_eq!(posted.json(), info.json());
    let own = app.send(Req::new("GET", "/oauth/userinfo").bearer(&ada.access));
    assert_eq!(own.status, 401, "the page's own token is no client's");
    assert!(own
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
}

#[test]
fn the_scope_limits_the_claims_and_authorization_is_audited() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let id = start(&app, &rp, "openid unknown", None);
    let body = redeem(&app, &rp, &code_for(&app, &id, &ada.access)).json();
    assert_eq!(body["scope"], "openid");
    let c = claims(body["id_token"].as_str().unwrap());
    for absent in ["email", "name", "groups", "preferred_username"] {
        assert!(c.get(absent).is_none(), "{absent} without its scope: {c}");
    }
    let access = body["access_token"].as_str().unwrap();
    let info = app
        .send(Req::new("GET", "/oauth/userinfo").bearer(access))
        .json();
    assert_eq!(
        info.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["sub"]
    );
    let events = app.admin(
        "GET",
        "/admin/audit?type=oidc.authorized",
        &app.admin_token(),
        None,
    );
    let events = events.json()["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["detail"], json!({"clientId": rp.id}));
    assert_eq!(events[0]["userId"], c["sub"]);
}

#[test]
fn a_code_works_once_and_its_second_use_revokes_what_the_first_issued() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &start(&app, &rp, "openid", None), &ada.access);
    let first = redeem(&app, &rp, &code);
    assert_eq!(first.status, 200, "{}", first.text);
    let access = first.json()["access_token"].as_str().unwrap().to_string();
    app.me(&access).assert_success();
    oauth_error(&redeem(&app, &rp, &code), 400, "invalid_grant");
    app.me(&access).assert_error(401, "TOKEN_REVOKED");
    app.me(&ada.access).assert_success();
}

#[test]
fn of_two_racing_redemptions_one_gets_tokens() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &start(&app, &rp, "openid", None), &ada.access);
    let answers: Vec<Resp> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| redeem(&app, &rp, &code)))
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        3,
        "{statuses:?}"
    );
    // The winner's tokens were revoked by the losers' second use.
    let winner = answers.iter().find(|r| r.status == 200).unwrap();
    app.me(winner.json()["access_token"].as_str().unwrap())
        .assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn a_public_client_uses_pkce_and_no_secret() {
    let app = spawn_app();
    let rp = add_client(&app, &["--public"]);
    assert!(rp.secret.is_none());
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &start(&app, &rp, "openid", None), &ada.access);
    let wrong = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", "x".repeat(43).as_str()),
        ("client_id", rp.id.as_str()),
    ]
    .map(|(a, b)| (a, b.to_string()));
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(a, b)| (*a, b.as_str())).collect();
    oauth_error(&token(&app, &wrong, None), 400, "invalid_grant");
    let resp = redeem(&app, &rp, &code);
    assert_eq!(resp.status, 200, "{}", resp.text);
}

#[test]
fn offline_access_gives_a_refresh_token_that_rotates_with_reuse_detection() {
    let app = spawn_app_with(Settings {
        reuse_grace: 0,
        ..test_settings()
    });
    let rp = add_client(&app, &[]);
    let other = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let id = start(&app, &rp, "openid email offline_access", None);
    let first = redeem(&app, &rp, &code_for(&app, &id, &ada.access)).json();
    let refresh = first["refresh_token"]
        .as_str()
        .expect("offline_access")
        .to_string();
    let secret = rp.secret.clone().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    oauth_error(
        &token(
            &app,
            &form,
            Some((&other.id, other.secret.as_deref().unwrap())),
        ),
        400,
        "invalid_grant",
    );
    let next = token(&app, &form, Some((&rp.id, &secret)));
    assert_eq!(next.status, 200, "{}", next.text);
    let next = next.json();
    assert_eq!(next["scope"], "openid email offline_access");
    let c = claims(next["id_token"].as_str().unwrap());
    assert_eq!(
        (c["aud"].as_str(), c["email"].as_str()),
        (Some(rp.id.as_str()), Some(ADA))
    );
    assert_eq!(
        claims(next["access_token"].as_str().unwrap())["client_id"],
        rp.id.as_str()
    );
    assert_ne!(next["refresh_token"], first["refresh_token"]);
    past_a_grace_of_zero();
    oauth_error(
        &token(&app, &form, Some((&rp.id, &secret))),
        400,
        "invalid_grant",
    );
    let newer = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next["refresh_token"].as_str().unwrap()),
    ];
    oauth_error(
        &token(&app, &newer, Some((&rp.id, &secret))),
        400,
        "invalid_grant",
    );
    app.me(next["access_token"].as_str().unwrap())
        .assert_error(401, "TOKEN_REVOKED");
    // The page's own refresh token is no client's.
    let own = [
        ("grant_type", "refresh_token"),
        ("refresh_token", ada.refresh.as_str()),
    ];
    oauth_error(
        &token(&app, &own, Some((&rp.id, &secret))),
        400,
        "invalid_grant",
    );
}

/// A client's tokens are for `/oauth/*` and `/user/me`: at the first-party
/// endpoints they would act with all the user's powers, an admin's included.
#[test]
fn a_clients_tokens_buy_no_first_party_powers() {
    let app = spawn_app();
    let admin = app.admin_token();
    let rp = add_client(&app, &[]);
    let id = start(&app, &rp, "openid offline_access", None);
    let issued = redeem(&app, &rp, &code_for(&app, &id, &admin)).json();
    let access = issued["access_token"].as_str().expect("an access token");
    let refresh = issued["refresh_token"].as_str().expect("offline_access");

    assert_eq!(app.me(access).status, 200);
    for (method, path) in [
        ("GET", "/admin/users"),
        ("GET", "/user/sessions"),
        ("GET", "/user/mfa"),
        ("GET", "/user/passkeys"),
    ] {
        app.admin(method, path, access, None)
            .assert_error(401, "INVALID_TOKEN");
    }
    let change = json!({"currentPassword": ADA_PASSWORD, "newPassword": "a whole new pass phrase"});
    app.admin("POST", "/user/password", access, Some(change))
        .assert_error(401, "INVALID_TOKEN");

    // Refused the same on the hot path (this server signed for Ada already,
    // by the page's refresh) and on the slow one, and nothing is spent.
    let own = app.login_ok(ADA, ADA_PASSWORD);
    app.refresh_ok(&own.refresh);
    for _ in 0..2 {
        app.refresh(refresh).assert_error(401, "INVALID_TOKEN");
    }
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let secret = rp.secret.as_deref().expect("a confidential client");
    let next = token(&app, &form, Some((&rp.id, secret)));
    assert_eq!(next.status, 200, "{}", next.text);
    let renewed = next.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.me(&renewed).status, 200);
    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn logout_ends_the_clients_session_and_returns_to_a_registered_uri() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let body = redeem(
        &app,
        &rp,
        &code_for(&app, &start(&app, &rp, "openid", None), &ada.access),
    )
    .json();
    let (access, id_token) = (
        body["access_token"].as_str().unwrap(),
        body["id_token"].as_str().unwrap(),
    );
    let query = serde_urlencoded::to_string([
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", "https://tool.acme.test/bye"),
        ("state", "s 2"),
    ])
    .unwrap();
    let get = |q: &str| {
        send_with(
            &no_redirects(),
            &app.address,
            Req::new("GET", &format!("/oauth/logout?{q}")),
        )
    };
    let to = location(&get(&query));
    let (_, id) = to.split_once("/#logout=").expect("to the page");
    app.me(access).assert_error(401, "TOKEN_REVOKED");
    let done = continue_with(&app, id, None);
    assert_eq!(
        done.json()["redirectUrl"],
        "https://tool.acme.test/bye?state=s+2"
    );
    continue_with(&app, id, None).assert_error(404, "AUTHORIZATION_NOT_FOUND");

    let elsewhere = serde_urlencoded::to_string([
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", "https://evil.test/"),
    ])
    .unwrap();
    let refused = get(&elsewhere);
    assert_eq!(refused.status, 400);
    assert!(
        refused.text.contains("did not register"),
        "{}",
        refused.text
    );
    let forged = get("id_token_hint=eyJhbGciOiJub25lIn0.e30.&client_id=x");
    assert_eq!(forged.status, 400);
}

#[test]
fn the_discovery_document_lists_the_provider() {
    let app = spawn_app();
    let doc = app.get("/.well-known/openid-configuration").json();
    let base = &app.address;
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(doc["userinfo_endpoint"], format!("{base}/oauth/userinfo"));
    assert_eq!(doc["end_session_endpoint"], format!("{base}/oauth/logout"));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(
        doc["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "email", "profile", "groups", "offline_access"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
}

#[test]
fn an_rs256_server_signs_id_tokens_that_verify_from_its_jwks() {
    let app = spawn_app_with(Settings {
        algorithm: authlite::tokens::Algorithm::RS256,
        ..test_settings()
    });
    let jwks = app.jwks();
    let key = &jwks["keys"][0];
    assert_eq!(
        (&key["kty"], &key["alg"], &key["e"]),
        (&json!("RSA"), &json!("RS256"), &json!("AQAB"))
    );
    assert_eq!(key["n"].as_str().unwrap().len(), 342, "2048 bits");
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let body = redeem(
        &app,
        &rp,
        &code_for(&app, &start(&app, &rp, "openid", None), &ada.access),
    )
    .json();
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        JwtAlgorithm::RS256
    );
    verify_with_jwks(&app, id_token, &rp.id);
    let doc = app.get("/.well-known/openid-configuration").json();
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
}
