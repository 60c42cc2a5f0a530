//! `--scenario copy`: `authlite copy` of a large database (100,000 users and
//! 1,000,000 sessions) while a server on it refreshes flat out, into a new
//! SQLite file and (with `--postgres ADMIN_URL`) into a fresh PostgreSQL
//! database: rows per second of each copy (targets 100,000/s and 50,000/s)
//! and the refresh p99 meanwhile (target < 50 ms), beside the p99 of the same
//! load before the copies.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use authlite::store::{copy, Database};

use crate::http::{checked, json_str, login_until_ok, Conn};
use crate::server::{email, seed, serve};
use crate::stats::{ms, Stats};
use crate::Options;

const USERS: usize = 100_000;
const SESSIONS: usize = 1_000_000;

pub fn copy(opts: &Options, dir: &Path) {
    let source = dir.join("copy-source.db");
    let built = Instant::now();
    let db = Database::sqlite(&source).expect("open the source");
    seed(&db, opts.users, opts.iterations);
    db.close();
    drop(db);
    bulk(&source);
    println!(
        "copy: built {USERS} users and {SESSIONS} sessions in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let addr = serve(Database::sqlite(&source).expect("open the source"), opts);
    let from = source.display().to_string();
    let baseline = refreshing(addr, opts, || thread::sleep(Duration::from_secs(5)));
    println!(
        "refresh alone: {:.0}/s, p99 {:.1} ms ({} clients)",
        baseline.rate(),
        ms(baseline.percentile(0.99)),
        opts.clients
    );
    let sqlite = dir.join("copy-dest.db").display().to_string();
    measure("SQLite", opts, addr, &from, &sqlite, 100_000.0);
    if let Some(admin) = &opts.postgres {
        let name = format!("authlite_copy_bench_{}", std::process::id());
        admin_sql(admin, &format!("CREATE DATABASE {name}"));
        let url = with_database(admin, &name);
        measure("PostgreSQL", opts, addr, &from, &url, 50_000.0);
        admin_sql(
            admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }
    println!();
}

fn measure(
    engine: &str,
    opts: &Options,
    addr: std::net::SocketAddr,
    from: &str,
    to: &str,
    goal: f64,
) {
    let mut copied = None;
    let started = Instant::now();
    let stats = refreshing(addr, opts, || copied = Some(copy::copy(from, to)));
    let took = started.elapsed().as_secs_f64();
    let copied = match copied {
        Some(Ok(copied)) => copied,
        Some(Err(e)) => panic!("the copy to {engine} failed: {e}"),
        None => unreachable!("the copy ran"),
    };
    let rows = copied.rows();
    println!(
        "copy to {engine}: {rows} rows in {took:.1} s = {:.0} rows/s (target >= {goal:.0}); \
         refresh meanwhile {:.0}/s, p99 {:.1} ms (target < 50 ms), errors {}",
        rows as f64 / took,
        stats.rate(),
        ms(stats.percentile(0.99)),
        stats.errors_text()
    );
}

/// `opts.clients` clients refreshing flat out while `work` runs.
fn refreshing(addr: std::net::SocketAddr, opts: &Options, work: impl FnOnce()) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..opts.clients)
        .map(|i| {
            let (stop, kind, users) = (Arc::clone(&stop), opts.client, opts.users);
            thread::spawn(move || {
                let mut conn = Conn::new(kind, addr);
                let mut token = login_until_ok(&mut conn, &email(i % users), "refreshToken");
                let mut stats = Stats::new("refresh", Duration::ZERO);
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"refreshToken":"{token}"}}"#);
                    let started = Instant::now();
                    let reply = checked(conn.send("POST", "/user/refresh", None, Some(&body)));
                    let outcome = reply.and_then(|r| {
                        token = json_str(&r.body, "refreshToken").ok_or("NO_TOKEN")?;
                        Ok(())
                    });
                    stats.record(outcome, started.elapsed());
                }
                stats
            })
        })
        .collect();
    // Every client has logged in before the clock starts.
    thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    work();
    let mut all = Stats::new("refresh", started.elapsed());
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        all.absorb(&client.join().expect("a refresh client"));
    }
    all
}

/// The bulk of the rows, straight into the file in one transaction: users
/// without passwords, and sessions spread over them.
fn bulk(path: &Path) {
    let mut conn = rusqlite::Connection::open(path).expect("open the source");
    conn.execute_batch("PRAGMA synchronous = OFF")
        .expect("pragma");
    let tx = conn.transaction().expect("a transaction");
    let now = authlite::clock::now() as i64;
    {
        let mut user = tx
            .prepare(
                "INSERT INTO users (id, email, name, org_id, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'load', 'active', ?4, ?4)",
            )
            .expect("prepare");
        for n in 0..USERS {
            let id = format!("bulk-user-{n:08}");
            let email = format!("bulk{n}@load.test");
            user.execute(rusqlite::params![id, email, format!("Bulk {n}"), now])
                .expect("a user");
        }
        let mut session = tx
            .prepare(
                "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at,
                                       user_agent, ip, refresh_jti, refresh_hash)
                 VALUES (?1, ?2, ?3, ?3, ?4, 'loadtest', '127.0.0.1', ?5, ?6)",
            )
            .expect("prepare");
        for n in 0..SESSIONS {
            let id = format!("bulk-session-{n:010}");
            let user = format!("bulk-user-{:08}", n % USERS);
            let jti = format!("{n:032x}");
            let digest = [(n % 251) as u8; 32];
            session
                .execute(rusqlite::params![
                    id,
                    user,
                    now,
                    now + 2_592_000,
                    jti,
                    &digest[..]
                ])
                .expect("a session");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
}

fn admin_sql(admin: &str, sql: &str) {
    let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("the admin URL");
    client.batch_execute(sql).expect("an admin statement");
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}
