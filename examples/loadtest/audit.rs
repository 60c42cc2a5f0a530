//! What the audit log costs. `login-audit`: logins with the log on beside
//! logins with it off, in alternating runs, and a refresh writing no event.
//! `audit-size`: the bytes of 90 days of logins (90,000 `login.succeeded`
//! and a tenth as many `login.failed`) on SQLite and on PostgreSQL.
//!
//! "Off" is the same server on a database of its own whose `audit_events`
//! has a trigger that drops every insert (`RAISE(IGNORE)`): nothing in the
//! server changes, and the row, its three indexes and their bytes in the log
//! are what is taken away. Building the event costs a few microseconds and
//! stays in both.

use std::path::Path;

use authlite::clock::now;
use authlite::ids::new_id;
use authlite::store::{AuditEvent, Database, StoreError, Synchronous};
use rusqlite::Connection;
use serde_json::json;

use crate::admin::verdict;
use crate::bench::{Bench, Group};
use crate::cores;
use crate::http::{checked, json_str, login_until_ok, Conn};
use crate::postgres::Fresh;
use crate::server::{email, start_server};
use crate::stats::{print_rows, Stats};
use crate::Options;

const RATIO_GOAL: f64 = 0.97;
/// Alternating pairs of runs (off, on).
const ROUNDS: usize = 2;
/// Refreshes in a row in the check that they write no event.
const REFRESHES: usize = 500;
/// 90 days of 1,000 logins a day, and one failure for every ten of them.
const SUCCEEDED: usize = 90_000;
const FAILED: usize = 9_000;
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn sqlite(path: &Path) -> Result<Connection, String> {
    Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn count(path: &Path, kind: &str) -> Result<i64, String> {
    sqlite(path)?
        .query_row(
            "SELECT count(*) FROM audit_events WHERE type = ?1",
            [kind],
            |row| row.get(0),
        )
        .map_err(|e| e.to_string())
}

/// Logins (four clients per hashing thread: the pool busy, its queue never
/// full) with the audit log off and on, alternating.
pub fn login_audit(opts: &Options, dir: &Path) {
    let (on_db, off_db) = (dir.join("audit-on.db"), dir.join("audit-off.db"));
    let on = start_server(&on_db, opts);
    let off = start_server(&off_db, opts);
    let dropped = sqlite(&off_db).and_then(|c| {
        c.execute_batch(
            "CREATE TRIGGER loadtest_audit_off BEFORE INSERT ON audit_events
             BEGIN SELECT RAISE(IGNORE); END;",
        )
        .map_err(|e| e.to_string())
    });
    if let Err(e) = dropped {
        return println!("login-audit: cannot turn the log off: {e}\n");
    }
    let clients = cores() * 4;
    let bench = |addr| Bench {
        addrs: std::slice::from_ref(addr),
        bare: None,
        db: None,
        admin_token: None,
        opts,
    };
    let (mut offs, mut ons): (Vec<Stats>, Vec<Stats>) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let run = |addr, name: String| {
            let stats = bench(addr).measure(vec![Group::new("login", clients).named(&name)]);
            print_rows(&stats);
            stats[0].clone()
        };
        offs.push(run(&off, format!("audit off #{round}")));
        ons.push(run(&on, format!("audit on #{round}")));
    }
    let sum = |runs: &[Stats]| runs.iter().map(Stats::rate).sum::<f64>();
    let ratio = sum(&ons) / sum(&offs);
    println!(
        "login with the audit log / without = {ratio:.3}  (goal >= {RATIO_GOAL}) {}; rounds {}",
        verdict(ratio >= RATIO_GOAL),
        ons.iter()
            .zip(&offs)
            .map(|(a, b)| format!("{:.3}", a.rate() / b.rate()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match (
        count(&on_db, "login.succeeded"),
        count(&off_db, "login.succeeded"),
    ) {
        (Ok(on), Ok(off)) => println!("login.succeeded events: {on} with the log on, {off} off"),
        (Err(e), _) | (_, Err(e)) => println!("cannot count events: {e}"),
    }
    match refresh_writes_nothing(opts, on, &on_db) {
        Ok(line) => println!("{line}\n"),
        Err(e) => println!("refresh check failed: {e}\n"),
    }
}

/// One session rotated REFRESHES times in a row: the audit log's row count
/// before and after.
fn refresh_writes_nothing(
    opts: &Options,
    addr: std::net::SocketAddr,
    db: &Path,
) -> Result<String, String> {
    let mut conn = Conn::new(opts.client, addr);
    let mut token = login_until_ok(&mut conn, &email(0), "refreshToken");
    let total = |db: &Path| -> Result<i64, String> {
        sqlite(db)?
            .query_row("SELECT count(*) FROM audit_events", [], |row| row.get(0))
            .map_err(|e| e.to_string())
    };
    let before = total(db)?;
    for _ in 0..REFRESHES {
        let body = format!(r#"{{"refreshToken":"{token}"}}"#);
        let reply = checked(conn.send("POST", "/user/refresh", None, Some(&body)))?;
        token = json_str(&reply.body, "refreshToken").ok_or("no refreshToken")?;
    }
    let after = total(db)?;
    Ok(format!(
        "{REFRESHES} successful refreshes: audit events {before} -> {after} ({})",
        match after == before {
            true => "none written",
            false => "WRITTEN",
        }
    ))
}

/// A login.succeeded or login.failed event as the login writes it.
fn event(n: usize, failed: bool) -> AuditEvent {
    let user_id = format!("{:032x}", n % 1000);
    let ip = format!("198.51.{}.{}", n / 250 % 250, n % 250);
    let at = now().saturating_sub((n as u64) * 86);
    let event = match failed {
        false => AuditEvent::new(
            "login.succeeded",
            format!("user:{user_id}"),
            at,
            json!({"method": "password", "amr": ["pwd"], "sid": new_id()}),
        ),
        true => AuditEvent::new(
            "login.failed",
            "system",
            at,
            json!({"email": format!("someone{}@example.com", n % 1000), "code": "INVALID_PASSWORD"}),
        ),
    };
    AuditEvent {
        ip: Some(ip),
        user_agent: Some(USER_AGENT.into()),
        ..event.user(&user_id)
    }
}

fn append(db: &Database, from: usize, to: usize, failed: bool) -> Result<(), StoreError> {
    db.transaction(|store| {
        for n in from..to {
            store.append_event(&event(n, failed))?;
        }
        Ok(())
    })
}

/// The store's bytes, as `measure` reads them, after each step of 90 days' events.
fn grow(db: &Database, engine: &str, measure: &dyn Fn() -> Result<u64, String>) {
    let steps = [
        ("login.succeeded", SUCCEEDED, false),
        ("login.failed", FAILED, true),
    ];
    let result = (|| -> Result<(), String> {
        let empty = measure()?;
        let mut last = empty;
        for (kind, n, failed) in steps {
            append(db, 0, n, failed).map_err(|e| e.to_string())?;
            let size = measure()?;
            println!(
                "{engine}: {n} {kind}: {:.1} MB more, {:.0} bytes an event",
                (size - last) as f64 / 1e6,
                (size - last) as f64 / n as f64
            );
            last = size;
        }
        println!(
            "{engine}: 90 days of 1,000 logins a day ({SUCCEEDED} succeeded + {FAILED} failed): {:.1} MB, {:.0} bytes an event\n",
            (last - empty) as f64 / 1e6,
            (last - empty) as f64 / (SUCCEEDED + FAILED) as f64
        );
        Ok(())
    })();
    if let Err(e) = result {
        println!("{engine}: audit size: {e}\n");
    }
}

/// On SQLite the file's size after a checkpoint and VACUUM (its pages in
/// use: table, indexes and all); on PostgreSQL pg_total_relation_size.
pub fn audit_size(opts: &Options, dir: &Path) {
    let path = dir.join("audit-size.db");
    match Database::sqlite(&path) {
        Ok(db) => grow(&db, "SQLite", &|| {
            let conn = sqlite(&path)?;
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
                .map_err(|e| e.to_string())?;
            std::fs::metadata(&path)
                .map(|m| m.len())
                .map_err(|e| e.to_string())
        }),
        Err(e) => println!("audit-size: cannot open SQLite: {e}"),
    }
    let Some(admin) = &opts.postgres else { return };
    let fresh = match Fresh::create(admin) {
        Ok(fresh) => fresh,
        Err(e) => return println!("audit-size: cannot make a PostgreSQL database: {e}\n"),
    };
    match Database::open(&fresh.url, Synchronous::Normal) {
        Ok(db) => grow(&db, "PostgreSQL", &|| {
            let mut client = postgres::Client::connect(&fresh.url, postgres::NoTls)
                .map_err(|e| e.to_string())?;
            client
                .batch_execute("VACUUM audit_events")
                .map_err(|e| e.to_string())?;
            let row = client
                .query_one("SELECT pg_total_relation_size('audit_events')", &[])
                .map_err(|e| e.to_string())?;
            Ok(row.get::<_, i64>(0) as u64)
        }),
        Err(e) => println!("audit-size: cannot open PostgreSQL: {e}"),
    }
}
