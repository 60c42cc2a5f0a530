//! What a request costs on the wire: each instance talks to PostgreSQL
//! through a proxy here that counts the round trips (the client's Sync and
//! Query messages, each of which waits for the server's answer).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use crate::harness::*;

/// A TCP proxy to the PostgreSQL server of `upstream` (no TLS through it).
struct Proxy {
    port: u16,
    trips: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let trips = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&trips);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (mut back_from, mut back_to) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                thread::spawn(move || {
                    let _ = io::copy(&mut back_from, &mut back_to);
                    let _ = back_to.shutdown(Shutdown::Both);
                });
                let counted = Arc::clone(&counted);
                thread::spawn(move || {
                    let _ = forward_counting(client, server, &counted);
                });
            }
        });
        Proxy { port, trips }
    }

    fn trips(&self) -> usize {
        self.trips.load(Ordering::SeqCst)
    }
}

/// Copies the client's messages to the server, counting Sync ('S') and
/// simple Query ('Q'); the first message (startup) has no type byte.
fn forward_counting(mut from: TcpStream, mut to: TcpStream, trips: &AtomicUsize) -> io::Result<()> {
    let mut length = [0u8; 4];
    from.read_exact(&mut length)?;
    let mut startup = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
    from.read_exact(&mut startup)?;
    to.write_all(&length)?;
    to.write_all(&startup)?;
    loop {
        let mut head = [0u8; 5];
        from.read_exact(&mut head)?;
        let length = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; length.saturating_sub(4)];
        from.read_exact(&mut body)?;
        if matches!(head[0], b'S' | b'Q') {
            trips.fetch_add(1, Ordering::SeqCst);
        }
        to.write_all(&head)?;
        to.write_all(&body)?;
    }
}

/// `url` going through a proxy that counts round trips, without TLS.
fn through_proxy(url: &str) -> (Proxy, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (credentials, host) = authority.rsplit_once('@').unwrap();
    let proxy = Proxy::start(host.to_string());
    let proxied = format!("{scheme}://{credentials}@127.0.0.1:{}/{path}", proxy.port);
    (proxy, with_param(&proxied, "sslmode=disable"))
}

#[test]
fn a_refresh_costs_one_round_trip_and_a_repeated_me_none() {
    let Some(db) = Database::seeded() else { return };
    let (proxy, url) = through_proxy(&db.url);
    let instance = serve(&url, &[]);
    let mut pair = instance.login_ok(ADA, ADA_PASSWORD);
    // Warm: each statement is prepared once per connection.
    for _ in 0..5 {
        pair = instance.refresh(&pair.refresh).pair();
        instance.me(&pair.access).assert_ok();
    }

    // The fewest of three runs: the upkeep thread's first prune (a second
    // after start, a transaction per table) may fall inside one.
    let n = 40;
    let mut refreshes = usize::MAX;
    for _ in 0..3 {
        let before = proxy.trips();
        for _ in 0..n {
            pair = instance.refresh(&pair.refresh).pair();
        }
        refreshes = refreshes.min(proxy.trips() - before);
    }
    // One each, and now and then the key check (every 500 ms).
    assert!(
        refreshes <= n + n / 4,
        "{refreshes} round trips for {n} refreshes"
    );

    let before = proxy.trips();
    for _ in 0..n {
        instance.me(&pair.access).assert_ok();
    }
    let mes = proxy.trips() - before;
    println!("round trips: {refreshes} for {n} refreshes, {mes} for {n} /user/me");
    assert!(mes <= n / 4, "{mes} round trips for {n} /user/me");
}
