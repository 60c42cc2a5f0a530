//! TOTP as an admin and a thief see it: the AdminUser's `mfa`, DELETE
//! /admin/users/{id}/mfa (a lost phone), erase, and the secret sealed at
//! rest with the master key.

use std::path::PathBuf;

use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;
use crate::totp::{code_at, have_pyotp, mfa_call, turn_on};

fn mfa_rows(app: &TestApp) -> Vec<(String, i64)> {
    app.row_counts()
        .into_iter()
        .filter(|(table, _)| table.starts_with("mfa_"))
        .collect()
}

#[test]
fn an_admin_sees_the_second_factor_and_resets_it() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.login_ok(BOB, BOB_PASSWORD).access;
    let totp = turn_on(&app, &bob);
    let bob_id = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob_id}");
    let shown = app.admin("GET", &path, &admin, None).json();
    let on = json!({"totp": true, "recoveryCodesLeft": 10, "passkeys": 0});
    assert_eq!(shown["user"]["mfa"], on);
    let ada = app.admin(
        "GET",
        &format!("/admin/users/{}", app.user_id(&admin, ADA)),
        &admin,
        None,
    );
    let none = json!({"totp": false, "recoveryCodesLeft": 0, "passkeys": 0});
    assert_eq!(ada.json()["user"]["mfa"], none);

    // Only with users:write.
    let reader = app.cli(&["apikey", "create", "--name", "r", "--scope", "users:read"]);
    let mfa_path = format!("{path}/mfa");
    app.admin("DELETE", &mfa_path, reader.trim(), None)
        .assert_error(403, "FORBIDDEN");
    app.admin("DELETE", &mfa_path, &bob, None)
        .assert_error(403, "FORBIDDEN");
    app.admin("DELETE", "/admin/users/nobody/mfa", &admin, None)
        .assert_error(404, "USER_NOT_FOUND");
    app.admin("DELETE", &mfa_path, &admin, None)
        .assert_success();
    assert_eq!(
        app.admin("GET", &path, &admin, None).json()["user"]["mfa"],
        none
    );
    let tokens = app.login_ok(BOB, BOB_PASSWORD);
    assert_eq!(claims(&tokens.access)["amr"], json!(["pwd"]));
    let gone = Some(json!({"code": totp.recovery_codes[0]}));
    mfa_call(&app, "DELETE", "/user/mfa/totp", &bob, gone).assert_error(409, "MFA_NOT_ENABLED");

    let reset = crate::audit::events(&app, "mfa.reset");
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0]["userId"], bob_id.as_str());
    assert_eq!(
        reset[0]["actor"],
        format!("user:{}", app.user_id(&admin, ADA))
    );
    assert_eq!(reset[0]["detail"], json!({"totp": true, "passkeys": 0}));
}

#[test]
fn erasing_a_user_removes_every_row_of_their_second_factor() {
    if !have_pyotp() {
        return;
    }
    let app = spawn_app();
    let admin = app.admin_token();
    let bob = app.login_ok(BOB, BOB_PASSWORD).access;
    turn_on(&app, &bob);
    let body = json!({"email": BOB, "password": BOB_PASSWORD});
    crate::totp_login::mfa_required(&app.post_json("/user/login", &body));
    assert_eq!(
        mfa_rows(&app),
        [
            ("mfa_recovery_codes".to_string(), 10),
            ("mfa_tokens".to_string(), 1),
            ("mfa_totp".to_string(), 1),
            ("mfa_used_steps".to_string(), 1),
        ]
    );
    let bob_id = app.user_id(&admin, BOB);
    let erase = app.admin(
        "DELETE",
        &format!("/admin/users/{bob_id}?erase=true"),
        &admin,
        None,
    );
    erase.assert_success();
    assert!(
        mfa_rows(&app).iter().all(|(_, n)| *n == 0),
        "{:?}",
        mfa_rows(&app)
    );
}

#[test]
fn with_a_master_key_the_secret_is_nowhere_in_the_file() {
    if !have_pyotp() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key: PathBuf = dir.path().join("master.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let app = spawn_app_with(Settings {
        master_key_file: Some(key),
        ..test_settings()
    });
    if app.sqlite_only("reads the SQLite file") {
        return;
    }
    let access = app.login_ok(ADA, ADA_PASSWORD).access;
    let waiting = mfa_call(&app, "POST", "/user/mfa/totp", &access, None).json();
    let first_secret = waiting["secret"].as_str().unwrap().to_string();
    let totp = turn_on(&app, &access);
    let token = {
        let body = json!({"email": ADA, "password": ADA_PASSWORD});
        app.post_json("/user/login", &body).json()["mfaToken"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut bytes = std::fs::read(&app.db_path).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", app.db_path.display())).unwrap_or_default());
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for secret in [&totp.secret, &first_secret] {
        assert!(
            !contains(secret.as_bytes()),
            "the base32 secret is in the file"
        );
        let raw = base32_decode(secret);
        assert_eq!(raw.len(), 20);
        assert!(!contains(&raw), "the raw secret is in the file");
    }
    for code in &totp.recovery_codes {
        assert!(!contains(code.as_bytes()) && !contains(code.replace('-', "").as_bytes()));
    }
    assert!(!contains(token.as_bytes()), "the mfaToken is in the file");
    // Sealed, it still signs in.
    let code = code_at(&totp.secret, totp.t0 + 30);
    let signed = app.post_json("/user/login/mfa", &json!({"mfaToken": token, "code": code}));
    assert_eq!(signed.status, 200, "{}", signed.text);
}

/// RFC 4648 base32 without padding, as the enrolment shows the secret.
fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.bytes() {
        let index = alphabet
            .iter()
            .position(|a| *a == c)
            .expect("a base32 character");
        value = (value << 5) | index as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}
