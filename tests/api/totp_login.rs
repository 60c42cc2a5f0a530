//! Signing in with TOTP (SPEC §10): MFA_REQUIRED and its mfaToken, POST
//! /user/login/mfa, the code in the login body, the ±1 step window, replays,
//! recovery codes, the lockout, and the amr through refreshes. Codes come
//! from pyotp (see totp.rs).

use authlite::settings::Settings;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::totp::{code_at, have_pyotp, turn_on};

/// The mfaToken of an MFA_REQUIRED answer, after checking its shape.
#[track_caller]
pub fn mfa_required(resp: &Resp) -> String {
    assert_eq!(resp.status, 401, "{}", resp.text);
    let body = resp.json();
    let mut keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["error_code", "message", "methods", "mfaToken", "success"]
    );
    assert_eq!(
        (&body["success"], &body["error_code"]),
        (&json!(false), &json!("MFA_REQUIRED"))
    );
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    body["mfaToken"].as_str().expect("an mfaToken").to_string()
}

fn login_mfa(app: &TestApp, mfa_token: &str, code: &str) -> Resp {
    app.post_json(
        "/user/login/mfa",
        &json!({"mfaToken": mfa_token, "code": code}),
    )
}

fn login_code(app: &TestApp, password: &str, code: &str) -> Resp {
    let body = json!({"email": ADA, "password": password, "code": code});
    app.post_json("/user/login", &body)
}

#[test]
fn the_right_password_asks_for_a_code_and_any_of_three_steps_signs_in_once() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let totp = turn_on(&app, &app.login_ok(ADA, ADA_PASSWORD).access);
    let at = |t: u64| code_at(&totp.secret, t);

    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    login_mfa(&app, &token, &at(totp.t0 + 60)).assert_error(401, "INVALID_CODE");
    login_mfa(&app, &token, &at(totp.t0 - 60)).assert_error(401, "INVALID_CODE");
    login_mfa(&app, &token, &at(totp.t0)).assert_error(401, "INVALID_CODE"); // taken by the confirm
    let signed = login_mfa(&app, &token, &at(totp.t0 - 30));
    assert_eq!(signed.status, 200, "{}", signed.text);
    assert_eq!(signed.header("cache-control"), Some("no-store"));
    let tokens = Tokens::from_resp(&signed);
    assert_eq!(claims(&tokens.access)["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(signed.json()["user"]["email"], ADA);
    // Spent by its success.
    login_mfa(&app, &token, &at(totp.t0 + 30)).assert_error(401, "INVALID_TOKEN");

    // A new sign-in: the step just used is refused, the next one taken.
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    login_mfa(&app, &token, &at(totp.t0 - 30)).assert_error(401, "INVALID_CODE");
    let signed = login_mfa(&app, &token, &at(totp.t0 + 30));
    assert_eq!(signed.status, 200, "{}", signed.text);

    // In one step: a right code with the password signs in, a wrong one is 401.
    login_code(&app, ADA_PASSWORD, &at(totp.t0 + 30)).assert_error(401, "INVALID_CODE");
    let recovery = &totp.recovery_codes[0];
    let signed = login_code(&app, ADA_PASSWORD, recovery);
    assert_eq!(signed.status, 200, "{}", signed.text);
    assert_eq!(
        claims(&Tokens::from_resp(&signed).access)["amr"],
        json!(["pwd", "otp", "mfa"])
    );
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    login_mfa(&app, &token, recovery).assert_error(401, "INVALID_CODE");
    assert_eq!(login_mfa(&app, &token, &totp.recovery_codes[1]).status, 200);

    let succeeded = crate::audit::events(&app, "login.succeeded");
    assert_eq!(succeeded[0]["detail"]["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(succeeded[0]["detail"]["method"], "password");
    assert_eq!(crate::audit::events(&app, "mfa.recovery.used").len(), 2);
    let failed = crate::audit::events(&app, "mfa.failed");
    assert_eq!(failed.len(), 6);
    assert_eq!(failed[0]["detail"], json!({"during": "login"}));
    let login_failed = crate::audit::events(&app, "login.failed");
    assert_eq!(
        login_failed[0]["detail"],
        json!({"email": ADA, "code": "INVALID_CODE"})
    );
    // No event, answer or stored row carries a code.
    for event in crate::audit::events(&app, "mfa.failed")
        .iter()
        .chain(&login_failed)
    {
        assert!(!event.to_string().contains(&at(totp.t0 + 30)), "{event}");
    }
}

#[test]
fn mfa_required_is_not_a_failure_and_a_wrong_password_never_shows_it() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app_with(Settings {
        conceal_accounts: true,
        max_failures: 2,
        ..test_settings()
    });
    let totp = turn_on(&app, &app.login_ok(ADA, ADA_PASSWORD).access);
    for _ in 0..3 {
        mfa_required(&app.login(ADA, ADA_PASSWORD));
    }
    let wrong = app.login(ADA, "not the password");
    wrong.assert_error(401, "INVALID_PASSWORD");
    assert_eq!(wrong.json().get("mfaToken"), None);
    let right_code = code_at(&totp.secret, totp.t0 + 30);
    login_code(&app, "not the password", &right_code).assert_error(401, "INVALID_PASSWORD");
    // Two failures: locked, even with the right password.
    app.login(ADA, ADA_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    app.cli(&["user", "unlock", ADA]);
    // A code's success clears the count.
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    login_mfa(&app, &token, "000000").assert_error(401, "INVALID_CODE");
    assert_eq!(login_mfa(&app, &token, &right_code).status, 200);
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    login_mfa(&app, &token, "000000").assert_error(401, "INVALID_CODE");
    login_mfa(&app, &token, "000001").assert_error(401, "INVALID_CODE");
    let locked = login_mfa(&app, &token, &totp.recovery_codes[0]);
    locked.assert_error(429, "TOO_MANY_ATTEMPTS");
    assert!(locked.header("retry-after").is_some());
    // A user made inactive is told so after the right password, not asked for a code.
    app.cli(&["user", "unlock", ADA]);
    app.cli(&["user", "set-status", ADA, "inactive"]);
    app.login(ADA, ADA_PASSWORD)
        .assert_error(401, "USER_INACTIVE");
    login_mfa(&app, &token, &totp.recovery_codes[0]).assert_error(401, "USER_INACTIVE");
}

#[test]
fn an_mfa_token_that_is_unknown_used_or_expired_is_refused() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let totp = turn_on(&app, &app.login_ok(ADA, ADA_PASSWORD).access);
    let code = code_at(&totp.secret, totp.t0 + 30);
    login_mfa(&app, "no such token", &code).assert_error(401, "INVALID_TOKEN");

    // An expired one, put in the store as a sign-in 301 s ago would have left it.
    let (expired, digest) = authlite::password::link::new_token().unwrap();
    let user_id = crate::audit::user_id(&app, ADA);
    let db = authlite::store::Database::open(&app.db, Default::default()).unwrap();
    let past = now() as u64 - 1;
    db.transaction(|s| s.create_mfa_token(&digest, &user_id, past))
        .unwrap();
    login_mfa(&app, &expired, &code).assert_error(401, "TOKEN_EXPIRED");
    // Not counted, and the code is still unused.
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    let signed = login_mfa(&app, &token, &code);
    assert_eq!(signed.status, 200, "{}", signed.text);
    login_mfa(&app, &token, &totp.recovery_codes[0]).assert_error(401, "INVALID_TOKEN");
    assert!(crate::audit::events(&app, "mfa.failed").is_empty());

    // TOTP turned off since: the token is void.
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    let admin = app.admin_token_with_code(&totp);
    let reset = app.admin(
        "DELETE",
        &format!("/admin/users/{user_id}/mfa"),
        &admin,
        None,
    );
    reset.assert_success();
    login_mfa(&app, &token, &totp.recovery_codes[1]).assert_error(401, "INVALID_TOKEN");
}

#[test]
fn the_amr_of_a_second_factor_is_carried_through_refreshes() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let totp = turn_on(&app, &app.login_ok(ADA, ADA_PASSWORD).access);
    let token = mfa_required(&app.login(ADA, ADA_PASSWORD));
    let first = Tokens::from_resp(&login_mfa(&app, &token, &totp.recovery_codes[0]));
    let second = app.refresh_ok(&first.refresh);
    let third = app.refresh_ok(&second.refresh);
    for tokens in [&first, &second, &third] {
        let amr: &Value = &claims(&tokens.access)["amr"];
        assert_eq!(amr, &json!(["pwd", "otp", "mfa"]));
    }
    assert_eq!(app.me(&third.access).status, 200);
}

impl TestApp {
    /// Ada as admin once she has TOTP: her token, through a recovery code.
    #[track_caller]
    pub fn admin_token_with_code(&self, totp: &crate::totp::Totp) -> String {
        self.cli(&["user", "roles", ADA, "--add", "admin"]);
        let resp = login_code(self, ADA_PASSWORD, totp.recovery_codes.last().unwrap());
        Tokens::from_resp(&resp).access
    }
}
