//! Hashes made by other tools (tests/hashes/make_hashes.py: PyPI's bcrypt and
//! argon2-cffi, Python's hashlib), imported by a seed file and by `user add
//! --password-hash`: each logs in, refuses a wrong password, and is replaced
//! by a PBKDF2-SHA256 hash at the server's cost on its first good login.
//!
//! Needs python3 with tests/hashes/requirements.txt (`.ci/hashes-setup`).
//! Without them the test prints a banner and passes, unless
//! `AUTHLITE_REQUIRE_EXAMPLES=1`.

use std::collections::BTreeMap;
use std::process::Command;

use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;

const PASSWORD: &str = "pässword für den Umzug";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hashes/make_hashes.py");
/// Above every imported cost, so that even the PBKDF2-SHA256 import is upgraded.
const SERVER_ITERATIONS: u32 = 2_000;

/// The hashes the script made, by format; None (after the banner) when it cannot run here.
fn made_elsewhere() -> Option<BTreeMap<String, String>> {
    let required = std::env::var("AUTHLITE_REQUIRE_EXAMPLES").is_ok_and(|v| v == "1");
    let out = Command::new("python3").arg(SCRIPT).arg(PASSWORD).output();
    let why = match out {
        Ok(out) if out.status.success() => {
            return Some(serde_json::from_slice(&out.stdout).expect("the script prints JSON"));
        }
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => format!("python3 does not run: {e}"),
    };
    assert!(
        !required,
        "AUTHLITE_REQUIRE_EXAMPLES=1 but the hash fixtures cannot be made: {why}"
    );
    eprintln!(
        "\n==========================================================\n\
         SKIPPED: imported-hash test ({why})\n\
         Run .ci/hashes-setup to install what it needs.\n\
         ==========================================================\n"
    );
    None
}

#[test]
fn hashes_made_by_other_tools_log_in_and_are_upgraded_on_the_first_good_login() {
    let Some(hashes) = made_elsewhere() else {
        return;
    };
    assert_eq!(hashes.len(), 9, "{hashes:?}");
    let app = spawn_app_with(Settings {
        pbkdf2_iterations: SERVER_ITERATIONS,
        ..test_settings()
    });

    let users: Vec<_> = hashes
        .iter()
        .map(|(format, hash)| {
            json!({ "email": format!("seed-{format}@import.test"),
                                      "name": format, "orgId": "acme", "passwordHash": hash })
        })
        .collect();
    let seed = app.db_path.with_file_name("import.json");
    std::fs::write(&seed, json!({ "users": users }).to_string()).expect("write the seed");
    app.cli(&["seed", seed.to_str().expect("a UTF-8 path")]);
    for (format, hash) in &hashes {
        let email = format!("cli-{format}@import.test");
        app.cli(&[
            "user",
            "add",
            "--email",
            &email,
            "--name",
            format,
            "--org",
            "acme",
            "--password-hash",
            hash,
        ]);
    }

    for (format, hash) in &hashes {
        for email in [
            format!("seed-{format}@import.test"),
            format!("cli-{format}@import.test"),
        ] {
            assert_eq!(app.stored_hash(&email).as_deref(), Some(hash.as_str()));
            app.login(&email, "pässword für den umzug")
                .assert_error(401, "INVALID_PASSWORD");
            assert_eq!(
                app.stored_hash(&email).as_deref(),
                Some(hash.as_str()),
                "{format}: a wrong password changed the hash"
            );

            let first = app.login(&email, PASSWORD);
            assert_eq!(first.status, 200, "{format}: {}", first.text);
            let upgraded = app.stored_hash(&email).expect("a hash");
            assert!(
                upgraded.starts_with(&format!("$pbkdf2-sha256$i={SERVER_ITERATIONS},")),
                "{format}: not upgraded: {upgraded}"
            );
            app.login_ok(&email, PASSWORD);
            app.login(&email, "wrong")
                .assert_error(401, "INVALID_PASSWORD");
        }
    }
}
