//! The lockout as an attacker meets it: guesses sent all at once, and the
//! addresses of one IPv6 network.

use std::sync::{Arc, Barrier};
use std::thread;

use authlite::settings::{Settings, DEFAULT_PBKDF2_ITERATIONS};

use crate::helpers::*;

const GUESSES: usize = 24;

/// The real hash cost, so that the guesses overlap on the hashing threads.
fn real_cost(settings: Settings) -> TestApp {
    spawn_app_seeded_at(
        Settings {
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
            ..settings
        },
        DEFAULT_PBKDF2_ITERATIONS,
    )
}

/// Sends every login at once, from its own thread and connection; returns the statuses.
fn all_at_once(app: &TestApp, logins: Vec<(String, Vec<(&'static str, String)>)>) -> Vec<u16> {
    let barrier = Arc::new(Barrier::new(logins.len()));
    let threads: Vec<_> = logins
        .into_iter()
        .map(|(email, headers)| {
            let (address, barrier) = (app.address.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                let agent = new_agent();
                let body = serde_json::json!({ "email": email, "password": "a wrong guess" });
                let mut req = Req::new("POST", "/user/login").json(&body);
                for (name, value) in &headers {
                    req = req.header(name, value);
                }
                barrier.wait();
                send_with(&agent, &address, req).status
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("a login thread"))
        .collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

#[test]
fn parallel_wrong_passwords_on_one_email_get_no_more_than_max_failures_checked() {
    let app = real_cost(Settings {
        max_failures: 5,
        ..test_settings()
    });
    let logins = (0..GUESSES)
        .map(|_| (ADA.to_string(), Vec::new()))
        .collect();

    let statuses = all_at_once(&app, logins);

    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), GUESSES - 5, "{statuses:?}");
    let locked = app.login(ADA, ADA_PASSWORD);
    locked.assert_error(429, "TOO_MANY_ATTEMPTS");
}

#[test]
fn parallel_guesses_from_one_address_get_no_more_than_the_per_address_limit() {
    let app = real_cost(Settings {
        max_failures_per_ip: 5,
        ..test_settings()
    });
    let logins = (0..GUESSES)
        .map(|i| (format!("sprayed{i}@acme.test"), Vec::new()))
        .collect();

    let statuses = all_at_once(&app, logins);

    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), GUESSES - 5, "{statuses:?}");
}

fn behind_a_proxy() -> TestApp {
    spawn_app_with(Settings {
        max_failures_per_ip: 5,
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("a network")],
        ..test_settings()
    })
}

fn login_from(app: &TestApp, email: &str, password: &str, ip: &str) -> Resp {
    app.login_with(email, password, &[("X-Forwarded-For", ip)])
}

#[test]
fn six_addresses_of_one_ipv6_64_share_one_count_and_another_64_does_not() {
    let app = behind_a_proxy();

    for n in 1..=5 {
        let ip = format!("2001:db8:1:2::{n:x}");
        login_from(&app, &format!("guess{n}@acme.test"), "x", &ip)
            .assert_error(401, "USER_NOT_FOUND");
    }

    login_from(&app, "guess6@acme.test", "x", "2001:db8:1:2:ffff::6")
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    login_from(&app, ADA, ADA_PASSWORD, "2001:db8:1:2::abc").assert_error(429, "TOO_MANY_ATTEMPTS");
    login_from(&app, "guess7@acme.test", "x", "2001:db8:1:3::1")
        .assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn ipv4_addresses_are_counted_one_by_one() {
    let app = behind_a_proxy();

    for n in 1..=5 {
        login_from(&app, &format!("guess{n}@acme.test"), "x", "198.51.100.7")
            .assert_error(401, "USER_NOT_FOUND");
    }

    login_from(&app, "guess6@acme.test", "x", "198.51.100.7")
        .assert_error(429, "TOO_MANY_ATTEMPTS");
    login_from(&app, "guess7@acme.test", "x", "198.51.100.8").assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn the_sessions_list_keeps_the_full_ipv6_address() {
    let app = behind_a_proxy();
    let resp = login_from(&app, ADA, ADA_PASSWORD, "2001:db8:7:8:1:2:3:4");
    let tokens = Tokens::from_resp(&resp);

    let list = app.sessions(&tokens.access).json();

    let session = session_by_sid(&list, &tokens.sid()).expect("the session is listed");
    assert_eq!(session["ip"], "2001:db8:7:8:1:2:3:4");
}

#[test]
fn a_successful_login_gives_its_address_slot_back() {
    let app = behind_a_proxy();

    for _ in 0..8 {
        login_from(&app, ADA, ADA_PASSWORD, "198.51.100.9").assert_success();
    }

    login_from(&app, BOB, BOB_PASSWORD, "198.51.100.9").assert_success();
}

/// A NUL or another control character in an id or a filter of the admin API
/// is a client's mistake on both engines (PostgreSQL refuses a NUL in text):
/// 400 or 404, never a 500; a list filtered by one finds nothing.
#[test]
fn control_characters_in_admin_ids_and_filters_are_not_server_errors() {
    let app = spawn_app();
    let admin = app.admin_token();
    let events = app.admin("GET", "/admin/audit?userId=a%00b", &admin, None);
    assert_eq!(
        (events.status, events.json()),
        (
            200,
            serde_json::json!({"success": true, "events": [], "nextCursor": null})
        )
    );
    let probes = [
        ("GET", "/admin/users/a%00b"),
        ("PATCH", "/admin/users/a%00b"),
        ("DELETE", "/admin/users/a%00b"),
        ("POST", "/admin/users/a%00b/unlock"),
        ("DELETE", "/admin/users/a%00b/mfa"),
        ("GET", "/admin/users/a%00b/sessions"),
        ("DELETE", "/admin/sessions/a%00b"),
        ("DELETE", "/admin/api-keys/a%00b"),
        ("PATCH", "/admin/orgs/a%00b"),
        ("DELETE", "/admin/orgs/a%00b"),
        ("GET", "/admin/users?role=a%00b"),
    ];
    for (method, path) in probes {
        let body = (method == "PATCH").then(|| serde_json::json!({"name": "x"}));
        let resp = app.admin(method, path, &admin, body);
        assert!(
            matches!(resp.status, 400 | 404),
            "{method} {path}: {} {}",
            resp.status,
            resp.text
        );
    }
}
