//! Load benchmark: starts the real server in-process on a temporary database and
//! drives it with keep-alive clients on plain threads.
//!
//! cargo run --release --example loadtest -- [--clients 64] [--seconds 10]
//!     [--scenario login|refresh|me|mixed|sustained|startup|postgres|admin|
//!                 login-audit|audit-size|forgot|mail-sender|all|bare-server]
//!     [--sustain 60] [--interval 10] [--iterations 600000] [--users 200]
//!     [--client raw|ureq] [--bare-bytes N] [--log] [--postgres ADMIN_URL]
//!     [--admin-clients 4]
//!
//! `--scenario postgres` (part of `all` when `--postgres` is given) measures
//! login, refresh and /user/me on SQLite, then on two instances sharing a
//! fresh database made through ADMIN_URL (a role that may create databases,
//! e.g. postgres://authlite:authlite@127.0.0.1:5432/postgres?sslmode=disable),
//! and drops that database at the end. `admin` and `audit-size` also run on
//! a fresh PostgreSQL database when `--postgres` is given.
//!
//! `forgot` and `mail-sender` (SPEC §12) run an SMTP server of Python's
//! aiosmtpd (tests/smtp/sink.py; `bash .ci/smtp-setup`) on loopback.
//!
//! Clients and server share the machine, so each row also shows the CPU the
//! client threads used (read from /proc), to tell their cost from the server's.

mod admin;
mod audit;
mod bench;
mod copy;
mod http;
mod mail;
mod pgbench;
mod postgres;
mod server;
mod startup;
mod stats;
mod sustained;

use std::io::Write;
use std::thread;
use std::time::Duration;

use bench::Bench;
use http::{checked, login_until_ok, ClientKind, Conn};
use server::{bare_body, email, start_bare, start_server};

const USAGE: &str = "cargo run --release --example loadtest -- [--clients 64] [--seconds 10]
    [--scenario login|refresh|me|mixed|sustained|startup|postgres|admin|
                login-audit|audit-size|forgot|mail-sender|all|bare-server]
    [--sustain 60] [--interval 10] [--iterations 600000] [--users 200]
    [--client raw|ureq] [--bare-bytes N] [--log] [--postgres ADMIN_URL]
    [--admin-clients 4]";

pub struct Options {
    clients: usize,
    seconds: u64,
    scenario: String,
    iterations: u32,
    users: usize,
    client: ClientKind,
    log: bool,
    /// Length of the sustained refresh run, and of its reporting intervals.
    sustain: u64,
    interval: u64,
    /// Size of the bare handler's answer for bare-server (0: that of /user/me).
    bare_bytes: usize,
    /// A PostgreSQL URL whose role may create databases, for the postgres scenario.
    postgres: Option<String>,
    /// Clients of the admin scenario (an admin API has few callers at once).
    admin_clients: usize,
}

fn main() {
    let opts = match parse_options(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(message) => {
            eprintln!("loadtest: {message}");
            std::process::exit(2);
        }
    };
    // Held to the end: the log thread's handle, as the binary holds it.
    let _log = opts.log.then(authlite::logging::init);
    print_header(&opts);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("load.db");
    let addrs = [start_server(&db, &opts)];
    let bench = Bench {
        addrs: &addrs,
        bare: None,
        db: Some(&db),
        admin_token: None,
        opts: &opts,
    };
    let scenarios = match opts.scenario.as_str() {
        "all" => {
            let mut all = vec!["login", "refresh", "me", "mixed", "sustained", "startup"];
            all.extend(opts.postgres.as_ref().map(|_| "postgres"));
            all.extend(["admin", "login-audit", "audit-size"]);
            all
        }
        one => vec![one],
    };
    for scenario in scenarios {
        match scenario {
            "login" => bench.login_vs_raw(),
            "refresh" => bench.refresh(),
            "me" => bench.me_vs_bare(),
            "mixed" => bench.mixed(),
            "sustained" => bench.sustained(),
            "startup" => startup::startup(&dir.path().join("startup.db"), opts.iterations),
            "postgres" => postgres::compare(&bench, opts.postgres.as_deref().unwrap_or_default()),
            "admin" => admin::admin(&opts, dir.path()),
            "login-audit" => audit::login_audit(&opts, dir.path()),
            "audit-size" => audit::audit_size(&opts, dir.path()),
            "bare-server" => serve_bare(&bench),
            "copy" => copy::copy(&opts, dir.path()),
            "forgot" => mail::forgot(&opts, dir.path()),
            "mail-sender" => mail::sender(&opts, dir.path()),
            other => {
                eprintln!("loadtest: unknown scenario {other:?} (login, refresh, me, mixed, sustained, startup, postgres, admin, login-audit, audit-size, forgot, mail-sender, all or bare-server)");
                std::process::exit(2);
            }
        }
    }
}

/// Only the bare handler, for an outside load generator (benches/pocketbase.sh
/// runs wrk at it): prints its URL, then serves for --seconds.
fn serve_bare(bench: &Bench) {
    let bytes = match bench.opts.bare_bytes {
        0 => {
            let mut conn = Conn::new(ClientKind::Raw, bench.addr(0));
            let token = login_until_ok(&mut conn, &email(0), "accessToken");
            checked(conn.send("GET", "/user/me", Some(&token), None)).map_or(150, |r| r.body.len())
        }
        n => n,
    };
    let addr = start_bare(bare_body(bytes));
    println!(
        "bare handler http://{addr}/bare ({bytes} bytes) for {} s",
        bench.opts.seconds
    );
    let _ = std::io::stdout().flush();
    thread::sleep(Duration::from_secs(bench.opts.seconds));
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
        sustain: 60,
        interval: 10,
        bare_bytes: 0,
        postgres: None,
        admin_clients: 4,
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
            "--sustain" => opts.sustain = number(value()?)?.max(1),
            "--interval" => opts.interval = number(value()?)?.max(1),
            "--bare-bytes" => opts.bare_bytes = number(value()?)? as usize,
            "--postgres" => opts.postgres = Some(value()?),
            "--admin-clients" => opts.admin_clients = number(value()?)?.max(1) as usize,
            "--log" => opts.log = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if opts.scenario == "postgres" && opts.postgres.is_none() {
        return Err("--scenario postgres needs --postgres ADMIN_URL".into());
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

pub fn cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
