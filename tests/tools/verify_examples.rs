//! The "verify authlite tokens from another service" examples in
//! `examples/verify/` (Node with `jose`, Node with `jsonwebtoken` + `jwks-rsa`
//! on ES256 tokens, Python with `PyJWT` through the discovery document, and an
//! Express API behind `express-oauth2-jwt-bearer`), run for real against a
//! server started in-process: each must accept a fresh access token using
//! nothing but the published keys, and refuse a tampered token, a token from
//! another issuer or for another audience, and a refresh token.
//!
//! The examples need `npm ci` and `pip install` (`.ci/verify-setup`). Without
//! them these tests print a banner and pass, unless `AUTHLITE_REQUIRE_EXAMPLES=1`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use authlite::settings::Settings;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::cast::{test_settings, ADA, ADA_PASSWORD, ITERATIONS};
use crate::support::in_process::{InProcess, TestDatabase};

const ISSUER: &str = "authlite";

// ---------------------------------------------------------------- the server

/// A server on 127.0.0.1:0 over a fresh, seeded database; stopped on drop,
/// before the database its siblings may share.
struct Server {
    base: String,
    _running: InProcess,
    database: Arc<TestDatabase>,
    dir: Arc<TempDir>,
}

/// How a test server differs from the defaults.
#[derive(Default, Clone)]
struct Options {
    /// `--issuer` set to the server's own URL, as discovery middlewares need.
    issuer_is_url: bool,
    audience: Option<&'static str>,
    es256: bool,
    /// This `--issuer`, whatever `issuer_is_url` says.
    issuer: Option<String>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(Options::default())
    }

    fn start_with(options: Options) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::seeded(&dir.path().join("authlite.db"), ITERATIONS);
        Server::start_on(Arc::new(dir), Arc::new(database), options)
    }

    /// Another server over this one's database: the same keys and users.
    fn sibling(&self, options: Options) -> Server {
        Server::start_on(self.dir.clone(), self.database.clone(), options)
    }

    fn start_on(dir: Arc<TempDir>, database: Arc<TestDatabase>, options: Options) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let addr = listener.local_addr().expect("local address");
        let base = format!("http://{addr}");
        let settings = Settings {
            issuer: match (options.issuer, options.issuer_is_url) {
                (Some(issuer), _) => issuer,
                (None, true) => base.clone(),
                (None, false) => ISSUER.to_string(),
            },
            audience: options.audience.map(str::to_string),
            algorithm: match options.es256 {
                true => authlite::tokens::Algorithm::ES256,
                false => authlite::tokens::Algorithm::EdDSA,
            },
            public_url: Some(base.clone()),
            ..test_settings()
        };
        Server {
            _running: InProcess::start_on(listener, &database.target, settings),
            base,
            database,
            dir,
        }
    }

    fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.base)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// What a login gives a client, and the session it opened.
struct Login {
    access: String,
    refresh: String,
    user_id: String,
    email: String,
    sid: String,
}

fn login(server: &Server) -> Login {
    let agent = agent();
    let mut resp = agent
        .post(format!("{}/user/login", server.base))
        .send_json(json!({ "email": ADA, "password": ADA_PASSWORD }))
        .expect("POST /user/login");
    let status = resp.status().as_u16();
    let body: Value = resp.body_mut().read_json().expect("a JSON login answer");
    assert_eq!(status, 200, "login failed: {body}");
    let text = |v: &Value| v.as_str().expect("a string field").to_string();
    let access = text(&body["accessToken"]);

    // The session id, from the server's own list rather than from the token.
    let mut resp = agent
        .get(format!("{}/user/sessions", server.base))
        .header("Authorization", &format!("Bearer {access}"))
        .call()
        .expect("GET /user/sessions");
    let status = resp.status().as_u16();
    let sessions: Value = resp.body_mut().read_json().expect("a JSON sessions list");
    assert_eq!(status, 200, "sessions failed: {sessions}");
    let list = sessions["sessions"].as_array().expect("a sessions array");
    assert_eq!(list.len(), 1, "one login, one session: {sessions}");

    Login {
        access,
        refresh: text(&body["refreshToken"]),
        user_id: text(&body["user"]["id"]),
        email: text(&body["user"]["email"]),
        sid: text(&list[0]["sid"]),
    }
}

// ---------------------------------------------------------------- the examples

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Clone, Copy)]
enum Example {
    Node,
    Python,
    /// jsonwebtoken + jwks-rsa, for ES256 tokens.
    NodeJsonwebtoken,
    /// An Express API behind express-oauth2-jwt-bearer.
    Express,
}

impl Example {
    fn name(self) -> &'static str {
        match self {
            Example::Node => "examples/verify/verify.mjs",
            Example::Python => "examples/verify/verify.py",
            Example::NodeJsonwebtoken => "examples/verify/verify-jsonwebtoken.mjs",
            Example::Express => "examples/verify/express-api.mjs",
        }
    }

    /// `node examples/verify/verify.mjs` or `python3 examples/verify/verify.py`,
    /// run from the repository root.
    fn command(self) -> Command {
        let program = match self {
            Example::Python => "python3",
            _ => "node",
        };
        let mut cmd = Command::new(program);
        cmd.arg(repo().join(self.name())).current_dir(repo());
        cmd
    }

    /// Whether the example's library is installed: `jose` beside verify.mjs,
    /// or `jwt` (with its crypto backend) for python3.
    fn library_installed(self) -> Result<(), String> {
        let node = |packages: &[&str], what: &'static str| {
            let imports: Vec<String> = packages.iter().map(|p| format!("import('{p}')")).collect();
            let script = format!(
                "Promise.all([{}]).catch((e) => {{ console.error(e.message); process.exit(1); }})",
                imports.join(", ")
            );
            let mut cmd = Command::new("node");
            cmd.args(["--input-type=module", "-e", &script])
                .current_dir(repo().join("examples/verify"));
            (cmd, what)
        };
        let (mut cmd, what) = match self {
            Example::Node => node(&["jose"], "node's `jose` package (examples/verify/node_modules)"),
            Example::NodeJsonwebtoken => node(
                &["jsonwebtoken", "jwks-rsa"],
                "node's `jsonwebtoken` and `jwks-rsa` packages (examples/verify/node_modules)",
            ),
            Example::Express => node(
                &["express", "express-oauth2-jwt-bearer"],
                "node's `express` and `express-oauth2-jwt-bearer` packages (examples/verify/node_modules)",
            ),
            Example::Python => {
                let mut cmd = Command::new("python3");
                cmd.args([
                    "-c",
                    "import jwt.algorithms, sys; sys.exit(0 if jwt.algorithms.has_crypto else 1)",
                ]);
                (cmd, "python3's `jwt` module (PyJWT[crypto])")
            }
        };
        match run(&mut cmd, &[]) {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => {
                let last = out.stderr.lines().rev().find(|l| !l.trim().is_empty());
                Err(format!("{what} is not installed ({})", last.unwrap_or("")))
            }
            Err(e) => Err(format!("{what} is not available: {e}")),
        }
    }
}

struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs a command with `args` to its end, at most a minute, capturing both streams.
fn run(cmd: &mut Command, args: &[&str]) -> Result<Output, String> {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{:?} ran for over a minute", cmd.get_program()));
        }
        thread::sleep(Duration::from_millis(20));
    };
    Ok(Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}

/// `None` (after a loud banner) when the example's library is missing and
/// `AUTHLITE_REQUIRE_EXAMPLES` is not `1`; a failure when it is.
fn ready(example: Example) -> Option<()> {
    let Err(why) = example.library_installed() else {
        return Some(());
    };
    if std::env::var("AUTHLITE_REQUIRE_EXAMPLES").as_deref() == Ok("1") {
        panic!(
            "{}: {why}; AUTHLITE_REQUIRE_EXAMPLES=1, so the example must run: run .ci/verify-setup",
            example.name()
        );
    }
    // Straight to the process's stderr: `eprintln!` would be captured by the
    // test harness and never shown for a passing test.
    let rule = "=".repeat(72);
    let _ = writeln!(
        std::io::stderr(),
        "\n{rule}\nVERIFY EXAMPLES NOT RUN: run .ci/verify-setup\n{}: {why}\n{rule}\n",
        example.name()
    );
    None
}

/// `EXAMPLE JWKS_URL ISSUER TOKEN`.
fn verify(example: Example, jwks_url: &str, issuer: &str, token: &str) -> Output {
    run(&mut example.command(), &[jwks_url, issuer, token])
        .unwrap_or_else(|e| panic!("{}: {e}", example.name()))
}

/// The token with the first character of its signature changed.
fn tampered(token: &str) -> String {
    let at = token.rfind('.').expect("a JWT has three parts") + 1;
    // The first character carries six whole bits of the signature (the last
    // one partly carries padding, which a decoder may ignore).
    let flipped = if token.as_bytes()[at] == b'A' {
        "B"
    } else {
        "A"
    };
    format!("{}{flipped}{}", &token[..at], &token[at + 1..])
}

#[track_caller]
fn assert_refused(example: Example, out: &Output, case: &str) {
    assert!(
        !out.status.success(),
        "{} accepted {case}:\nstdout: {}\nstderr: {}",
        example.name(),
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.trim().is_empty(),
        "{} printed a payload for {case}: {}",
        example.name(),
        out.stdout
    );
    assert!(
        !out.stderr.trim().is_empty(),
        "{} refused {case} without saying why",
        example.name()
    );
}

fn check_example(example: Example) {
    if ready(example).is_none() {
        return;
    }
    let name = example.name();
    let server = Server::start();
    let jwks = server.jwks_url();
    let login = login(&server);

    // A fresh access token: exit 0, and its payload as one JSON line.
    let out = verify(example, &jwks, ISSUER, &login.access);
    assert!(
        out.status.success(),
        "{name} refused a fresh access token ({}):\nstdout: {}\nstderr: {}",
        out.status,
        out.stdout,
        out.stderr
    );
    let line = out.stdout.trim_end_matches('\n');
    assert!(
        !line.is_empty() && !line.contains('\n'),
        "{name} must print exactly one line, got: {:?}",
        out.stdout
    );
    let payload: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{name} printed no JSON ({e}): {line}"));
    assert_eq!(payload["sub"], json!(login.user_id), "sub: {payload}");
    assert_eq!(payload["email"], json!(login.email), "email: {payload}");
    assert_eq!(payload["sid"], json!(login.sid), "sid: {payload}");
    assert_eq!(payload["typ"], json!("access"), "typ: {payload}");
    assert_eq!(payload["iss"], json!(ISSUER), "iss: {payload}");
    // The whole payload, nothing dropped or added.
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&login.access)
        .expect("the access token's claims");
    assert_eq!(payload, claims, "{name} printed another payload");

    // A bad signature.
    let out = verify(example, &jwks, ISSUER, &tampered(&login.access));
    assert_refused(example, &out, "a token with a tampered signature");

    // A good token that some other issuer is expected to have signed.
    let out = verify(example, &jwks, "someone-else", &login.access);
    assert_refused(example, &out, "a token for the wrong issuer");

    // A refresh token: signed by the same key, refused by the `typ` check.
    let out = verify(example, &jwks, ISSUER, &login.refresh);
    assert_refused(example, &out, "a refresh token");
    assert!(
        out.stderr.contains("not an access token"),
        "{name} must refuse a refresh token by its typ, said: {}",
        out.stderr
    );

    // Not a token at all.
    let out = verify(example, &jwks, ISSUER, "not.a.jwt");
    assert_refused(example, &out, "garbage");
}

#[test]
fn node_example_verifies_access_tokens_from_the_jwks() {
    check_example(Example::Node);
}

#[test]
fn python_example_verifies_access_tokens_from_the_jwks() {
    check_example(Example::Python);
}

/// The helper itself: a changed signature character, all else the same.
#[test]
fn tampering_changes_one_signature_character() {
    assert_eq!(tampered("aaa.bbb.AXY"), "aaa.bbb.BXY");
    assert_eq!(tampered("aaa.bbb.cXY"), "aaa.bbb.AXY");
}

/// `EXAMPLE ARGS…`, to its end.
fn verify_args(example: Example, args: &[&str]) -> Output {
    run(&mut example.command(), args).unwrap_or_else(|e| panic!("{}: {e}", example.name()))
}

/// Exit 0 and the access token's own payload as one JSON line.
#[track_caller]
fn assert_accepted(example: Example, out: &Output, token: &str) {
    assert!(
        out.status.success(),
        "{} refused a good token:\nstdout: {}\nstderr: {}",
        example.name(),
        out.stdout,
        out.stderr
    );
    let payload: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{} printed no JSON ({e}): {}", example.name(), out.stdout));
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).expect("claims");
    assert_eq!(
        payload,
        claims,
        "{} printed another payload",
        example.name()
    );
}

const AUDIENCE: &str = "https://api.example.test";

/// `--issuer` set to the server's URL, and an `--audience`: what discovery
/// middlewares expect.
fn discoverable() -> Options {
    Options {
        issuer_is_url: true,
        audience: Some(AUDIENCE),
        ..Options::default()
    }
}

#[test]
fn jose_checks_the_issuer_and_the_audience() {
    if ready(Example::Node).is_none() {
        return;
    }
    let options = discoverable();
    let server = Server::start_with(options.clone());
    let login = login(&server);
    let (jwks, iss) = (server.jwks_url(), server.base.clone());

    let out = verify_args(Example::Node, &[&jwks, &iss, &login.access, AUDIENCE]);
    assert_accepted(Example::Node, &out, &login.access);
    let out = verify_args(
        Example::Node,
        &[&jwks, &iss, &login.access, "https://other.test"],
    );
    assert_refused(Example::Node, &out, "a token for another audience");
    let out = verify_args(Example::Node, &[&jwks, "authlite", &login.access, AUDIENCE]);
    assert_refused(Example::Node, &out, "a token for another issuer");
    let out = verify_args(Example::Node, &[&jwks, &iss, &login.refresh, AUDIENCE]);
    assert_refused(Example::Node, &out, "a refresh token");
}

#[test]
fn jsonwebtoken_with_jwks_rsa_verifies_es256_tokens() {
    let example = Example::NodeJsonwebtoken;
    if ready(example).is_none() {
        return;
    }
    let server = Server::start_with(Options {
        es256: true,
        audience: Some(AUDIENCE),
        ..Options::default()
    });
    let login = login(&server);
    let jwks = server.jwks_url();

    let out = verify_args(example, &[&jwks, ISSUER, &login.access, AUDIENCE]);
    assert_accepted(example, &out, &login.access);
    let out = verify_args(
        example,
        &[&jwks, ISSUER, &tampered(&login.access), AUDIENCE],
    );
    assert_refused(example, &out, "a tampered token");
    let out = verify_args(example, &[&jwks, "someone-else", &login.access, AUDIENCE]);
    assert_refused(example, &out, "a token for the wrong issuer");
    let out = verify_args(
        example,
        &[&jwks, ISSUER, &login.access, "https://other.test"],
    );
    assert_refused(example, &out, "a token for another audience");
    let out = verify_args(example, &[&jwks, ISSUER, &login.refresh, AUDIENCE]);
    assert_refused(example, &out, "a refresh token");
    assert!(out.stderr.contains("not an access token"), "{}", out.stderr);
}

#[test]
fn pyjwt_finds_the_keys_through_the_discovery_documents_jwks_uri() {
    if ready(Example::Python).is_none() {
        return;
    }
    for es256 in [false, true] {
        let server = Server::start_with(Options {
            issuer_is_url: true,
            audience: Some(AUDIENCE),
            es256,
            issuer: None,
        });
        let login = login(&server);
        let discovery = format!("{}/.well-known/openid-configuration", server.base);
        let iss = server.base.clone();
        let out = verify_args(
            Example::Python,
            &[&discovery, &iss, &login.access, AUDIENCE],
        );
        assert_accepted(Example::Python, &out, &login.access);
        let out = verify_args(Example::Python, &[&discovery, &iss, &login.access, "x"]);
        assert_refused(Example::Python, &out, "a token for another audience");
        let out = verify_args(
            Example::Python,
            &[&discovery, &iss, &login.refresh, AUDIENCE],
        );
        assert_refused(Example::Python, &out, "a refresh token");
    }
}

/// The Express example, running; killed on drop.
struct ExpressApi {
    child: std::process::Child,
    base: String,
}

impl ExpressApi {
    fn start(issuer_base_url: &str, audience: &str) -> ExpressApi {
        let mut child = Example::Express
            .command()
            .args([issuer_base_url, audience])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node express-api.mjs");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("express-api.mjs prints its port");
        let port = serde_json::from_str::<Value>(&line).expect("a JSON line")["port"]
            .as_u64()
            .expect("a port");
        ExpressApi {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn whoami(&self, token: Option<&str>) -> (u16, Value) {
        let mut req = agent().get(format!("{}/api/whoami", self.base));
        if let Some(token) = token {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        let mut resp = req.call().expect("GET /api/whoami");
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_json().unwrap_or(Value::Null))
    }
}

impl Drop for ExpressApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_express_api_behind_express_oauth2_jwt_bearer_takes_access_tokens_only() {
    if ready(Example::Express).is_none() {
        return;
    }
    let options = discoverable();
    let server = Server::start_with(options.clone());
    let api = ExpressApi::start(&server.base, AUDIENCE);
    let login = login(&server);

    let (status, body) = api.whoami(Some(&login.access));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], json!(login.user_id), "{body}");
    assert_eq!(body["email"], json!(login.email), "{body}");

    let (status, body) = api.whoami(Some(&login.refresh));
    assert_eq!(status, 401, "a refresh token was taken: {body}");
    let (status, body) = api.whoami(None);
    assert_eq!(status, 401, "no token was taken: {body}");
    let (status, body) = api.whoami(Some(&tampered(&login.access)));
    assert_eq!(status, 401, "a tampered token was taken: {body}");

    // Same keys and issuer, another audience: the API must refuse it.
    let other = server.sibling(Options {
        audience: Some("https://other-api.example.test"),
        issuer: Some(server.base.clone()),
        ..options
    });
    let foreign: Value = agent()
        .post(format!("{}/user/login", other.base))
        .send_json(json!({ "email": ADA, "password": ADA_PASSWORD }))
        .expect("POST /user/login")
        .body_mut()
        .read_json()
        .expect("a JSON login answer");
    let foreign = foreign["accessToken"].as_str().expect("an access token");
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(foreign).expect("claims");
    assert_eq!(claims["iss"], json!(server.base), "the same issuer");
    let (status, body) = api.whoami(Some(foreign));
    assert_eq!(
        status, 401,
        "a token for another audience was taken: {body}"
    );
}
