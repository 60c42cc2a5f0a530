//! API keys on several instances (SPEC sections 7 and 8): a key revoked
//! through one instance's admin API, or by the CLI, is refused by every
//! instance within 1 s, although each keeps what it read of the key.

use std::time::Instant;

use serde_json::json;

use crate::harness::*;

/// `/admin/api-keys`, which no key may use: 403 for a live key, 401 for a dead one.
fn probe(instance: &Instance, key: &str) -> Resp {
    instance.send("GET", "/admin/api-keys", Some(key), None, &[])
}

fn new_key(db: &str) -> (String, String) {
    let key = cli_ok(
        db,
        &["apikey", "create", "--name", "svc", "--scope", "users:read"],
    );
    let list: serde_json::Value =
        serde_json::from_str(&cli_ok(db, &["apikey", "list", "--json"])).expect("JSON");
    let id = list[0]["id"].as_str().expect("an id").to_string();
    (id, key.trim().to_string())
}

/// Polls `instance` until it refuses `key` as revoked, within 1 s of `since`.
#[track_caller]
fn refused_within_a_second(instance: &Instance, key: &str, since: Instant) {
    within(since, ONE_SECOND, "the revoked key refused", || {
        let resp = probe(instance, key);
        if resp.status == 403 {
            return None;
        }
        resp.assert_error(401, "TOKEN_REVOKED");
        Some(())
    });
}

#[test]
fn a_key_revoked_through_one_instance_is_refused_by_the_other_within_a_second() {
    let Some(db) = Database::seeded() else { return };
    cli_ok(&db.url, &["user", "roles", ADA, "--add", "admin"]);
    let instances = serve_many(&db.url, 2, &[]);
    let (id, key) = new_key(&db.url);
    // Read once everywhere, so that each instance holds it in its cache.
    for instance in &instances {
        probe(instance, &key).assert_error(403, "FORBIDDEN");
    }

    let admin = instances[0].login_ok(ADA, ADA_PASSWORD).access;
    let path = format!("/admin/api-keys/{id}");
    let resp = instances[0].send("DELETE", &path, Some(&admin), None, &[]);
    let revoked = Instant::now();
    resp.assert_ok();
    probe(&instances[0], &key).assert_error(401, "TOKEN_REVOKED");
    refused_within_a_second(&instances[1], &key, revoked);
    let listed = instances[1].send("GET", "/admin/api-keys", Some(&admin), None, &[]);
    assert!(listed.body["apiKeys"][0]["revokedAt"].is_i64(), "{listed}");
    assert_eq!(listed.body["apiKeys"][0]["id"], json!(id));
}

#[test]
fn a_key_revoked_by_the_cli_is_refused_by_every_instance_within_a_second() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 2, &[]);
    let (id, key) = new_key(&db.url);
    for instance in &instances {
        probe(instance, &key).assert_error(403, "FORBIDDEN");
    }
    cli_ok(&db.url, &["apikey", "revoke", &id]);
    let revoked = Instant::now();
    for instance in &instances {
        refused_within_a_second(instance, &key, revoked);
    }
}
