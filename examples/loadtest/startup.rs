//! The release binary: time from spawn to the first /healthz answer, idle RSS, size.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::http::{ClientKind, Conn};
use crate::stats::ms;

/// Starts target/release/authlite a few times: time to the first /healthz answer,
/// idle RSS, and the binary's size.
pub fn startup(db: &Path, iterations: u32) {
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
