//! `/healthz` tells whether writes can be made, and stays quick while slow
//! clients hold connections open.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[test]
fn healthz_is_503_while_another_process_holds_the_write_lock() {
    let app = spawn_app();
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
