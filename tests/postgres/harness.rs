//! What every PostgreSQL test needs: the admin URL (or a loud skip), a
//! database of its own, `authlite serve` processes on it, the CLI against it,
//! and the HTTP calls, answered as `Resp` whatever the status.

use std::io::Write;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use ureq::http;

use crate::helpers::{assert_exit, bare_command, run, stdout, DEMO_SEED};
use crate::server::Server;

pub use crate::helpers::{ADA, ADA_PASSWORD, ITERATIONS};
pub const GRACE: &str = "grace@acme.test";
pub const GRACE_PASSWORD: &str = "cobol compiler nanosecond wire";

/// The admin URL of a PostgreSQL server whose role may create databases.
pub const ADMIN_VAR: &str = "AUTHLITE_TEST_POSTGRES";
/// `1`: a skipped PostgreSQL test is a failure (as in `.ci/run`).
pub const REQUIRE_VAR: &str = "AUTHLITE_REQUIRE_POSTGRES";
/// The spec's "within 1 s" for a CLI change to reach a running instance.
pub const ONE_SECOND: Duration = Duration::from_secs(1);

pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).as_deref() == Ok("1")
}

/// Says loudly that a test did not run, or fails it when the run requires it.
#[track_caller]
pub fn skip(why: &str) {
    if required() {
        panic!("{why}; {REQUIRE_VAR}=1 requires the PostgreSQL tests to run");
    }
    // Straight to stderr: the test harness hides eprintln! output of passing tests.
    let bar = "=".repeat(78);
    let banner = format!(
        "\n{bar}\nPostgreSQL tests SKIPPED: {why}\n({REQUIRE_VAR}=1 fails instead)\n{bar}\n"
    );
    let _ = std::io::stderr().write_all(banner.as_bytes());
}

/// The admin URL, or `None` after the banner when none is given.
pub fn admin_url() -> Option<String> {
    match std::env::var(ADMIN_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ => {
            skip(&format!(
                "set {ADMIN_VAR}=postgres://USER:PASSWORD@HOST:PORT/postgres \
                 (a role with CREATEDB; .ci/postgres-setup makes one) to run them"
            ));
            None
        }
    }
}

// ---------------------------------------------------------------- databases

/// A database of one test's own, made through the admin URL and dropped after.
pub struct Database {
    admin: String,
    pub name: String,
    pub url: String,
}

impl Database {
    /// A new empty database on the server of `AUTHLITE_TEST_POSTGRES`, or
    /// `None` (after the banner) when that variable is not set.
    pub fn create() -> Option<Database> {
        admin_url().map(|admin| Database::create_on(&admin))
    }

    /// A new empty database through `admin`, which must answer.
    pub fn create_on(admin: &str) -> Database {
        let name = unique_name();
        sql(admin, &format!("CREATE DATABASE {name}"));
        Database {
            admin: admin.to_string(),
            url: with_database(admin, &name),
            name,
        }
    }

    /// A new database with `examples/demo-seed.json` applied by the CLI.
    pub fn seeded() -> Option<Database> {
        let db = Database::create()?;
        cli_ok(&db.url, &["seed", DEMO_SEED]);
        Some(db)
    }

    /// Runs one SQL statement in this database; its rows, `|`-separated, one a line.
    pub fn query(&self, query: &str) -> String {
        sql(&self.url, query)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // FORCE: an instance killed a moment ago may still hold a connection.
        let _ = try_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "authlite_test_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database name replaced by `name` (the query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{ADMIN_VAR} is not a postgres:// URL: {url:?}"));
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// `url` with one more connection parameter, such as `sslmode=require`.
pub fn with_param(url: &str, param: &str) -> String {
    match url.contains('?') {
        true => format!("{url}&{param}"),
        false => format!("{url}?{param}"),
    }
}

/// Runs `sql` on `url` (with the `postgres` crate, no TLS); the rows, their
/// values `|`-separated, one a line, or the server's refusal.
pub fn try_sql(url: &str, sql: &str) -> Result<String, postgres::Error> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    let rows: Vec<String> = client
        .simple_query(sql)?
        .into_iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            _ => None,
        })
        .collect();
    Ok(rows.join("\n"))
}

/// Runs `sql` on `url`, which must succeed; returns its rows.
#[track_caller]
pub fn sql(url: &str, sql: &str) -> String {
    try_sql(url, sql).unwrap_or_else(|e| {
        panic!(
            "{sql:?} failed on the server of {ADMIN_VAR} (is it reachable, may the role create databases?): {e:?}"
        )
    })
}

// ---------------------------------------------------------------- the CLI

/// `authlite --db DB --pbkdf2-iterations 1000`, without the caller's `AUTHLITE_*`.
pub fn command(db: &str, iterations: &str) -> Command {
    let mut cmd = bare_command();
    cmd.args(["--db", db, "--pbkdf2-iterations", iterations]);
    cmd
}

pub fn cli(db: &str, args: &[&str]) -> Output {
    let mut cmd = command(db, ITERATIONS);
    cmd.args(args);
    run(cmd, None)
}

pub fn cli_stdin(db: &str, args: &[&str], input: &str) -> Output {
    let mut cmd = command(db, ITERATIONS);
    cmd.args(args);
    run(cmd, Some(input))
}

/// Runs the CLI, which must exit 0; returns its stdout.
#[track_caller]
pub fn cli_ok(db: &str, args: &[&str]) -> String {
    let out = cli(db, args);
    assert_exit(&out, 0);
    stdout(&out)
}

/// The kids `keys list` shows, in its order.
#[track_caller]
pub fn listed_kids(db: &str) -> Vec<String> {
    cli_ok(db, &["keys", "list"])
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

// ---------------------------------------------------------------- instances

/// One running `authlite serve` on the test's database.
pub struct Instance {
    server: Server,
    agent: ureq::Agent,
}

/// `serve --bind 127.0.0.1:0 ARGS…` on `db`, hashing at `iterations`.
pub fn serve_command(db: &str, iterations: &str, args: &[&str]) -> Command {
    let mut cmd = command(db, iterations);
    cmd.args(["serve", "--bind", "127.0.0.1:0"]).args(args);
    cmd
}

/// One instance with cheap hashing; it is listening when this returns.
pub fn serve(db: &str, args: &[&str]) -> Instance {
    Instance::start(serve_command(db, ITERATIONS, args))
}

/// `n` instances with cheap hashing, started at the same moment.
pub fn serve_many(db: &str, n: usize, args: &[&str]) -> Vec<Instance> {
    start_together(
        (0..n)
            .map(|_| serve_command(db, ITERATIONS, args))
            .collect(),
    )
}

/// Starts every command at once (a barrier), returning when all listen.
pub fn start_together(commands: Vec<Command>) -> Vec<Instance> {
    let barrier = Arc::new(Barrier::new(commands.len()));
    let threads: Vec<_> = commands
        .into_iter()
        .map(|cmd| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                Instance::start(cmd)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("an instance started"))
        .collect()
}

impl Instance {
    pub fn start(cmd: Command) -> Instance {
        Instance {
            server: Server::start(cmd),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// One request; an answer of any status, or status 0 when none came.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut builder = http::Request::builder().method(method).uri(self.url(path));
        if let Some(token) = bearer {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let started = Instant::now();
        let result = match body {
            Some(body) => self.agent.run(
                builder
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
                    .expect("a valid request"),
            ),
            None => self.agent.run(builder.body(()).expect("a valid request")),
        };
        let what = format!("{method} {path}");
        let mut response = match result {
            Ok(response) => response,
            Err(e) => return Resp::none(what, e.to_string(), started.elapsed()),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = match response.body_mut().read_to_string() {
            Ok(text) => text,
            Err(e) => return Resp::none(what, e.to_string(), started.elapsed()),
        };
        Resp {
            what,
            status,
            retry_after,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            took: started.elapsed(),
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None, None, &[])
    }

    pub fn login(&self, email: &str, password: &str) -> Resp {
        self.login_with(email, password, &[])
    }

    pub fn login_with(&self, email: &str, password: &str, headers: &[(&str, &str)]) -> Resp {
        let body = json!({ "email": email, "password": password });
        self.send("POST", "/user/login", None, Some(&body), headers)
    }

    #[track_caller]
    pub fn login_ok(&self, email: &str, password: &str) -> Pair {
        self.login(email, password).pair()
    }

    pub fn refresh(&self, refresh_token: &str) -> Resp {
        let body = json!({ "refreshToken": refresh_token });
        self.send("POST", "/user/refresh", None, Some(&body), &[])
    }

    pub fn me(&self, access: &str) -> Resp {
        self.send("GET", "/user/me", Some(access), None, &[])
    }

    pub fn sessions(&self, access: &str) -> Resp {
        self.send("GET", "/user/sessions", Some(access), None, &[])
    }

    pub fn delete_session(&self, access: &str, sid: &str) -> Resp {
        let path = format!("/user/sessions/{sid}");
        self.send("DELETE", &path, Some(access), None, &[])
    }

    pub fn logout_all(&self, access: &str) -> Resp {
        let body = json!({ "all": true });
        self.send("POST", "/user/logout", Some(access), Some(&body), &[])
    }

    /// The JWKS document, which must be served.
    #[track_caller]
    pub fn jwks(&self) -> Value {
        let resp = self.get("/.well-known/jwks.json");
        assert_eq!(resp.status, 200, "{resp}");
        resp.body
    }

    /// The kids of the served JWKS.
    #[track_caller]
    pub fn jwks_kids(&self) -> Vec<String> {
        kids(&self.jwks())
    }
}

pub fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys array in the JWKS {jwks}"))
        .iter()
        .map(|key| key["kid"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// One wrong password sent to each instance (each a 401), after which the
/// right one is refused by every instance with 429: with `--max-failures`
/// equal to the number of instances, the account is locked.
#[track_caller]
pub fn lock_from_every_instance(instances: &[Instance], email: &str, password: &str) {
    for instance in instances {
        instance
            .login(email, "a wrong guess")
            .assert_error(401, "INVALID_PASSWORD");
    }
    for instance in instances {
        let locked = instance.login(email, password);
        locked.assert_error(429, "TOO_MANY_ATTEMPTS");
        assert!(locked.retry_after.is_some(), "no Retry-After: {locked}");
    }
}

/// The session of `pair` is refused by every instance: its access token by
/// `/user/me`, its refresh token (never used before) by `/user/refresh`.
#[track_caller]
pub fn assert_revoked_everywhere(instances: &[Instance], pair: &Pair) {
    // An instance that read the session within 500 ms keeps it until the
    // change's notification reaches it (SPEC §7 as issue 19 bounds it: 100 ms
    // on a quiet machine, NOTIFIED on a busy one).
    let ended = Instant::now();
    for instance in instances {
        within(
            ended,
            NOTIFIED,
            "the revocation seen by every instance",
            || (instance.me(&pair.access).code() == Some("TOKEN_REVOKED")).then_some(()),
        );
        instance.me(&pair.access).assert_error(401, "TOKEN_REVOKED");
    }
    for instance in instances {
        instance
            .refresh(&pair.refresh)
            .assert_error(401, "TOKEN_REVOKED");
    }
}

// ---------------------------------------------------------------- answers

/// One HTTP answer; `status` 0 when there was none (`text` says why).
#[derive(Debug, Clone)]
pub struct Resp {
    pub what: String,
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Value,
    pub text: String,
    pub took: Duration,
}

impl std::fmt::Display for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} answered {} after {:?}: {}",
            self.what, self.status, self.took, self.text
        )
    }
}

impl Resp {
    fn none(what: String, why: String, took: Duration) -> Resp {
        Resp {
            what,
            status: 0,
            retry_after: None,
            body: Value::Null,
            text: format!("no HTTP answer: {why}"),
            took,
        }
    }

    pub fn code(&self) -> Option<&str> {
        self.body["error_code"].as_str()
    }

    /// The exact status and `error_code`, in the spec's error shape.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, Some(code)), "{self}");
        assert_eq!(self.body["success"], json!(false), "{self}");
        assert!(self.body["message"].is_string(), "{self}");
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "{self}");
    }

    #[track_caller]
    pub fn assert_ok(&self) {
        assert_eq!(self.status, 200, "{self}");
        assert_eq!(self.body["success"], json!(true), "{self}");
    }

    /// The token pair of a 200 login or refresh answer.
    #[track_caller]
    pub fn pair(&self) -> Pair {
        self.assert_ok();
        let field = |name: &str| {
            self.body[name]
                .as_str()
                .unwrap_or_else(|| panic!("no string {name:?}: {self}"))
                .to_string()
        };
        Pair {
            access: field("accessToken"),
            refresh: field("refreshToken"),
            token_id: field("tokenId"),
            expires_at: self.body["expiresAt"].as_i64().unwrap_or_default(),
        }
    }
}

/// The tokens of one login or refresh answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub access: String,
    pub refresh: String,
    pub token_id: String,
    pub expires_at: i64,
}

impl Pair {
    pub fn sid(&self) -> String {
        crate::server::claims(&self.access)["sid"]
            .as_str()
            .expect("a sid claim")
            .to_string()
    }

    pub fn kid(&self) -> String {
        kid_of(&self.access)
    }
}

pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT header")
        .kid
        .expect("a kid header")
}

// ---------------------------------------------------------------- waiting

/// Calls `check` every 20 ms until it gives `Some`, failing once `limit` has
/// passed since `since` (the moment the change was made).
/// How long a change on one instance may take to clear what the others keep:
/// PostgreSQL's notifications arrive within 100 ms on a quiet machine; this
/// leaves room for a busy CI machine, under the 500 ms an entry is kept.
pub const NOTIFIED: Duration = Duration::from_millis(250);

#[track_caller]
pub fn within<T>(
    since: Instant,
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    loop {
        if let Some(done) = check() {
            return done;
        }
        assert!(
            since.elapsed() <= limit,
            "{what}: not done {:?} after the change (the limit is {limit:?})",
            since.elapsed()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends one request per instance of `targets` at the same moment, each from
/// its own thread; the answers in the order of `targets`.
pub fn all_at_once<'a>(
    targets: Vec<&'a Instance>,
    request: impl Fn(&'a Instance, usize) -> Resp + Sync,
) -> Vec<Resp> {
    let barrier = Barrier::new(targets.len());
    thread::scope(|s| {
        let handles: Vec<_> = targets
            .into_iter()
            .enumerate()
            .map(|(i, instance)| {
                let (barrier, request) = (&barrier, &request);
                s.spawn(move || {
                    barrier.wait();
                    request(instance, i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread"))
            .collect()
    })
}
