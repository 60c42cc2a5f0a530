//! The admin API over a big directory: 100,000 users (names, orgs, a few
//! roles, no password), one admin who logs in, then `GET /admin/users` with a
//! few substrings (some matching thousands, some a handful or none) and
//! paging through every user by cursor, 50 at a time. On SQLite, and with
//! `--postgres` also on a fresh PostgreSQL database.

use std::time::Instant;

use authlite::clock::now;
use authlite::ids::new_id;
use authlite::store::{Database, Status, StoreError, Synchronous, User};

use crate::bench::{Bench, Group};
use crate::http::{checked, json_str, login_until_ok, Conn};
use crate::postgres::Fresh;
use crate::server::{serve, PASSWORD};
use crate::stats::{ms, print_rows, Stats};
use crate::Options;

/// Users in the directory, the admin aside.
pub const USERS: usize = 100_000;
const ADMIN_EMAIL: &str = "admin@load.test";
const ORGS: usize = 20;
/// Users per page when paging by cursor.
const PAGE: u32 = 50;
const QUERY_GOAL_MS: f64 = 50.0;
const PAGE_GOAL_MS: f64 = 10.0;

/// The searches, as client kinds (`Bench::step`): after the colon, the `query`.
const QUERIES: [&str; 5] = [
    "admin-query:e",          // nearly everyone: the first page is found at once
    "admin-query:smith",      // a last name: 2,000 users
    "admin-query:anna.smith", // one first and last name: 50 users
    "admin-query:4242",       // a number in the email: a handful
    "admin-query:zzz",        // nobody: every row is looked at
];

const FIRST: [&str; 40] = [
    "anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo", "ida", "jonas", "karin",
    "lars", "mia", "nils", "olga", "paul", "quinn", "rosa", "sven", "tina", "uwe", "vera",
    "walter", "xenia", "yusuf", "zoe", "amir", "bea", "chen", "dora", "elif", "finn", "gina",
    "henrik", "iris", "jan", "kofi", "lena", "malik", "nora",
];
const LAST: [&str; 50] = [
    "smith", "jones", "garcia", "muller", "rossi", "dubois", "silva", "kowalski", "novak",
    "jensen", "larsen", "nagy", "popescu", "ivanova", "tanaka", "kim", "nguyen", "singh", "khan",
    "ali", "cohen", "levy", "martin", "bernard", "moreau", "fischer", "weber", "meyer", "wagner",
    "becker", "schulz", "hoffmann", "koch", "richter", "klein", "wolf", "neumann", "schwarz",
    "braun", "hofmann", "lange", "werner", "krause", "lehmann", "schmid", "schmitt", "walker",
    "young", "allen", "wright",
];

/// The n-th user of the directory: every first and last name pair 50 times,
/// spread over the orgs; every 1,000th holds the role `support`, every 50th
/// is inactive.
fn person(n: usize) -> User {
    let (first, last) = (FIRST[n % FIRST.len()], LAST[(n / FIRST.len()) % LAST.len()]);
    let org = n % ORGS;
    let capital = |s: &str| s[..1].to_uppercase() + &s[1..];
    User {
        id: new_id(),
        email: format!("{first}.{last}.{n}@org{org}.example"),
        name: format!("{} {}", capital(first), capital(last)),
        org_id: Some(format!("org{org}")),
        password_hash: None,
        status: match n % 50 {
            49 => Status::Inactive,
            _ => Status::Active,
        },
        created_at: now(),
        roles: match n % 1000 {
            999 => vec!["support".into()],
            _ => vec![],
        },
    }
}

/// How many users a search for `query` finds, by the server's rule (a
/// substring of the email or of the lower-cased name).
fn matches(query: &str) -> usize {
    (0..USERS)
        .map(person)
        .filter(|u| u.email.contains(query) || u.name.to_lowercase().contains(query))
        .count()
}

/// The directory and its admin, in one transaction through the store.
fn seed(db: &Database, iterations: u32) -> Result<f64, StoreError> {
    let began = Instant::now();
    let phc = authlite::password::hash(PASSWORD, iterations)
        .map_err(|e| StoreError::Failed(e.to_string()))?;
    db.transaction(|store| {
        for org in 0..ORGS {
            store.upsert_org(&format!("org{org}"), &format!("Org {org}"))?;
        }
        let admin = User {
            email: ADMIN_EMAIL.into(),
            name: "Load Admin".into(),
            password_hash: Some(phc),
            roles: vec!["admin".into()],
            org_id: None,
            ..person(0)
        };
        store.insert_user(&admin, now())?;
        for n in 0..USERS {
            store.insert_user(&person(n), now())?;
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(began.elapsed().as_secs_f64())
}

impl Bench<'_> {
    /// The admin client kinds: a search (`admin-query:Q`) or paging by cursor.
    pub fn admin_step(
        &self,
        kind: &str,
        mut conn: Conn,
    ) -> Option<Box<dyn FnMut() -> Result<(), String> + '_>> {
        let token = self.admin_token.expect("the admin's token");
        if let Some(query) = kind.strip_prefix("admin-query:") {
            let path = format!("/admin/users?query={query}");
            return Some(Box::new(move || {
                checked(conn.send("GET", &path, Some(token), None)).map(drop)
            }));
        }
        if kind != "admin-page" {
            return None;
        }
        let mut cursor: Option<String> = None;
        Some(Box::new(move || {
            let path = match &cursor {
                Some(c) => format!("/admin/users?limit={PAGE}&cursor={c}"),
                None => format!("/admin/users?limit={PAGE}"),
            };
            let reply = checked(conn.send("GET", &path, Some(token), None))?;
            // At the end, back to the first page.
            cursor = json_str(&reply.body, "nextCursor");
            Ok(())
        }))
    }
}

/// On SQLite, then (with `--postgres`) on PostgreSQL.
pub fn admin(opts: &Options, dir: &std::path::Path) {
    println!(
        "admin: {USERS} users in {ORGS} orgs, {} admin client{}, {} s per run",
        opts.admin_clients,
        if opts.admin_clients == 1 { "" } else { "s" },
        opts.seconds
    );
    for query in QUERIES {
        let query = &query["admin-query:".len()..];
        println!("  query={query:<12} matches {} users", matches(query));
    }
    let sqlite = Database::sqlite(&dir.join("admin.db")).map(|db| ("SQLite", db));
    run_on(opts, sqlite);
    if let Some(admin) = &opts.postgres {
        let fresh = match Fresh::create(admin) {
            Ok(fresh) => fresh,
            Err(e) => return println!("admin: cannot make a PostgreSQL database: {e}\n"),
        };
        let pg = Database::open(&fresh.url, Synchronous::Normal).map(|db| ("PostgreSQL", db));
        run_on(opts, pg);
    }
}

fn run_on(opts: &Options, db: Result<(&str, Database), String>) {
    let (engine, db) = match db {
        Ok(opened) => opened,
        Err(e) => return println!("admin: cannot open the database: {e}\n"),
    };
    match seed(&db, opts.iterations) {
        Ok(secs) => println!("{engine}: seeded {USERS} users in {secs:.1} s (one transaction)"),
        Err(e) => return println!("{engine}: cannot seed: {e}\n"),
    }
    let addrs = [serve(db, opts)];
    let mut conn = Conn::new(opts.client, addrs[0]);
    let token = login_until_ok(&mut conn, ADMIN_EMAIL, "accessToken");
    let bench = Bench {
        addrs: &addrs,
        bare: None,
        db: None,
        admin_token: Some(&token),
        opts,
    };
    let clients = opts.admin_clients;
    let mut rows: Vec<Stats> = QUERIES
        .iter()
        .map(|kind| {
            let name = format!("q={}", &kind["admin-query:".len()..]);
            let stats = bench.measure(vec![Group::new(kind, clients).named(&name)]);
            print_rows(&stats);
            stats[0].clone()
        })
        .collect();
    let pages = bench.measure(vec![Group::new("admin-page", clients).named("cursor page")]);
    print_rows(&pages);
    rows.extend(pages);
    println!("\n{engine}, {USERS} users, {clients} clients:");
    print_rows(&rows);
    let (queries, page) = rows.split_at(QUERIES.len());
    let worst = queries
        .iter()
        .map(|s| ms(s.percentile(0.99)))
        .fold(0.0, f64::max);
    let page = &page[0];
    println!(
        "{engine} query p99 (worst of {}) = {worst:.1} ms  (goal <= {QUERY_GOAL_MS} ms) {}",
        QUERIES.len(),
        verdict(worst <= QUERY_GOAL_MS)
    );
    println!(
        "{engine} cursor page ({PAGE}) p50 {:.2} ms, p99 {:.2} ms, {:.0}/s  (goal p99 <= {PAGE_GOAL_MS} ms) {}\n",
        ms(page.percentile(0.50)),
        ms(page.percentile(0.99)),
        page.rate(),
        verdict(ms(page.percentile(0.99)) <= PAGE_GOAL_MS)
    );
}

pub fn verdict(met: bool) -> &'static str {
    match met {
        true => "met",
        false => "NOT MET",
    }
}
