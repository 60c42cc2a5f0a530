//! Every refusal of the OpenID Connect provider (SPEC §13): authorize's error
//! page and error redirects, the page's continuation, the token endpoint's
//! RFC 6749 errors, and the clients' admin API.

use serde_json::json;

use crate::helpers::*;
use crate::oidc::*;

fn base<'a>(rp: &'a Rp, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", rp.id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "s1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// `base` with `name` set to `value` (None: left out).
fn with<'a>(
    rp: &'a Rp,
    challenge: &'a str,
    name: &str,
    value: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs: Vec<_> = base(rp, challenge)
        .into_iter()
        .filter(|(n, _)| *n != name)
        .collect();
    if let Some(value) = value {
        let name = base(rp, challenge)
            .into_iter()
            .find(|(n, _)| *n == name)
            .map_or("prompt", |(n, _)| n);
        pairs.push((name, value));
    }
    pairs
}

#[test]
fn an_unknown_client_or_redirect_uri_gets_an_error_page_never_a_redirect() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ch = challenge(VERIFIER);
    let cases = [
        (with(&rp, &ch, "client_id", Some("nope")), "No application"),
        (with(&rp, &ch, "client_id", None), "names no application"),
        (
            with(&rp, &ch, "redirect_uri", Some("https://evil.test/callback")),
            "did not register",
        ),
        (
            with(
                &rp,
                &ch,
                "redirect_uri",
                Some("https://tool.acme.test/callback/"),
            ),
            "did not register",
        ),
        (with(&rp, &ch, "redirect_uri", None), "names no application"),
    ];
    for (pairs, words) in cases {
        let resp = authorize(&app, &pairs);
        assert_eq!(resp.status, 400, "{pairs:?}");
        assert!(resp.header("location").is_none());
        assert!(resp
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(resp.text.contains(words), "{pairs:?}: {}", resp.text);
    }
}

#[test]
fn other_authorize_errors_return_to_the_client_with_error_and_state() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let public = add_client(&app, &["--public"]);
    let ch = challenge(VERIFIER);
    let long = "x".repeat(1025);
    let cases = [
        (
            with(&rp, &ch, "response_type", Some("token")),
            "unsupported_response_type",
        ),
        (
            with(&rp, &ch, "response_type", None),
            "unsupported_response_type",
        ),
        (
            with(&rp, &ch, "scope", Some("email profile")),
            "invalid_scope",
        ),
        (with(&rp, &ch, "scope", None), "invalid_scope"),
        (
            with(&rp, &ch, "code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (
            with(&rp, &ch, "code_challenge_method", None),
            "invalid_request",
        ),
        (
            with(&rp, &ch, "code_challenge", Some("short")),
            "invalid_request",
        ),
        (
            with(&rp, &ch, "prompt", Some("sometimes")),
            "invalid_request",
        ),
        (with(&rp, &ch, "state", Some(&long)), "invalid_request"),
    ];
    for (pairs, error) in cases {
        let to = location(&authorize(&app, &pairs));
        assert!(to.starts_with(&format!("{CALLBACK}?")), "{to}");
        assert_eq!(param(&to, "error").as_deref(), Some(error), "{pairs:?}");
        let state = pairs
            .iter()
            .find(|(n, _)| *n == "state")
            .map(|(_, v)| v.to_string());
        assert_eq!(param(&to, "state"), state);
    }
    // A public client must send PKCE; a confidential one may leave it out.
    let no_pkce = |rp: &Rp| {
        let mut pairs = with(rp, &ch, "code_challenge", None);
        pairs.retain(|(n, _)| *n != "code_challenge_method");
        location(&authorize(&app, &pairs))
    };
    assert_eq!(
        param(&no_pkce(&public), "error").as_deref(),
        Some("invalid_request")
    );
    assert!(no_pkce(&rp).contains("/#authorize="));
}

#[test]
fn prompt_none_without_a_session_redirects_with_login_required() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let id = start(&app, &rp, "openid", Some("none"));
    let resp = continue_with(&app, &id, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    let to = resp.json()["redirectUrl"].as_str().unwrap().to_string();
    assert_eq!(
        (
            param(&to, "error").as_deref(),
            param(&to, "state").as_deref()
        ),
        (Some("login_required"), Some("st-1"))
    );
    assert!(param(&to, "code").is_none());
    continue_with(&app, &id, None).assert_error(404, "AUTHORIZATION_NOT_FOUND");
    // With a session it goes on without a word.
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let id = start(&app, &rp, "openid", Some("none"));
    code_for(&app, &id, &ada.access);
}

#[test]
fn without_a_session_the_page_is_told_to_sign_in_and_may_then_go_on() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let id = start(&app, &rp, "openid", None);
    continue_with(&app, &id, None).assert_error(401, "MISSING_TOKEN");
    continue_with(&app, &id, Some("not.a.token")).assert_error(401, "INVALID_TOKEN");
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &id, &ada.access);
    assert_eq!(redeem(&app, &rp, &code).status, 200);
    continue_with(&app, &id, Some(&ada.access)).assert_error(404, "AUTHORIZATION_NOT_FOUND");
    continue_with(&app, "0123", Some(&ada.access)).assert_error(404, "AUTHORIZATION_NOT_FOUND");
}

#[test]
fn prompt_login_refuses_a_session_older_than_the_request() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let old = app.login_ok(ADA, ADA_PASSWORD);
    next_second();
    let id = start(&app, &rp, "openid", Some("login"));
    continue_with(&app, &id, Some(&old.access)).assert_error(401, "LOGIN_REQUIRED");
    let fresh = app.login_ok(ADA, ADA_PASSWORD);
    code_for(&app, &id, &fresh.access);
}

#[test]
fn a_client_with_roles_denies_users_without_one() {
    let app = spawn_app();
    let rp = add_client(&app, &["--role", "staff"]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let id = start(&app, &rp, "openid", None);
    let resp = continue_with(&app, &id, Some(&ada.access));
    let to = resp.json()["redirectUrl"].as_str().unwrap().to_string();
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("access_denied"),
        "{to}"
    );
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    app.cli(&["user", "roles", ADA, "--add", "staff"]);
    let staff = app.login_ok(ADA, ADA_PASSWORD);
    let id = start(&app, &rp, "openid groups", None);
    let body = redeem(&app, &rp, &code_for(&app, &id, &staff.access)).json();
    assert_eq!(
        crate::jwt::claims(body["id_token"].as_str().unwrap())["groups"],
        json!(["staff"])
    );
}

#[test]
fn a_clients_own_access_token_cannot_authorize_for_the_page() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let body = redeem(
        &app,
        &rp,
        &code_for(&app, &start(&app, &rp, "openid", None), &ada.access),
    )
    .json();
    let id = start(&app, &rp, "openid", None);
    continue_with(&app, &id, body["access_token"].as_str()).assert_error(401, "INVALID_TOKEN");
}

#[test]
fn the_token_endpoint_answers_rfc_6749_errors() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let other = add_client(&app, &[]);
    let secret = rp.secret.clone().unwrap();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &start(&app, &rp, "openid", None), &ada.access);
    let form = |c: &str, r: &str, v: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", c.into()),
            ("redirect_uri", r.into()),
            ("code_verifier", v.into()),
        ]
    };
    let send = |pairs: Vec<(&str, String)>, basic: Option<(&str, &str)>| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (*a, b.as_str())).collect();
        token(&app, &pairs, basic)
    };
    let good = form(&code, CALLBACK, VERIFIER);
    let wrong = send(good.clone(), Some((&rp.id, "wrong")));
    oauth_error(&wrong, 401, "invalid_client");
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"authlite\"")
    );
    oauth_error(
        &send(good.clone(), Some(("nobody", "x"))),
        401,
        "invalid_client",
    );
    oauth_error(&send(good.clone(), None), 401, "invalid_client");
    let mut both = good.clone();
    both.push(("client_secret", secret.clone()));
    oauth_error(&send(both, Some((&rp.id, &secret))), 400, "invalid_request");
    let other_secret = other.secret.clone().unwrap();
    oauth_error(
        &send(good.clone(), Some((&other.id, &other_secret))),
        400,
        "invalid_grant",
    );
    oauth_error(
        &send(
            form(&code, "https://tool.acme.test/other", VERIFIER),
            Some((&rp.id, &secret)),
        ),
        400,
        "invalid_grant",
    );
    oauth_error(
        &send(
            form(&code, CALLBACK, &"a".repeat(43)),
            Some((&rp.id, &secret)),
        ),
        400,
        "invalid_grant",
    );
    oauth_error(
        &send(form("made-up", CALLBACK, VERIFIER), Some((&rp.id, &secret))),
        400,
        "invalid_grant",
    );
    let mut unsupported = good.clone();
    unsupported[0].1 = "password".into();
    oauth_error(
        &send(unsupported, Some((&rp.id, &secret))),
        400,
        "unsupported_grant_type",
    );
    let mut twice = good.clone();
    twice.push(("code", code.clone()));
    oauth_error(
        &send(twice, Some((&rp.id, &secret))),
        400,
        "invalid_request",
    );
    oauth_error(
        &send(good[..2].to_vec(), Some((&rp.id, &secret))),
        400,
        "invalid_request",
    );
    let json_body = app
        .send(Req::new("POST", "/oauth/token").json(&json!({"grant_type": "authorization_code"})));
    oauth_error(&json_body, 400, "invalid_request");
    // None of those spent the code: client_secret_post redeems it now.
    let mut post = good.clone();
    post.extend([
        ("client_id", rp.id.clone()),
        ("client_secret", secret.clone()),
    ]);
    let resp = send(post, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
}

#[test]
fn clients_are_managed_over_the_admin_api_with_their_secret_shown_once() {
    let app = spawn_app();
    let admin = app.admin_token();
    let made = app.admin(
        "POST",
        "/admin/clients",
        &admin,
        Some(json!({"name": "Grafana", "redirectUris": [CALLBACK], "roles": ["staff"], "postLogoutUris": []})),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let body = made.json();
    let id = body["client"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["clientSecret"].as_str().unwrap().len(), 43);
    assert_eq!(
        (
            &body["client"]["public"],
            &body["client"]["roles"],
            &body["client"]["redirectUris"]
        ),
        (&json!(false), &json!(["staff"]), &json!([CALLBACK]))
    );
    let listed = app.admin("GET", "/admin/clients", &admin, None);
    assert_eq!(listed.json()["clients"], json!([body["client"]]));
    assert!(!listed.text.contains(body["clientSecret"].as_str().unwrap()));
    let bad = app.admin(
        "POST",
        "/admin/clients",
        &admin,
        Some(json!({"name": "x", "redirectUris": ["/cb"]})),
    );
    bad.assert_error(400, "INVALID_REQUEST");
    let public = app.admin(
        "POST",
        "/admin/clients",
        &admin,
        Some(json!({"name": "SPA", "redirectUris": [CALLBACK], "public": true})),
    );
    assert_eq!(public.json()["clientSecret"], json!(null));

    let key = app.cli(&[
        "apikey",
        "create",
        "--name",
        "ops",
        "--scope",
        "clients:write",
    ]);
    let reader = app.cli(&["apikey", "create", "--name", "r", "--scope", "users:read"]);
    app.admin("GET", "/admin/clients", key.trim(), None)
        .assert_success();
    app.admin("GET", "/admin/clients", reader.trim(), None)
        .assert_error(403, "FORBIDDEN");
    let ada = app.login_ok(BOB, BOB_PASSWORD);
    app.admin("GET", "/admin/clients", &ada.access, None)
        .assert_error(403, "FORBIDDEN");

    app.admin("DELETE", &format!("/admin/clients/{id}"), key.trim(), None)
        .assert_success();
    app.admin("DELETE", &format!("/admin/clients/{id}"), &admin, None)
        .assert_error(404, "CLIENT_NOT_FOUND");
    let events = app
        .admin("GET", "/admin/audit?type=client.removed", &admin, None)
        .json();
    assert_eq!(events["events"][0]["detail"], json!({"clientId": id}));
    let created = app
        .admin("GET", "/admin/audit?type=client.created", &admin, None)
        .json();
    assert_eq!(created["events"].as_array().unwrap().len(), 2);
}

#[test]
fn removing_a_client_revokes_its_sessions_and_rotating_its_secret_voids_the_old_one() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &start(&app, &rp, "openid", None), &ada.access);
    let secret = rp.secret.clone().unwrap();
    let out = app.cli(&["client", "rotate-secret", &rp.id]);
    let new_secret = out
        .trim()
        .strip_prefix("client_secret=")
        .unwrap()
        .to_string();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    oauth_error(
        &token(&app, &form, Some((&rp.id, &secret))),
        401,
        "invalid_client",
    );
    let body = token(&app, &form, Some((&rp.id, &new_secret))).json();
    let access = body["access_token"].as_str().unwrap();
    let listed: serde_json::Value =
        serde_json::from_str(&app.cli(&["client", "list", "--json"])).unwrap();
    assert_eq!(listed[0]["id"], rp.id.as_str());
    assert!(!app.cli(&["client", "list"]).contains(&new_secret));
    app.cli(&["client", "remove", &rp.id]);
    app.me(access).assert_error(401, "TOKEN_REVOKED");
    app.me(&ada.access).assert_success();
    oauth_error(
        &token(&app, &form, Some((&rp.id, &new_secret))),
        401,
        "invalid_client",
    );
}

/// Runs `sql` on the app's database, SQLite file or PostgreSQL alike.
fn execute(app: &TestApp, sql: &str) {
    if app.db.starts_with("postgres") {
        let mut client = postgres::Client::connect(&app.db, postgres::NoTls).unwrap();
        client.batch_execute(sql).unwrap();
    } else {
        rusqlite::Connection::open(&app.db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }
}

#[test]
fn an_expired_code_or_waiting_request_is_refused() {
    let app = spawn_app();
    let rp = add_client(&app, &[]);
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let code = code_for(&app, &start(&app, &rp, "openid", None), &ada.access);
    // 61 s later, as far as the code knows.
    execute(&app, "UPDATE oidc_codes SET expires_at = expires_at - 61");
    oauth_error(&redeem(&app, &rp, &code), 400, "invalid_grant");
    let id = start(&app, &rp, "openid", None);
    execute(
        &app,
        "UPDATE oidc_requests SET expires_at = expires_at - 601",
    );
    continue_with(&app, &id, Some(&ada.access)).assert_error(404, "AUTHORIZATION_NOT_FOUND");
}
