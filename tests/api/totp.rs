//! TOTP and recovery codes (SPEC §10) at /user/mfa: enrolment, confirmation,
//! the summary, new recovery codes, turning it off, and every code of the
//! table. Codes are computed by another implementation, Python's `pyotp`, at
//! fixed times (`TOTP.at(t)`), so that a shared misreading of RFC 6238 would
//! show.
//!
//! Needs python3 with pyotp (tests/hashes/requirements.txt, installed by
//! `.ci/hashes-setup`). Without it each test prints a banner and passes,
//! unless `AUTHLITE_REQUIRE_EXAMPLES=1`.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

/// The code pyotp gives for `secret` (base32) at Unix time `t`.
#[track_caller]
pub fn code_at(secret: &str, t: u64) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
        ])
        .args([secret, &t.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether pyotp can be run here; without it, a banner (or, with
/// AUTHLITE_REQUIRE_EXAMPLES=1, a failure).
pub fn have_pyotp() -> bool {
    let out = Command::new("python3")
        .args(["-c", "import pyotp"])
        .output();
    let why = match out {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => format!("python3 does not run: {e}"),
    };
    let required = std::env::var("AUTHLITE_REQUIRE_EXAMPLES").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "AUTHLITE_REQUIRE_EXAMPLES=1 but pyotp cannot run: {why}"
    );
    eprintln!(
        "\n==========================================================\n\
         SKIPPED: TOTP test, no pyotp ({why})\n\
         Run .ci/hashes-setup to install what it needs.\n\
         ==========================================================\n"
    );
    false
}

/// The start of the current 30-second step, waiting for the next one when
/// fewer than 10 s are left, so that a test's codes keep their place in the
/// server's window while it runs.
pub fn fresh_step() -> u64 {
    loop {
        let t = now() as u64;
        if t % 30 < 20 {
            return t - t % 30;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A user's TOTP once on: its secret, the step its confirming code used, and its recovery codes.
pub struct Totp {
    pub secret: String,
    pub t0: u64,
    pub recovery_codes: Vec<String>,
}

pub fn mfa_call(
    app: &TestApp,
    method: &str,
    path: &str,
    access: &str,
    body: Option<Value>,
) -> Resp {
    app.admin(method, path, access, body)
}

/// Enrols and confirms TOTP for the holder of `access`, with the code of the current step.
#[track_caller]
pub fn turn_on(app: &TestApp, access: &str) -> Totp {
    let enrolment = mfa_call(app, "POST", "/user/mfa/totp", access, None);
    assert_eq!(enrolment.status, 200, "{}", enrolment.text);
    let secret = enrolment.json()["secret"]
        .as_str()
        .expect("a secret")
        .to_string();
    let t0 = fresh_step();
    let body = json!({"code": code_at(&secret, t0)});
    let confirmed = mfa_call(app, "POST", "/user/mfa/totp/confirm", access, Some(body));
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let recovery_codes = confirmed.json()["recoveryCodes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_string())
        .collect();
    Totp {
        secret,
        t0,
        recovery_codes,
    }
}

fn summary(app: &TestApp, access: &str) -> Value {
    let resp = mfa_call(app, "GET", "/user/mfa", access, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()
}

#[test]
fn an_enrolment_shows_secret_url_and_qr_and_its_first_code_turns_totp_on() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let access = app.login_ok(ADA, ADA_PASSWORD).access;
    let off = json!({"success": true, "totp": false, "recoveryCodesLeft": 0, "passkeys": 0});
    assert_eq!(summary(&app, &access), off);

    let first = mfa_call(&app, "POST", "/user/mfa/totp", &access, None);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let first = first.json();
    let old_secret = first["secret"].as_str().unwrap();
    assert_eq!(old_secret.len(), 32, "20 bytes in base32");
    assert_eq!(
        first["otpauthUrl"],
        format!(
            "otpauth://totp/authlite:ada%40acme.test?secret={old_secret}&issuer=authlite\
             &algorithm=SHA1&digits=6&period=30"
        )
    );
    let svg = first["qrSvg"].as_str().unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    assert_eq!(summary(&app, &access), off, "waiting is not on");

    // A newer enrolment replaces it: the first secret's code is wrong now.
    let totp = {
        let t = fresh_step();
        let stale = json!({"code": code_at(old_secret, t)});
        let newer = mfa_call(&app, "POST", "/user/mfa/totp", &access, None).json();
        assert_ne!(newer["secret"], first["secret"]);
        mfa_call(&app, "POST", "/user/mfa/totp/confirm", &access, Some(stale))
            .assert_error(400, "INVALID_CODE");
        let secret = newer["secret"].as_str().unwrap().to_string();
        let confirmed = mfa_call(
            &app,
            "POST",
            "/user/mfa/totp/confirm",
            &access,
            Some(json!({"code": code_at(&secret, t)})),
        );
        assert_eq!(confirmed.status, 200, "{}", confirmed.text);
        assert_eq!(confirmed.header("cache-control"), Some("no-store"));
        confirmed.json()["recoveryCodes"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert_eq!(totp.len(), 10);
    let mut distinct: Vec<&str> = totp.iter().map(|c| c.as_str().unwrap()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    let on = json!({"success": true, "totp": true, "recoveryCodesLeft": 10, "passkeys": 0});
    assert_eq!(summary(&app, &access), on);

    mfa_call(&app, "POST", "/user/mfa/totp", &access, None)
        .assert_error(409, "MFA_ALREADY_ENABLED");
    let again = json!({"code": "123456"});
    mfa_call(&app, "POST", "/user/mfa/totp/confirm", &access, Some(again))
        .assert_error(409, "MFA_NOT_ENABLED");
    let user_id = crate::audit::user_id(&app, ADA);
    let enabled = crate::audit::events(&app, "mfa.totp.enabled");
    assert_eq!(enabled.len(), 1);
    assert_eq!(enabled[0]["userId"], user_id);
    assert_eq!(enabled[0]["actor"], format!("user:{user_id}"));
}

#[test]
fn without_totp_the_calls_that_need_it_are_409_and_bad_bodies_400() {
    let app = spawn_app();
    let access = app.login_ok(ADA, ADA_PASSWORD).access;
    let code = Some(json!({"code": "123456"}));
    for (method, path) in [
        ("POST", "/user/mfa/totp/confirm"),
        ("DELETE", "/user/mfa/totp"),
        ("POST", "/user/mfa/recovery-codes"),
    ] {
        mfa_call(&app, method, path, &access, code.clone()).assert_error(409, "MFA_NOT_ENABLED");
        mfa_call(&app, method, path, &access, Some(json!({}))).assert_error(400, "INVALID_REQUEST");
        mfa_call(&app, method, path, &access, Some(json!({"code": 123456})))
            .assert_error(400, "INVALID_REQUEST");
        app.send(Req::new(method, path).json(&json!({"code": "1"})))
            .assert_error(401, "MISSING_TOKEN");
    }
    app.get("/user/mfa").assert_error(401, "MISSING_TOKEN");
    app.send(Req::new("POST", "/user/mfa/totp"))
        .assert_error(401, "MISSING_TOKEN");
    app.send(Req::new("PUT", "/user/mfa/totp"))
        .assert_error(405, "METHOD_NOT_ALLOWED");
    app.post_json("/user/login/mfa", &json!({"mfaToken": "x"}))
        .assert_error(400, "INVALID_REQUEST");
    // Nothing was counted: a 409 or a 400 is no failed login.
    assert!(crate::audit::events(&app, "mfa.failed").is_empty());
    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn recovery_codes_work_once_each_and_a_new_set_voids_the_old() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let access = app.login_ok(ADA, ADA_PASSWORD).access;
    let totp = turn_on(&app, &access);
    let path = "/user/mfa/recovery-codes";

    // Not to make new ones: a recovery code is a wrong code there.
    let with_recovery = Some(json!({"code": totp.recovery_codes[0]}));
    mfa_call(&app, "POST", path, &access, with_recovery).assert_error(400, "INVALID_CODE");
    let with_totp = Some(json!({"code": code_at(&totp.secret, totp.t0 + 30)}));
    let renewed = mfa_call(&app, "POST", path, &access, with_totp);
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    let new_codes = renewed.json()["recoveryCodes"].as_array().unwrap().clone();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !totp
        .recovery_codes
        .contains(&c.as_str().unwrap().to_string())));

    // The old set is void; each new code is taken once.
    let disable = |code: &str| {
        mfa_call(
            &app,
            "DELETE",
            "/user/mfa/totp",
            &access,
            Some(json!({"code": code})),
        )
    };
    disable(&totp.recovery_codes[1]).assert_error(400, "INVALID_CODE");
    let on = summary(&app, &access);
    assert_eq!(
        (on["totp"].clone(), on["recoveryCodesLeft"].clone()),
        (json!(true), json!(10))
    );
    let code = new_codes[3].as_str().unwrap();
    // Typed in capitals and without its hyphen, it is the same code.
    disable(&code.to_uppercase().replace('-', "")).assert_success();
    let off = json!({"success": true, "totp": false, "recoveryCodesLeft": 0, "passkeys": 0});
    assert_eq!(summary(&app, &access), off);
    disable(code).assert_error(409, "MFA_NOT_ENABLED");
    assert_eq!(
        crate::audit::events(&app, "mfa.recovery.regenerated").len(),
        1
    );
    assert_eq!(crate::audit::events(&app, "mfa.recovery.used").len(), 1);
    assert_eq!(crate::audit::events(&app, "mfa.totp.disabled").len(), 1);
    assert_eq!(crate::audit::events(&app, "mfa.failed").len(), 2);
    // Off: the password alone signs in again.
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(claims(&tokens.access)["amr"], json!(["pwd"]));
}

#[test]
fn wrong_codes_at_the_mfa_endpoints_count_as_failed_logins() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let access = app.login_ok(ADA, ADA_PASSWORD).access;
    let totp = turn_on(&app, &access);
    for wrong in ["000000", "not a code", ""] {
        let body = Some(json!({"code": wrong}));
        mfa_call(&app, "DELETE", "/user/mfa/totp", &access, body).assert_error(400, "INVALID_CODE");
    }
    // The code of the step two before is outside the window.
    let old = Some(json!({"code": code_at(&totp.secret, totp.t0 - 60)}));
    mfa_call(&app, "POST", "/user/mfa/recovery-codes", &access, old)
        .assert_error(400, "INVALID_CODE");
    // The confirming code was taken: a replay.
    let replay = Some(json!({"code": code_at(&totp.secret, totp.t0)}));
    mfa_call(&app, "POST", "/user/mfa/recovery-codes", &access, replay)
        .assert_error(400, "INVALID_CODE");
    // Five failures: locked, whatever the code.
    let right = Some(json!({"code": code_at(&totp.secret, totp.t0 + 30)}));
    let locked = mfa_call(&app, "DELETE", "/user/mfa/totp", &access, right);
    locked.assert_error(429, "TOO_MANY_ATTEMPTS");
    assert!(locked.header("retry-after").is_some());
    app.login(ADA, ADA_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    let failed = crate::audit::events(&app, "mfa.failed");
    assert_eq!(failed.len(), 5);
    assert_eq!(failed[0]["detail"], json!({"during": "recovery-codes"}));
    assert_eq!(failed[4]["detail"], json!({"during": "disable"}));
}
