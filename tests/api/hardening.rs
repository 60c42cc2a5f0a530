use std::time::{Duration, Instant};

use authlite::settings::Settings;

use crate::helpers::*;

// ---- client addresses behind proxies

fn behind_proxy(settings: Settings) -> Settings {
    Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("CIDR")],
        ..settings
    }
}

fn ips_of(app: &TestApp, access: &str) -> Vec<String> {
    let resp = app.sessions(access);
    resp.assert_success();
    let mut ips: Vec<String> = resp.json()["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["ip"].as_str().expect("ip").to_string())
        .collect();
    ips.sort();
    ips
}

#[test]
fn behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_forwarded_address() {
    let app = spawn_app_with(behind_proxy(test_settings()));

    let one = app.login_with(ADA, ADA_PASSWORD, &[("X-Forwarded-For", "198.51.100.7")]);
    let two = app.login_with(
        ADA,
        ADA_PASSWORD,
        &[("X-Forwarded-For", "203.0.113.66, 198.51.100.8")],
    );
    let three = app.login_with(
        ADA,
        ADA_PASSWORD,
        &[("X-Forwarded-For", "198.51.100.9, 127.0.0.1")],
    );
    let four = app.login(ADA, ADA_PASSWORD);
    let five = app.login_with(ADA, ADA_PASSWORD, &[("X-Forwarded-For", "2001:db8::1")]);
    let six = app.login_with(
        ADA,
        ADA_PASSWORD,
        &[
            ("X-Forwarded-For", "203.0.113.1"),
            ("X-Forwarded-For", "198.51.100.10"),
        ],
    );

    let tokens = Tokens::from_resp(&one);
    for resp in [&two, &three, &four, &five, &six] {
        Tokens::from_resp(resp);
    }
    assert_eq!(
        ips_of(&app, &tokens.access),
        [
            "127.0.0.1",
            "198.51.100.10",
            "198.51.100.7",
            "198.51.100.8",
            "198.51.100.9",
            "2001:db8::1"
        ]
    );
}

#[test]
fn behind_a_trusted_proxy_the_per_address_limit_is_per_forwarded_address() {
    let app = spawn_app_with(behind_proxy(Settings {
        max_failures: 100,
        max_failures_per_ip: 2,
        ..test_settings()
    }));
    let from_a = [("X-Forwarded-For", "198.51.100.7")];
    let from_b = [("X-Forwarded-For", "198.51.100.8")];

    app.login_with("u1@acme.test", "x", &from_a)
        .assert_error(401, "USER_NOT_FOUND");
    app.login_with("u2@acme.test", "x", &from_a)
        .assert_error(401, "USER_NOT_FOUND");

    app.login_with(ADA, ADA_PASSWORD, &from_a)
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    Tokens::from_resp(&app.login_with(ADA, ADA_PASSWORD, &from_b));
    Tokens::from_resp(&app.login(ADA, ADA_PASSWORD));
}

#[test]
fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_app_with(Settings {
        max_failures: 100,
        max_failures_per_ip: 2,
        ..test_settings()
    });

    let tokens = Tokens::from_resp(&app.login_with(
        ADA,
        ADA_PASSWORD,
        &[("X-Forwarded-For", "198.51.100.7")],
    ));
    assert_eq!(ips_of(&app, &tokens.access), ["127.0.0.1"]);

    app.login_with("u1@acme.test", "x", &[("X-Forwarded-For", "198.51.100.1")])
        .assert_error(401, "USER_NOT_FOUND");
    app.login_with("u2@acme.test", "x", &[("X-Forwarded-For", "198.51.100.2")])
        .assert_error(401, "USER_NOT_FOUND");
    app.login_with(ADA, ADA_PASSWORD, &[("X-Forwarded-For", "198.51.100.3")])
        .assert_error(429, "TOO_MANY_ATTEMPTS");
}

// ---- concealed accounts

#[test]
fn with_conceal_accounts_unknown_and_passwordless_accounts_answer_invalid_password() {
    let app = spawn_app_with(Settings {
        conceal_accounts: true,
        ..test_settings()
    });

    app.login(UNKNOWN, "guess")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(DELETED, DELETED_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    app.login(INVITED, "guess")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(DORMANT, "guess")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(ADA, "guess")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(SLEEPY, SLEEPY_PASSWORD)
        .assert_error(401, "USER_INACTIVE");
    app.login_ok(ADA, ADA_PASSWORD);
}

// ---- password storage

fn stored_hash(app: &TestApp, email: &str) -> String {
    app.stored_hash(email).expect("the user's hash")
}

#[test]
fn a_login_re_hashes_a_password_stored_at_a_lower_iteration_count() {
    let app = spawn_app_with(Settings {
        pbkdf2_iterations: 2 * ITERATIONS,
        ..test_settings()
    });
    assert!(stored_hash(&app, ADA).starts_with("$pbkdf2-sha256$i=1000,l=32$"));

    app.login_ok(ADA, ADA_PASSWORD);

    let upgraded = stored_hash(&app, ADA);
    assert!(
        upgraded.starts_with("$pbkdf2-sha256$i=2000,l=32$"),
        "{upgraded}"
    );
    assert!(stored_hash(&app, BOB).starts_with("$pbkdf2-sha256$i=1000,l=32$"));
    app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(
        stored_hash(&app, ADA),
        upgraded,
        "re-hashed although already current"
    );
}

// ---- bursts

#[test]
fn a_burst_of_logins_gets_only_401s_or_server_busy_and_the_server_recovers() {
    // Unknown emails verify against a dummy hash at the current count: make each cost something.
    let app = spawn_app_with(Settings {
        pbkdf2_iterations: 2 * ITERATIONS,
        max_failures_per_ip: 10_000,
        ..test_settings()
    });
    let barrier = std::sync::Barrier::new(48);

    let answers: Vec<Resp> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..48)
            .map(|i| {
                let (app, barrier) = (&app, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    app.login(&format!("burst{i}@acme.test"), "guess")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });

    for resp in &answers {
        match resp.status {
            401 => resp.assert_error(401, "USER_NOT_FOUND"),
            _ => resp.assert_error(503, "SERVER_BUSY"),
        }
    }
    app.login_ok(ADA, ADA_PASSWORD);
}

/// `count` logins for Ada at once while another connection holds SQLite's
/// write lock; `probe` runs once they are all in, then the lock is given back.
fn logins_with_writes_held<T>(
    app: &TestApp,
    count: usize,
    probe: impl FnOnce() -> T,
) -> (T, Vec<(Resp, Duration)>) {
    let other = rusqlite::Connection::open(&app.db_path).expect("open the database");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .map(|_| {
                s.spawn(|| {
                    let started = Instant::now();
                    let resp = app.login(ADA, ADA_PASSWORD);
                    (resp, started.elapsed())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(800));
        let probed = probe();
        other.execute_batch("ROLLBACK").expect("give the lock back");
        let answers = handles.into_iter().map(|h| h.join().expect("thread"));
        (probed, answers.collect())
    })
}

fn hash_queue_depth(app: &TestApp) -> String {
    let metrics = app.get("/metrics").text;
    let line = metrics
        .lines()
        .find(|l| l.starts_with("authlite_hash_queue_depth "));
    line.unwrap_or("no hash_queue_depth").to_string()
}

/// As the server sizes its hashing gate: a thread per core, 16 places each in the queue.
fn gate_places() -> usize {
    17 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn lenient_lockout() -> Settings {
    Settings {
        max_failures: 10_000,
        max_failures_per_ip: 10_000,
        ..test_settings()
    }
}

/// Issue 19: a hashing thread only hashes. Before, each login waited on a
/// hashing thread for its database writes: with the writes held up, the
/// threads sat idle and every later login queued behind them.
#[test]
fn logins_waiting_for_the_database_leave_the_hashing_threads_free() {
    let app = spawn_app_with(lenient_lockout());
    if app.sqlite_only("holds SQLite's write lock") {
        return;
    }
    let (depth, answers) =
        logins_with_writes_held(&app, gate_places() / 2, || hash_queue_depth(&app));
    assert_eq!(depth, "authlite_hash_queue_depth 0");
    for (resp, _) in &answers {
        resp.assert_success();
    }
}

/// The place at the gate is taken before any database work, so that a burst
/// is bounded however slow the database is: past the places, SERVER_BUSY at once.
#[test]
fn a_burst_past_the_hashing_queue_is_refused_at_once_while_the_database_is_slow() {
    let app = spawn_app_with(lenient_lockout());
    if app.sqlite_only("holds SQLite's write lock") {
        return;
    }
    let ((), answers) = logins_with_writes_held(&app, gate_places() + 5, || ());
    let (busy, admitted): (Vec<_>, Vec<_>) =
        answers.iter().partition(|(resp, _)| resp.status == 503);
    assert_eq!((busy.len(), admitted.len()), (5, gate_places()));
    for (resp, took) in busy {
        resp.assert_error(503, "SERVER_BUSY");
        assert!(*took < Duration::from_millis(800), "refused after {took:?}");
    }
    for (resp, _) in admitted {
        resp.assert_success();
    }
}
