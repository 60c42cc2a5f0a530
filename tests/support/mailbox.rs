//! Email for tests: a real SMTP server on loopback (`tests/smtp/sink.py`,
//! Python's aiosmtpd) that writes what it takes into a folder, and reading
//! `.eml` files (theirs, or `--mail-dir`'s) back into subject, parts and link.
//! Without aiosmtpd the SMTP tests skip with a banner, unless
//! `AUTHLITE_REQUIRE_SMTP` is set (`.ci/run` sets it), where they fail.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One received message, its parts decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub file: PathBuf,
    pub raw: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The sink's notes: envelope, AUTH login, TLS (None for --mail-dir files).
    pub meta: Option<Value>,
}

impl Mail {
    /// The token after `marker` (`#set-password=`, `#confirm=`) in the text part.
    #[track_caller]
    pub fn token(&self, marker: &str) -> String {
        let (_, rest) = self
            .text
            .split_once(marker)
            .unwrap_or_else(|| panic!("no {marker} in the message: {}", self.text));
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// Every `.eml` in `dir`, in name order (the sink numbers them; the outbox's
/// ids are ordered by time).
pub fn read_dir(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files.iter().map(|f| parse(f)).collect()
}

/// Waits until `dir` holds at least `n` messages (at most `timeout`), and returns them.
#[track_caller]
pub fn wait_for_mail(dir: &Path, n: usize, timeout: Duration) -> Vec<Mail> {
    let deadline = Instant::now() + timeout;
    loop {
        let found = read_dir(dir);
        if found.len() >= n {
            return found;
        }
        if Instant::now() > deadline {
            panic!(
                "{} messages in {} after {timeout:?}, not {n}",
                found.len(),
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A message file, read with just enough MIME for the messages authlite
/// writes: headers, a multipart/alternative body, quoted-printable parts.
pub fn parse(file: &Path) -> Mail {
    let raw = std::fs::read_to_string(file)
        .expect("a readable message")
        .replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").expect("headers, then a body");
    let header = |name: &str| -> String {
        let mut value = String::new();
        let mut inside = false;
        for line in head.lines() {
            if inside && line.starts_with([' ', '\t']) {
                value.push_str(line.trim_start());
                continue;
            }
            inside = line
                .to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()));
            if inside {
                value = line[name.len() + 1..].trim().to_string();
            }
        }
        value
    };
    let content_type = header("Content-Type");
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .map(|b| b.trim_matches('"').to_string())
        .expect("a multipart message");
    let mut text = String::new();
    let mut html = String::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((part_head, part_body)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let decoded = match part_head.contains("quoted-printable") {
            true => quoted_printable(part_body),
            false => part_body.to_string(),
        };
        if part_head.contains("text/plain") {
            text = decoded;
        } else if part_head.contains("text/html") {
            html = decoded;
        }
    }
    let meta = std::fs::read_to_string(file.with_extension("json"))
        .ok()
        .and_then(|m| serde_json::from_str(&m).ok());
    Mail {
        file: file.to_path_buf(),
        to: header("To"),
        from: header("From"),
        subject: header("Subject"),
        text,
        html,
        meta,
        raw,
    }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = joined.get(i + 1..i + 3);
        if let (b'=', Some(Ok(b))) = (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How the sink talks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Plain,
    Starttls,
    Implicit,
}

/// A running sink, stopped when dropped.
pub struct Sink {
    pub port: u16,
    pub dir: PathBuf,
    /// The private CA of its certificate (with TLS).
    pub ca: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

/// Whether aiosmtpd can be imported; a loud banner when not (and a failure
/// where `AUTHLITE_REQUIRE_SMTP` says it must be there).
pub fn smtp_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("AUTHLITE_REQUIRE_SMTP").is_none(),
            "AUTHLITE_REQUIRE_SMTP is set but python3 cannot import aiosmtpd (bash .ci/smtp-setup)"
        );
        eprintln!(
            "\n**************************************************************\n\
             SKIPPED: python3 cannot import aiosmtpd (bash .ci/smtp-setup)\n\
             **************************************************************\n"
        );
    }
    found
}

impl Sink {
    /// Starts the sink: `auth` is "USER:PASSWORD"; `port` 0 picks one.
    pub fn start(tls: Tls, auth: Option<&str>, port: u16) -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = dir.path().join("ca.pem");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("--dir")
            .arg(dir.path())
            .arg("--ca-out")
            .arg(&ca)
            .args(["--port", &port.to_string()])
            .args([
                "--tls",
                match tls {
                    Tls::Plain => "none",
                    Tls::Starttls => "starttls",
                    Tls::Implicit => "implicit",
                },
            ]);
        if let Some(auth) = auth {
            cmd.args(["--auth", auth]);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("python3 starts");
        let out = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("the sink's first line");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the sink did not start: {line:?}"));
        Sink {
            port,
            dir: dir.path().to_path_buf(),
            ca,
            child,
            _dir: dir,
        }
    }

    /// What it answers each message from now on: ok, 4xx, 5xx or slow.
    pub fn answer(&self, mode: &str) {
        std::fs::write(self.dir.join("mode"), mode).expect("write the mode");
    }

    pub fn received(&self) -> Vec<Mail> {
        read_dir(&self.dir)
    }

    #[track_caller]
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        wait_for_mail(&self.dir, n, timeout)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on (for a mail server that is down).
pub fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
