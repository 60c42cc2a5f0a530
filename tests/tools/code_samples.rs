//! The code samples of /openapi.json (`x-codeSamples`, SPEC §9) run as a
//! reader would run them, against a real server over the seed cast: the curl
//! samples through `/bin/sh`, the JavaScript ones with node and the Python
//! ones with `requests`, with only `AUTHLITE_URL`, `ACCESS_TOKEN`, `SID` and `PASSKEY_ID`
//! set. Every endpoint that needs no admin must answer its sample as listed in
//! `EXPECTED`, with a status the document lists for it.
//!
//! Without curl, node or Python's `requests` (which schemathesis brings) a
//! run prints a banner and passes, unless `AUTHLITE_REQUIRE_EXAMPLES=1`, as in
//! CI, where it fails.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::cast::{test_settings, ADA, ADA_PASSWORD, ITERATIONS};
use crate::support::in_process::{InProcess, TestDatabase};

/// Each public endpoint's answer to its samples, in the order they run:
/// (method, path, status, error_code). The password change runs last, since
/// it changes the password the other samples sign in with.
const EXPECTED: &[(&str, &str, u16, Option<&str>)] = &[
    ("post", "/user/login", 200, None),
    // The body's REFRESH_TOKEN and TOKEN are placeholders: not tokens of this server.
    ("post", "/user/refresh", 401, Some("INVALID_TOKEN")),
    ("post", "/user/password/reset", 401, Some("INVALID_TOKEN")),
    ("get", "/user/me", 200, None),
    ("get", "/user/sessions", 200, None),
    ("get", "/user/mfa", 200, None),
    ("post", "/user/mfa/totp", 200, None),
    // CODE is a placeholder: not the authenticator's code.
    ("post", "/user/mfa/totp/confirm", 400, Some("INVALID_CODE")),
    ("delete", "/user/mfa/totp", 409, Some("MFA_NOT_ENABLED")),
    (
        "post",
        "/user/mfa/recovery-codes",
        409,
        Some("MFA_NOT_ENABLED"),
    ),
    ("post", "/user/login/mfa", 401, Some("INVALID_TOKEN")),
    // The sample server sends no email and takes no sign-ups.
    ("post", "/user/password/forgot", 501, Some("EMAIL_DISABLED")),
    ("post", "/user/register", 403, Some("REGISTRATION_CLOSED")),
    ("post", "/user/register/confirm", 401, Some("INVALID_TOKEN")),
    ("get", "/features", 200, None),
    ("post", "/user/passkeys/register", 200, None),
    // CEREMONY_ID and the credential are placeholders: no browser made them.
    (
        "post",
        "/user/passkeys/register/finish",
        400,
        Some("INVALID_CREDENTIAL"),
    ),
    ("get", "/user/passkeys", 200, None),
    // PASSKEY_ID is a placeholder too.
    (
        "delete",
        "/user/passkeys/{id}",
        404,
        Some("PASSKEY_NOT_FOUND"),
    ),
    ("post", "/user/passkeys/login", 200, None),
    (
        "post",
        "/user/passkeys/login/finish",
        401,
        Some("INVALID_CREDENTIAL"),
    ),
    ("delete", "/user/sessions/{sid}", 200, None),
    ("post", "/user/logout", 200, None),
    // The OpenID Connect provider's samples send no client's parameters: the
    // error page, RFC 6749 and RFC 6750 errors, an unknown request id.
    ("get", "/oauth/authorize", 400, None),
    ("post", "/oauth/token", 400, None),
    (
        "post",
        "/oauth/continue",
        404,
        Some("AUTHORIZATION_NOT_FOUND"),
    ),
    ("get", "/oauth/userinfo", 401, None),
    ("post", "/oauth/userinfo", 401, None),
    ("get", "/oauth/logout", 400, None),
    ("get", "/", 200, None),
    ("get", "/docs", 200, None),
    ("get", "/client/authlite-client.js", 200, None),
    ("get", "/.well-known/jwks.json", 200, None),
    ("get", "/.well-known/openid-configuration", 200, None),
    ("get", "/healthz", 200, None),
    ("get", "/metrics", 200, None),
    ("get", "/openapi.json", 200, None),
    ("post", "/user/password", 200, None),
];

/// Sends curl's body to a file and prints the status and content type instead.
const CURL: &str = "curl() { command curl --silent --show-error --max-time 20 \
                    --output \"$SAMPLE_BODY\" --write-out '%{http_code} %{content_type}' \"$@\"; }\n";

#[test]
fn every_public_curl_sample_answers_as_the_document_says() {
    if !has("curl", &["--version"]) {
        return skip("curl is missing (apt-get install curl)");
    }
    run_samples("Shell", |source| {
        let mut sh = Command::new("/bin/sh");
        sh.arg("-c").arg(format!("{CURL}{source}"));
        sh
    });
}

#[test]
fn every_public_javascript_sample_answers_as_the_document_says() {
    if !has("node", &["--version"]) {
        return skip("node is missing");
    }
    run_samples("JavaScript", |source| {
        let mut node = Command::new("node");
        node.args(["--input-type=module", "-e", source]);
        node
    });
}

#[test]
fn every_public_python_sample_answers_as_the_document_says() {
    if !has("python3", &["-c", "import requests"]) {
        return skip("python3 with requests is missing (pip install requests)");
    }
    run_samples("Python", |source| {
        let mut python = Command::new("python3");
        python.args(["-c", source]);
        python
    });
}

/// Runs each public endpoint's `lang` sample, made a command by `command`,
/// against a server of its own, and checks the answer.
fn run_samples(lang: &str, command: impl Fn(&str) -> Command) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::seeded(&dir.path().join("authlite.db"), ITERATIONS);
    let server = InProcess::start(&database.target, test_settings());
    let base = server.address.clone();
    let doc = get_json(&format!("{base}/openapi.json"));
    assert_every_public_endpoint_is_expected(&doc);

    let body_file = dir.path().join("body");
    for (method, path, status, code) in EXPECTED {
        let operation = &doc["paths"][path][method];
        let source =
            sample(operation, lang).unwrap_or_else(|| panic!("{method} {path}: no {lang} sample"));
        // A session for the sample's bearer, and another one for it to revoke.
        let token = login(&base)["accessToken"].clone();
        let sid = current_sid(
            &base,
            login(&base)["accessToken"].as_str().unwrap_or_default(),
        );
        let out = command(&source)
            .env("AUTHLITE_URL", &base)
            .env("ACCESS_TOKEN", token.as_str().unwrap_or_default())
            .env("SID", &sid)
            .env("PASSKEY_ID", "no-such-passkey")
            .env("SAMPLE_BODY", &body_file)
            .output()
            .unwrap_or_else(|e| panic!("{method} {path}: cannot run the {lang} sample: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{method} {path} ({lang}) failed:\n{source}\n{stdout}{stderr}"
        );
        let answered: u16 = stdout
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path} ({lang}): no status in {stdout:?}"));
        assert_eq!(
            answered, *status,
            "{method} {path} ({lang}):\n{source}\n{stdout}"
        );
        let documented = &operation["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "{method} {path}: {status} is not in the document"
        );
        if lang == "Shell" {
            let content_type = stdout.split_whitespace().nth(1).unwrap_or_default();
            let body = std::fs::read(&body_file).unwrap_or_default();
            check_body(method, path, documented, content_type, &body, *code);
        } else if let Some(code) = code {
            assert!(stdout.contains(code), "{method} {path} ({lang}): {stdout}");
        }
    }
}

/// A new endpoint that needs no admin needs a row in `EXPECTED`.
fn assert_every_public_endpoint_is_expected(doc: &Value) {
    let mut public = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if !path.starts_with("/admin/") {
                public.push((method.clone(), path.clone()));
            }
        }
    }
    let mut expected: Vec<(String, String)> = EXPECTED
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.to_string()))
        .collect();
    public.sort();
    expected.sort();
    assert_eq!(public, expected, "public endpoints and EXPECTED differ");
}

/// The answer is what the document says of it: its content type, and for an
/// error, the `error_code` expected, one of those the document lists.
fn check_body(
    method: &str,
    path: &str,
    documented: &Value,
    content_type: &str,
    body: &[u8],
    code: Option<&str>,
) {
    let types = documented["content"]
        .as_object()
        .expect("documented content");
    let media = content_type.split(';').next().unwrap_or_default();
    assert!(
        types.contains_key(media),
        "{method} {path}: {content_type}, documented: {:?}",
        types.keys()
    );
    if media != "application/json" {
        assert!(!body.is_empty(), "{method} {path}: an empty body");
        return;
    }
    let answer: Value =
        serde_json::from_slice(body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e})"));
    if let Some(code) = code {
        assert_eq!(answer["error_code"], code, "{method} {path}");
        let listed = &documented["content"]["application/json"]["schema"]["properties"]
            ["error_code"]["enum"];
        let listed = listed.as_array().expect("an error_code enum");
        assert!(
            listed.contains(&json!(code)),
            "{method} {path}: {code} is not listed"
        );
    }
    if path == "/user/login" {
        assert!(
            answer["accessToken"].as_str().is_some_and(|t| t.len() > 20),
            "{answer}"
        );
        assert!(
            answer["refreshToken"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{answer}"
        );
        assert_eq!(answer["user"]["email"], ADA);
    }
}

fn sample(operation: &Value, lang: &str) -> Option<String> {
    let samples = operation["x-codeSamples"].as_array()?;
    let found = samples.iter().find(|s| s["lang"] == lang)?;
    found["source"].as_str().map(str::to_string)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

fn get_json(url: &str) -> Value {
    let mut resp = agent().get(url).call().expect("GET");
    resp.body_mut()
        .with_config()
        .limit(10 << 20)
        .read_json()
        .expect("JSON")
}

fn login(base: &str) -> Value {
    let mut resp = agent()
        .post(format!("{base}/user/login"))
        .send_json(json!({ "email": ADA, "password": ADA_PASSWORD }))
        .expect("log in");
    assert_eq!(resp.status(), 200, "the cast's login");
    resp.body_mut().read_json().expect("the login answer")
}

/// The sid of the session `token` belongs to.
fn current_sid(base: &str, token: &str) -> String {
    let mut resp = agent()
        .get(format!("{base}/user/sessions"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("GET /user/sessions");
    let list: Value = resp.body_mut().read_json().expect("the sessions");
    let sessions = list["sessions"].as_array().cloned().unwrap_or_default();
    let current = sessions.iter().find(|s| s["current"] == true);
    current
        .and_then(|s| s["sid"].as_str())
        .expect("the current session")
        .to_string()
}

fn has(tool: &str, args: &[&str]) -> bool {
    Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success())
}

fn skip(why: &str) {
    let why = format!("CODE SAMPLES NOT RUN: {why}");
    if std::env::var("AUTHLITE_REQUIRE_EXAMPLES").as_deref() == Ok("1") {
        panic!("{why}; AUTHLITE_REQUIRE_EXAMPLES=1 requires it");
    }
    // Straight to stderr: the test harness hides eprintln! output of passing tests.
    let bar = "!".repeat(78);
    let banner = format!("\n{bar}\n{why}\n(AUTHLITE_REQUIRE_EXAMPLES=1 fails instead)\n{bar}\n");
    let _ = std::io::stderr().write_all(banner.as_bytes());
}
