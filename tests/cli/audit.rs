//! `authlite audit`, and the events the commands write: each with the actor
//! `cli`, its user and its detail, read back through `audit --json`.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::state::*;

/// `audit --json ARGS`: the events without `id` and `at` (checked to be recent).
pub fn audit(db: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    let text = succeeds(db, &all);
    let events: Vec<Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("`audit --json` is not a JSON list ({e}):\n{text}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    events
        .into_iter()
        .map(|mut e| {
            let at = e["at"].as_u64().expect("at is a number");
            assert!(at.abs_diff(now) < 60, "{e}");
            assert!(e["id"].is_i64(), "{e}");
            let fields = e.as_object_mut().expect("an event is an object");
            fields.remove("id");
            fields.remove("at");
            e
        })
        .collect()
}

pub fn by_cli(kind: &str, user: Option<&str>, detail: Value) -> Value {
    json!({"type": kind, "userId": user, "actor": "cli", "ip": null, "userAgent": null, "detail": detail})
}

fn id_of(db: &Path, email: &str) -> String {
    field(&users(db), email, "id")
}

#[test]
fn every_user_command_records_its_event_as_the_cli() {
    let (_dir, db) = temp();
    add_with_password(command(&db), "ada@acme.test", "Ada", "first pass phrase");
    let ada = id_of(&db, "ada@acme.test");
    let ada = Some(ada.as_str());
    authlite_stdin(
        &db,
        &["user", "set-password", "ada@acme.test", "--password-stdin"],
        "second pass phrase\n",
    );
    succeeds(&db, &["user", "set-status", "ada@acme.test", "banned"]);
    succeeds(&db, &["user", "unlock", "ada@acme.test"]);
    succeeds(&db, &["user", "unlock", "nobody@acme.test"]);
    succeeds(&db, &["user", "set-status", "ada@acme.test", "deleted"]);
    assert_eq!(
        audit(&db, &[]),
        [
            by_cli("user.deleted", ada, json!({})),
            by_cli(
                "user.unlocked",
                None,
                json!({"cleared": 0, "email": "nobody@acme.test"})
            ),
            by_cli("user.unlocked", ada, json!({"cleared": 0})),
            by_cli(
                "user.updated",
                ada,
                json!({"fields": ["status"], "status": "banned"})
            ),
            by_cli("password.set", ada, json!({})),
            by_cli("user.created", ada, json!({})),
        ]
    );
}

#[test]
fn key_rotation_and_retirement_record_the_kids() {
    let (_dir, db) = temp();
    let kid = |out: &str| out.split_whitespace().nth(3).expect("a kid").to_string();
    let first = kid(&succeeds(&db, &["keys", "rotate"]));
    let second = kid(&succeeds(&db, &["keys", "rotate"]));
    succeeds(&db, &["keys", "retire", &first]);
    let retired = succeeds(&db, &["keys", "retire", &second]);
    let third = kid(&retired);
    assert_eq!(
        audit(&db, &["--type", "key.retired"]),
        [
            by_cli("key.retired", None, json!({"kid": second})),
            by_cli("key.retired", None, json!({"kid": first}))
        ]
    );
    assert_eq!(
        audit(&db, &["--type", "key.rotated"]),
        [third, second, first].map(|kid| by_cli("key.rotated", None, json!({ "kid": kid })))
    );
}

#[test]
fn a_seed_records_what_it_creates_and_changes_and_nothing_when_nothing_changes() {
    let (dir, db) = temp();
    let seed = |users: Value| {
        let text = json!({"orgs": [{"id": "acme", "name": "Acme"}], "users": users}).to_string();
        write(&dir, "seed.json", &text)
    };
    let first = seed(
        json!([{"email": "ada@acme.test", "name": "Ada", "orgId": "acme", "password": "one pass phrase"}]),
    );
    succeeds(&db, &["seed", s(&first)]);
    succeeds(&db, &["seed", s(&first)]);
    let ada = id_of(&db, "ada@acme.test");
    let ada = Some(ada.as_str());
    assert_eq!(audit(&db, &[]), [by_cli("user.created", ada, json!({}))]);
    let second = seed(
        json!([{"email": "ada@acme.test", "name": "Ada L", "orgId": "acme",
        "password": "another pass phrase", "status": "inactive"}]),
    );
    succeeds(&db, &["seed", s(&second), "--dry-run"]);
    assert_eq!(audit(&db, &[]).len(), 1, "a dry run records nothing");
    succeeds(&db, &["seed", s(&second)]);
    assert_eq!(
        audit(&db, &["--limit", "2"]),
        [
            by_cli("password.set", ada, json!({})),
            by_cli("user.updated", ada, json!({"fields": ["name", "status"]})),
        ]
    );
}

#[test]
fn audit_filters_by_user_type_and_time_and_prints_a_table() {
    let (_dir, db) = temp();
    succeeds(&db, &user_add("ada@acme.test", "Ada", &[]));
    succeeds(&db, &user_add("bob@acme.test", "Bob", &[]));
    succeeds(&db, &["user", "set-status", "ada@acme.test", "inactive"]);
    let ada = id_of(&db, "ada@acme.test");
    let ada = Some(ada.as_str());
    assert_eq!(
        audit(&db, &["--user", "ADA@acme.test", "--type", "user.created"]),
        [by_cli("user.created", ada, json!({}))]
    );
    assert_eq!(audit(&db, &["--user", "ada@acme.test"]).len(), 2);
    assert_eq!(audit(&db, &["--type", "user.created"]).len(), 2);
    assert_eq!(audit(&db, &["--since", "4102444800"]), Vec::<Value>::new());
    assert_eq!(audit(&db, &["--since", "0", "--limit", "1"]).len(), 1);
    let table = succeeds(&db, &["audit"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("AT ") && lines[0].contains("TYPE"),
        "{table}"
    );
    assert!(
        lines[1].contains("user.updated")
            && lines[1].contains(r#"{"fields":["status"],"status":"inactive"}"#),
        "{table}"
    );
}

#[test]
fn audit_refuses_an_unknown_user_type_or_limit() {
    let (_dir, db) = temp();
    succeeds(&db, &user_add("ada@acme.test", "Ada", &[]));
    let out = authlite(&db, &["audit", "--user", "nobody@acme.test"]);
    assert_fails_naming(&out, &["nobody@acme.test"]);
    for args in [
        ["audit", "--type", "login.maybe"],
        ["audit", "--limit", "0"],
        ["audit", "--since", "yesterday"],
        ["audit", "--user", "not an email"],
    ] {
        assert_usage_error(&authlite(&db, &args), &args.join(" "));
    }
    let out = authlite(&db, &["audit", "--type", "login.maybe"]);
    assert!(stderr(&out).contains("login.maybe"), "{}", stderr(&out));
}

#[test]
fn audit_retention_takes_one_day_to_a_hundred_years() {
    let (_dir, db) = temp();
    for days in ["0", "36501", "-1", "ninety"] {
        let out = authlite(&db, &["serve", &format!("--audit-retention={days}")]);
        assert_usage_error(&out, &format!("serve --audit-retention {days}"));
        assert!(
            stderr(&out).contains("--audit-retention"),
            "{}",
            stderr(&out)
        );
    }
    let mut from_env = command(&db);
    from_env.env("AUTHLITE_AUDIT_RETENTION", "0").arg("serve");
    assert_usage_error(&run(from_env, None), "AUTHLITE_AUDIT_RETENTION=0 serve");
}

#[test]
fn user_roles_records_what_changed_and_nothing_when_nothing_did() {
    let (_dir, db) = temp();
    add_with_password(command(&db), "ada@acme.test", "Ada", "first pass phrase");
    let ada = id_of(&db, "ada@acme.test");
    succeeds(&db, &["user", "roles", "ada@acme.test", "--add", "staff"]);
    succeeds(&db, &["user", "roles", "ada@acme.test", "--add", "staff"]);
    succeeds(&db, &["user", "roles", "ada@acme.test"]);
    assert_eq!(
        audit(&db, &["--type", "user.updated"]),
        vec![by_cli(
            "user.updated",
            Some(&ada),
            json!({"fields": ["roles"]})
        )]
    );
}
