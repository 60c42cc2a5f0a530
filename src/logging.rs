//! The log: env_logger's lines, gathered in memory and written to standard
//! error by a thread of their own, every 50 ms.
//!
//! A thread that logs (an async worker writing the access line, most often)
//! appends its line to a buffer and goes on, without a system call or a
//! wake-up. Under load that is one write per interval instead of one per
//! request, which measured ~10 % of the refresh rate.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// How long a line waits, at most, in a server that is not busy.
const INTERVAL: Duration = Duration::from_millis(50);

/// Past this many bytes waiting, the log thread is woken at once.
const WAKE_AT: usize = 64 * 1024;

/// Past this many (standard error is not taking them), a thread that logs
/// writes them out itself and waits for that, as it would without the buffer.
const LIMIT: usize = 1024 * 1024;

/// Starts the log thread and routes env_logger (level from `RUST_LOG`,
/// default `info`, webauthn-rs off) to it. The handle's `flush` writes out what is waiting.
/// Should the thread not start, env_logger writes to standard error itself.
pub fn init() -> LogHandle {
    // webauthn-rs logs each refused check, and a sign counter of 0 (what every
    // synced passkey sends), as an ERROR: off unless RUST_LOG names it. The
    // passkey routes log why they refused at info.
    let default = "info,webauthn_rs=off,webauthn_rs_core=off";
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default));
    let handle = spawn(Box::new(io::stderr()));
    if let Some(writer) = handle.writer() {
        let style = match io::stderr().is_terminal() {
            true => env_logger::WriteStyle::Always,
            false => env_logger::WriteStyle::Never,
        };
        builder
            .target(env_logger::Target::Pipe(Box::new(writer)))
            .write_style(style);
    }
    builder.init();
    handle
}

struct Buffer {
    pending: Mutex<Vec<u8>>,
    wake: Condvar,
    /// Held while waiting lines are taken and written, so they stay in order.
    out: Mutex<Box<dyn Write + Send>>,
}

/// A poisoned lock still guards whole lines: a thread that panicked while
/// holding one had only been appending or writing bytes.
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Buffer {
    fn write_out(&self) {
        let mut out = lock(&self.out);
        let lines = std::mem::take(&mut *lock(&self.pending));
        // Write errors are dropped, as env_logger drops them.
        let _ = out.write_all(&lines).and_then(|()| out.flush());
    }

    /// The log thread: every interval, or sooner when much is waiting.
    fn run(&self) {
        loop {
            let pending = lock(&self.pending);
            let waited = self
                .wake
                .wait_timeout_while(pending, INTERVAL, |p| p.len() < WAKE_AT);
            let is_empty = match waited {
                Ok((pending, _)) => pending.is_empty(),
                Err(poisoned) => poisoned.into_inner().0.is_empty(),
            };
            if !is_empty {
                self.write_out();
            }
        }
    }
}

/// Starts a log thread writing to `sink`.
fn spawn(sink: Box<dyn Write + Send>) -> LogHandle {
    let buffer = Arc::new(Buffer {
        pending: Mutex::new(Vec::new()),
        wake: Condvar::new(),
        out: Mutex::new(sink),
    });
    let running = buffer.clone();
    let spawned = thread::Builder::new()
        .name("authlite-log".into())
        .spawn(move || running.run());
    LogHandle {
        buffer: spawned.ok().map(|_| buffer),
    }
}

/// The way to the log thread's buffer, if the thread started.
pub struct LogHandle {
    buffer: Option<Arc<Buffer>>,
}

impl LogHandle {
    /// Writes out every line logged so far.
    pub fn flush(&self) {
        if let Some(buffer) = &self.buffer {
            buffer.write_out();
        }
    }

    fn writer(&self) -> Option<LineWriter> {
        self.buffer.clone().map(|buffer| LineWriter {
            buffer,
            line: Vec::new(),
        })
    }
}

/// What env_logger writes to: it gathers a record's bytes, and its `flush`
/// (which env_logger calls after each record) adds them to the buffer.
struct LineWriter {
    buffer: Arc<Buffer>,
    line: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut pending = lock(&self.buffer.pending);
        pending.append(&mut self.line);
        let waiting = pending.len();
        drop(pending);
        if waiting >= LIMIT {
            self.buffer.write_out();
        } else if waiting >= WAKE_AT {
            self.buffer.wake.notify_one();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A sink the test can read while the log thread holds it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn log(writer: &mut LineWriter, line: &str) {
        writer.write_all(line.as_bytes()).unwrap();
        writer.flush().unwrap();
    }

    #[test]
    fn lines_from_several_writers_are_all_written_whole_by_the_time_flush_returns() {
        let sink = Shared::default();
        let handle = spawn(Box::new(sink.clone()));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let mut writer = handle.writer().unwrap();
                thread::spawn(move || {
                    for i in 0..500 {
                        log(&mut writer, &format!("writer {w} line {i}\n"));
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        handle.flush();

        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for w in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("writer {w} ")))
                .collect();
            let expected: Vec<String> = (0..500).map(|i| format!("writer {w} line {i}")).collect();
            assert_eq!(mine, expected, "writer {w}'s lines, in its order");
        }
    }

    #[test]
    fn a_record_reaches_the_sink_only_when_env_logger_flushes_it() {
        let sink = Shared::default();
        let handle = spawn(Box::new(sink.clone()));
        let mut writer = handle.writer().unwrap();
        writer.write_all(b"half a ").unwrap();
        handle.flush();
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"");
        writer.write_all(b"record\n").unwrap();
        writer.flush().unwrap();
        handle.flush();
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"half a record\n");
    }

    #[test]
    fn the_log_thread_writes_a_line_within_its_interval_without_a_flush() {
        let sink = Shared::default();
        let handle = spawn(Box::new(sink.clone()));
        log(&mut handle.writer().unwrap(), "alone\n");
        let started = Instant::now();
        while sink.0.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"alone\n");
    }

    #[test]
    fn a_log_past_the_limit_is_written_by_the_thread_that_logs() {
        let sink = Shared::default();
        let handle = spawn(Box::new(sink.clone()));
        let line = "x".repeat(LIMIT) + "\n";
        log(&mut handle.writer().unwrap(), &line);
        assert_eq!(sink.0.lock().unwrap().len(), LIMIT + 1);
    }
}
