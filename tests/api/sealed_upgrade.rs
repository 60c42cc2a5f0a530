//! A database sealed by round 2 (values sealed for no row) is bound in place on
//! first open, and after that a round-2 value is refused like any other.

use std::path::Path;

use authlite::tokens::{Sealer, KEY_PAIRS};
use jwt_simple::prelude::Ed25519KeyPair;
use serde_json::Value;

use crate::helpers::*;
use crate::sealed_rows::{assert_refuses, sealed, start_error, start_error_on, Raw};

/// Made by round 2's binary: `seed examples/demo-seed.json`, two keys (one
/// retired), all sealed with the key file beside it, then Ada signed in (10-year
/// tokens) and refreshed once; its values are sealed bound to no row.
const ROUND_2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/v2-sealed.sqlite"
);
const ROUND_2_KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v2-sealed.key");
const ROUND_2_TOKENS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/v2-sealed-tokens.json"
);

fn round_2_tokens() -> Value {
    serde_json::from_str(&std::fs::read_to_string(ROUND_2_TOKENS).unwrap()).unwrap()
}

#[test]
fn a_database_sealed_by_round_2_is_bound_in_place_and_keeps_its_sessions() {
    let settings = sealed(Path::new(ROUND_2_KEY));
    let mut app = spawn_app_on_copy(Path::new(ROUND_2), settings.clone());
    let tokens = round_2_tokens();
    app.me(tokens["access"].as_str().unwrap()).assert_success();
    let next = app.refresh_ok(tokens["refresh"].as_str().unwrap());
    app.me(&next.access).assert_success();
    app.stop();

    let sealer = Sealer::from_file(Path::new(ROUND_2_KEY)).unwrap();
    let mut raw = Raw::open(&app);
    let keys = raw.keys();
    assert_eq!(keys.len(), 2);
    for (kid, pair) in &keys {
        assert!(pair.starts_with(b"\0AS2"), "{kid} is not bound");
        sealer.open(KEY_PAIRS, kid, pair).unwrap();
    }
    // Round 2's sealed value of the current key, put back after the upgrade.
    let unbound = rusqlite::Connection::open(ROUND_2)
        .unwrap()
        .query_row(
            "SELECT key_pair FROM signing_keys WHERE kid = ?1",
            [next.kid()],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .unwrap();
    let put_back = raw.blob(&unbound);
    raw.execute(&format!(
        "UPDATE signing_keys SET key_pair = {put_back} WHERE kid = '{}'",
        next.kid()
    ));
    let message = start_error(&app, settings);
    assert_refuses(&message, &next.kid());
    assert!(message.contains("round 2"), "{message}");
}

#[test]
fn a_plain_key_planted_in_a_database_sealed_by_round_2_is_refused_when_binding() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("authlite.db");
    std::fs::copy(ROUND_2, &db).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "INSERT INTO signing_keys (kid, key_pair, created_at, retired_at, algorithm)
         VALUES ('planted', ?1, 1, 2, 'EdDSA')",
        [Ed25519KeyPair::generate().to_bytes()],
    )
    .unwrap();
    let rows = |conn: &rusqlite::Connection| -> Vec<(String, Vec<u8>)> {
        let mut stmt = conn
            .prepare("SELECT kid, key_pair FROM signing_keys")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)));
        rows.unwrap().map(Result::unwrap).collect()
    };
    let unchanged = rows(&conn);
    let message = start_error_on(db.to_str().unwrap(), sealed(Path::new(ROUND_2_KEY)));
    assert_refuses(&message, "planted");
    assert!(message.contains("unsealed"), "{message}");
    assert!(rows(&conn) == unchanged, "a refused start changed the keys");
}
