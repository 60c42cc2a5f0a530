use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;

fn three_strikes() -> Settings {
    Settings {
        max_failures: 3,
        ..test_settings()
    }
}

#[track_caller]
fn assert_locked(resp: &Resp, lockout: u64) {
    resp.assert_error(429, "TOO_MANY_ATTEMPTS");
    let retry = resp
        .header("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {:?}", resp.headers));
    let secs: u64 = retry
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not integer seconds: {retry:?}"));
    assert!(
        secs > 0 && secs <= lockout,
        "Retry-After {secs} not in (0, {lockout}]"
    );
}

#[test]
fn after_max_failures_wrong_passwords_every_attempt_is_too_many_attempts() {
    let app = spawn_app_with(three_strikes());

    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }

    assert_locked(&app.login(ADA, "wrong"), 900);
    assert_locked(&app.login(ADA, ADA_PASSWORD), 900);
    // The lock is on the email, however it is spelled.
    assert_locked(&app.login(" ADA@acme.test ", ADA_PASSWORD), 900);
    // Another account from the same address is not locked.
    app.login_ok(BOB, BOB_PASSWORD);
}

#[test]
fn a_lockout_window_near_the_end_of_time_still_locks() {
    // `at + window` must saturate, not wrap to a time long past.
    let app = spawn_app_with(Settings {
        lockout: u64::MAX,
        ..three_strikes()
    });

    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }

    for _ in 0..5 {
        app.login(ADA, "wrong")
            .assert_error(429, "TOO_MANY_ATTEMPTS");
    }
    app.login(ADA, ADA_PASSWORD)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
}

#[test]
fn retry_after_stays_within_a_short_lockout_window() {
    let app = spawn_app_with(Settings {
        lockout: 60,
        ..three_strikes()
    });
    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }

    assert_locked(&app.login(ADA, ADA_PASSWORD), 60);
}

#[test]
fn the_lock_ends_when_the_window_passes() {
    let app = spawn_app_with(Settings {
        lockout: 2,
        ..three_strikes()
    });
    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    assert_locked(&app.login(ADA, ADA_PASSWORD), 2);
    let last_failure = now();

    // Past the window whether it is counted from the first or the last failure
    // (a lock lasts while failure + window > now, in seconds).
    sleep_past(last_failure + 2);

    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn an_unknown_email_is_locked_the_same_way() {
    let app = spawn_app_with(three_strikes());

    for _ in 0..3 {
        app.login(UNKNOWN, "guess")
            .assert_error(401, "USER_NOT_FOUND");
    }

    assert_locked(&app.login(UNKNOWN, "guess"), 900);
}

#[test]
fn every_kind_of_401_counts_as_a_failure() {
    let app = spawn_app_with(three_strikes());

    for _ in 0..3 {
        app.login(INVITED, "guess")
            .assert_error(401, "NO_PASSWORD_SET");
    }
    assert_locked(&app.login(INVITED, "guess"), 900);

    for _ in 0..3 {
        app.login(SLEEPY, SLEEPY_PASSWORD)
            .assert_error(401, "USER_INACTIVE");
    }
    assert_locked(&app.login(SLEEPY, SLEEPY_PASSWORD), 900);
}

#[test]
fn too_many_failures_from_one_address_lock_out_every_email_from_it() {
    let app = spawn_app_with(Settings {
        max_failures: 100,
        max_failures_per_ip: 4,
        ..test_settings()
    });

    app.login(UNKNOWN, "guess")
        .assert_error(401, "USER_NOT_FOUND");
    app.login("someone@else.test", "guess")
        .assert_error(401, "USER_NOT_FOUND");
    app.login(ADA, "guess")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(BOB, "guess")
        .assert_error(401, "INVALID_PASSWORD");

    assert_locked(&app.login(ADA, ADA_PASSWORD), 900);
    assert_locked(&app.login("fresh@acme.test", "guess"), 900);
}

#[test]
fn a_successful_login_clears_the_emails_failure_count() {
    let app = spawn_app_with(three_strikes());
    app.login(ADA, "wrong")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(ADA, "wrong")
        .assert_error(401, "INVALID_PASSWORD");

    app.login_ok(ADA, ADA_PASSWORD);

    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    assert_locked(&app.login(ADA, ADA_PASSWORD), 900);
}

#[test]
fn user_unlock_lets_a_locked_user_in_at_once_on_the_running_server() {
    let app = spawn_app_with(three_strikes());
    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    assert_locked(&app.login(ADA, ADA_PASSWORD), 900);

    app.cli(&["user", "unlock", ADA]);

    app.login_ok(ADA, ADA_PASSWORD);
}

#[test]
fn failure_counts_survive_a_restart() {
    let mut app = spawn_app_with(three_strikes());
    for _ in 0..3 {
        app.login(ADA, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    app.stop();

    let restarted = app.spawn_on_same_db(three_strikes());

    assert_locked(&restarted.login(ADA, ADA_PASSWORD), 900);
}

#[test]
fn bad_requests_are_not_counted_as_failures() {
    let app = spawn_app_with(Settings {
        max_failures: 3,
        max_failures_per_ip: 3,
        ..test_settings()
    });

    for _ in 0..5 {
        app.post_json("/user/login", &json!({ "email": ADA }))
            .assert_error(400, "INVALID_REQUEST");
        app.post_json("/user/login", &json!({ "email": ADA, "password": 1 }))
            .assert_error(400, "INVALID_REQUEST");
        app.login("not-an-email", "x")
            .assert_error(400, "INVALID_REQUEST");
    }

    app.login_ok(ADA, ADA_PASSWORD);
    for _ in 0..3 {
        app.login(BOB, "wrong")
            .assert_error(401, "INVALID_PASSWORD");
    }
    assert_locked(&app.login(BOB, "wrong"), 900);
}

/// However many wrong attempts on one email arrive at once, at most
/// --max-failures are checked against the password; the rest are locked out.
#[test]
fn simultaneous_wrong_passwords_are_checked_at_most_max_failures_times() {
    let app = spawn_app_with(three_strikes());
    let answers: Vec<Resp> = std::thread::scope(|s| {
        let attempts: Vec<_> = (0..12)
            .map(|_| s.spawn(|| app.login(ADA, "wrong")))
            .collect();
        attempts
            .into_iter()
            .map(|a| a.join().expect("the attempt's thread"))
            .collect()
    });
    let (checked, locked): (Vec<&Resp>, Vec<&Resp>) = answers.iter().partition(|r| r.status == 401);
    assert_eq!((checked.len(), locked.len()), (3, 9));
    for resp in checked {
        resp.assert_error(401, "INVALID_PASSWORD");
    }
    for resp in locked {
        assert_locked(resp, 900);
    }
    assert_locked(&app.login(ADA, ADA_PASSWORD), 900);
}
