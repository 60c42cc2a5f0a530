//! Passkeys (SPEC §11) over HTTP, with the software authenticator of
//! tests/support/authenticator.rs: registration, the list, removal, sign-in
//! with amr ["hwk","user","mfa"], and each way a ceremony must fail.

use authlite::settings::Settings;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::support::authenticator::SoftKey;

/// The origin the servers of these tests are told they are seen at.
pub const ORIGIN: &str = "http://localhost:8080";

pub fn passkey_settings() -> Settings {
    Settings {
        public_url: Some(ORIGIN.into()),
        ..test_settings()
    }
}

pub fn spawn_passkey_app() -> TestApp {
    spawn_app_with(passkey_settings())
}

/// POST /user/passkeys/register: the ceremony id and the options.
#[track_caller]
pub fn begin_registration(app: &TestApp, access: &str) -> (String, Value) {
    let resp = app.send(Req::new("POST", "/user/passkeys/register").bearer(access));
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = resp.json();
    (
        body["ceremonyId"].as_str().expect("a ceremonyId").into(),
        body["publicKey"].clone(),
    )
}

pub fn finish_registration(
    app: &TestApp,
    access: &str,
    ceremony: &str,
    credential: &Value,
) -> Resp {
    let body = json!({"ceremonyId": ceremony, "credential": credential, "name": "Laptop"});
    app.send(
        Req::new("POST", "/user/passkeys/register/finish")
            .bearer(access)
            .json(&body),
    )
}

/// Registers `key` for the holder of `access`; the new passkey's id.
#[track_caller]
pub fn register(app: &TestApp, access: &str, key: &mut SoftKey) -> String {
    let (ceremony, options) = begin_registration(app, access);
    let resp = finish_registration(app, access, &ceremony, &key.register(&options));
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.json()["passkey"]["id"].as_str().expect("an id").into()
}

/// POST /user/passkeys/login: the ceremony id and the options.
#[track_caller]
pub fn begin_login(app: &TestApp) -> (String, Value) {
    let resp = app.send(Req::new("POST", "/user/passkeys/login").json(&json!({})));
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    (
        body["ceremonyId"].as_str().expect("a ceremonyId").into(),
        body["publicKey"].clone(),
    )
}

pub fn finish_login(app: &TestApp, ceremony: &str, credential: &Value) -> Resp {
    let body = json!({"ceremonyId": ceremony, "credential": credential});
    app.post_json("/user/passkeys/login/finish", &body)
}

/// A whole sign-in with `key`.
pub fn sign_in(app: &TestApp, key: &mut SoftKey) -> Resp {
    let (ceremony, options) = begin_login(app);
    finish_login(app, &ceremony, &key.assert(&options))
}

/// Ada, signed in with her password, with a passkey registered.
fn ada_with_a_passkey(app: &TestApp) -> (Tokens, SoftKey, String) {
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let mut key = SoftKey::new(ORIGIN);
    let id = register(app, &tokens.access, &mut key);
    (tokens, key, id)
}

fn events(app: &TestApp, admin: &str, kind: &str) -> Vec<Value> {
    let resp = app.admin("GET", &format!("/admin/audit?type={kind}"), admin, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()["events"].as_array().expect("events").clone()
}

#[test]
fn a_registered_passkey_signs_in_with_the_login_answer_and_amr_hwk_user_mfa() {
    let app = spawn_passkey_app();
    let admin = app.admin_token();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let (ceremony, options) = begin_registration(&app, &tokens.access);
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["rp"]["name"], "authlite");
    assert_eq!(options["user"]["name"], ADA);
    assert_eq!(options["user"]["displayName"], ADA_NAME);
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(options["attestation"], "none");
    // ES256, ES384, RS256: what webauthn-rs verifies (it does not verify EdDSA).
    let algs: Vec<&Value> = options["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["alg"])
        .collect();
    assert_eq!(algs, [-7, -35, -257]);

    let mut key = SoftKey::new(ORIGIN);
    key.backup = (true, true);
    let resp = finish_registration(&app, &tokens.access, &ceremony, &key.register(&options));
    assert_eq!(resp.status, 201, "{}", resp.text);
    let passkey = resp.json()["passkey"].clone();
    let mut keys: Vec<String> = passkey.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["createdAt", "id", "lastUsedAt", "name"]);
    assert_eq!(passkey["name"], "Laptop");
    assert_eq!(passkey["lastUsedAt"], Value::Null);
    let id = passkey["id"].as_str().unwrap().to_string();

    let list = app.send(Req::new("GET", "/user/passkeys").bearer(&tokens.access));
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()["passkeys"], json!([passkey]));
    let mfa = app.send(Req::new("GET", "/user/mfa").bearer(&tokens.access));
    assert_eq!(mfa.json()["passkeys"], 1);

    // Signed out, Ada signs in with the passkey alone.
    app.logout_bearer(&tokens.access).assert_success();
    let (ceremony, options) = begin_login(&app);
    assert_eq!(options["rpId"], "localhost");
    assert_eq!(options["allowCredentials"], json!([]));
    assert_eq!(options["userVerification"], "required");
    let resp = finish_login(&app, &ceremony, &key.assert(&options));
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let signed = Tokens::from_resp(&resp);
    assert_eq!(resp.json()["user"]["email"], ADA);
    let claims = claims(&signed.access);
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));
    assert_eq!(claims["email"], ADA);
    assert_eq!(app.me(&signed.access).status, 200);
    // A refreshed token keeps the session's amr.
    let refreshed = app.refresh_ok(&signed.refresh);
    assert_eq!(
        claims_of(&refreshed.access)["amr"],
        json!(["hwk", "user", "mfa"])
    );

    let list = app
        .send(Req::new("GET", "/user/passkeys").bearer(&signed.access))
        .json();
    assert!(
        list["passkeys"][0]["lastUsedAt"].as_u64().is_some(),
        "{list}"
    );
    let added = events(&app, &admin, "passkey.added");
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["detail"], json!({"passkeyId": id}));
    let succeeded = events(&app, &admin, "login.succeeded");
    assert_eq!(succeeded[0]["detail"]["method"], "passkey");
    assert_eq!(succeeded[0]["detail"]["amr"], json!(["hwk", "user", "mfa"]));

    // The counter and backup flags are recorded.
    let db = authlite::store::Database::open(&app.db, Default::default()).unwrap();
    let stored = db
        .read(|s| s.find_passkey_by_credential(&key.credential_id))
        .unwrap()
        .expect("the passkey");
    assert_eq!(
        (
            stored.sign_count,
            stored.backup_eligible,
            stored.backup_state
        ),
        (1, true, true)
    );
}

fn claims_of(token: &str) -> Value {
    claims(token)
}

/// What a test makes the authenticator get wrong.
type Spoil = fn(&mut SoftKey);

#[test]
fn each_tampered_assertion_is_invalid_credential_and_the_ceremony_is_spent() {
    let app = spawn_passkey_app();
    let (_, mut key, _) = ada_with_a_passkey(&app);
    let tamper: [(&str, Spoil); 5] = [
        ("challenge", |k| {
            k.challenge = Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into())
        }),
        ("origin", |k| k.origin = "http://evil.test:8080".into()),
        ("rp id hash", |k| k.rp_id = "evil.test".into()),
        ("signature", |k| k.bad_signature = true),
        ("user verification", |k| k.verified = false),
    ];
    for (what, spoil) in tamper {
        let (ceremony, options) = begin_login(&app);
        let mut wrong = key_clone(&key);
        spoil(&mut wrong);
        let resp = finish_login(&app, &ceremony, &wrong.assert(&options));
        resp.assert_error(401, "INVALID_CREDENTIAL");
        assert!(!resp.text.contains("webauthn"), "{what}: {}", resp.text);
        // The ceremony is spent by the failure: the right assertion now fails too.
        let right = key.assert(&options);
        finish_login(&app, &ceremony, &right).assert_error(401, "INVALID_CREDENTIAL");
    }
    // After all that, the right key still signs in.
    assert_eq!(sign_in(&app, &mut key).status, 200);
    // A sign counter that goes back (a cloned authenticator) is refused.
    let mut clone = key.twin();
    clone.counter = 0;
    sign_in(&app, &mut clone).assert_error(401, "INVALID_CREDENTIAL");
    assert_eq!(sign_in(&app, &mut key).status, 200);
}

/// A second handle on the same credential (same private key and id).
fn key_clone(key: &SoftKey) -> SoftKey {
    key.twin()
}

#[test]
fn an_unknown_removed_or_erased_credential_is_refused() {
    let app = spawn_passkey_app();
    let admin = app.admin_token();
    let (tokens, mut key, id) = ada_with_a_passkey(&app);
    // Never registered.
    let mut stranger = SoftKey::new(ORIGIN);
    stranger.user_handle = key.user_handle.clone();
    sign_in(&app, &mut stranger).assert_error(401, "INVALID_CREDENTIAL");

    // Removed: Bob cannot remove it, Ada can; then it signs in no more.
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    let path = format!("/user/passkeys/{id}");
    app.send(Req::new("DELETE", &path).bearer(&bob.access))
        .assert_error(404, "PASSKEY_NOT_FOUND");
    app.send(Req::new("DELETE", &path).bearer(&tokens.access))
        .assert_success();
    app.send(Req::new("DELETE", &path).bearer(&tokens.access))
        .assert_error(404, "PASSKEY_NOT_FOUND");
    sign_in(&app, &mut key).assert_error(401, "INVALID_CREDENTIAL");
    let removed = events(&app, &admin, "passkey.removed");
    assert_eq!(removed[0]["detail"], json!({"passkeyId": id}));

    // A user erased takes their passkeys along.
    let bob_id = app.user_id(&admin, BOB);
    let mut bobs = SoftKey::new(ORIGIN);
    register(&app, &bob.access, &mut bobs);
    assert_eq!(sign_in(&app, &mut bobs).status, 200);
    let erased = app.admin(
        "DELETE",
        &format!("/admin/users/{bob_id}?erase=true"),
        &admin,
        None,
    );
    assert_eq!(erased.status, 200, "{}", erased.text);
    sign_in(&app, &mut bobs).assert_error(401, "INVALID_CREDENTIAL");
}

#[test]
fn an_inactive_or_deleted_user_is_refused_after_a_right_assertion() {
    let app = spawn_passkey_app();
    let admin = app.admin_token();
    let (_, mut key, _) = ada_with_a_passkey(&app);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    let mut bobs = SoftKey::new(ORIGIN);
    register(&app, &bob.access, &mut bobs);
    app.cli(&["user", "set-status", BOB, "inactive"]);
    sign_in(&app, &mut bobs).assert_error(401, "USER_INACTIVE");
    app.cli(&["user", "set-status", BOB, "banned"]);
    sign_in(&app, &mut bobs).assert_error(401, "USER_INACTIVE");
    app.cli(&["user", "set-status", BOB, "deleted"]);
    sign_in(&app, &mut bobs).assert_error(401, "USER_NOT_FOUND");
    let failed = events(&app, &admin, "login.failed");
    let codes: Vec<&Value> = failed.iter().map(|e| &e["detail"]["code"]).collect();
    assert_eq!(codes, ["USER_NOT_FOUND", "USER_INACTIVE", "USER_INACTIVE"]);
    assert_eq!(failed[0]["detail"]["email"], BOB);
    // Ada is untouched.
    assert_eq!(sign_in(&app, &mut key).status, 200);
}

#[test]
fn a_spent_expired_or_unknown_ceremony_is_refused() {
    let app = spawn_passkey_app();
    let (_, mut key, _) = ada_with_a_passkey(&app);
    // Spent: a replay of a successful finish.
    let (ceremony, options) = begin_login(&app);
    let assertion = key.assert(&options);
    assert_eq!(finish_login(&app, &ceremony, &assertion).status, 200);
    finish_login(&app, &ceremony, &assertion).assert_error(401, "INVALID_CREDENTIAL");
    // Unknown.
    let (_, options) = begin_login(&app);
    finish_login(&app, "no-such-ceremony", &key.assert(&options))
        .assert_error(401, "INVALID_CREDENTIAL");
    // Expired: the same ceremony, its 300 s run out.
    let (ceremony, options) = begin_login(&app);
    expire(&app, &ceremony, authlite::store::CeremonyKind::Login, None);
    finish_login(&app, &ceremony, &key.assert(&options)).assert_error(401, "INVALID_CREDENTIAL");
    // A registration's ceremony is no sign-in's.
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let (ceremony, _) = begin_registration(&app, &tokens.access);
    let (_, options) = begin_login(&app);
    finish_login(&app, &ceremony, &key.assert(&options)).assert_error(401, "INVALID_CREDENTIAL");
}

/// Puts the ceremony back with its expiry in the past, as 300 s would.
fn expire(app: &TestApp, ceremony: &str, kind: authlite::store::CeremonyKind, user: Option<&str>) {
    let db = authlite::store::Database::open(&app.db, Default::default()).unwrap();
    let digest = authlite::password::link::digest(ceremony);
    let user = user.map(str::to_string);
    db.transaction(|s| {
        let mut taken = s
            .take_ceremony(&digest, kind, user.as_deref())?
            .expect("the ceremony");
        taken.expires_at = authlite::clock::now() - 1;
        s.create_ceremony(&taken)
    })
    .unwrap();
}

#[test]
fn a_registration_is_refused_for_a_bad_credential_and_another_users_ceremony() {
    let app = spawn_passkey_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    let ada_id = claims(&ada.access)["sub"].as_str().unwrap().to_string();
    let spoilers: [Spoil; 4] = [
        |k| k.verified = false,
        |k| k.origin = "http://localhost:9999".into(),
        |k| k.rp_id = "example.com".into(),
        |k| k.challenge = Some("AAAA".into()),
    ];
    for spoil in spoilers {
        let (ceremony, options) = begin_registration(&app, &ada.access);
        let mut key = SoftKey::new(ORIGIN);
        spoil(&mut key);
        finish_registration(&app, &ada.access, &ceremony, &key.register(&options))
            .assert_error(400, "INVALID_CREDENTIAL");
    }
    // Bob cannot finish (or spend) Ada's ceremony.
    let (ceremony, options) = begin_registration(&app, &ada.access);
    let mut key = SoftKey::new(ORIGIN);
    let credential = key.register(&options);
    finish_registration(&app, &bob.access, &ceremony, &credential)
        .assert_error(400, "INVALID_CREDENTIAL");
    assert_eq!(
        finish_registration(&app, &ada.access, &ceremony, &credential).status,
        201
    );
    // Once only, and a credential id once only.
    finish_registration(&app, &ada.access, &ceremony, &credential)
        .assert_error(400, "INVALID_CREDENTIAL");
    let (ceremony, options) = begin_registration(&app, &bob.access);
    assert_eq!(options["excludeCredentials"], json!([]));
    finish_registration(&app, &bob.access, &ceremony, &key.twin().register(&options))
        .assert_error(400, "INVALID_CREDENTIAL");
    // Expired.
    let (ceremony, options) = begin_registration(&app, &ada.access);
    assert_eq!(options["excludeCredentials"][0]["id"], key_id(&key));
    expire(
        &app,
        &ceremony,
        authlite::store::CeremonyKind::Register,
        Some(&ada_id),
    );
    finish_registration(
        &app,
        &ada.access,
        &ceremony,
        &SoftKey::new(ORIGIN).register(&options),
    )
    .assert_error(400, "INVALID_CREDENTIAL");
    // Bad bodies are 400 INVALID_REQUEST, and need the bearer.
    let body = json!({"ceremonyId": "x", "credential": "not an object"});
    app.send(
        Req::new("POST", "/user/passkeys/register/finish")
            .bearer(&ada.access)
            .json(&body),
    )
    .assert_error(400, "INVALID_REQUEST");
    let body = json!({"ceremonyId": "x", "credential": {}, "name": "n".repeat(101)});
    app.send(
        Req::new("POST", "/user/passkeys/register/finish")
            .bearer(&ada.access)
            .json(&body),
    )
    .assert_error(400, "INVALID_REQUEST");
    app.send(Req::new("POST", "/user/passkeys/register"))
        .assert_error(401, "MISSING_TOKEN");
    let list = app
        .send(Req::new("GET", "/user/passkeys").bearer(&ada.access))
        .json();
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1, "{list}");
}

fn key_id(key: &SoftKey) -> String {
    crate::support::authenticator::b64(&key.credential_id)
}

#[test]
fn failed_passkey_sign_ins_count_for_the_address_lockout() {
    let app = spawn_app_with(Settings {
        max_failures_per_ip: 3,
        ..passkey_settings()
    });
    let admin = app.admin_token();
    let (_, mut key, _) = ada_with_a_passkey(&app);
    for _ in 0..3 {
        let (_, options) = begin_login(&app);
        finish_login(&app, "wrong", &key.assert(&options)).assert_error(401, "INVALID_CREDENTIAL");
    }
    let resp = sign_in(&app, &mut key);
    resp.assert_error(429, "TOO_MANY_ATTEMPTS");
    assert!(resp.header("retry-after").is_some());
    // The password login from this address is locked too.
    app.login(ADA, ADA_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    sign_in(&app, &mut key).assert_error(429, "TOO_MANY_ATTEMPTS");
    // The audit log notes the lock once (admin calls are not sign-ins).
    let locked = events(&app, &admin, "login.locked");
    let by_passkey: Vec<&Value> = locked
        .iter()
        .filter(|e| e["detail"]["method"] == "passkey")
        .collect();
    assert_eq!(by_passkey.len(), 1, "{locked:?}");
}

#[test]
fn of_two_finishes_racing_on_one_ceremony_one_signs_in() {
    let app = std::sync::Arc::new(spawn_passkey_app());
    let (_, mut key, _) = ada_with_a_passkey(&app);
    let (ceremony, options) = begin_login(&app);
    let assertion = key.assert(&options);
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (app, ceremony, assertion) = (app.clone(), ceremony.clone(), assertion.clone());
            std::thread::spawn(move || finish_login(&app, &ceremony, &assertion).status)
        })
        .collect();
    let mut statuses: Vec<u16> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401]);
}

#[test]
fn an_admin_reset_removes_passkeys_and_the_admin_view_counts_them() {
    let app = spawn_passkey_app();
    let admin = app.admin_token();
    let (_, mut key, _) = ada_with_a_passkey(&app);
    let ada_id = app.user_id(&admin, ADA);
    let user = app.admin("GET", &format!("/admin/users/{ada_id}"), &admin, None);
    assert_eq!(user.json()["user"]["mfa"]["passkeys"], 1, "{}", user.text);
    let reset = app.admin(
        "DELETE",
        &format!("/admin/users/{ada_id}/mfa"),
        &admin,
        None,
    );
    assert_eq!(reset.status, 200, "{}", reset.text);
    let user = app.admin("GET", &format!("/admin/users/{ada_id}"), &admin, None);
    assert_eq!(user.json()["user"]["mfa"]["passkeys"], 0);
    let reset = events(&app, &admin, "mfa.reset");
    assert_eq!(reset[0]["detail"], json!({"totp": false, "passkeys": 1}));
    sign_in(&app, &mut key).assert_error(401, "INVALID_CREDENTIAL");
}

#[test]
fn a_server_whose_public_url_is_an_ip_address_says_passkeys_are_unavailable() {
    let app = spawn_app_with(Settings {
        public_url: Some("http://127.0.0.1:8080".into()),
        ..test_settings()
    });
    let resp = app.send(Req::new("POST", "/user/passkeys/login").json(&json!({})));
    resp.assert_error(501, "PASSKEYS_UNAVAILABLE");
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    app.send(Req::new("POST", "/user/passkeys/register").bearer(&tokens.access))
        .assert_error(501, "PASSKEYS_UNAVAILABLE");
}
