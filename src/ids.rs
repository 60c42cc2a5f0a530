//! Identifiers as the database stores them.

use crate::clock::now_ms;

/// A fresh random identifier: 128 bits, hex.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not recoverable for a login server.
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Like `new_id`, but its first 48 bits are the time in milliseconds, so that
/// rows keyed by it are appended in order.
pub fn new_ordered_id() -> String {
    format!("{:012x}{}", now_ms() & 0xffff_ffff_ffff, &new_id()[12..])
}
