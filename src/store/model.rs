//! What the store holds, as both engines give it back: no SQL here.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::Ipv6Net;

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: u64,
    pub last_used_at: u64,
    pub expires_at: u64,
    pub revoked_at: Option<u64>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A session's refresh record: its user, its newest token, and the one spent before it.
pub struct RefreshRecord {
    pub user: User,
    pub revoked: bool,
    pub refresh_jti: String,
    /// SHA-256 of the newest token as issued.
    pub refresh_hash: Vec<u8>,
    pub spent_jti: Option<String>,
    /// When the spent token was used, Unix milliseconds.
    pub spent_at_ms: Option<u64>,
    /// The answer its use returned (sealed JSON holding tokens: never log it).
    pub grace_answer: Option<Vec<u8>>,
}

/// The token that a login or refresh issues, as the session records it.
pub struct NewRefresh<'a> {
    pub jti: &'a str,
    pub hash: &'a [u8],
    pub expires_at: u64,
}

/// Rows one pruning statement touches at most, so that it holds writes back
/// for a few milliseconds, not for as long as a backlog takes.
pub const PRUNE_CHUNK: u32 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
    Banned,
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Banned => "banned",
            Status::Deleted => "deleted",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Status::Active),
            "inactive" => Ok(Status::Inactive),
            "banned" => Ok(Status::Banned),
            "deleted" => Ok(Status::Deleted),
            other => Err(format!(
                "\"{other}\" is not a status (active, inactive, banned or deleted)"
            )),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org_id: Option<String>,
    pub password_hash: Option<String>,
    pub status: Status,
    pub created_at: u64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Trims and lower-cases an email, or says why it is not one.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err("is not an email address (no @)");
    };
    let well_formed = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(email)
    } else {
        Err("is not an email address")
    }
}

pub struct StoredKey {
    pub kid: String,
    /// "EdDSA" or "ES256".
    pub algorithm: String,
    pub key_pair: Vec<u8>,
    pub created_at: u64,
    /// When it stopped signing; `None`: current.
    pub retired_at: Option<u64>,
    /// When `keys retire` distrusted it; its tokens are refused from then on.
    pub distrusted_at: Option<u64>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("distrusted_at", &self.distrusted_at)
            .finish_non_exhaustive()
    }
}

/// The name in `meta` of the text sealed with the master key.
pub const MASTER_KEY_CHECK: &str = "master_key_check";

pub struct Link {
    pub user_id: String,
    pub expires_at: u64,
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

/// A key and how many failures it may have within the window.
pub struct Limit<'a> {
    pub key: &'a str,
    pub max: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Ada@Acme.TEST "),
            Ok("ada@acme.test".into())
        );
    }

    #[test]
    fn things_that_are_not_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@acme.test",
            "ada@",
            "a@b@c",
            "a b@c.d",
            "ada@.test",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for s in [
            Status::Active,
            Status::Inactive,
            Status::Banned,
            Status::Deleted,
        ] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("gone".parse::<Status>().is_err());
    }

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
