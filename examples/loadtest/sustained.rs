//! Sustained refresh: every client rotates its session flat out for
//! `--sustain` seconds; the figures come per `--interval`, with the size of the
//! database files at each interval's end, and the rows of every table before
//! and after (storage should grow with sessions, not with refreshes).

use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::bench::Bench;
use crate::stats::{ms, Stats};

impl Bench<'_> {
    pub fn sustained(&self) {
        let Some(db) = self.db else {
            println!("sustained: measures the SQLite files, and this run has none\n");
            return;
        };
        let clients = self.opts.clients;
        let total = Duration::from_secs(self.opts.sustain);
        let interval = Duration::from_secs(self.opts.interval.min(self.opts.sustain));
        let buckets = self.opts.sustain.div_ceil(interval.as_secs()) as usize;
        // Clients log in, then wait at `ready`; the counts are read; `go` starts them.
        let (ready, go) = (Barrier::new(clients + 1), Barrier::new(clients + 1));
        let (before, sizes, per_client, after) = thread::scope(|s| {
            let handles: Vec<_> = (0..clients)
                .map(|i| {
                    let (ready, go) = (&ready, &go);
                    s.spawn(move || self.sustained_client(i, ready, go, total, interval, buckets))
                })
                .collect();
            ready.wait();
            let before = (row_counts(db), db_size(db));
            go.wait();
            let began = Instant::now();
            let sizes: Vec<u64> = (1..=buckets as u32)
                .map(|k| {
                    let end = began + (interval * k).min(total);
                    thread::sleep(end.saturating_duration_since(Instant::now()));
                    db_size(db)
                })
                .collect();
            let per_client: Vec<Vec<Stats>> = handles
                .into_iter()
                .map(|h| h.join().expect("a client"))
                .collect();
            (before, sizes, per_client, (row_counts(db), db_size(db)))
        });
        let mut rows: Vec<Stats> = (0..buckets)
            .map(|k| Stats::new("", bucket_length(k, interval, total)))
            .collect();
        for client in &per_client {
            for (row, part) in rows.iter_mut().zip(client) {
                row.absorb(part);
            }
        }
        let mut whole = Stats::new("whole run", total);
        for row in &mut rows {
            row.latencies_us.sort_unstable();
            whole.latencies_us.extend(&row.latencies_us);
            for (code, n) in &row.errors {
                *whole.errors.entry(code.clone()).or_default() += n;
            }
        }
        whole.latencies_us.sort_unstable();
        whole.clients = clients;
        print_table(&rows, &whole, &sizes, interval, before.1);
        let refreshes = whole.latencies_us.len().max(1) as f64;
        println!(
            "refresh sustained {} s / first {} s = {:.3}  (target >= 0.85)",
            total.as_secs(),
            interval.as_secs(),
            whole.rate() / rows[0].rate().max(f64::MIN_POSITIVE)
        );
        println!(
            "database files {:.1} MB -> {:.1} MB: {:.0} bytes per refresh",
            mb(before.1),
            mb(after.1),
            (after.1 as f64 - before.1 as f64) / refreshes
        );
        println!("rows before: {}", before.0);
        println!("rows after:  {}\n", after.0);
    }

    /// One client's figures, one `Stats` per interval, by when each answer came.
    fn sustained_client(
        &self,
        i: usize,
        ready: &Barrier,
        go: &Barrier,
        total: Duration,
        interval: Duration,
        buckets: usize,
    ) -> Vec<Stats> {
        let mut step = self.step("refresh", i);
        let mut stats: Vec<Stats> = (0..buckets)
            .map(|k| Stats::new("", bucket_length(k, interval, total)))
            .collect();
        ready.wait();
        go.wait();
        let began = Instant::now();
        let deadline = began + total;
        while Instant::now() < deadline {
            let sent = Instant::now();
            let outcome = step();
            let done = Instant::now();
            if done <= deadline {
                let k = (done - began).as_nanos() / interval.as_nanos();
                stats[(k as usize).min(buckets - 1)].record(outcome, done - sent);
            }
        }
        stats
    }
}

fn bucket_length(k: usize, interval: Duration, total: Duration) -> Duration {
    let start = interval * k as u32;
    (start + interval).min(total) - start
}

fn print_table(rows: &[Stats], whole: &Stats, sizes: &[u64], interval: Duration, size_before: u64) {
    println!(
        "sustained refresh, {} clients; database files {:.1} MB before",
        whole.clients,
        mb(size_before)
    );
    println!(
        "{:<16} {:>10} {:>9} {:>9} {:>12} {:>12}  errors",
        "seconds", "ok/s", "p50 ms", "p99 ms", "db+wal MB", "growth MB"
    );
    let mut last = size_before;
    for (k, (row, size)) in rows.iter().zip(sizes).enumerate() {
        let from = interval.as_secs() * k as u64;
        println!(
            "{:<16} {:>10.1} {:>9.2} {:>9.2} {:>12.1} {:>12.1}  {}",
            format!("{from}-{}", from + row.run.as_secs()),
            row.rate(),
            ms(row.percentile(0.50)),
            ms(row.percentile(0.99)),
            mb(*size),
            (*size as f64 - last as f64) / 1e6,
            row.errors_text()
        );
        last = *size;
    }
    println!(
        "{:<16} {:>10.1} {:>9.2} {:>9.2} {:>12.1} {:>12.1}  {}",
        whole.name,
        whole.rate(),
        ms(whole.percentile(0.50)),
        ms(whole.percentile(0.99)),
        mb(last),
        (last as f64 - size_before as f64) / 1e6,
        whole.errors_text()
    );
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The database file plus its -wal and -shm files, in bytes.
fn db_size(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut path = PathBuf::from(db).into_os_string();
            path.push(suffix);
            std::fs::metadata(path).map_or(0, |m| m.len())
        })
        .sum()
}

/// `table rows, …` for every table, read on a connection of its own.
fn row_counts(db: &Path) -> String {
    let counts = || -> rusqlite::Result<String> {
        let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut names =
            conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
        let names: Vec<String> = names
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut parts = Vec::new();
        for name in names {
            let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |r| {
                r.get(0)
            })?;
            parts.push(format!("{name} {n}"));
        }
        Ok(parts.join(", "))
    };
    counts().unwrap_or_else(|e| format!("(could not count: {e})"))
}
