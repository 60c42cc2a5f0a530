//! After a session of every action that writes an event, no password, token,
//! link token, hash or master key is anywhere in the database's bytes (on
//! SQLite: the file and its log; on PostgreSQL: every table's contents), and
//! no audit event carries one.

use std::io::Read;

use authlite::settings::Settings;
use authlite::store::{AuditQuery, Database};
use serde_json::json;

use crate::audit::user_id;
use crate::cli_writes::cli_set_password;
use crate::helpers::*;

const NEW_PASSWORD: &str = "Fresh-Secret-Phrase-4711";
const RESET_PASSWORD: &str = "Reset-Secret-Phrase-0815";
const CLI_PASSWORD: &str = "Cli-Secret-Phrase-2718";
const WRONG_PASSWORD: &str = "Wrong-Secret-Guess-1234";

fn keep(secrets: &mut Vec<String>, tokens: &Tokens) {
    for token in [&tokens.access, &tokens.refresh] {
        secrets.push(token.clone());
        secrets.push(token.rsplit('.').next().unwrap_or_default().to_string());
    }
}

/// Every secret the scripted session handles, as text.
fn act_out_every_event(app: &TestApp) -> Vec<String> {
    let mut secrets: Vec<String> = [ADA_PASSWORD, NEW_PASSWORD, RESET_PASSWORD, CLI_PASSWORD]
        .into_iter()
        .chain([WRONG_PASSWORD, BOB_PASSWORD])
        .map(String::from)
        .collect();
    app.login(ADA, WRONG_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    app.login(UNKNOWN, WRONG_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let second = app.login_ok(ADA, ADA_PASSWORD);
    keep(&mut secrets, &first);
    keep(&mut secrets, &second);
    let refreshed = app.refresh_ok(&first.refresh);
    keep(&mut secrets, &refreshed);
    past_a_grace_of_zero();
    app.refresh(&first.refresh)
        .assert_error(401, "TOKEN_REUSED");
    app.change_password(&second.access, ADA_PASSWORD, NEW_PASSWORD)
        .assert_success();
    let link = app.link_token(ADA, &[]);
    secrets.push(link.clone());
    app.reset_password(&link, RESET_PASSWORD).assert_success();
    let third = app.login_ok(ADA, RESET_PASSWORD);
    keep(&mut secrets, &third);
    app.delete_session(&third.access, &third.sid())
        .assert_success();
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    keep(&mut secrets, &bob);
    app.logout_all(&bob.access).assert_success();
    cli_set_password(app, ADA, CLI_PASSWORD);
    app.cli(&["user", "set-status", BOB, "inactive"]);
    app.cli(&["user", "unlock", ADA]);
    for _ in 0..6 {
        app.login(BOB, WRONG_PASSWORD);
    }
    act_out_the_admin_api(app, &mut secrets);
    secrets
}

const ADMIN_SET_PASSWORD: &str = "Admin-Set-Phrase-3141";
const CREATED_PASSWORD: &str = "Created-Secret-Phrase-1618";

/// The admin API's changes, each of which writes an event: its secrets too.
fn act_out_the_admin_api(app: &TestApp, secrets: &mut Vec<String>) {
    secrets.extend([ADMIN_SET_PASSWORD, CREATED_PASSWORD].map(String::from));
    app.cli(&["user", "roles", ADA, "--add", "admin"]);
    let admin = app.login_ok(ADA, CLI_PASSWORD);
    keep(secrets, &admin);
    let admin = admin.access;
    let key = app.admin(
        "POST",
        "/admin/api-keys",
        &admin,
        Some(json!({"name": "backend", "scopes": ["users:write"]})),
    );
    assert_eq!(key.status, 201, "{}", key.text);
    let (key_id, key) = (
        key.json()["apiKey"]["id"].as_str().expect("id").to_string(),
        key.json()["key"].as_str().expect("key").to_string(),
    );
    secrets.push(key.clone());
    let body = json!({"email": "made@acme.test", "name": "Made", "password": CREATED_PASSWORD});
    let made = app.admin("POST", "/admin/users", &key, Some(body));
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json()["user"]["id"].as_str().expect("id").to_string();
    let user = |tail: &str| format!("/admin/users/{id}{tail}");
    let set = json!({"password": ADMIN_SET_PASSWORD});
    app.admin("POST", &user("/password"), &key, Some(set))
        .assert_success();
    let link = app.admin("POST", &user("/link"), &admin, None);
    link.assert_success();
    let url = link.json()["url"].as_str().expect("a url").to_string();
    secrets.push(url.rsplit('=').next().expect("a token").to_string());
    let patch = json!({"name": "Made Again", "status": "banned"});
    app.admin("PATCH", &user(""), &key, Some(patch))
        .assert_success();
    app.admin("POST", &user("/unlock"), &key, None)
        .assert_success();
    app.admin("DELETE", &user(""), &key, None).assert_success();
    let revoke = format!("/admin/api-keys/{key_id}");
    app.admin("DELETE", &revoke, &admin, None).assert_success();
}

fn random_key_file(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .expect("read random bytes");
    let path = dir.join("master.key");
    std::fs::write(&path, &key).expect("write the key file");
    (path, key)
}

#[test]
fn no_secret_of_a_whole_session_is_in_the_database_or_its_audit_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (key_file, master_key) = random_key_file(dir.path());
    let app = spawn_app_with(Settings {
        master_key_file: Some(key_file),
        reuse_grace: 0,
        ..test_settings()
    });
    let mut secrets = act_out_every_event(&app);
    secrets
        .extend([ADA, BOB, "made@acme.test"].map(|email| app.stored_hash(email).expect("a hash")));

    let db = Database::open(&app.db, Default::default()).expect("open the database");
    let query = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    let events = db.read(|s| s.list_events(&query)).expect("list events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "login.succeeded",
        "login.failed",
        "login.locked",
        "session.revoked",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    for kind in ["session.reused", "password.changed", "password.reset"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    for kind in [
        "password.set",
        "link.created",
        "user.updated",
        "user.unlocked",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    for kind in [
        "user.created",
        "user.deleted",
        "apikey.created",
        "apikey.revoked",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let logged = serde_json::to_string(&events).expect("events as JSON");
    assert!(!logged.contains("alk_"), "an event holds a key: {logged}");
    for secret in &secrets {
        assert!(!logged.contains(secret.as_str()), "an event holds {secret}");
    }
    let ada = user_id(&app, ADA);
    assert!(logged.contains(&json!(ada).to_string()), "{logged}");

    let stored = database_bytes(&app);
    // The scan reads what is stored: the events' emails are there.
    assert!(
        contains(&stored, UNKNOWN.as_bytes()),
        "the scan found no events"
    );
    for secret in secrets.iter().filter(|s| !s.starts_with('$')) {
        assert!(
            !contains(&stored, secret.as_bytes()),
            "the database holds {secret}"
        );
    }
    assert!(
        !contains(&stored, &master_key),
        "the database holds the master key"
    );
}

/// The SQLite file and its log, or every PostgreSQL table's rows as text.
pub fn database_bytes(app: &TestApp) -> Vec<u8> {
    if !app.db.starts_with("postgres") {
        let mut bytes = std::fs::read(&app.db_path).expect("read the database file");
        let wal = app.db_path.with_extension("db-wal");
        bytes.extend(std::fs::read(wal).unwrap_or_default());
        return bytes;
    }
    let mut client =
        postgres::Client::connect(&app.db, postgres::NoTls).expect("connect to the database");
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .expect("list tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut bytes = Vec::new();
    for table in tables {
        let rows = client
            .query(&format!("SELECT t::text FROM \"{table}\" t"), &[])
            .expect("read a table");
        for row in rows {
            bytes.extend(row.get::<_, String>(0).into_bytes());
        }
    }
    bytes
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
