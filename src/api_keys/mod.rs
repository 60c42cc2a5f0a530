//! API keys (SPEC §8): `alk_` and 43 random base64url characters, kept only
//! as a SHA-256 digest so that a copy of the database cannot be used as one;
//! the scopes a key may hold, and what each grants.

pub mod cache;

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

/// Every key starts with it, so that a bearer is told from a JWT at a glance.
pub const PREFIX: &str = "alk_";

/// The scopes a key may hold.
pub const SCOPES: [&str; 4] = ["users:read", "users:write", "audit:read", "clients:write"];

/// Longest name a key may have, in characters.
pub const MAX_NAME: usize = 100;

/// A new key, and the digest that is stored in its place.
pub fn new_key() -> Result<(String, Vec<u8>), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let key = format!("{PREFIX}{}", Base64UrlUnpadded::encode_string(&bytes));
    let digest = digest(&key);
    Ok((key, digest))
}

/// What is stored for `key`, and looked up when it comes back.
pub fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

pub fn is_api_key(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

/// The scopes asked for, each known and given once, or why not.
pub fn scope_list<S: AsRef<str>>(asked: &[S]) -> Result<Vec<String>, String> {
    if asked.is_empty() {
        return Err(format!(
            "a key needs at least one scope ({})",
            SCOPES.join(", ")
        ));
    }
    let mut scopes: Vec<String> = Vec::with_capacity(asked.len());
    for scope in asked.iter().map(AsRef::as_ref) {
        let scope = check_scope(scope)?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// One scope's name, or why it is not one.
pub fn check_scope(raw: &str) -> Result<String, String> {
    match SCOPES.contains(&raw) {
        true => Ok(raw.to_string()),
        false => Err(format!(
            "\"{}\" is not a scope (one of {})",
            raw.escape_debug(),
            SCOPES.join(", ")
        )),
    }
}

/// The key's name, trimmed, or why it cannot be one.
pub fn check_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("the name of a key is empty".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("the name of a key is over {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("the name of a key holds a control character".into());
    }
    Ok(name.to_string())
}

/// Whether a key holding `held` may do what `needed` allows (`users:write`
/// includes `users:read`).
pub fn grants(held: &[String], needed: &str) -> bool {
    held.iter()
        .any(|s| s == needed || (needed == "users:read" && s == "users:write"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_alk_and_43_url_safe_characters_new_each_time() {
        let (a, digest_a) = new_key().unwrap();
        let (b, _) = new_key().unwrap();
        let tail = a.strip_prefix(PREFIX).unwrap();
        assert_eq!(tail.len(), 43);
        assert!(tail
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest_a);
        assert!(is_api_key(&a) && !is_api_key("eyJhbGciOi"));
    }

    #[test]
    fn scopes_are_known_given_once_and_at_least_one() {
        assert_eq!(
            scope_list(&["users:write", "audit:read", "users:write"]),
            Ok(vec!["users:write".to_string(), "audit:read".to_string()])
        );
        assert_eq!(
            scope_list(&["admin"]),
            Err("\"admin\" is not a scope (one of users:read, users:write, audit:read, clients:write)".into())
        );
        assert!(scope_list::<&str>(&[]).is_err());
    }

    #[test]
    fn users_write_includes_users_read_and_nothing_else() {
        let write = vec!["users:write".to_string()];
        assert!(grants(&write, "users:read") && grants(&write, "users:write"));
        assert!(!grants(&write, "audit:read"));
        let read = vec!["users:read".to_string()];
        assert!(!grants(&read, "users:write"));
    }

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(check_name("  backend "), Ok("backend".to_string()));
        assert!(check_name("  ").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME + 1)).is_err());
        assert!(check_name("a\nb").is_err());
    }
}
