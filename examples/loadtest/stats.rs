//! Figures: latencies, rates, percentiles, and the CPU the clients and the server used.

use std::collections::BTreeMap;
use std::time::Duration;

/// Kernel clock ticks per second, the unit of CPU times in /proc (100 on Linux x86).
const CLOCK_TICKS: f64 = 100.0;

#[derive(Clone)]
pub struct Stats {
    pub name: String,
    pub clients: usize,
    pub run: Duration,
    pub latencies_us: Vec<u32>,
    pub errors: BTreeMap<String, u64>,
    pub client_cpu: f64,
    /// CPU seconds of everything else in the process during the run (first group only).
    pub server_cpu: Option<f64>,
}

impl Stats {
    pub fn new(name: &str, run: Duration) -> Stats {
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

    pub fn record(&mut self, outcome: Result<(), String>, took: Duration) {
        match outcome {
            Ok(()) => self
                .latencies_us
                .push(took.as_micros().min(u32::MAX as u128) as u32),
            Err(code) => *self.errors.entry(code).or_default() += 1,
        }
    }

    pub fn absorb(&mut self, other: &Stats) {
        self.clients += 1;
        self.latencies_us.extend(&other.latencies_us);
        for (code, n) in &other.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
        self.client_cpu += other.client_cpu;
    }

    /// Successful requests per second: errors are failures, not throughput.
    pub fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.run.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.latencies_us.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let index = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        Duration::from_micros(u64::from(self.latencies_us[index]))
    }

    pub fn errors_text(&self) -> String {
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

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn print_rows(rows: &[Stats]) {
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
pub fn thread_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|f| f.parse::<f64>().ok());
    ns.unwrap_or(0.0) / 1e9
}

/// CPU seconds (user + system) of the whole process, all threads, in clock ticks.
pub fn process_cpu() -> f64 {
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
