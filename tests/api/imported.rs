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
    let _alone = cpu_heavy();
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

/// Issue 18, point 1: imported hashes that cost more than our own are checked
/// on a lane of their own (half the cores), so that a few accounts with
/// second-long hashes cannot make everyone else's login wait. Before, four
/// such attempts filled both hashing threads and an ordinary login waited
/// for two of them (2-4 s here).
#[test]
fn slow_imported_logins_do_not_hold_up_ordinary_ones() {
    let _alone = cpu_heavy();
    use std::time::{Duration, Instant};
    let app = spawn_app_with(Settings {
        max_failures: 1000,
        max_failures_per_ip: 1000,
        ..test_settings()
    });
    // bcrypt at cost 14, the most authlite accepts: about a second of one core.
    let slow = "$2b$14$abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS";
    app.cli(&[
        "user",
        "add",
        "--email",
        "slow@import.test",
        "--name",
        "Slow",
        "--password-hash",
        slow,
    ]);
    let ordinary = std::thread::scope(|scope| {
        let attempts: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let started = Instant::now();
                    let resp = app.login("slow@import.test", "not the password");
                    (resp.status, started.elapsed())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut ordinary = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            app.login(ADA, "not the password")
                .assert_error(401, "INVALID_PASSWORD");
            ordinary.push(started.elapsed());
        }
        for attempt in attempts {
            let (status, took) = attempt.join().expect("the attempt's thread");
            // 401, or 503 if this machine's imported lane is shorter than four.
            assert!(matches!(status, 401 | 503), "{status}");
            assert!(
                status == 503 || took > Duration::from_millis(500),
                "{took:?}"
            );
        }
        ordinary
    });
    let slowest = ordinary.iter().max().copied().unwrap_or_default();
    assert!(
        slowest < Duration::from_millis(400),
        "ordinary logins took {ordinary:?} beside four slow imported ones"
    );
}
