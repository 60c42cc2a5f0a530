//! Load benchmark: starts the real server in-process on a temporary database and
//! drives it with keep-alive clients on plain threads.
//!
//! cargo run --release --example loadtest -- [--clients 64] [--seconds 10]
//!     [--scenario login|refresh|me|mixed|startup|all] [--iterations 600000]
//!     [--users 200] [--client raw|ureq] [--log]
//!
//! Clients and server share the machine, so each row also shows the CPU the
//! client threads used (read from /proc), to tell their cost from the server's.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use authlite::db::{new_id, now, Pool};
use authlite::settings::Settings;
use authlite::store::orgs;
use authlite::store::users::{self, Status, User};

const USAGE: &str = "cargo run --release --example loadtest -- [--clients 64] [--seconds 10]
    [--scenario login|refresh|me|mixed|startup|all] [--iterations 600000]
    [--users 200] [--client raw|ureq] [--log]";
const PASSWORD: &str = "load test pass phrase";
/// Kernel clock ticks per second, the unit of CPU times in /proc (100 on Linux x86).
const CLOCK_TICKS: f64 = 100.0;

#[derive(Clone, Copy, PartialEq)]
enum ClientKind {
    Raw,
    Ureq,
}

struct Options {
    clients: usize,
    seconds: u64,
    scenario: String,
    iterations: u32,
    users: usize,
    client: ClientKind,
    log: bool,
}

fn main() {
    let opts = match parse_options(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(message) => {
            eprintln!("loadtest: {message}");
            std::process::exit(2);
        }
    };
    if opts.log {
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    }
    print_header(&opts);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let addr = start_server(&dir.path().join("load.db"), &opts);
    let bench = Bench { addr, opts: &opts };
    let scenarios = match opts.scenario.as_str() {
        "all" => vec!["login", "refresh", "me", "mixed", "startup"],
        one => vec![one],
    };
    for scenario in scenarios {
        match scenario {
            "login" => bench.login_vs_raw(),
            "refresh" => print_rows(&[bench.alone("refresh", opts.clients)]),
            "me" => print_rows(&[bench.alone("me", opts.clients)]),
            "mixed" => bench.mixed(),
            "startup" => startup(&dir.path().join("startup.db"), opts.iterations),
            other => {
                eprintln!("loadtest: unknown scenario {other:?} (login, refresh, me, mixed, startup or all)");
                std::process::exit(2);
            }
        }
    }
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options {
        clients: 64,
        seconds: 10,
        scenario: "all".into(),
        iterations: authlite::settings::DEFAULT_PBKDF2_ITERATIONS,
        users: 200,
        client: ClientKind::Raw,
        log: false,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--clients" => opts.clients = number(value()?)?.max(1) as usize,
            "--seconds" => opts.seconds = number(value()?)?.max(1),
            "--scenario" => opts.scenario = value()?,
            "--iterations" => opts.iterations = number(value()?)? as u32,
            "--users" => opts.users = number(value()?)?.max(1) as usize,
            "--client" => {
                opts.client = match value()?.as_str() {
                    "raw" => ClientKind::Raw,
                    "ureq" => ClientKind::Ureq,
                    other => return Err(format!("--client: {other:?} is not raw or ureq")),
                }
            }
            "--log" => opts.log = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(opts)
}

fn print_header(opts: &Options) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |m| m.trim_start_matches([' ', '\t', ':']));
    println!(
        "authlite loadtest: {} cores ({model}); pbkdf2 {} iterations; {} s per run; {} client{}",
        cores(),
        opts.iterations,
        opts.seconds,
        if opts.client == ClientKind::Raw {
            "raw TCP"
        } else {
            "ureq"
        },
        if opts.log {
            "; access log on (stderr)"
        } else {
            ""
        },
    );
    println!("load average before: {}", load_average());
}

fn cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---------------------------------------------------------------- the server

/// Seeds `users` users sharing one hash (hashing 200 passwords at 600,000
/// iterations would take longer than the runs), then serves on its own thread.
fn start_server(db: &Path, opts: &Options) -> SocketAddr {
    let pool = authlite::db::open(db).expect("open the database");
    seed(&pool, opts.users, opts.iterations);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = listener.local_addr().expect("a local address");
    let settings = Settings {
        pbkdf2_iterations: opts.iterations,
        ..Settings::default()
    };
    let (ready, started) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let state = authlite::app::AppState::new(pool, settings).expect("server state");
            let server = authlite::app::run(listener, state).expect("server start");
            let _ = ready.send(());
            server.await
        })
    });
    started.recv().expect("the server thread starts");
    addr
}

fn seed(pool: &Pool, count: usize, iterations: u32) {
    let phc = authlite::password::hash(PASSWORD, iterations).expect("a hash");
    let mut conn = pool.get().expect("a connection");
    let tx = conn.transaction().expect("a transaction");
    orgs::upsert(&tx, "load", "Load Test").expect("an org");
    for n in 0..count {
        let user = User {
            id: new_id(),
            email: email(n),
            name: format!("User {n}"),
            org_id: Some("load".into()),
            password_hash: Some(phc.clone()),
            status: Status::Active,
            created_at: now(),
        };
        users::insert(&tx, &user, now()).expect("a user");
    }
    tx.commit().expect("commit the seed");
}

fn email(n: usize) -> String {
    format!("user{n}@load.test")
}

// ---------------------------------------------------------------- scenarios

struct Bench<'a> {
    addr: SocketAddr,
    opts: &'a Options,
}

/// A set of client threads doing one kind of request, paced or flat out.
struct Group {
    name: String,
    clients: usize,
    kind: &'static str,
    pause: Duration,
}

impl Group {
    fn new(kind: &'static str, clients: usize) -> Group {
        Group {
            name: kind.to_string(),
            clients,
            kind,
            pause: Duration::ZERO,
        }
    }

    /// One request every 10 ms: a probe, not a load.
    fn probe(kind: &'static str) -> Group {
        Group {
            pause: Duration::from_millis(10),
            ..Group::new(kind, 1)
        }
    }

    fn named(mut self, name: &str) -> Group {
        self.name = name.to_string();
        self
    }
}

impl Bench<'_> {
    fn alone(&self, kind: &'static str, clients: usize) -> Stats {
        self.measure(vec![Group::new(kind, clients)]).remove(0)
    }

    /// Logins against the raw PBKDF2 rate of as many threads as the hashing pool has.
    fn login_vs_raw(&self) {
        let raw = self
            .measure(vec![Group::new("pbkdf2", cores()).named("raw pbkdf2")])
            .remove(0);
        let login = self.alone("login", self.opts.clients);
        print_rows(&[raw.clone(), login.clone()]);
        println!(
            "login / raw pbkdf2 = {:.3}  (target >= 0.95)\n",
            login.rate() / raw.rate()
        );
    }

    /// Refresh and a /healthz probe without logins; then, while logins saturate
    /// the hashing pool, the probe alone, and refresh with the probe.
    fn mixed(&self) {
        let clients = self.opts.clients;
        // Four per hashing thread keeps the pool busy without filling its queue (16 per thread).
        let logins = || Group::new("login", cores() * 4).named("login (load)");
        let alone = self.measure(vec![
            Group::new("refresh", clients),
            Group::probe("healthz"),
        ]);
        let probed = self.measure(vec![
            Group::probe("healthz").named("healthz+logins"),
            logins(),
        ]);
        let loaded = self.measure(vec![
            Group::new("refresh", clients).named("refresh+logins"),
            Group::probe("healthz").named("healthz+both"),
            logins(),
        ]);
        let rows: Vec<Stats> = alone
            .iter()
            .chain(&probed)
            .chain(&loaded)
            .cloned()
            .collect();
        print_rows(&rows);
        println!(
            "/healthz p99 while logins saturate = {:.1} ms  (target < 20 ms)",
            ms(probed[0].percentile(0.99))
        );
        println!(
            "refresh under logins / alone = {:.3}  (target >= 0.5)\n",
            loaded[0].rate() / alone[0].rate()
        );
    }

    /// Runs every group at once for the set time; each client prepares (logs in) first.
    fn measure(&self, groups: Vec<Group>) -> Vec<Stats> {
        let total: usize = groups.iter().map(|g| g.clients).sum();
        let start = Barrier::new(total + 1);
        let run = Duration::from_secs(self.opts.seconds);
        let (results, cpu) = thread::scope(|s| {
            let handles: Vec<_> = groups
                .iter()
                .flat_map(|g| (0..g.clients).map(move |i| (g, i)))
                .map(|(g, i)| {
                    let start = &start;
                    s.spawn(move || self.client(g, i, start, run))
                })
                .collect();
            start.wait();
            let before = process_cpu();
            let results: Vec<Stats> = handles
                .into_iter()
                .map(|h| h.join().expect("a client"))
                .collect();
            (results, process_cpu() - before)
        });
        let mut merged: Vec<Stats> = groups.iter().map(|g| Stats::new(&g.name, run)).collect();
        let mut at = 0;
        for (group, stats) in groups.iter().zip(&mut merged) {
            for r in &results[at..at + group.clients] {
                stats.absorb(r);
            }
            stats.latencies_us.sort_unstable();
            at += group.clients;
        }
        let clients_cpu: f64 = merged.iter().map(|s| s.client_cpu).sum();
        merged[0].server_cpu = Some(cpu - clients_cpu);
        merged
    }

    fn client(&self, group: &Group, i: usize, start: &Barrier, run: Duration) -> Stats {
        let mut step = self.step(group.kind, i);
        start.wait();
        let cpu_before = thread_cpu();
        let began = Instant::now();
        let deadline = began + run;
        let mut stats = Stats::new(&group.name, run);
        while Instant::now() < deadline {
            let sent = Instant::now();
            let outcome = step();
            let done = Instant::now();
            // A request still in flight at the deadline does not count.
            if done <= deadline {
                stats.record(outcome, done - sent);
            }
            thread::sleep(group.pause);
        }
        stats.client_cpu = thread_cpu() - cpu_before;
        stats
    }

    /// The request loop body of one client; errors come back as their error_code.
    fn step(&self, kind: &str, i: usize) -> Box<dyn FnMut() -> Result<(), String> + '_> {
        let mut conn = Conn::new(self.opts.client, self.addr);
        let email = email(i % self.opts.users);
        match kind {
            "pbkdf2" => {
                let phc = authlite::password::hash(PASSWORD, self.opts.iterations).expect("a hash");
                Box::new(move || match authlite::password::verify(PASSWORD, &phc) {
                    true => Ok(()),
                    false => Err("MISMATCH".into()),
                })
            }
            "login" => Box::new(move || login(&mut conn, &email).map(drop)),
            "refresh" => {
                let mut token = login_until_ok(&mut conn, &email, "refreshToken");
                Box::new(move || {
                    let body = format!(r#"{{"refreshToken":"{token}"}}"#);
                    let reply = checked(conn.send("POST", "/user/refresh", None, Some(&body)))?;
                    token = json_str(&reply.body, "refreshToken").ok_or("NO_TOKEN")?;
                    Ok(())
                })
            }
            "me" => {
                let token = login_until_ok(&mut conn, &email, "accessToken");
                Box::new(move || {
                    checked(conn.send("GET", "/user/me", Some(&token), None)).map(drop)
                })
            }
            "healthz" => {
                Box::new(move || checked(conn.send("GET", "/healthz", None, None)).map(drop))
            }
            other => panic!("no such client kind {other}"),
        }
    }
}

fn login(conn: &mut Conn, email: &str) -> Result<Reply, String> {
    let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    checked(conn.send("POST", "/user/login", None, Some(&body)))
}

/// Logs in for a token, waiting out SERVER_BUSY while many clients start at once.
fn login_until_ok(conn: &mut Conn, email: &str, field: &str) -> String {
    for _ in 0..120 {
        if let Some(token) = login(conn, email)
            .ok()
            .and_then(|r| json_str(&r.body, field))
        {
            return token;
        }
    }
    panic!("{email} could not log in");
}

/// A 200 reply, or the error's code. A client honours Retry-After (up to 1 s)
/// as a real one would, instead of spinning on SERVER_BUSY.
fn checked(reply: io::Result<Reply>) -> Result<Reply, String> {
    let reply = reply.map_err(|e| format!("io: {}", e.kind()))?;
    if reply.status == 200 {
        return Ok(reply);
    }
    if let Some(secs) = reply.retry_after {
        thread::sleep(Duration::from_secs(secs.min(1)));
    }
    Err(json_str(&reply.body, "error_code").unwrap_or_else(|| format!("HTTP {}", reply.status)))
}

/// The string value of `"key":"…"` in a compact JSON body (tokens need no unescaping).
fn json_str(body: &str, key: &str) -> Option<String> {
    let start = body.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_string())
}

// ---------------------------------------------------------------- HTTP clients

struct Reply {
    status: u16,
    body: String,
    retry_after: Option<u64>,
}

/// One keep-alive connection: a hand-written HTTP/1.1 exchange, or a ureq agent.
enum Conn {
    Raw(SocketAddr, Option<BufReader<TcpStream>>),
    Ureq(String, ureq::Agent),
}

impl Conn {
    fn new(kind: ClientKind, addr: SocketAddr) -> Conn {
        match kind {
            ClientKind::Raw => Conn::Raw(addr, None),
            ClientKind::Ureq => {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                Conn::Ureq(format!("http://{addr}"), agent)
            }
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> io::Result<Reply> {
        match self {
            Conn::Raw(addr, stream) => {
                let result = raw_exchange(*addr, stream, method, path, bearer, body);
                if result.is_err() {
                    *stream = None;
                }
                result
            }
            Conn::Ureq(base, agent) => ureq_exchange(agent, &format!("{base}{path}"), bearer, body),
        }
    }
}

fn raw_exchange(
    addr: SocketAddr,
    stream: &mut Option<BufReader<TcpStream>>,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> io::Result<Reply> {
    if stream.is_none() {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        *stream = Some(BufReader::new(s));
    }
    let reader = stream.as_mut().expect("connected above");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if let Some(token) = bearer {
        request += &format!("Authorization: Bearer {token}\r\n");
    }
    if let Some(body) = body {
        request += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    } else {
        request += "\r\n";
    }
    reader.get_mut().write_all(request.as_bytes())?;
    read_reply(reader)
}

/// Reads one response whose body has a Content-Length (all of authlite's JSON answers do).
fn read_reply(reader: &mut BufReader<TcpStream>) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("status line"))?;
    let (mut length, mut retry_after) = (None, None);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in the headers"));
        }
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = value.parse().ok();
        }
    }
    let mut body = vec![0; length.ok_or_else(|| bad("no Content-Length"))?];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
    Ok(Reply {
        status,
        body,
        retry_after,
    })
}

fn ureq_exchange(
    agent: &ureq::Agent,
    url: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> io::Result<Reply> {
    let result = match (body, bearer) {
        (Some(body), _) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
        (None, Some(token)) => agent
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call(),
        (None, None) => agent.get(url).call(),
    };
    let mut response = result.map_err(io::Error::other)?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Ok(Reply {
        status: response.status().as_u16(),
        body: response
            .body_mut()
            .read_to_string()
            .map_err(io::Error::other)?,
        retry_after,
    })
}

// ---------------------------------------------------------------- figures

#[derive(Clone)]
struct Stats {
    name: String,
    clients: usize,
    run: Duration,
    latencies_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
    client_cpu: f64,
    /// CPU seconds of everything else in the process during the run (first group only).
    server_cpu: Option<f64>,
}

impl Stats {
    fn new(name: &str, run: Duration) -> Stats {
        Stats {
            name: name.to_string(),
            clients: 0,
            run,
            latencies_us: Vec::new(),
            errors: BTreeMap::new(),
            client_cpu: 0.0,
            server_cpu: None,
        }
    }

    fn record(&mut self, outcome: Result<(), String>, took: Duration) {
        match outcome {
            Ok(()) => self
                .latencies_us
                .push(took.as_micros().min(u32::MAX as u128) as u32),
            Err(code) => *self.errors.entry(code).or_default() += 1,
        }
    }

    fn absorb(&mut self, other: &Stats) {
        self.clients += 1;
        self.latencies_us.extend(&other.latencies_us);
        for (code, n) in &other.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
        self.client_cpu += other.client_cpu;
    }

    /// Successful requests per second: errors are failures, not throughput.
    fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.run.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let n = self.latencies_us.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let index = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        Duration::from_micros(u64::from(self.latencies_us[index]))
    }

    fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "0".into();
        }
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        parts.join(", ")
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_rows(rows: &[Stats]) {
    println!(
        "{:<16} {:>7} {:>10} {:>9} {:>9} {:>9} {:>11} {:>11}  errors",
        "scenario", "clients", "ok/s", "p50 ms", "p90 ms", "p99 ms", "client cpu", "other cpu"
    );
    for s in rows {
        let secs = s.run.as_secs_f64();
        let other = s
            .server_cpu
            .map_or(String::new(), |c| format!("{:.2}", c / secs));
        println!(
            "{:<16} {:>7} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>11.2} {:>11}  {}",
            s.name,
            s.clients,
            s.rate(),
            ms(s.percentile(0.50)),
            ms(s.percentile(0.90)),
            ms(s.percentile(0.99)),
            s.client_cpu / secs,
            other,
            s.errors_text()
        );
    }
}

/// CPU seconds this thread has run: the scheduler's exact count, in nanoseconds.
fn thread_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|f| f.parse::<f64>().ok());
    ns.unwrap_or(0.0) / 1e9
}

/// CPU seconds (user + system) of the whole process, all threads, in clock ticks.
fn process_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / CLOCK_TICKS
}

// ---------------------------------------------------------------- the release binary

/// Starts target/release/authlite a few times: time to the first /healthz answer,
/// idle RSS, and the binary's size.
fn startup(db: &Path, iterations: u32) {
    let exe = std::env::current_exe().expect("own path");
    let Some(binary) = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("authlite"))
    else {
        return;
    };
    let Ok(meta) = std::fs::metadata(&binary) else {
        println!(
            "startup: {} is missing; run cargo build --release first\n",
            binary.display()
        );
        return;
    };
    println!(
        "release binary {}: {:.2} MB",
        binary.display(),
        meta.len() as f64 / 1e6
    );
    println!(
        "{:<22} {:>16} {:>14}",
        "start", "first answer ms", "idle RSS MB"
    );
    for run in 0..5 {
        let label = if run == 0 {
            "new database"
        } else {
            "existing database"
        };
        match start_binary(&binary, db, iterations) {
            Ok((first, rss_kb)) => println!(
                "{label:<22} {:>16.1} {:>14.1}",
                ms(first),
                rss_kb as f64 / 1024.0
            ),
            Err(e) => println!("{label:<22} failed: {e}"),
        }
    }
    println!("(idle RSS read 1 s after the first answer, from /proc/PID/status VmRSS)\n");
}

fn start_binary(binary: &Path, db: &Path, iterations: u32) -> io::Result<(Duration, u64)> {
    let began = Instant::now();
    let mut child = Command::new(binary)
        .arg("--db")
        .arg(db)
        .args([
            "--pbkdf2-iterations",
            &iterations.to_string(),
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let result = first_answer(&mut child, began);
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn first_answer(child: &mut Child, began: Instant) -> io::Result<(Duration, u64)> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| io::Error::other(format!("unexpected first line {line:?}")))?;
    let mut conn = Conn::new(ClientKind::Raw, addr);
    let first = loop {
        if matches!(conn.send("GET", "/healthz", None, None), Ok(r) if r.status == 200) {
            break began.elapsed();
        }
        if began.elapsed() > Duration::from_secs(10) {
            return Err(io::Error::other("no answer within 10 s"));
        }
        thread::sleep(Duration::from_millis(1));
    };
    drop(conn);
    thread::sleep(Duration::from_secs(1));
    Ok((first, vm_rss_kb(child.id())))
}

fn vm_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
