//! Times as the database stores them.

/// Unix time in seconds. A clock before 1970 reads as 0 rather than failing.
pub fn now() -> u64 {
    now_ms() / 1000
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
