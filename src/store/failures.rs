//! Failed logins, one row each, keyed by `email_key` or `ip_key`.

use std::net::IpAddr;

use ipnet::Ipv6Net;

use super::Result;

/// Failed logins, as both engines store them.
pub trait Failures {
    /// Takes a failure row under every key, unless one of them is locked: then
    /// nothing is written and the answer is when the lock lifts. However many
    /// attempts arrive at once, on however many instances, no more than the
    /// limit get past it (each engine says how).
    fn reserve_failures(
        &mut self,
        limits: &[Limit],
        window: u64,
        now: u64,
    ) -> Result<std::result::Result<Vec<i64>, u64>>;
    /// When `key` may try again, if it has `max` failures within the last
    /// `window` seconds: when the oldest of the newest `max` leaves the window.
    fn locked_until(&mut self, key: &str, max: u32, window: u64, now: u64) -> Result<Option<u64>>;
    /// Records one failure; returns its row.
    fn record_failure(&mut self, key: &str, now: u64) -> Result<i64>;
    /// Gives back reserved rows: the attempt did not fail.
    fn release_failures(&mut self, rows: &[i64]) -> Result<()>;
    fn clear_failures(&mut self, key: &str) -> Result<usize>;
    /// Deletes up to PRUNE_CHUNK failures that have left the window; returns how many.
    fn prune_failures(&mut self, now: u64, window: u64) -> Result<usize>;
}

/// `reserve_failures` once nothing else can count or add under these keys
/// until the transaction ends: counts every key, then takes a row under each.
pub(super) fn count_then_take<S: Failures + ?Sized>(
    store: &mut S,
    limits: &[Limit],
    window: u64,
    now: u64,
) -> Result<std::result::Result<Vec<i64>, u64>> {
    let mut until = None;
    for limit in limits {
        until = until.max(store.locked_until(limit.key, limit.max, window, now)?);
    }
    if let Some(until) = until {
        return Ok(Err(until));
    }
    let mut rows = Vec::with_capacity(limits.len());
    for limit in limits {
        rows.push(store.record_failure(limit.key, now)?);
    }
    Ok(Ok(rows))
}

/// A key and how many failures it may have within the window.
pub struct Limit<'a> {
    pub key: &'a str,
    pub max: u32,
}

pub fn email_key(email: &str) -> String {
    format!("email:{email}")
}

/// IPv4 addresses count one by one; IPv6 ones per /`ipv6_prefix` network, since
/// anyone with one address of a /64 has 2^64 of them.
pub fn ip_key(ip: IpAddr, ipv6_prefix: u8) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match Ipv6Net::new(v6, ipv6_prefix.min(128)) {
            Ok(net) => format!("ip:{}", net.trunc()),
            Err(_) => format!("ip:{v6}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_of_one_prefix_share_a_key() {
        let key = |ip: &str, prefix| ip_key(ip.parse().unwrap(), prefix);
        assert_eq!(key("2001:db8:1:2:aaaa::1", 64), "ip:2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9", 64), key("2001:db8:1:2::5", 64));
        assert_ne!(key("2001:db8:1:3::1", 64), key("2001:db8:1:2::1", 64));
        assert_eq!(key("2001:db8:1:3::1", 48), key("2001:db8:1:2::1", 48));
        assert_eq!(key("2001:db8::1", 128), "ip:2001:db8::1/128");
        assert_eq!(key("192.0.2.7", 64), "ip:192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7", 64), "ip:192.0.2.7");
    }
}
