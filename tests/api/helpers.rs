//! The test harness: `spawn_app()` starts a real server on port 0 over a
//! fresh SQLite file seeded with a small cast of users, and `TestApp` has one
//! method per endpoint. Responses come back as `Resp`, never as errors, so
//! every test can assert the exact status and `error_code`.
//!
//! With `AUTHLITE_TEST_API_POSTGRES` set to an admin URL, every server runs
//! on a fresh PostgreSQL database instead (`.ci/run` runs the suite both ways);
//! the few tests that read the SQLite file itself then say so and pass over it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use authlite::settings::Settings;
use serde_json::{json, Value};
use ureq::http;

pub use crate::jwt::*;
pub use crate::raw_http::post_chunked;
use crate::raw_http::send_over_tcp;
pub use crate::support::cast::*;
pub use crate::support::clock::{next_second, now, past_a_grace_of_zero, sleep_past};
use crate::support::in_process::{InProcess, TestDatabase};

pub struct TestApp {
    pub address: String,
    /// What `--db` names: the SQLite file's path, or a PostgreSQL URL.
    pub db: String,
    /// The SQLite file (there is none on PostgreSQL: see `sqlite_only`).
    pub db_path: PathBuf,
    database: Arc<TestDatabase>,
    agent: ureq::Agent,
    server: InProcess,
    dir: Arc<tempfile::TempDir>,
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(test_settings())
}

/// A new server over a new, seeded database file.
pub fn spawn_app_with(settings: Settings) -> TestApp {
    spawn_app_seeded_at(settings, ITERATIONS)
}

/// Like `spawn_app_with`, with the seed's passwords hashed at `seed_iterations`.
pub fn spawn_app_seeded_at(settings: Settings, seed_iterations: u32) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let sqlite_file = dir.path().join("authlite.db");
    let database = Arc::new(TestDatabase::seeded(&sqlite_file, seed_iterations));
    start(dir, database, settings)
}

fn open(target: &str) -> authlite::store::Database {
    authlite::store::Database::open(target, Default::default()).expect("open the test database")
}

/// A new server over a copy of the database file `fixture`, as a team upgrading would.
pub fn spawn_app_on_copy(fixture: &Path, settings: Settings) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let db_path = dir.path().join("authlite.db");
    std::fs::copy(fixture, &db_path).expect("copy the fixture database");
    start(dir, Arc::new(TestDatabase::sqlite(&db_path)), settings)
}

/// Counts the rows of every table in the SQLite file.
fn sqlite_row_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("list tables");
    let tables: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .expect("list tables")
        .map(|name| name.expect("a table name"))
        .collect();
    tables
        .into_iter()
        .map(|table| {
            let count = conn
                .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })
                .expect("count rows");
            (table, count)
        })
        .collect()
}

fn start(dir: Arc<tempfile::TempDir>, database: Arc<TestDatabase>, settings: Settings) -> TestApp {
    let server = InProcess::start(&database.target, settings);
    TestApp {
        address: server.address.clone(),
        db: database.target.clone(),
        db_path: dir.path().join("authlite.db"),
        database,
        agent: new_agent(),
        server,
        dir,
    }
}

pub fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// One HTTP answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status, self.text
            )
        })
    }

    /// The error code, if the body is exactly the spec's error shape.
    pub fn error_shape(&self) -> Result<String, String> {
        let v: Value = serde_json::from_str(&self.text)
            .map_err(|e| format!("status {}: not JSON ({e}): {:?}", self.status, self.text))?;
        let obj = v.as_object().ok_or_else(|| format!("not an object: {v}"))?;
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        if keys != ["error_code", "message", "success"] {
            return Err(format!("error body keys are {keys:?}: {v}"));
        }
        if obj["success"] != Value::Bool(false) {
            return Err(format!("success is not false: {v}"));
        }
        match (&obj["error_code"], &obj["message"]) {
            (Value::String(code), Value::String(msg)) if !code.is_empty() && !msg.is_empty() => {
                Ok(code.clone())
            }
            _ => Err(format!("error_code/message not non-empty strings: {v}")),
        }
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.error_shape().as_deref()),
            (status, Ok(code)),
            "full body: {}",
            self.text
        );
    }

    #[track_caller]
    pub fn assert_success(&self) {
        assert_eq!(self.status, 200, "body: {}", self.text);
        assert_eq!(self.json()["success"], json!(true), "body: {}", self.text);
    }
}

/// A 200 answer of login or refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub token_id: String,
    pub expires_at: i64,
    pub user: Value,
}

impl Tokens {
    #[track_caller]
    pub fn from_resp(resp: &Resp) -> Tokens {
        assert_eq!(resp.status, 200, "expected a token pair, got {}", resp.text);
        let v = resp.json();
        assert_eq!(v["success"], json!(true), "{v}");
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("{k} is not a string: {v}"))
                .to_string()
        };
        let user = v["user"].clone();
        for k in ["id", "email", "name", "orgId"] {
            assert!(user[k].is_string(), "user.{k} is not a string: {v}");
        }
        Tokens {
            access: s("accessToken"),
            refresh: s("refreshToken"),
            token_id: s("tokenId"),
            expires_at: v["expiresAt"]
                .as_i64()
                .unwrap_or_else(|| panic!("expiresAt is not an integer: {v}")),
            user,
        }
    }

    pub fn sid(&self) -> String {
        claims(&self.access)["sid"]
            .as_str()
            .expect("sid claim")
            .to_string()
    }

    pub fn kid(&self) -> String {
        jwt_header(&self.access)["kid"]
            .as_str()
            .expect("kid header")
            .to_string()
    }
}

pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: Vec<(&'a str, Vec<u8>)>,
    pub body: Option<Vec<u8>>,
}

impl<'a> Req<'a> {
    pub fn new(method: &'a str, path: &'a str) -> Req<'a> {
        Req {
            method,
            path,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &'a str, value: impl AsRef<[u8]>) -> Req<'a> {
        self.headers.push((name, value.as_ref().to_vec()));
        self
    }

    pub fn bearer(self, token: &str) -> Req<'a> {
        self.header("Authorization", format!("Bearer {token}"))
    }

    pub fn json(self, body: &Value) -> Req<'a> {
        self.raw("application/json", body.to_string())
    }

    pub fn raw(mut self, content_type: &'a str, body: impl AsRef<[u8]>) -> Req<'a> {
        self.body = Some(body.as_ref().to_vec());
        self.header("Content-Type", content_type)
    }

    pub fn bytes(mut self, body: impl AsRef<[u8]>) -> Req<'a> {
        self.body = Some(body.as_ref().to_vec());
        self
    }
}

impl TestApp {
    /// Sends one request; panics only if no HTTP answer came back at all.
    pub fn send(&self, req: Req<'_>) -> Resp {
        send_with(&self.agent, &self.address, req)
    }

    pub fn login(&self, email: &str, password: &str) -> Resp {
        self.send(
            Req::new("POST", "/user/login").json(&json!({"email": email, "password": password})),
        )
    }

    /// Login as if through a client with its own headers (User-Agent, X-Forwarded-For).
    pub fn login_with(&self, email: &str, password: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req =
            Req::new("POST", "/user/login").json(&json!({"email": email, "password": password}));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        self.send(req)
    }

    #[track_caller]
    pub fn login_ok(&self, email: &str, password: &str) -> Tokens {
        Tokens::from_resp(&self.login(email, password))
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.send(Req::new("POST", path).json(body))
    }

    pub fn refresh(&self, refresh_token: &str) -> Resp {
        self.post_json("/user/refresh", &json!({ "refreshToken": refresh_token }))
    }

    #[track_caller]
    pub fn refresh_ok(&self, refresh_token: &str) -> Tokens {
        Tokens::from_resp(&self.refresh(refresh_token))
    }

    /// Logout the way a browser holding only an access token does: no body.
    pub fn logout_bearer(&self, access: &str) -> Resp {
        self.send(Req::new("POST", "/user/logout").bearer(access))
    }

    pub fn logout_refresh(&self, refresh_token: &str) -> Resp {
        self.post_json("/user/logout", &json!({ "refreshToken": refresh_token }))
    }

    pub fn logout_all(&self, access: &str) -> Resp {
        self.send(
            Req::new("POST", "/user/logout")
                .bearer(access)
                .json(&json!({ "all": true })),
        )
    }

    pub fn me(&self, access: &str) -> Resp {
        self.send(Req::new("GET", "/user/me").bearer(access))
    }

    pub fn sessions(&self, access: &str) -> Resp {
        self.send(Req::new("GET", "/user/sessions").bearer(access))
    }

    pub fn delete_session(&self, access: &str, sid: &str) -> Resp {
        self.send(Req::new("DELETE", &format!("/user/sessions/{sid}")).bearer(access))
    }

    pub fn change_password(&self, access: &str, current: &str, new: &str) -> Resp {
        self.send(
            Req::new("POST", "/user/password")
                .bearer(access)
                .json(&json!({ "currentPassword": current, "newPassword": new })),
        )
    }

    pub fn reset_password(&self, token: &str, new: &str) -> Resp {
        self.post_json(
            "/user/password/reset",
            &json!({ "token": token, "newPassword": new }),
        )
    }

    /// `users.password_hash` of `email`, read straight from the database.
    pub fn stored_hash(&self, email: &str) -> Option<String> {
        open(&self.db)
            .read(|store| store.find_user_by_email(email))
            .expect("read the user")
            .expect("the user's row")
            .password_hash
    }

    /// Counts the rows of every table, by name.
    pub fn row_counts(&self) -> Vec<(String, i64)> {
        if !self.database.on_postgres() {
            return sqlite_row_counts(&self.db_path);
        }
        let mut client = postgres::Client::connect(&self.db, postgres::NoTls)
            .expect("connect to the test database");
        let tables: Vec<String> = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' ORDER BY table_name",
                &[],
            )
            .expect("list tables")
            .iter()
            .map(|row| row.get(0))
            .collect();
        tables
            .into_iter()
            .map(|table| {
                let row = client
                    .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
                    .expect("count rows");
                (table, row.get(0))
            })
            .collect()
    }

    /// True, after saying so, when the test reads the SQLite file itself and
    /// this run is on PostgreSQL (which has no such file).
    pub fn sqlite_only(&self, what: &str) -> bool {
        let on_postgres = self.database.on_postgres();
        if on_postgres {
            eprintln!("on PostgreSQL, passed over: this test {what}");
        }
        on_postgres
    }

    /// `authlite user link EMAIL EXTRA…` on this app's database: the link's token.
    #[track_caller]
    pub fn link_token(&self, email: &str, extra: &[&str]) -> String {
        let mut args = vec!["user", "link", email];
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        let (_, token) = out
            .trim()
            .split_once("/#set-password=")
            .unwrap_or_else(|| panic!("not a set-password link: {out:?}"));
        token.to_string()
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send(Req::new("GET", path))
    }

    /// Gives Ada the role `admin` and signs her in: an admin's access token.
    #[track_caller]
    pub fn admin_token(&self) -> String {
        self.cli(&["user", "roles", ADA, "--add", "admin"]);
        self.login_ok(ADA, ADA_PASSWORD).access
    }

    /// An admin API call with `token`, and a JSON body when one is given.
    pub fn admin(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
        let req = Req::new(method, path).bearer(token);
        self.send(match body {
            Some(body) => req.json(&body),
            None => req,
        })
    }

    /// The id of the user with `email`, as the admin API lists it.
    #[track_caller]
    pub fn user_id(&self, token: &str, email: &str) -> String {
        let found = self.admin("GET", &format!("/admin/users?query={email}"), token, None);
        let users = found.json()["users"].clone();
        let user = users
            .as_array()
            .and_then(|list| list.iter().find(|u| u["email"] == email))
            .unwrap_or_else(|| panic!("{email} is not listed: {}", found.text));
        user["id"].as_str().expect("an id").to_string()
    }

    pub fn jwks(&self) -> Value {
        let resp = self.get("/.well-known/jwks.json");
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()
    }

    /// Runs the real binary against this app's database.
    #[track_caller]
    pub fn cli(&self, args: &[&str]) -> String {
        let out = cli_output(&self.db, args);
        assert!(
            out.status.success(),
            "authlite {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Another server over the same database file (this one keeps running).
    pub fn spawn_on_same_db(&self, settings: Settings) -> TestApp {
        start(self.dir.clone(), self.database.clone(), settings)
    }

    /// Stops this server and waits for its thread to end, as a restart would.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

pub fn send_with(agent: &ureq::Agent, address: &str, req: Req<'_>) -> Resp {
    // ureq refuses header values that are not ASCII text; a hostile client does not.
    if req
        .headers
        .iter()
        .any(|(_, v)| v.iter().any(|b| !(b.is_ascii_graphic() || *b == b' ')))
    {
        return send_over_tcp(address, &req);
    }
    let mut builder = http::Request::builder()
        .method(req.method)
        .uri(format!("{address}{}", req.path));
    for (name, value) in &req.headers {
        builder = builder.header(*name, value.as_slice());
    }
    let result = match req.body {
        Some(body) => agent.run(builder.body(body).expect("a valid request")),
        None => agent.run(builder.body(()).expect("a valid request")),
    };
    let mut response =
        result.unwrap_or_else(|e| panic!("{} {}: no HTTP answer: {e}", req.method, req.path));
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .read_to_vec()
        .unwrap_or_else(|e| panic!("{} {}: reading the body: {e}", req.method, req.path));
    Resp {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_authlite")
}

pub fn cli_output(db: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--db")
        .arg(db)
        .arg("--pbkdf2-iterations")
        .arg(ITERATIONS.to_string())
        .args(args)
        .output()
        .expect("run the authlite binary")
}

/// Finds a session object by sid in a /user/sessions answer.
pub fn session_by_sid(list: &Value, sid: &str) -> Option<Value> {
    list["sessions"]
        .as_array()?
        .iter()
        .find(|s| s["sid"] == json!(sid))
        .cloned()
}

/// Held by the tests that time hashing or hash at the import cap, so that they
/// never run beside one another: two of them at once on 2 cores would each
/// measure the other's load.
pub fn cpu_heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
