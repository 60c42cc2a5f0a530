//! Waits that last only as long as the server's clock needs, instead of
//! whole seconds of margin.

use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix time in whole seconds, as the server's `now()` reads it.
pub fn now() -> i64 {
    now_ms() / 1000
}

/// Unix time in milliseconds, as the server's `now_ms()` reads it.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// With `--reuse-grace 0` a spent refresh token is a reused one once
/// `now_ms - spent_at_ms > 0`. The server took `spent_at_ms` before it
/// answered, so a couple of milliseconds after the answer is past it.
pub fn past_a_grace_of_zero() {
    thread::sleep(Duration::from_millis(2));
}

/// Sleeps until the instant `unix_seconds` is past, and a little more: the
/// JWT library reads a coarse clock that may lag by a tick. A timestamp `exp`
/// is expired once `exp * 1000 < now_ms`, so `sleep_past(exp)` waits it out.
pub fn sleep_past(unix_seconds: i64) {
    let left = unix_seconds * 1000 + 20 - now_ms();
    if left > 0 {
        thread::sleep(Duration::from_millis(left as u64));
    }
}

/// Sleeps until the next whole second has begun, so that anything stamped in
/// seconds from now on is later than anything stamped before the call.
pub fn next_second() {
    sleep_past(now() + 1);
}
