//! `/healthz` tells whether writes can be made, and stays quick while slow
//! clients hold connections open.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[test]
fn healthz_is_503_while_another_process_holds_the_write_lock() {
    let app = spawn_app();
    if app.sqlite_only("holds the SQLite file's write lock") {
        return;
    }
    assert_eq!(app.get("/healthz").status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    let other = rusqlite::Connection::open(&app.db_path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    let resp = app.get("/healthz");

    resp.assert_error(503, "SERVER_BUSY");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    other.execute_batch("ROLLBACK").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let resp = app.get("/healthz");
    assert_eq!((resp.status, resp.json()), (200, json!({ "status": "ok" })));
}

/// How a client that sends its body a byte a second was let go, and when.
#[derive(Debug)]
enum LetGo {
    Answered(String),
    Closed,
}

/// Starts a login whose 100-byte body (or, with `slow_head`, whose head) comes
/// one byte a second, until the server answers or closes (or 20 s pass).
fn slow_client(address: &str, slow_head: bool) -> (LetGo, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    let head = match slow_head {
        true => format!("POST /user/login HTTP/1.1\r\nHost: {host}\r\nX-Slow: "),
        false => format!(
            "POST /user/login HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        ),
    };
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(20) {
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) if answer.is_empty() => return (LetGo::Closed, started.elapsed()),
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !answer.is_empty() {
                    break;
                }
                if stream.write_all(b"a").is_err() {
                    return (LetGo::Closed, started.elapsed());
                }
            }
            Err(_) => return (LetGo::Closed, started.elapsed()),
        }
    }
    let status = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    (LetGo::Answered(status), started.elapsed())
}

#[test]
fn forty_clients_trickling_their_requests_neither_delay_healthz_nor_stay_held() {
    let app = spawn_app();
    let clients: Vec<_> = (0..40)
        .map(|i| {
            let address = app.address.clone();
            thread::spawn(move || slow_client(&address, i % 4 == 0))
        })
        .collect();
    thread::sleep(Duration::from_secs(2));

    for _ in 0..3 {
        let started = Instant::now();
        let resp = app.get("/healthz");
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        thread::sleep(Duration::from_secs(2));
    }

    for client in clients {
        let (let_go, after) = client.join().unwrap();
        assert!(
            matches!(&let_go, LetGo::Closed)
                || matches!(&let_go, LetGo::Answered(s) if s.starts_with("HTTP/1.1 408")),
            "{let_go:?}"
        );
        assert!(after < Duration::from_secs(12), "held for {after:?}");
    }
}
