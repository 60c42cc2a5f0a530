//! `authlite serve`: logging in over HTTP, its settings, stopping on SIGTERM,
//! restarting on the same file, and failing before it listens.

use std::ops::RangeInclusive;

use serde_json::json;

use crate::helpers::*;
use crate::server::*;
use crate::state::{s, temp, write};

/// Logs ada in, which must succeed with an access token that expires
/// `ttl` seconds from now (a range, for slow machines) and names `issuer`.
#[track_caller]
fn assert_ada_logs_in(
    agent: &ureq::Agent,
    server: &Server,
    ttl: RangeInclusive<i64>,
    issuer: &str,
) {
    let (status, body) = login(agent, server, ADA, ADA_PASSWORD);
    assert_eq!(status, 200, "{body}");
    let expires = body["expiresAt"].as_i64().expect("expiresAt");
    assert!(
        (now() + ttl.start()..=now() + ttl.end()).contains(&expires),
        "expiresAt {expires}, now {}",
        now()
    );
    assert_eq!(claims(&text(&body, "accessToken"))["iss"], issuer);
}

#[test]
fn serve_settings_are_read_from_their_environment_variables_and_flags_win() {
    let (dir, db) = temp();
    let with_env = || {
        let mut cmd = bare_command();
        cmd.current_dir(dir.path())
            .env("AUTHLITE_DB", &db)
            .env("AUTHLITE_PBKDF2_ITERATIONS", ITERATIONS)
            .env("AUTHLITE_BIND", "127.0.0.1:0")
            .env("AUTHLITE_SEED", DEMO_SEED)
            .env("AUTHLITE_ACCESS_TTL", "120")
            .env("AUTHLITE_ISSUER", "issuer-from-env")
            .env("AUTHLITE_CONCEAL_ACCOUNTS", "true")
            .arg("serve");
        cmd
    };
    let agent = http_agent();

    let mut server = Server::start(with_env());
    assert_ada_logs_in(&agent, &server, 100..=130, "issuer-from-env");
    let (status, body) = login(&agent, &server, "nobody@acme.test", "x");
    assert_error(status, &body, 401, "INVALID_PASSWORD");
    assert_clean_stop(&mut server);

    let mut cmd = with_env();
    cmd.args(["--access-ttl", "300", "--issuer", "issuer-from-flag"]);
    let mut server = Server::start(cmd);
    assert_ada_logs_in(&agent, &server, 280..=310, "issuer-from-flag");
    drop(agent);
    assert_clean_stop(&mut server);
}

#[test]
fn serve_logs_in_the_demo_user_stops_cleanly_on_sigterm_and_keeps_sessions_across_a_restart() {
    let (_dir, db) = temp();
    let mut server = serve_demo(&db, &[]);

    let agent = http_agent();
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["user"]["email"], ADA);
    assert_eq!(body["user"]["name"], "Ada Lovelace");
    assert_eq!(body["user"]["orgId"], "acme");
    let refresh = text(&body, "refreshToken");
    let access = text(&body, "accessToken");
    // The agent keeps its connection open: an idle keep-alive must not delay the stop.
    assert_clean_stop(&mut server);
    drop(agent);
    // A clean stop folds the write-ahead log back in: the .db file alone is complete.
    let wal = db.with_extension("db-wal");
    let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_len, 0, "{} still holds {wal_len} bytes", wal.display());

    // The same command again, as a service manager would run it: re-seeding is a no-op.
    let mut server = serve_demo(&db, &[]);
    let agent = http_agent();
    let (status, _, body) = post(
        &agent,
        &server.url("/user/refresh"),
        json!({ "refreshToken": refresh }),
    );
    assert_eq!(
        status, 200,
        "the refresh token did not survive a restart: {body}"
    );
    assert_eq!(body["user"]["email"], ADA);
    assert_ne!(
        body["refreshToken"].as_str(),
        Some(refresh.as_str()),
        "refresh tokens rotate"
    );

    let mut me = agent
        .get(server.url("/user/me"))
        .header("Authorization", format!("Bearer {access}"))
        .call()
        .expect("GET /user/me");
    let me_status = me.status().as_u16();
    let me_body = me.body_mut().read_to_string().expect("a body");
    assert_eq!(
        me_status, 200,
        "the signing key did not survive a restart: {me_body}"
    );
    drop(agent);
    assert_clean_stop(&mut server);
}

#[test]
fn the_log_has_an_access_line_per_request_and_every_line_is_out_before_exit() {
    let (_dir, db) = temp();
    let mut server = serve_demo(&db, &[]);
    let agent = http_agent();
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(status, 200, "{body}");
    let (status, _) = login(&agent, &server, ADA, "not-adas-password-42");
    assert_eq!(status, 401);
    drop(agent);

    let err = assert_clean_stop(&mut server);
    let access: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("\"POST /user/login\""))
        .collect();
    assert_eq!(access.len(), 2, "one access line per login:\n{err}");
    assert!(
        access[0].contains("127.0.0.1 \"POST /user/login\" 200 "),
        "{err}"
    );
    assert!(
        access[1].contains("127.0.0.1 \"POST /user/login\" 401 "),
        "{err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("stopped"),
        "the last line is the stop, logged as the process ends:\n{err}"
    );
    assert!(
        !err.contains(ADA_PASSWORD) && !err.contains("not-adas-password-42"),
        "{err}"
    );
}

#[test]
fn user_unlock_takes_effect_on_a_running_server() {
    let (_dir, db) = temp();
    let mut server = serve_demo(&db, &["--max-failures", "2"]);
    let agent = http_agent();
    for _ in 0..2 {
        let (status, body) = login(&agent, &server, ADA, "wrong");
        assert_error(status, &body, 401, "INVALID_PASSWORD");
    }
    let (status, retry_after, body) = post(
        &agent,
        &server.url("/user/login"),
        json!({ "email": ADA, "password": ADA_PASSWORD }),
    );
    assert_error(status, &body, 429, "TOO_MANY_ATTEMPTS");
    assert!(retry_after.is_some(), "a 429 carries Retry-After");

    succeeds(&db, &["user", "unlock", ADA]);
    let (status, body) = login(&agent, &server, ADA, ADA_PASSWORD);
    assert_eq!(
        status, 200,
        "unlock did not reach the running server: {body}"
    );
    drop(agent);
    assert_clean_stop(&mut server);
}

#[test]
fn serve_on_an_address_in_use_fails_with_one_sentence() {
    let (_dir, db) = temp();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("local addr").to_string();
    let out = authlite(&db, &["serve", "--bind", &addr]);
    assert_fails_naming(&out, &[&addr]);
    assert_not_listening(&out);
}

#[test]
fn serve_with_a_bind_address_that_is_not_an_address_is_refused() {
    let (_dir, db) = temp();
    let out = authlite(&db, &["serve", "--bind", "localhost:port"]);
    assert_refused(&out);
    assert!(!stderr(&out).trim().is_empty());
}

#[test]
fn serve_with_a_bad_seed_file_fails_before_listening() {
    let (dir, db) = temp();
    let file = write(&dir, "broken.json", "{ \"orgs\": [ }");
    let out = authlite(&db, &["serve", "--bind", "127.0.0.1:0", "--seed", s(&file)]);
    assert_fails_naming(&out, &["broken.json", "line 1"]);
    assert_not_listening(&out);
}

#[test]
fn serve_with_a_static_folder_that_does_not_exist_fails_with_one_sentence() {
    let (dir, db) = temp();
    let missing = dir.path().join("no-pages");
    let out = authlite(
        &db,
        &["serve", "--bind", "127.0.0.1:0", "--static", s(&missing)],
    );
    assert_fails_naming(&out, &["no-pages"]);
}
