//! schemathesis (PyPI) against the real binary: every request the OpenAPI
//! document calls valid must get an answer the document describes (status,
//! content type, body schema, headers), and nothing may be a 5xx. Without
//! schemathesis this test prints a banner and passes, unless
//! `AUTHLITE_REQUIRE_EXAMPLES=1` (set by `.ci/run`, after `.ci/schemathesis-setup`).

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::binary::{command, DEMO_SEED};
use crate::support::serve::Server;

/// Starts `authlite serve` on a free port over a new seeded database, with
/// email on (into a folder beside it), so that the email endpoints answer
/// past their 501 EMAIL_DISABLED, which schemathesis counts as a server error.
fn serve(db: &std::path::Path) -> Server {
    let mail = db.with_file_name("mail");
    std::fs::create_dir_all(&mail).expect("a mail folder");
    let mut cmd = command(db);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--seed", DEMO_SEED])
        .arg("--mail-dir")
        .arg(&mail)
        // A host name, so that the passkey endpoints run their checks (an IP
        // address is no relying party: they would all answer 501).
        .args(["--public-url", "http://localhost:8080"])
        // Enough room that the login is fuzzed rather than locked out.
        .args([
            "--max-failures",
            "1000000",
            "--max-failures-per-ip",
            "1000000",
        ])
        .env("RUST_LOG", "warn");
    Server::start(cmd)
}

/// `python3 -m schemathesis.cli`: found wherever pip put its scripts.
fn schemathesis() -> Command {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "schemathesis.cli"]);
    cmd
}

fn installed() -> Option<String> {
    let out = schemathesis().arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// An access token of the demo seed's Ada, so that the bearer endpoints are
/// exercised beyond their 401s.
fn access_token(address: &str) -> String {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut resp = agent
        .post(&format!("{address}/user/login"))
        .send_json(serde_json::json!({
            "email": "ada@acme.test", "password": "correct horse battery staple"
        }))
        .expect("log in as ada");
    let body: serde_json::Value = resp.body_mut().read_json().expect("a JSON answer");
    body["accessToken"]
        .as_str()
        .expect("an access token")
        .to_string()
}

#[test]
fn every_request_the_document_calls_valid_gets_a_documented_answer() {
    let Some(version) = installed() else {
        if std::env::var("AUTHLITE_REQUIRE_EXAMPLES").as_deref() == Ok("1") {
            panic!("schemathesis is not installed and AUTHLITE_REQUIRE_EXAMPLES=1: run .ci/schemathesis-setup");
        }
        let rule = "=".repeat(72);
        let _ = writeln!(
            std::io::stderr(),
            "\n{rule}\nSCHEMATHESIS NOT RUN: run .ci/schemathesis-setup\n{rule}\n"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let server = serve(&dir.path().join("authlite.db"));
    let address = server.url("");
    let token = access_token(&address);

    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tools/schemathesis.toml");
    let out: Output = schemathesis()
        .args(["--config-file", config])
        .args(["run", &format!("{address}/openapi.json")])
        .args(["--checks", "all"])
        .args(["--max-examples", "10", "--max-time", "60"])
        .args(["--request-timeout", "15", "--generation-deterministic"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run schemathesis");

    assert!(
        out.status.success(),
        "{version} found answers the document does not describe:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
