//! A TOTP code is taken once per account and step across instances (SPEC
//! §10): the same code sent to two instances, one after the other or at the
//! same moment, signs in once. Codes come from Python's pyotp, as in
//! tests/api/totp.rs (skipped with a banner without it, unless
//! AUTHLITE_REQUIRE_EXAMPLES=1).

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::harness::*;

fn code_at(secret: &str, t: u64) -> Option<String> {
    let script = "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))";
    let out = Command::new("python3")
        .args(["-c", script, secret, &t.to_string()])
        .output();
    let why = match out {
        Ok(out) if out.status.success() => {
            return Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => format!("python3 does not run: {e}"),
    };
    let required = std::env::var("AUTHLITE_REQUIRE_EXAMPLES").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "AUTHLITE_REQUIRE_EXAMPLES=1 but pyotp cannot run: {why}"
    );
    eprintln!(
        "\n=====\nSKIPPED: TOTP across instances, no pyotp ({why}); run .ci/hashes-setup\n=====\n"
    );
    None
}

/// The start of the current step, with at least 10 s of it left.
fn fresh_step() -> u64 {
    loop {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if t % 30 < 20 {
            return t - t % 30;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn mfa_token(instance: &Instance) -> String {
    let required = instance.login(ADA, ADA_PASSWORD);
    assert_eq!(
        (required.status, required.code()),
        (401, Some("MFA_REQUIRED")),
        "{required}"
    );
    required.body["mfaToken"]
        .as_str()
        .expect("an mfaToken")
        .to_string()
}

fn login_mfa(instance: &Instance, token: &str, code: &str) -> Resp {
    let body = json!({"mfaToken": token, "code": code});
    instance.send("POST", "/user/login/mfa", None, Some(&body), &[])
}

#[test]
fn a_code_taken_on_one_instance_is_refused_by_the_other_and_a_race_has_one_winner() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 2, &[]);
    let access = instances[0].login_ok(ADA, ADA_PASSWORD).access;
    let enrolment = instances[0].send("POST", "/user/mfa/totp", Some(&access), None, &[]);
    enrolment.assert_ok();
    let secret = enrolment.body["secret"]
        .as_str()
        .expect("a secret")
        .to_string();
    let t0 = fresh_step();
    let Some(first) = code_at(&secret, t0) else {
        return;
    };
    // Enrolled on one instance, confirmed on the other.
    let body = json!({"code": first});
    let confirmed = instances[1].send(
        "POST",
        "/user/mfa/totp/confirm",
        Some(&access),
        Some(&body),
        &[],
    );
    confirmed.assert_ok();

    let code = code_at(&secret, t0 - 30).expect("pyotp ran a moment ago");
    login_mfa(&instances[0], &mfa_token(&instances[0]), &code).pair();
    login_mfa(&instances[1], &mfa_token(&instances[1]), &code).assert_error(401, "INVALID_CODE");
    // The confirming code is spent everywhere too.
    login_mfa(&instances[0], &mfa_token(&instances[0]), &first).assert_error(401, "INVALID_CODE");

    let code = code_at(&secret, t0 + 30).expect("pyotp ran a moment ago");
    let tokens = [mfa_token(&instances[0]), mfa_token(&instances[1])];
    let answers = all_at_once(instances.iter().collect(), |instance, i| {
        login_mfa(instance, &tokens[i], &code)
    });
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    let lost = answers.iter().find(|r| r.status != 200).expect("a loser");
    lost.assert_error(401, "INVALID_CODE");
}
