//! What an operator's commands and settings do to the audit log of a
//! running server: sessions ended from the command line, and retention.

use std::time::{Duration, Instant};

use authlite::settings::Settings;
use authlite::store::{AuditEvent, AuditQuery, Database};
use serde_json::json;

use crate::audit::{events, user_id};
use crate::cli_writes::cli_set_password;
use crate::helpers::*;

#[test]
fn set_password_from_the_cli_records_each_session_it_ends() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    cli_set_password(&app, ADA, "the operator's new pass phrase");
    let id = user_id(&app, ADA);
    let ended = json!({"type": "session.revoked", "userId": id, "actor": "cli", "ip": null,
        "userAgent": null, "detail": {"sid": ada.sid(), "reason": "password"}});
    assert_eq!(events(&app, "session.revoked"), [ended]);
    let set = json!({"type": "password.set", "userId": id, "actor": "cli", "ip": null,
        "userAgent": null, "detail": {}});
    assert_eq!(events(&app, "password.set"), [set]);
}

#[test]
fn events_past_the_retention_are_pruned_by_a_running_server() {
    let app = spawn_app();
    let db = Database::open(&app.db, Default::default()).expect("open the database");
    let day = 86_400;
    let now = now() as u64;
    for (n, age) in [3 * day, 2 * day + 60, 2 * day - 60, 60]
        .into_iter()
        .enumerate()
    {
        let event = AuditEvent::new("user.updated", "cli", now - age, json!({ "n": n }));
        db.transaction(|s| s.append_event(&event)).expect("append");
    }
    let _pruning = app.spawn_on_same_db(Settings {
        audit_retention: 2,
        ..test_settings()
    });
    let left = || {
        let query = AuditQuery {
            kind: Some("user.updated".into()),
            limit: 10,
            ..AuditQuery::default()
        };
        let found = db.read(|s| s.list_events(&query)).expect("list");
        found
            .iter()
            .map(|e| e.detail["n"].clone())
            .collect::<Vec<_>>()
    };
    let started = Instant::now();
    while left().len() > 2 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(left(), [json!(3), json!(2)]);
}
