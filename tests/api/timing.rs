//! A missing account must cost what a wrong password costs, or response times
//! tell an attacker which emails have accounts.

use std::time::{Duration, Instant};

use crate::helpers::*;

/// The default cost, so that the hash dominates as it does in production.
const REALISTIC_ITERATIONS: u32 = 600_000;
const ROUNDS: usize = 9;

/// The fastest run: what the work itself costs. Other tests running beside this
/// one only ever add time, and a median still moves with them.
fn fastest(samples: Vec<Duration>) -> Duration {
    samples.into_iter().min().unwrap_or_default()
}

#[test]
fn unknown_deleted_and_passwordless_accounts_cost_the_same_as_a_wrong_password() {
    let settings = authlite::settings::Settings {
        pbkdf2_iterations: REALISTIC_ITERATIONS,
        max_failures: 1000,
        max_failures_per_ip: 1000,
        ..test_settings()
    };
    let app = spawn_app_seeded_at(settings, REALISTIC_ITERATIONS);
    let cases = [
        (ADA, "INVALID_PASSWORD"),
        (UNKNOWN, "USER_NOT_FOUND"),
        (DELETED, "USER_NOT_FOUND"),
        (INVITED, "NO_PASSWORD_SET"),
    ];
    let mut times = vec![Vec::new(); cases.len()];
    // Interleaved rounds, so that a slow moment of the machine hits every case alike.
    for _ in 0..ROUNDS {
        for (i, (email, code)) in cases.iter().enumerate() {
            let started = Instant::now();
            let resp = app.login(email, "not the password");
            times[i].push(started.elapsed());
            resp.assert_error(401, code);
        }
    }
    let costs: Vec<Duration> = times.into_iter().map(fastest).collect();
    let wrong_password = costs[0].as_secs_f64();
    for ((email, _), m) in cases.iter().zip(&costs).skip(1) {
        let ratio = m.as_secs_f64() / wrong_password;
        assert!(
            (0.75..=1.25).contains(&ratio),
            "{email}: fastest {m:?} against {:?} for a wrong password (ratio {ratio:.2})",
            costs[0]
        );
    }
}
