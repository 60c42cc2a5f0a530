//! Email (SPEC §12). `forgot`: `POST /user/password/forgot` paced at 200
//! requests/s while the SMTP server takes 1 s per message: the request never
//! waits for it, so its p99 must stay within 20 ms. `mail-sender`: how many
//! messages/s the outbox sender delivers to a fast local SMTP server.
//! Both need python3 with aiosmtpd (`bash .ci/smtp-setup`): the SMTP server is
//! tests/smtp/sink.py.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use authlite::mail::{EmailSettings, Transport};
use authlite::settings::Settings;
use authlite::store::Database;

use crate::http::{checked, Conn};
use crate::server::{email, seed, serve_with};
use crate::stats::{ms, Stats};
use crate::Options;

const RATE: u64 = 200;
const PACERS: u64 = 8;
const P99_GOAL_MS: f64 = 20.0;
const SENDER_GOAL: f64 = 100.0;
const SENDER_MESSAGES: usize = 1000;

/// The sink, killed when dropped.
struct Sink {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn start(delay: &str) -> Result<Sink, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .args(["--delay", delay])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        let mut line = String::new();
        let out = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            return Err(
                "the SMTP sink did not start (is aiosmtpd installed? bash .ci/smtp-setup)".into(),
            );
        };
        Ok(Sink { port, dir, child })
    }

    fn received(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0)
    }
}

fn server(
    dir: &Path,
    name: &str,
    sink: &Sink,
    opts: &Options,
    users: usize,
) -> std::net::SocketAddr {
    let db = Database::sqlite(&dir.join(name)).expect("open the database");
    seed(&db, users, opts.iterations);
    serve_with(
        db,
        Settings {
            pbkdf2_iterations: opts.iterations,
            email: Some(EmailSettings {
                transport: Transport::Smtp {
                    url: format!("smtp://127.0.0.1:{}", sink.port),
                    ca_file: None,
                },
                from: "Load <load@load.test>".into(),
            }),
            ..Settings::default()
        },
    )
}

/// Forgot-password at 200 requests/s for --seconds against an SMTP server
/// that takes 1 s per message; half the addresses have accounts.
pub fn forgot(opts: &Options, dir: &Path) {
    let sink = match Sink::start("1") {
        Ok(sink) => sink,
        Err(e) => return println!("forgot: skipped: {e}\n"),
    };
    let addr = server(dir, "forgot.db", &sink, opts, opts.users);
    let run = Duration::from_secs(opts.seconds);
    let started = Instant::now();
    let pacers: Vec<_> = (0..PACERS)
        .map(|p| {
            thread::spawn(move || {
                let mut conn = Conn::new(crate::http::ClientKind::Raw, addr);
                let mut stats = Stats::new("forgot", run);
                let every = Duration::from_nanos(1_000_000_000 * PACERS / RATE);
                let mut next = started + every.mul_f64(p as f64 / PACERS as f64);
                let mut n = p as usize;
                while next < started + run {
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    let to = match n % 2 {
                        0 => email(n / 2),
                        _ => format!("nobody{n}@load.test"),
                    };
                    let body = format!(r#"{{"email":"{to}"}}"#);
                    let t = Instant::now();
                    let reply =
                        checked(conn.send("POST", "/user/password/forgot", None, Some(&body)));
                    stats.record(reply.map(drop), t.elapsed());
                    n += PACERS as usize;
                    next += every;
                }
                stats
            })
        })
        .collect();
    let mut all = Stats::new("forgot", run);
    for pacer in pacers {
        all.absorb(&pacer.join().expect("a pacer"));
    }
    all.latencies_us.sort_unstable();
    let p99 = ms(all.percentile(0.99));
    println!(
        "forgot at {RATE}/s, SMTP 1 s per message, {} s: {} requests ({:.0}/s), p50 {:.2} ms, p99 {p99:.2} ms, max {:.2} ms, errors {}; {} messages delivered meanwhile",
        opts.seconds,
        all.latencies_us.len(),
        all.rate(),
        ms(all.percentile(0.5)),
        ms(all.percentile(1.0)),
        all.errors_text(),
        sink.received(),
    );
    let verdict = if p99 <= P99_GOAL_MS { "met" } else { "NOT met" };
    println!("goal p99 <= {P99_GOAL_MS} ms: {verdict}\n");
}

/// Queues SENDER_MESSAGES forgot-password messages (one per account) and
/// times the sender until the fast sink has them all.
pub fn sender(opts: &Options, dir: &Path) {
    let sink = match Sink::start("0") {
        Ok(sink) => sink,
        Err(e) => return println!("mail-sender: skipped: {e}\n"),
    };
    let addr = server(dir, "sender.db", &sink, opts, SENDER_MESSAGES);
    let started = Instant::now();
    let mut conn = Conn::new(crate::http::ClientKind::Raw, addr);
    for n in 0..SENDER_MESSAGES {
        let body = format!(r#"{{"email":"{}"}}"#, email(n));
        if let Err(e) = checked(conn.send("POST", "/user/password/forgot", None, Some(&body))) {
            return println!("mail-sender: a request failed: {e}\n");
        }
    }
    let queued_in = started.elapsed();
    let deadline = started + Duration::from_secs(120);
    while sink.received() < SENDER_MESSAGES && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    let received = sink.received();
    let rate = received as f64 / took.as_secs_f64();
    println!(
        "mail-sender: {received} of {SENDER_MESSAGES} messages delivered in {:.2} s ({rate:.0}/s; queuing them took {:.2} s)",
        took.as_secs_f64(),
        queued_in.as_secs_f64()
    );
    let verdict = if rate >= SENDER_GOAL && received == SENDER_MESSAGES {
        "met"
    } else {
        "NOT met"
    };
    println!("goal >= {SENDER_GOAL} messages/s: {verdict}\n");
}
