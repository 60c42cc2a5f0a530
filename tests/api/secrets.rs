//! The real binary, run as an operator would, never writes a secret to its output.

use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

struct Served {
    child: std::process::Child,
    address: String,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
}

fn serve_real_binary(dir: &std::path::Path) -> Served {
    let seed = dir.join("seed.json");
    std::fs::write(&seed, seed_json()).expect("write the seed file");
    let (stdout, stderr) = (dir.join("stdout.log"), dir.join("stderr.log"));
    let mut child = Command::new(bin())
        .arg("--db")
        .arg(dir.join("authlite.db"))
        .args(["--pbkdf2-iterations", &ITERATIONS.to_string()])
        .args(["serve", "--bind", "127.0.0.1:0", "--seed"])
        .arg(&seed)
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).expect("stdout file"))
        .stderr(File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start authlite serve");
    let started = Instant::now();
    loop {
        let out = std::fs::read_to_string(&stdout).unwrap_or_default();
        if let Some(rest) = out.split("authlite listening on http://").nth(1) {
            if let Some(addr) = rest
                .split_whitespace()
                .next()
                .filter(|_| rest.contains('\n'))
            {
                let address = format!("http://{addr}");
                return Served {
                    child,
                    address,
                    stdout,
                    stderr,
                };
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "authlite serve exited with {status}: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("authlite serve never printed its address: {out}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_real_binary_never_writes_passwords_hashes_or_tokens_to_its_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut served = serve_real_binary(dir.path());
    let agent = new_agent();
    let call = |req: Req<'_>| send_with(&agent, &served.address, req);
    let login = |email: &str, password: &str| {
        call(Req::new("POST", "/user/login").json(&json!({ "email": email, "password": password })))
    };
    let wrong_passwords = [
        "Wr0ng-Secret-Attempt-1",
        "Unknown-User-Secret-2",
        "No-Password-Secret-3",
    ];

    let ada = Tokens::from_resp(&login(ADA, ADA_PASSWORD));
    let bob = Tokens::from_resp(&login(BOB, BOB_PASSWORD));
    login(ADA, wrong_passwords[0]).assert_error(401, "INVALID_PASSWORD");
    login(UNKNOWN, wrong_passwords[1]).assert_error(401, "USER_NOT_FOUND");
    login(INVITED, wrong_passwords[2]).assert_error(401, "NO_PASSWORD_SET");
    login(SLEEPY, SLEEPY_PASSWORD).assert_error(401, "USER_INACTIVE");
    login(BANNED, BANNED_PASSWORD).assert_error(401, "USER_INACTIVE");
    let refresh = |token: &str| {
        call(Req::new("POST", "/user/refresh").json(&json!({ "refreshToken": token })))
    };
    let ada2 = Tokens::from_resp(&refresh(&ada.refresh));
    let again = Tokens::from_resp(&refresh(&ada.refresh));
    assert_eq!(again.refresh, ada2.refresh);
    call(Req::new("GET", "/user/me").bearer(&ada2.access)).assert_success();
    call(Req::new("GET", "/user/sessions").bearer(&ada2.access)).assert_success();
    call(Req::new("GET", "/user/me").bearer(&ada.refresh)).assert_error(401, "INVALID_TOKEN");
    call(Req::new("POST", "/user/logout").json(&json!({ "refreshToken": bob.refresh })))
        .assert_success();
    refresh(&bob.refresh).assert_error(401, "TOKEN_REVOKED");
    call(Req::new("GET", "/user/me").bearer(&bob.access)).assert_error(401, "TOKEN_REVOKED");
    call(Req::new("POST", "/user/logout").bearer(&ada2.access)).assert_success();
    refresh(&ada2.refresh).assert_error(401, "TOKEN_REVOKED");
    let hashes: Vec<String> = {
        let conn = rusqlite::Connection::open(dir.path().join("authlite.db")).expect("db");
        let mut stmt = conn
            .prepare("SELECT password_hash FROM users WHERE password_hash IS NOT NULL")
            .expect("query");
        stmt.query_map([], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("hashes")
    };
    assert!(!hashes.is_empty());

    // Stopped as a service manager stops it: the log's last lines are out by exit.
    let stopped = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(stopped.success(), "kill -TERM failed");
    let status = served.child.wait().expect("reap authlite serve");
    assert_eq!(status.code(), Some(0), "serve exits 0 on SIGTERM");
    let mut output = String::new();
    for path in [&served.stdout, &served.stderr] {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .expect("read log");
        output.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(output.contains("authlite listening on"), "{output}");
    assert!(
        output.to_lowercase().contains("login"),
        "the server logged nothing about logins, so this check would prove nothing: {output}"
    );

    let mut secrets: Vec<(String, String)> = Vec::new();
    for p in [
        ADA_PASSWORD,
        BOB_PASSWORD,
        SLEEPY_PASSWORD,
        BANNED_PASSWORD,
        DELETED_PASSWORD,
    ]
    .into_iter()
    .chain(wrong_passwords)
    {
        secrets.push(("password".into(), p.to_string()));
    }
    secrets.push(("hash prefix".into(), "$pbkdf2-sha256$".into()));
    for h in &hashes {
        secrets.push(("password hash".into(), h.clone()));
        let digest = h.rsplit('$').next().unwrap_or_default();
        secrets.push(("password hash digest".into(), digest.to_string()));
    }
    for t in [&ada, &bob, &ada2] {
        for token in [&t.access, &t.refresh] {
            secrets.push(("token".into(), token.clone()));
            let signature = token.rsplit('.').next().unwrap_or_default();
            secrets.push(("token signature".into(), signature.to_string()));
        }
    }
    let leaks: Vec<&(String, String)> = secrets
        .iter()
        .filter(|(_, s)| !s.is_empty() && output.contains(s.as_str()))
        .collect();
    assert!(leaks.is_empty(), "secrets in the server output: {leaks:?}");
}
