//! The refresh record: storage that grows with sessions, not refreshes, and a
//! database written by the first release (schema version 1) migrating in place.

use std::path::Path;

use authlite::settings::Settings;
use serde_json::Value;

use crate::helpers::*;

#[test]
fn a_session_refreshed_hundreds_of_times_holds_the_rows_it_held_after_one() {
    let app = spawn_app();
    let mut tokens = app.refresh_ok(&app.login_ok(ADA, ADA_PASSWORD).refresh);
    let after_one = app.row_counts();

    for _ in 0..300 {
        tokens = app.refresh_ok(&tokens.refresh);
    }

    assert_eq!(app.row_counts(), after_one);
    let sessions = after_one.iter().find(|(table, _)| table == "sessions");
    assert_eq!(sessions, Some(&("sessions".to_string(), 1)));
    app.me(&tokens.access).assert_success();
}

#[test]
fn a_racing_second_use_within_the_grace_gets_the_same_pair_after_many_rotations() {
    let app = spawn_app();
    let mut tokens = app.login_ok(ADA, ADA_PASSWORD);
    for _ in 0..50 {
        tokens = app.refresh_ok(&tokens.refresh);
    }

    let first = app.refresh(&tokens.refresh);
    let second = app.refresh(&tokens.refresh);

    first.assert_success();
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.json(), first.json());
}

#[test]
fn an_older_token_than_the_last_spent_is_reuse_even_within_the_grace() {
    let app = spawn_app();
    let t0 = app.login_ok(ADA, ADA_PASSWORD);
    let t1 = app.refresh_ok(&t0.refresh);
    let t2 = app.refresh_ok(&t1.refresh);

    app.refresh(&t0.refresh).assert_error(401, "TOKEN_REUSED");
    app.refresh(&t2.refresh).assert_error(401, "TOKEN_REVOKED");
    app.me(&t2.access).assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn login_and_refresh_answers_are_never_cached() {
    let app = spawn_app();
    let login = app.login(ADA, ADA_PASSWORD);
    let refresh = app.refresh(&Tokens::from_resp(&login).refresh);

    for resp in [&login, &refresh] {
        resp.assert_success();
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert_eq!(resp.header("pragma"), Some("no-cache"));
        assert!(resp
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")));
    }
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1.sqlite");
const FIXTURE_TOKENS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1-tokens.json");

/// Tokens the first release issued into `tests/fixtures/v1.sqlite` (made by it,
/// with 10-year lifetimes, from `examples/demo-seed.json` at 1,000 iterations):
/// session A refreshed once, session B twice, session C (Grace) refreshed then
/// logged out.
fn fixture_tokens() -> Value {
    let text = std::fs::read_to_string(FIXTURE_TOKENS).expect("read the fixture tokens");
    serde_json::from_str(&text).expect("fixture tokens are JSON")
}

fn upgraded_app() -> (TestApp, Value) {
    let settings = Settings {
        // Long enough that the answer session A's first refresh got is still replayed.
        reuse_grace: 100 * 365 * 24 * 3600,
        ..test_settings()
    };
    (
        spawn_app_on_copy(Path::new(FIXTURE), settings),
        fixture_tokens(),
    )
}

fn token<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name]
        .as_str()
        .unwrap_or_else(|| panic!("fixture token {name}"))
}

#[test]
fn a_first_release_database_migrates_in_place_and_keeps_its_accounts_keys_and_sessions() {
    let (app, tokens) = upgraded_app();

    let counts = app.row_counts();
    assert!(
        counts.iter().all(|(table, _)| table != "refresh_tokens"),
        "{counts:?}"
    );
    assert!(counts.contains(&("users".to_string(), 5)), "{counts:?}");
    assert!(counts.contains(&("sessions".to_string(), 3)), "{counts:?}");
    let conn = rusqlite::Connection::open(&app.db_path).expect("open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert!(version >= 2, "user_version {version}");

    let access = token(&tokens, "a_access");
    let me = app.me(access);
    me.assert_success();
    assert_eq!(me.json()["user"]["email"], "ada@acme.test");
    let kid = jwt_header(access)["kid"]
        .as_str()
        .expect("a kid")
        .to_string();
    let published = app.jwks()["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .any(|k| k["kid"] == kid.as_str());
    assert!(
        published,
        "the first release's key {kid} is still in the JWKS"
    );
    app.login_ok("grace@acme.test", "cobol compiler nanosecond wire");
}

#[test]
fn tokens_issued_before_the_upgrade_rotate_replay_and_are_caught_when_reused() {
    let (app, tokens) = upgraded_app();

    // Session A: its newest token rotates; the one spent before replays its answer.
    let next = app.refresh_ok(token(&tokens, "a_current"));
    app.me(&next.access).assert_success();
    let replay = app.refresh(token(&tokens, "a_current"));
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.json()["refreshToken"], next.refresh.as_str());

    // Session B: a token older than the last spent one is reuse, and ends the session.
    app.refresh(token(&tokens, "b_older"))
        .assert_error(401, "TOKEN_REUSED");
    app.refresh(token(&tokens, "b_current"))
        .assert_error(401, "TOKEN_REVOKED");

    // Session C was logged out before the upgrade.
    app.refresh(token(&tokens, "c_revoked"))
        .assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn the_last_token_spent_before_the_upgrade_still_gets_its_stored_answer_within_the_grace() {
    let (app, tokens) = upgraded_app();

    let replay = app.refresh(token(&tokens, "a_spent"));

    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.text, token(&tokens, "a_spent_answer"));
}

#[test]
fn after_the_upgrade_a_spent_token_past_the_grace_is_reuse() {
    let app = spawn_app_on_copy(Path::new(FIXTURE), test_settings());
    let tokens = fixture_tokens();

    app.refresh(token(&tokens, "a_spent"))
        .assert_error(401, "TOKEN_REUSED");
    app.refresh(token(&tokens, "a_current"))
        .assert_error(401, "TOKEN_REVOKED");
}
