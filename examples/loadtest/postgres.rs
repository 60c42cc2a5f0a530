//! PostgreSQL mode: login, refresh and /user/me on the usual SQLite server,
//! then on two authlite instances sharing one fresh PostgreSQL database (made
//! through the admin URL, dropped at the end), the clients spread round-robin
//! over them; one table puts each figure beside the other. pgbench runs the
//! refresh's one statement alone right before the instances' refresh run (so
//! that the machine drifts little between the two), and the refresh rate is
//! shown beside it.

use postgres::{Client, NoTls};

use authlite::store::{Database, Synchronous};

use crate::bench::{Bench, Group};
use crate::pgbench;
use crate::server::{seed, serve};
use crate::stats::{ms, print_rows, Stats};

/// The runs, each alone with every client: the client kinds of `Bench::step`.
const RUNS: [(&str, &str); 3] = [
    ("login", "login"),
    ("refresh", "refresh"),
    ("me", "/user/me"),
];
/// The order of the runs on PostgreSQL: refresh first, next to pgbench's run.
const PG_ORDER: [usize; 3] = [1, 0, 2];

/// A database made for this run, dropped (with its connections) when this is.
pub struct Fresh {
    admin: String,
    name: String,
    pub url: String,
}

impl Fresh {
    pub fn create(admin: &str) -> Result<Fresh, String> {
        let name = format!("authlite_bench_{}", &authlite::ids::new_id()[..16]);
        admin_sql(admin, &format!("CREATE DATABASE {name}"))?;
        Ok(Fresh {
            admin: admin.to_string(),
            url: with_database(admin, &name),
            name,
        })
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        match admin_sql(&self.admin, &sql) {
            Ok(()) => println!("dropped database {}", self.name),
            Err(e) => eprintln!("loadtest: could not drop database {}: {e}", self.name),
        }
    }
}

/// One statement on a connection of its own (no TLS: the admin URL needs
/// `sslmode=disable` or `prefer`).
fn admin_sql(admin: &str, sql: &str) -> Result<(), String> {
    let mut client =
        Client::connect(admin, NoTls).map_err(|e| format!("cannot connect: {}", cause(&e)))?;
    client
        .batch_execute(sql)
        .map_err(|e| format!("{sql}: {}", cause(&e)))
}

/// The server's own words where it gave some (the library's are only "db error").
fn cause(e: &postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |db| db.to_string())
}

/// `url` with its database name replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[host_start..]
        .find('/')
        .map_or(base.len(), |i| host_start + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out = format!("{out}?{query}");
    }
    out
}

/// Two instances on a fresh, seeded database at `admin`'s server, each with its
/// own pool and state, as two processes behind a load balancer would have.
/// Before they start (their pools and pgbench's clients together could pass
/// the server's max_connections), pgbench runs the refresh statement alone.
fn start_pair(
    fresh: &Fresh,
    sqlite: &Bench,
) -> Result<([std::net::SocketAddr; 2], Option<f64>), String> {
    let open = || Database::open(&fresh.url, Synchronous::Normal);
    let first = open()?;
    println!(
        "PostgreSQL: database {}, 2 instances in this process, clients round-robin",
        first.name()
    );
    seed(&first, sqlite.opts.users, sqlite.opts.iterations);
    let (clients, seconds) = (sqlite.opts.clients, sqlite.opts.seconds);
    let pgbench = match pgbench::refresh_rate(&fresh.url, clients, seconds) {
        Ok(rate) => {
            println!(
                "pgbench, the refresh UPDATE alone: {rate:.1} tps ({clients} clients, {seconds} s)"
            );
            Some(rate)
        }
        Err(e) => {
            println!("pgbench: {e}");
            None
        }
    };
    let second = open()?;
    Ok((
        [serve(first, sqlite.opts), serve(second, sqlite.opts)],
        pgbench,
    ))
}

/// The same runs on `sqlite` (one instance) and on PostgreSQL (two).
pub fn compare(sqlite: &Bench, admin: &str) {
    let fresh = match Fresh::create(admin) {
        Ok(fresh) => fresh,
        Err(e) => return println!("postgres: cannot make a database: {e}\n"),
    };
    let lite = runs(sqlite, "sqlite", [0, 1, 2]);
    let (addrs, pgbench) = match start_pair(&fresh, sqlite) {
        Ok(started) => started,
        Err(e) => return println!("postgres: cannot start the instances: {e}\n"),
    };
    let postgres = Bench {
        addrs: &addrs,
        bare: None,
        db: None,
        ..*sqlite
    };
    let pg = runs(&postgres, "pg", PG_ORDER);
    print_table(&lite, &pg);
    if let Some(pgbench) = pgbench {
        println!(
            "refresh on 2 instances / pgbench's refresh UPDATE: {:.3}\n",
            pg[1].rate() / pgbench
        );
    }
}

/// Each of `RUNS` alone in `order`, its rows printed as it ends; the figures
/// in the order of `RUNS`.
fn runs(bench: &Bench, engine: &str, order: [usize; 3]) -> Vec<Stats> {
    let mut measured: Vec<(usize, Stats)> = order
        .iter()
        .map(|&i| {
            let (kind, label) = RUNS[i];
            let group = Group::new(kind, bench.opts.clients).named(&format!("{engine} {label}"));
            let stats = bench.measure(vec![group]).remove(0);
            print_rows(std::slice::from_ref(&stats));
            (i, stats)
        })
        .collect();
    measured.sort_by_key(|(i, _)| *i);
    measured.into_iter().map(|(_, stats)| stats).collect()
}

fn print_table(lite: &[Stats], pg: &[Stats]) {
    println!(
        "\n{:<10} {:>28}   {:>28}   {:>26}",
        "", "SQLite, 1 instance", "PostgreSQL, 2 instances", "PostgreSQL / SQLite"
    );
    let head = format!("{:>10} {:>8} {:>8}", "ok/s", "p50 ms", "p99 ms");
    println!(
        "{:<10} {head}   {head}   {:>8} {:>8} {:>8}",
        "", "ok/s", "p50", "p99"
    );
    for (((_, label), l), p) in RUNS.iter().zip(lite).zip(pg) {
        let figures = |s: &Stats| [s.rate(), ms(s.percentile(0.50)), ms(s.percentile(0.99))];
        let (l, p) = (figures(l), figures(p));
        println!(
            "{label:<10} {:>10.1} {:>8.2} {:>8.2}   {:>10.1} {:>8.2} {:>8.2}   {:>8.3} {:>8.3} {:>8.3}",
            l[0],
            l[1],
            l[2],
            p[0],
            p[1],
            p[2],
            p[0] / l[0],
            p[1] / l[1],
            p[2] / l[2]
        );
    }
    println!();
}
