//! `authlite apikey create|list|revoke` (SPEC section 8): the key alone on
//! standard output, shown once; the list never shows it; bad input is a usage
//! error that changes nothing.

use std::path::Path;

use serde_json::{json, Value};

use crate::audit::{audit, by_cli};
use crate::helpers::*;
use crate::state::*;

fn listed(db: &Path) -> Value {
    serde_json::from_str(&succeeds(db, &["apikey", "list", "--json"])).expect("JSON")
}

fn is_key(text: &str) -> bool {
    text.strip_prefix("alk_").is_some_and(|tail| {
        tail.len() == 43
            && tail
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    })
}

#[test]
fn create_prints_the_key_alone_on_stdout_and_its_id_on_stderr() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &[
            "apikey",
            "create",
            "--name",
            "billing",
            "--scope",
            "users:write",
            "--scope",
            "audit:read",
            "--ttl",
            "3600",
        ],
    );
    assert_exit(&out, 0);
    let key = stdout(&out);
    assert!(
        key.ends_with('\n') && is_key(key.trim_end_matches('\n')),
        "{key:?}"
    );
    let key = key.trim_end();

    let list = listed(&db);
    let id = list[0]["id"].as_str().expect("an id");
    assert_eq!(
        stderr(&out).trim(),
        format!("created API key {id} (billing)")
    );
    let created = list[0]["createdAt"].as_u64().expect("createdAt");
    assert_eq!(
        list,
        json!([{ "id": id, "name": "billing", "scopes": ["users:write", "audit:read"],
                 "createdAt": created, "expiresAt": created + 3600, "lastUsedAt": null,
                 "revokedAt": null }])
    );

    let table = succeeds(&db, &["apikey", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    for column in [
        "ID",
        "NAME",
        "SCOPES",
        "CREATED",
        "EXPIRES",
        "LAST USED",
        "REVOKED",
    ] {
        assert!(lines[0].contains(column), "{column} missing: {table}");
    }
    assert!(lines[1].starts_with(id) && lines[1].contains("users:write,audit:read"));
    let tail = &key[4..];
    assert!(!table.contains(tail) && !list.to_string().contains(tail));
}

#[test]
fn revoke_marks_the_key_once_and_an_unknown_id_is_one_sentence() {
    let (_dir, db) = temp();
    succeeds(
        &db,
        &["apikey", "create", "--name", "ci", "--scope", "users:read"],
    );
    let id = listed(&db)[0]["id"].as_str().expect("an id").to_string();

    let said = succeeds(&db, &["apikey", "revoke", &id]);
    assert!(
        said.starts_with(&format!("API key {id} (ci) revoked")),
        "{said}"
    );
    let revoked_at = listed(&db)[0]["revokedAt"].clone();
    assert!(revoked_at.is_u64(), "{revoked_at}");
    let again = succeeds(&db, &["apikey", "revoke", &id]);
    assert!(again.contains("already revoked"), "{again}");
    assert_eq!(listed(&db)[0]["revokedAt"], revoked_at);

    let out = authlite(&db, &["apikey", "revoke", "nope"]);
    assert_fails_naming(&out, &["API key", "nope"]);
}

#[test]
fn a_bad_scope_name_or_ttl_is_a_usage_error_and_makes_no_key() {
    let (_dir, db) = temp();
    let cases: [(&[&str], &str); 6] = [
        (&["--name", "x", "--scope", "admin"], "--scope"),
        (&["--name", "x", "--scope", "users:read,admin"], "--scope"),
        (&["--name", "x"], "--scope"),
        (&["--name", " ", "--scope", "users:read"], "--name"),
        (
            &["--name", "x", "--scope", "users:read", "--ttl", "0"],
            "--ttl",
        ),
        (
            &["--name", "x", "--scope", "users:read", "--ttl", "315360001"],
            "--ttl",
        ),
    ];
    for (args, flag) in cases {
        let mut all = vec!["apikey", "create"];
        all.extend_from_slice(args);
        let out = authlite(&db, &all);
        assert_usage_error(&out, &all.join(" "));
        assert!(
            stderr(&out).contains(flag),
            "{flag} not named: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
    assert_eq!(listed(&db), json!([]));
}

#[test]
fn scopes_come_from_the_environment_as_a_list_too() {
    let (_dir, db) = temp();
    let mut cmd = command(&db);
    cmd.args(["apikey", "create", "--name", "env"])
        .env("AUTHLITE_SCOPE", "users:read,clients:write");
    let out = run(cmd, None);
    assert_exit(&out, 0);
    assert!(is_key(stdout(&out).trim()));
    assert_eq!(
        listed(&db)[0]["scopes"],
        json!(["users:read", "clients:write"])
    );
}

#[test]
fn create_and_revoke_record_the_key_id_as_the_cli_and_a_second_revoke_nothing() {
    let (_dir, db) = temp();
    let key = succeeds(
        &db,
        &["apikey", "create", "--name", "ci", "--scope", "audit:read"],
    );
    let id = listed(&db)[0]["id"].as_str().expect("an id").to_string();
    let created = by_cli("apikey.created", None, json!({ "apiKeyId": id }));
    assert_eq!(
        audit(&db, &["--type", "apikey.created"]),
        std::slice::from_ref(&created)
    );
    succeeds(&db, &["apikey", "revoke", &id]);
    succeeds(&db, &["apikey", "revoke", &id]);
    let revoked = by_cli("apikey.revoked", None, json!({ "apiKeyId": id }));
    assert_eq!(audit(&db, &[]), [revoked, created]);
    let text = succeeds(&db, &["audit", "--json"]);
    assert!(
        !text.contains(key.trim()) && !text.contains("alk_"),
        "{text}"
    );
}
