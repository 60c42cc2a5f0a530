//! API keys as an app's backend and an operator meet them (SPEC section 8):
//! who may manage them, how a key is refused once revoked or expired (over
//! HTTP and by the CLI under a running server), and that only a digest is
//! stored. The keys' scopes on the users, audit and clients endpoints are
//! checked where those endpoints are built; here `/admin/api-keys`, which no
//! key may use, tells a live key (403 FORBIDDEN) from a dead one (401).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;

const SCOPES: [&str; 4] = ["users:read", "users:write", "audit:read", "clients:write"];

/// Ada, made an admin with the real binary, signed in: her access token.
fn admin(app: &TestApp) -> String {
    app.cli(&["user", "roles", ADA, "--add", "admin"]);
    app.login_ok(ADA, ADA_PASSWORD).access
}

fn create(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.send(Req::new("POST", "/admin/api-keys").bearer(token).json(body))
}

/// A new key over HTTP: (its id, the key).
fn create_ok(app: &TestApp, token: &str, scopes: &[&str], ttl: Option<u64>) -> (String, String) {
    let resp = create(
        app,
        token,
        &json!({ "name": "backend", "scopes": scopes, "ttl": ttl }),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let body = resp.json();
    let id = body["apiKey"]["id"].as_str().expect("an id").to_string();
    let key = body["key"].as_str().expect("a key").to_string();
    (id, key)
}

fn list(app: &TestApp, token: &str) -> Resp {
    app.send(Req::new("GET", "/admin/api-keys").bearer(token))
}

fn revoke(app: &TestApp, token: &str, id: &str) -> Resp {
    let path = format!("/admin/api-keys/{id}");
    app.send(Req::new("DELETE", &path).bearer(token))
}

/// Every endpoint of `/admin/api-keys`, as `token` calls it.
fn every_endpoint(app: &TestApp, token: Option<&str>) -> Vec<Resp> {
    let body = json!({ "name": "x", "scopes": ["users:read"] });
    let requests = [
        Req::new("GET", "/admin/api-keys"),
        Req::new("POST", "/admin/api-keys").json(&body),
        Req::new("DELETE", "/admin/api-keys/some-id"),
    ];
    requests
        .into_iter()
        .map(|req| match token {
            Some(token) => app.send(req.bearer(token)),
            None => app.send(req),
        })
        .collect()
}

/// Polls until `token` is refused with `code` on this server, within 1 s of `since`.
#[track_caller]
fn refused_within_a_second(app: &TestApp, token: &str, code: &str, since: Instant) {
    loop {
        let resp = list(app, token);
        if resp.status == 401 {
            resp.assert_error(401, code);
            return;
        }
        resp.assert_error(403, "FORBIDDEN");
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "still live after 1 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn only_an_admin_user_manages_api_keys_and_no_key_ever_does() {
    let app = spawn_app();
    let admin = admin(&app);
    for resp in every_endpoint(&app, None) {
        resp.assert_error(401, "MISSING_TOKEN");
    }
    let bob = app.login_ok(BOB, BOB_PASSWORD).access;
    for resp in every_endpoint(&app, Some(&bob)) {
        resp.assert_error(403, "FORBIDDEN");
    }
    for scope in SCOPES {
        let (_, key) = create_ok(&app, &admin, &[scope], None);
        for resp in every_endpoint(&app, Some(&key)) {
            resp.assert_error(403, "FORBIDDEN");
        }
    }
    let (_, every_scope) = create_ok(&app, &admin, &SCOPES, None);
    for resp in every_endpoint(&app, Some(&every_scope)) {
        resp.assert_error(403, "FORBIDDEN");
    }
    let answers: Vec<u16> = every_endpoint(&app, Some(&admin))
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(answers, [200, 201, 404]);
    assert_eq!(
        list(&app, &admin).json()["apiKeys"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
}

#[test]
fn the_api_key_paths_answer_head_and_name_their_methods_in_a_405() {
    let app = spawn_app();
    let admin = admin(&app);
    let head = app.send(Req::new("HEAD", "/admin/api-keys").bearer(&admin));
    assert_eq!((head.status, head.text.as_str()), (200, ""));
    for (method, path, allow) in [
        ("PUT", "/admin/api-keys", "GET, HEAD, POST"),
        ("GET", "/admin/api-keys/some-id", "DELETE"),
    ] {
        let resp = app.send(Req::new(method, path).bearer(&admin));
        resp.assert_error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(resp.header("allow"), Some(allow));
    }
}

#[test]
fn a_key_is_shown_once_and_listed_without_it() {
    let app = spawn_app();
    let admin = admin(&app);
    let resp = create(
        &app,
        &admin,
        &json!({ "name": " backend ", "scopes": ["users:write", "audit:read"], "ttl": 3600 }),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    let body = resp.json();
    let key = body["key"].as_str().expect("a key");
    let tail = key.strip_prefix("alk_").expect("alk_ first");
    assert_eq!(tail.len(), 43);
    assert!(tail
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    let created = body["apiKey"]["createdAt"].as_u64().expect("createdAt");
    let want = json!({
        "id": body["apiKey"]["id"], "name": "backend", "scopes": ["users:write", "audit:read"],
        "createdAt": created, "expiresAt": created + 3600, "lastUsedAt": null, "revokedAt": null,
    });
    assert_eq!(body["apiKey"], want);
    assert_eq!(body["success"], json!(true));

    let listed = list(&app, &admin);
    listed.assert_success();
    assert_eq!(listed.json()["apiKeys"], json!([want]));
    assert!(!listed.text.contains(tail), "the key is listed");
    assert!(!app.cli(&["apikey", "list", "--json"]).contains(tail));
}

#[test]
fn a_bad_key_request_is_400_and_makes_no_key() {
    let app = spawn_app();
    let admin = admin(&app);
    for body in [
        json!({ "name": "x", "scopes": ["admin"] }),
        json!({ "name": "x", "scopes": [] }),
        json!({ "name": "x", "scopes": "users:read" }),
        json!({ "name": "  ", "scopes": ["users:read"] }),
        json!({ "name": "x".repeat(101), "scopes": ["users:read"] }),
        json!({ "scopes": ["users:read"] }),
        json!({ "name": "x", "scopes": ["users:read"], "ttl": 0 }),
        json!({ "name": "x", "scopes": ["users:read"], "ttl": 315_360_001u64 }),
        json!({ "name": "x", "scopes": ["users:read"], "ttl": -5 }),
        json!(["x"]),
    ] {
        create(&app, &admin, &body).assert_error(400, "INVALID_REQUEST");
    }
    assert_eq!(list(&app, &admin).json()["apiKeys"], json!([]));
}

#[test]
fn a_key_revoked_over_http_is_refused_at_once_and_an_unknown_id_is_404() {
    let app = spawn_app();
    let admin = admin(&app);
    let (id, key) = create_ok(&app, &admin, &["users:read"], None);
    list(&app, &key).assert_error(403, "FORBIDDEN");
    revoke(&app, &admin, &id).assert_success();
    list(&app, &key).assert_error(401, "TOKEN_REVOKED");
    let revoked_at = list(&app, &admin).json()["apiKeys"][0]["revokedAt"].clone();
    assert!(revoked_at.is_u64(), "{revoked_at}");
    // Revoking again changes nothing.
    revoke(&app, &admin, &id).assert_success();
    assert_eq!(
        list(&app, &admin).json()["apiKeys"][0]["revokedAt"],
        revoked_at
    );
    revoke(&app, &admin, "no-such-key").assert_error(404, "API_KEY_NOT_FOUND");
}

#[test]
fn a_key_revoked_by_the_cli_under_a_running_server_is_refused_within_a_second() {
    let app = spawn_app();
    let key = app.cli(&["apikey", "create", "--name", "ci", "--scope", "users:read"]);
    let key = key.trim();
    list(&app, key).assert_error(403, "FORBIDDEN");
    let listed: Value =
        serde_json::from_str(&app.cli(&["apikey", "list", "--json"])).expect("JSON");
    let id = listed[0]["id"].as_str().expect("an id");
    app.cli(&["apikey", "revoke", id]);
    refused_within_a_second(&app, key, "TOKEN_REVOKED", Instant::now());
}

#[test]
fn an_expired_key_is_token_expired_and_an_unknown_one_invalid_token() {
    let app = spawn_app();
    let admin = admin(&app);
    let (_, key) = create_ok(&app, &admin, &["users:read"], Some(2));
    let expires_at = list(&app, &admin).json()["apiKeys"][0]["expiresAt"]
        .as_i64()
        .expect("expiresAt");
    let live = list(&app, &key);
    // Answered before the expiry (a loaded machine may take longer): still live.
    if now() < expires_at {
        live.assert_error(403, "FORBIDDEN");
    }
    sleep_past(expires_at);
    list(&app, &key).assert_error(401, "TOKEN_EXPIRED");

    let unknown = format!("alk_{}", "A".repeat(43));
    list(&app, &unknown).assert_error(401, "INVALID_TOKEN");
    list(&app, "alk_").assert_error(401, "INVALID_TOKEN");
    list(&app, "not-a-token").assert_error(401, "INVALID_TOKEN");
}

#[test]
fn a_use_is_recorded_off_the_request_within_seconds() {
    let app = spawn_app();
    let admin = admin(&app);
    let (_, key) = create_ok(&app, &admin, &["audit:read"], None);
    let started = now();
    list(&app, &key).assert_error(403, "FORBIDDEN");
    let deadline = Instant::now() + Duration::from_secs(5);
    let used = loop {
        let used = list(&app, &admin).json()["apiKeys"][0]["lastUsedAt"].clone();
        if !used.is_null() || Instant::now() > deadline {
            break used;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let used = used.as_i64().expect("lastUsedAt recorded");
    assert!(used >= started && used <= now(), "{used}");
}

#[test]
fn the_database_holds_no_key_only_its_digest() {
    let app = spawn_app();
    let admin = admin(&app);
    let (_, http_key) = create_ok(&app, &admin, &["users:read"], None);
    let cli_key = app.cli(&["apikey", "create", "--name", "cli", "--scope", "audit:read"]);
    let stored = stored_text(&app);
    assert!(
        stored.contains("backend") && stored.contains("audit:read"),
        "the scan reads rows"
    );
    for key in [http_key.as_str(), cli_key.trim()] {
        let tail = key.strip_prefix("alk_").expect("alk_ first");
        assert!(!stored.contains(tail), "the key is stored");
    }
}

/// Everything the database holds, as text: the SQLite file and its WAL, or
/// every PostgreSQL row.
fn stored_text(app: &TestApp) -> String {
    if !app.db.starts_with("postgres") {
        let mut bytes = std::fs::read(&app.db_path).expect("the database file");
        let wal = app.db_path.with_extension("db-wal");
        bytes.extend(std::fs::read(wal).unwrap_or_default());
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let mut client = postgres::Client::connect(&app.db, postgres::NoTls).expect("connect");
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .expect("list tables")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut text = String::new();
    for table in tables {
        let sql = format!("SELECT coalesce(string_agg(t::text, ' '), '') FROM \"{table}\" t");
        let rows: String = client.query_one(&sql, &[]).expect("read rows").get(0);
        text.push_str(&rows);
    }
    text
}
