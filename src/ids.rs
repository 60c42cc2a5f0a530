//! Identifiers as the database stores them.

use std::fmt::Write;

use crate::clock::now_ms;

/// A fresh random identifier: 128 bits, hex.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not recoverable for a login server.
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    let mut id = String::with_capacity(32);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(id, "{b:02x}");
    }
    id
}

/// Like `new_id`, but its first 48 bits are the time in milliseconds, so that
/// rows keyed by it are appended in order.
pub fn new_ordered_id() -> String {
    let mut id = new_id();
    id.replace_range(..12, &format!("{:012x}", now_ms() & 0xffff_ffff_ffff));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lower_hex_digits_and_differ() {
        let (a, b) = (new_id(), new_id());
        for id in [&a, &b] {
            assert_eq!(id.len(), 32);
            assert!(
                id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
                "{id}"
            );
        }
        assert_ne!(a, b);
    }

    #[test]
    fn ordered_ids_begin_with_the_time_in_milliseconds() {
        let before = now_ms() & 0xffff_ffff_ffff;
        let id = new_ordered_id();
        let after = now_ms() & 0xffff_ffff_ffff;
        assert_eq!(id.len(), 32);
        let at = u64::from_str_radix(&id[..12], 16).expect("hex");
        assert!(
            (before..=after).contains(&at),
            "{at} not in {before}..={after}"
        );
        assert!(id[12..].bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
