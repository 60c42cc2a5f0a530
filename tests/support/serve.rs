//! A running `authlite serve` (the real binary, spawned) and the HTTP calls
//! the tests make to it. The CLI suite names this module `server`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::binary::{assert_no_panic, command, drain, stdout, wait_for, DEMO_SEED};

pub const LISTENING: &str = "authlite listening on http://";

/// A running `authlite serve`, killed when dropped if it is still alive.
pub struct Server {
    child: Child,
    base: String,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Server {
    /// Starts `cmd` (which must include `serve`) and waits for its listening line.
    pub fn start(mut cmd: Command) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the authlite binary starts");
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        let out = child.stdout.take().expect("stdout is piped");
        let (lines, received) = mpsc::channel();
        thread::spawn(move || {
            // Keep reading to the end so the server never blocks on a full pipe.
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = lines.send(line);
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            stderr: Some(stderr),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.trim().strip_prefix(LISTENING) {
                        assert!(
                            !addr.ends_with(":0"),
                            "the listening line must show the bound port: {line}"
                        );
                        server.base = format!("http://{addr}");
                        return server;
                    }
                }
                Err(_) => {
                    let _ = server.child.kill();
                    let _ = server.child.wait();
                    panic!(
                        "no `{LISTENING}ADDR` line on stdout within 30 s; stderr:\n{}",
                        server.take_stderr()
                    );
                }
            }
        }
    }

    /// The server's process id, to read its /proc entries.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits up to 5 s; returns the exit status and stderr.
    fn terminate(&mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_for(&mut self.child, Duration::from_secs(5));
        let err = self.take_stderr();
        let status = status
            .unwrap_or_else(|| panic!("serve did not exit within 5 s of SIGTERM; stderr:\n{err}"));
        (status, err)
    }

    fn take_stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `authlite … serve --bind 127.0.0.1:0 --seed examples/demo-seed.json EXTRA…`, started.
pub fn serve_demo(db: &Path, extra: &[&str]) -> Server {
    let mut cmd = command(db);
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--seed", DEMO_SEED])
        .args(extra);
    Server::start(cmd)
}

/// Stops the server with SIGTERM, checks it exited 0 without a panic, and
/// returns what it wrote to standard error.
#[track_caller]
pub fn assert_clean_stop(server: &mut Server) -> String {
    let (status, err) = server.terminate();
    assert_no_panic(&err);
    assert_eq!(
        status.code(),
        Some(0),
        "serve must exit 0 on SIGTERM; stderr:\n{err}"
    );
    err
}

/// A command that fails before it binds never prints the listening line.
#[track_caller]
pub fn assert_not_listening(out: &Output) {
    assert!(
        !stdout(out).contains(LISTENING),
        "serve must not claim to listen:\n{}",
        stdout(out)
    );
}

pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// POSTs JSON; returns the status, the `Retry-After` header and the JSON body.
pub fn post(agent: &ureq::Agent, url: &str, body: Value) -> (u16, Option<String>, Value) {
    let mut resp = agent
        .post(url)
        .send_json(&body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.body_mut().read_to_string().expect("a response body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("POST {url} answered {status} with non-JSON ({e}): {text}"));
    (status, retry_after, json)
}

pub fn login(agent: &ureq::Agent, server: &Server, email: &str, password: &str) -> (u16, Value) {
    let (status, _, body) = post(
        agent,
        &server.url("/user/login"),
        json!({"email": email, "password": password}),
    );
    (status, body)
}

/// The exact status and `error_code` of an error answer.
#[track_caller]
pub fn assert_error(status: u16, body: &Value, expected: u16, error_code: &str) {
    assert_eq!(
        (status, &body["error_code"]),
        (expected, &json!(error_code)),
        "{body}"
    );
}

/// A string field of a JSON body, such as `accessToken`, which must be there.
#[track_caller]
pub fn text(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name:?} in {body}"))
        .to_owned()
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

pub fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).expect("a JWT")
}
