//! A database with rows in every table, made through the binary on either
//! engine, and what a copy of it is checked against: its tables, their row
//! counts, their rows (SPEC §14). When a schema step adds a table, `fill`
//! must give it a row too, or `assert_every_table_has_rows` fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use serde_json::{json, Value};

use super::authenticator::SoftKey;
use super::binary::{
    assert_exit, bare_command, run, stdout, ADA, ADA_PASSWORD, DEMO_SEED, ITERATIONS,
};
use super::serve::{http_agent, post, text, Server};

pub const GRACE: &str = "grace@acme.test";
pub const GRACE_PASSWORD: &str = "cobol compiler nanosecond wire";

/// A master key file in `dir`: the fixture's keys are sealed with it, so that
/// a copy shows they stay sealed (a server on it needs the same file).
pub fn master_key(dir: &Path) -> PathBuf {
    let path = dir.join("master.key");
    std::fs::write(&path, [7u8; 32]).expect("write the master key");
    path
}

/// `authlite --db DB --pbkdf2-iterations 1000 --master-key-file KEY`.
pub fn command(db: &str, key: &Path) -> Command {
    let mut cmd = bare_command();
    cmd.args([
        "--db",
        db,
        "--pbkdf2-iterations",
        ITERATIONS,
        "--master-key-file",
    ])
    .arg(key);
    cmd
}

#[track_caller]
pub fn cli_ok(db: &str, key: &Path, args: &[&str]) -> String {
    let mut cmd = command(db, key);
    cmd.args(args);
    let out = run(cmd, None);
    assert_exit(&out, 0);
    stdout(&out)
}

/// Where the fixture's servers say they are seen: the origin of its passkey.
pub const ORIGIN: &str = "http://localhost:8080";

/// `serve` on `db` with the master key, listening when it returns.
pub fn serve(db: &str, key: &Path) -> Server {
    serve_with(db, key, &[])
}

fn serve_with(db: &str, key: &Path, extra: &[&str]) -> Server {
    let mut cmd = command(db, key);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--public-url", ORIGIN])
        .args(extra);
    Server::start(cmd)
}

/// A folder for `--mail-dir` beside the master key.
fn mail_dir(key: &Path) -> String {
    let dir = key.with_file_name("mail");
    std::fs::create_dir_all(&dir).expect("make the mail folder");
    dir.to_str().expect("a UTF-8 temp path").to_string()
}

/// A filled database's running server, and Ada's session on it: its access
/// token and its newest refresh token (it was refreshed once).
pub struct Filled {
    pub server: Server,
    pub access: String,
    pub refresh: String,
    /// Ada's passkey, registered and used once.
    pub passkey: SoftKey,
}

/// Rows in every table: orgs and users (a seed), roles, a set-password link,
/// an API key, signing keys (sealed: the master key check in meta), a
/// session refreshed once, a failed login, a second factor, an invitation in
/// the outbox, a pending sign-up, audit events of them all.
pub fn fill(db: &str, key: &Path) -> Filled {
    cli_ok(db, key, &["seed", DEMO_SEED]);
    cli_ok(db, key, &["user", "roles", ADA, "--add", "admin"]);
    cli_ok(db, key, &["user", "link", ADA]);
    cli_ok(
        db,
        key,
        &[
            "apikey",
            "create",
            "--name",
            "fixture",
            "--scope",
            "users:read",
        ],
    );
    cli_ok(db, key, &["keys", "rotate"]);
    // Email (SPEC §12): an invitation in the outbox, a sign-up waiting for
    // its confirmation, and the throttle's mark of it.
    let mail = mail_dir(key);
    let invite = ["user", "invite", "newcomer@acme.test", "--name", "Newcomer"];
    cli_ok(db, key, &[&invite[..], &["--mail-dir", &mail]].concat());
    let server = serve_with(db, key, &["--mail-dir", &mail, "--registration", "open"]);
    let agent = http_agent();
    let (status, _, body) = post(
        &agent,
        &server.url("/user/register"),
        json!({"email": "signup@acme.test", "password": "a pass phrase to sign up", "name": "S"}),
    );
    assert_eq!(status, 202, "{body}");
    let (status, _, body) = post(
        &agent,
        &server.url("/user/login"),
        json!({"email": ADA, "password": ADA_PASSWORD}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = post(
        &agent,
        &server.url("/user/refresh"),
        json!({"refreshToken": text(&body, "refreshToken")}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _, wrong) = post(
        &agent,
        &server.url("/user/login"),
        json!({"email": GRACE, "password": "not her password"}),
    );
    assert_eq!(status, 401, "{wrong}");
    second_factor(db, key, &server);
    oidc(db, key, &server, &text(&body, "accessToken"));
    let passkey = passkey(&server, &text(&body, "accessToken"));
    // On SQLite, /healthz's write probe is a row of meta too.
    let health = agent
        .get(server.url("/healthz"))
        .call()
        .expect("GET /healthz");
    assert_eq!(health.status().as_u16(), 200);
    Filled {
        server,
        access: text(&body, "accessToken"),
        refresh: text(&body, "refreshToken"),
        passkey,
    }
}

/// POSTs `body` with the bearer `access` when there is one; (status, JSON).
fn send(server: &Server, path: &str, access: Option<&str>, body: Value) -> (u16, Value) {
    let agent = http_agent();
    let mut req = agent.post(server.url(path));
    if let Some(access) = access {
        req = req.header("Authorization", &format!("Bearer {access}"));
    }
    let mut resp = req
        .send_json(&body)
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let json = resp.body_mut().read_json().expect("a JSON body");
    (resp.status().as_u16(), json)
}

/// A passkey of Ada's, used once (its counter), and a sign-in begun and not
/// finished (a ceremony).
fn passkey(server: &Server, access: &str) -> SoftKey {
    let mut key = SoftKey::new(ORIGIN);
    let (status, begun) = send(server, "/user/passkeys/register", Some(access), json!({}));
    assert_eq!(status, 200, "{begun}");
    let credential = key.register(&begun["publicKey"]);
    let body = json!({"ceremonyId": begun["ceremonyId"], "credential": credential});
    let (status, added) = send(server, "/user/passkeys/register/finish", Some(access), body);
    assert_eq!(status, 201, "{added}");
    assert_passkey_works(server, &mut key);
    let (status, begun) = send(server, "/user/passkeys/login", None, json!({}));
    assert_eq!(status, 200, "{begun}");
    key
}

/// `key` signs Ada in on `server`.
#[track_caller]
pub fn assert_passkey_works(server: &Server, key: &mut SoftKey) {
    let (status, begun) = send(server, "/user/passkeys/login", None, json!({}));
    assert_eq!(status, 200, "{begun}");
    let credential = key.assert(&begun["publicKey"]);
    let body = json!({"ceremonyId": begun["ceremonyId"], "credential": credential});
    let (status, signed) = send(server, "/user/passkeys/login/finish", None, body);
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["user"]["email"], ADA);
}

/// Tia, with TOTP on (the secret, its recovery codes, the step its first
/// code took) and a sign-in waiting for its code (an mfaToken).
fn second_factor(db: &str, key: &Path, server: &Server) {
    let (email, password) = ("tia@acme.test", "tia's long pass phrase");
    let mut add = command(db, key);
    add.args(["user", "add", "--email", email, "--name", "Tia"])
        .arg("--password-stdin");
    assert_exit(&run(add, Some(&format!("{password}\n"))), 0);
    let agent = http_agent();
    let login = || {
        post(
            &agent,
            &server.url("/user/login"),
            json!({"email": email, "password": password}),
        )
    };
    let (status, _, body) = login();
    assert_eq!(status, 200, "{body}");
    let bearer = format!("Bearer {}", text(&body, "accessToken"));
    let send = |path: &str, body: Value| -> (u16, Value) {
        let mut resp = agent
            .post(server.url(path))
            .header("Authorization", &bearer)
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let json = resp.body_mut().read_json().expect("a JSON body");
        (resp.status().as_u16(), json)
    };
    let (status, enrolment) = send("/user/mfa/totp", json!({}));
    assert_eq!(status, 200, "{enrolment}");
    let secret = totp_rs::Secret::Encoded(text(&enrolment, "secret"))
        .to_bytes()
        .expect("a base32 secret");
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).expect("a secret");
    let code = totp.generate(super::serve::now() as u64);
    let (status, body) = send("/user/mfa/totp/confirm", json!({"code": code}));
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = login();
    assert_eq!(
        (status, text(&body, "error_code")),
        (401, "MFA_REQUIRED".into())
    );
}

/// An OIDC client, a code it redeemed (the session and grant that made) and
/// an authorization still waiting for the page, all for Ada's session `access`.
fn oidc(db: &str, key: &Path, server: &Server, access: &str) {
    let callback = "https://tool.acme.test/cb";
    let out = cli_ok(
        db,
        key,
        &[
            "client",
            "add",
            "--name",
            "Tool",
            "--redirect-uri",
            callback,
        ],
    );
    let value = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {out}"))
            .to_string()
    };
    let (client_id, secret) = (value("client_id"), value("client_secret"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into();
    let authorize = || {
        let query = format!(
            "response_type=code&client_id={client_id}&redirect_uri={callback}&scope=openid+offline_access&state=s"
        );
        let resp = agent
            .get(server.url(&format!("/oauth/authorize?{query}")))
            .call()
            .expect("GET /oauth/authorize");
        let to = resp.headers().get("location").expect("a redirect");
        let to = to.to_str().unwrap();
        to.split_once("#authorize=")
            .expect("to the page")
            .1
            .to_string()
    };
    let id = authorize();
    let resp = agent
        .post(server.url("/oauth/continue"))
        .header("Authorization", &format!("Bearer {access}"))
        .send_json(json!({ "requestId": id }))
        .expect("POST /oauth/continue");
    let mut resp = resp;
    let body: Value = resp.body_mut().read_json().expect("JSON");
    let to = body["redirectUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"));
    let code = to
        .split_once("code=")
        .expect("a code")
        .1
        .split('&')
        .next()
        .unwrap();
    let form = format!("grant_type=authorization_code&code={code}&redirect_uri={callback}&client_id={client_id}&client_secret={secret}");
    let mut token = agent
        .post(server.url("/oauth/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("POST /oauth/token");
    assert_eq!(
        token.status().as_u16(),
        200,
        "{}",
        token.body_mut().read_to_string().unwrap_or_default()
    );
    authorize();
}

/// Grace's session refreshed in a loop on `server` until `stop`: a server
/// writing while a copy reads. `refreshed` counts the refreshes answered 200.
pub struct Load {
    stop: Arc<AtomicBool>,
    pub refreshed: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Load {
    pub fn start(server: &Server) -> Load {
        let (login, refresh) = (server.url("/user/login"), server.url("/user/refresh"));
        let stop = Arc::new(AtomicBool::new(false));
        let refreshed = Arc::new(AtomicU64::new(0));
        let (stopped, count) = (Arc::clone(&stop), Arc::clone(&refreshed));
        let thread = thread::spawn(move || {
            let agent = http_agent();
            let (status, _, body) = post(
                &agent,
                &login,
                json!({"email": GRACE, "password": GRACE_PASSWORD}),
            );
            assert_eq!(status, 200, "{body}");
            let mut token = text(&body, "refreshToken");
            while !stopped.load(Ordering::Relaxed) {
                let (status, _, body) = post(&agent, &refresh, json!({"refreshToken": token}));
                assert_eq!(status, 200, "a refresh under the copy: {body}");
                token = text(&body, "refreshToken");
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
        Load {
            stop,
            refreshed,
            thread: Some(thread),
        }
    }

    pub fn count(&self) -> u64 {
        self.refreshed.load(Ordering::Relaxed)
    }

    /// Stops the loop; a refresh it saw fail fails the test here.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread
                .join()
                .expect("the refresh load ran without a failure");
        }
        self.count()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Ada's tokens from the source, on a server over the copy: /user/me takes
/// the access token and /user/refresh the refresh token.
#[track_caller]
pub fn assert_tokens_work(server: &Server, filled_access: &str, filled_refresh: &str) {
    let agent = http_agent();
    let mut me = agent
        .get(server.url("/user/me"))
        .header("Authorization", format!("Bearer {filled_access}"))
        .call()
        .expect("GET /user/me");
    let status = me.status().as_u16();
    let body: Value = me.body_mut().read_json().expect("a JSON body");
    assert_eq!(
        (status, &body["user"]["email"]),
        (200, &json!(ADA)),
        "{body}"
    );
    let (status, _, body) = post(
        &agent,
        &server.url("/user/refresh"),
        json!({"refreshToken": filled_refresh}),
    );
    assert_eq!(
        status, 200,
        "the source's refresh token on the copy: {body}"
    );
}

// ---------------------------------------------------------------- looking in

fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Every table of the database's schema (PostgreSQL's schema_version, its
/// bookkeeping, apart), by name.
pub fn tables(db: &str) -> Vec<String> {
    if is_url(db) {
        let mut client = postgres::Client::connect(db, postgres::NoTls).expect("connect");
        client
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()
                   AND tablename <> 'schema_version' ORDER BY tablename",
                &[],
            )
            .expect("list the tables")
            .iter()
            .map(|row| row.get(0))
            .collect()
    } else {
        let conn = rusqlite::Connection::open(db).expect("open");
        let mut stmt = conn
            // Ordinary tables only: the users search's FTS5 table and its shadow
            // tables are an index of `users`, rebuilt by triggers on the copy.
            .prepare(
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'
                   AND name NOT LIKE 'sqlite%' ORDER BY name",
            )
            .expect("list the tables");
        let names = stmt.query_map([], |row| row.get(0)).expect("list");
        names.map(|n| n.expect("a name")).collect()
    }
}

/// Each table's row count.
pub fn counts(db: &str) -> Vec<(String, i64)> {
    let names = tables(db);
    if is_url(db) {
        let mut client = postgres::Client::connect(db, postgres::NoTls).expect("connect");
        names
            .into_iter()
            .map(|t| {
                let sql = format!("SELECT count(*) FROM \"{t}\"");
                let n: i64 = client.query_one(&sql, &[]).expect("count").get(0);
                (t, n)
            })
            .collect()
    } else {
        let conn = rusqlite::Connection::open(db).expect("open");
        names
            .into_iter()
            .map(|t| {
                let sql = format!("SELECT count(*) FROM \"{t}\"");
                let n: i64 = conn.query_row(&sql, [], |r| r.get(0)).expect("count");
                (t, n)
            })
            .collect()
    }
}

/// The fixture is only as good as its coverage: a table with no row would
/// pass any copy, so a new table with none fails here, by name.
#[track_caller]
pub fn assert_every_table_has_rows(counts: &[(String, i64)]) {
    assert!(counts.len() >= 10, "too few tables: {counts:?}");
    let empty: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| *n == 0)
        .map(|(t, _)| t.as_str())
        .collect();
    assert!(
        empty.is_empty(),
        "the fixture (tests/support/fill.rs) leaves these tables without rows, so a copy \
         of them is not tested: {empty:?}"
    );
}

/// Every row of an SQLite table, each value shown with its type, sorted.
/// Text and a BLOB of the same bytes show alike: PostgreSQL has one type
/// for what an SQLite BLOB column holds (meta's values).
pub fn rows(db: &str, table: &str) -> Vec<String> {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\""))
        .expect("select");
    let n = stmt.column_count();
    let mut rows: Vec<String> = stmt
        .query_map([], |row| {
            let values: Vec<String> = (0..n)
                .map(|i| match row.get_ref(i).expect("a value") {
                    ValueRef::Null => "null".to_string(),
                    ValueRef::Integer(v) => format!("int {v}"),
                    ValueRef::Real(v) => format!("real {v}"),
                    ValueRef::Text(b) | ValueRef::Blob(b) => format!("bytes {b:02x?}"),
                })
                .collect();
            Ok(values.join(" | "))
        })
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect();
    rows.sort();
    rows
}

/// `PRAGMA integrity_check` of an SQLite file.
pub fn integrity(db: &str) -> String {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

/// The schema's tables, keys and indexes as the engine describes them (no
/// storage details), to compare a copy with a database its migrations made.
pub fn shape(db: &str) -> Vec<String> {
    if is_url(db) {
        let mut client = postgres::Client::connect(db, postgres::NoTls).expect("connect");
        let sql =
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                     FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
                   UNION ALL
                   SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
                   UNION ALL
                   SELECT table_name || '.' || column_name || ' ' || data_type || ' ' ||
                          coalesce(column_default, '') || ' ' || is_nullable || ' ' || is_identity
                     FROM information_schema.columns WHERE table_schema = current_schema()
                   ORDER BY 1";
        let rows = client.query(sql, &[]).expect("the shape");
        rows.iter().map(|row| row.get(0)).collect()
    } else {
        let conn = rusqlite::Connection::open(db).expect("open");
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
            .expect("the shape");
        let rows = stmt.query_map([], |row| row.get(0)).expect("the shape");
        rows.map(|r| r.expect("a row")).collect()
    }
}
