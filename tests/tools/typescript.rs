//! The TypeScript client, `clients/typescript` (the npm package
//! `authlite-client`), against this very binary.
//!
//! `npm test` there runs the package's own tests with node's test runner: every
//! method and error against the real server, refresh timing, single flight,
//! storage, the drift checks (the committed wire types against this binary's
//! /openapi.json, the committed dist/ and the module this binary serves against
//! a fresh build), and real-Chromium tests of tabs and of the login page.
//! It needs node and npm; `npm ci` runs first when node_modules is missing.
//! Without them the test prints a banner and passes, unless
//! `AUTHLITE_REQUIRE_CLIENT=1`, as in CI, where it fails.
//!
//! The route test below needs no Node: the module served is the committed build.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::binary::command;
use crate::support::serve::Server;

fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/typescript")
}

#[test]
fn the_typescript_client_passes_its_tests_against_this_binary() {
    let dir = package_dir();
    if !has("node") || !has("npm") {
        skip_or_fail("node and npm are missing (apt-get install nodejs npm)");
        return;
    }
    if !dir.join("node_modules").is_dir() {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            "npm ci",
        );
    }
    run(
        Command::new("npm")
            .arg("test")
            .current_dir(&dir)
            .env("AUTHLITE_BIN", env!("CARGO_BIN_EXE_authlite")),
        "npm test in clients/typescript",
    );
}

#[test]
fn the_server_serves_the_committed_build_as_javascript() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut serve = command(&dir.path().join("authlite.db"));
    serve.args(["serve", "--bind", "127.0.0.1:0"]);
    let server = Server::start(serve);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let url = server.url("/client/authlite-client.js");
    let committed =
        std::fs::read(package_dir().join("dist/authlite-client.js")).expect("the build");

    let mut resp = agent.get(&url).call().expect("GET");
    assert_eq!(resp.status(), 200);
    let header = |resp: &ureq::http::Response<ureq::Body>, name: &str| {
        let value = resp.headers().get(name).and_then(|v| v.to_str().ok());
        value.unwrap_or_default().to_string()
    };
    assert_eq!(
        header(&resp, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&resp, "cache-control"), "public, max-age=3600");
    let body = resp.body_mut().read_to_vec().expect("the body");
    assert!(body == committed, "the binary serves another file than clients/typescript/dist/authlite-client.js: cargo build");

    let mut head = agent.head(&url).call().expect("HEAD");
    assert_eq!(head.status(), 200);
    assert_eq!(
        header(&head, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(head.body_mut().read_to_vec().unwrap_or_default().is_empty());

    let post = agent.post(&url).send_empty().expect("POST");
    assert_eq!(post.status(), 405);
}

fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `command`, showing its output only when it fails.
fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if !out.status.success() {
        let mut err = std::io::stderr();
        let _ = err.write_all(&out.stdout);
        let _ = err.write_all(&out.stderr);
        panic!("{what} failed ({}); its output is above", out.status);
    }
    // The runner's closing counts, so a passing run still says what it ran.
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["# tests", "# pass", "# fail", "# skipped"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    let _ = writeln!(std::io::stderr(), "{what}: {}", summary.join(", "));
}

fn skip_or_fail(why: &str) {
    let why = format!("TYPESCRIPT CLIENT TESTS NOT RUN: {why}");
    if std::env::var("AUTHLITE_REQUIRE_CLIENT").as_deref() == Ok("1") {
        panic!("{why}; AUTHLITE_REQUIRE_CLIENT=1 requires them");
    }
    // Straight to stderr: the test harness hides eprintln! output of passing tests.
    let bar = "!".repeat(78);
    let banner = format!("\n{bar}\n{why}\n(AUTHLITE_REQUIRE_CLIENT=1 fails instead)\n{bar}\n");
    let _ = std::io::stderr().write_all(banner.as_bytes());
}
