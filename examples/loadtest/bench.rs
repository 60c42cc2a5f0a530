//! The scenarios: groups of keep-alive client threads, each doing one kind of
//! request flat out (or paced, as a probe), all started together by a barrier.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use crate::http::{checked, json_str, login, login_until_ok, Conn};
use crate::server::{bare_body, email, start_bare, BARE_WORKERS, PASSWORD};
use crate::stats::{ms, print_rows, process_cpu, thread_cpu, Stats};
use crate::{cores, Options};

#[derive(Clone, Copy)]
pub struct Bench<'a> {
    /// The instances under test: client `i` talks to the `i % len`-th, as a
    /// load balancer spreads keep-alive connections.
    pub addrs: &'a [SocketAddr],
    /// The bare handler, once `me_vs_bare` has started it.
    pub bare: Option<SocketAddr>,
    /// The SQLite file, for the scenarios that look into it.
    pub db: Option<&'a Path>,
    /// An admin's access token, for the admin client kinds.
    pub admin_token: Option<&'a str>,
    pub opts: &'a Options,
}

/// A set of client threads doing one kind of request, paced or flat out.
pub struct Group {
    name: String,
    clients: usize,
    kind: &'static str,
    pause: Duration,
}

impl Group {
    pub fn new(kind: &'static str, clients: usize) -> Group {
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

    pub fn named(mut self, name: &str) -> Group {
        self.name = name.to_string();
        self
    }
}

impl Bench<'_> {
    /// The instance client `i` talks to.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.addrs[i % self.addrs.len()]
    }

    pub fn alone(&self, kind: &'static str, clients: usize) -> Stats {
        self.measure(vec![Group::new(kind, clients)]).remove(0)
    }

    /// Rotating refresh flat out, against its p99 target.
    pub fn refresh(&self) {
        let refresh = self.alone("refresh", self.opts.clients);
        print_rows(std::slice::from_ref(&refresh));
        println!(
            "refresh p99 = {:.1} ms  (target < 50 ms)\n",
            ms(refresh.percentile(0.99))
        );
    }

    /// `/user/me` between two runs of a bare actix-web handler (2 workers, an
    /// answer of the same size) on the same client threads: the ratio is to
    /// the mean of the two bare runs, so that a drift in the machine's other
    /// load shows up in the spread rather than in the ratio.
    pub fn me_vs_bare(&self) {
        let mut conn = Conn::new(self.opts.client, self.addr(0));
        let token = login_until_ok(&mut conn, &email(0), "accessToken");
        let me = checked(conn.send("GET", "/user/me", Some(&token), None));
        let bytes = me.map_or(150, |r| r.body.len());
        let with_bare = Bench {
            bare: Some(start_bare(bare_body(bytes))),
            ..*self
        };
        let bare =
            |name: &str| with_bare.measure(vec![Group::new("bare", self.opts.clients).named(name)]);
        let before = bare("bare before").remove(0);
        let me = self.alone("me", self.opts.clients);
        let after = bare("bare after").remove(0);
        println!("bare handler: actix-web, {BARE_WORKERS} workers, GET /bare answering {bytes} bytes of JSON like /user/me");
        print_rows(&[before.clone(), me.clone(), after.clone()]);
        let baseline = (before.rate() + after.rate()) / 2.0;
        println!(
            "/user/me {:.0}/s, p50 {:.2} ms, p99 {:.2} ms (target < 10 ms)",
            me.rate(),
            ms(me.percentile(0.50)),
            ms(me.percentile(0.99))
        );
        println!(
            "/user/me / bare handler = {:.3}  (target >= 0.5; bare runs {:.0} and {:.0}/s, {:.1} % apart)\n",
            me.rate() / baseline,
            before.rate(),
            after.rate(),
            (before.rate() - after.rate()).abs() / baseline * 100.0
        );
    }

    /// Logins against the raw PBKDF2 rate of as many threads as the hashing pool has.
    pub fn login_vs_raw(&self) {
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
    pub fn mixed(&self) {
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
    pub fn measure(&self, groups: Vec<Group>) -> Vec<Stats> {
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
    pub fn step(&self, kind: &str, i: usize) -> Box<dyn FnMut() -> Result<(), String> + '_> {
        let mut conn = Conn::new(self.opts.client, self.addr(i));
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
            "bare" => {
                let mut bare = Conn::new(self.opts.client, self.bare.expect("the bare server"));
                Box::new(move || checked(bare.send("GET", "/bare", None, None)).map(drop))
            }
            "healthz" => {
                Box::new(move || checked(conn.send("GET", "/healthz", None, None)).map(drop))
            }
            other => self
                .admin_step(other, conn)
                .unwrap_or_else(|| panic!("no such client kind {other}")),
        }
    }
}
