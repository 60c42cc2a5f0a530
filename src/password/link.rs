//! The tokens of set-password links: 32 random bytes, base64url, kept only as
//! a SHA-256 digest, so a copy of the database cannot be used to set a password.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

/// A new link token, and the digest that is stored in its place.
pub fn new_token() -> Result<(String, Vec<u8>), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let token = Base64UrlUnpadded::encode_string(&bytes);
    let digest = digest(&token);
    Ok((token, digest))
}

/// What is stored for `token`, and looked up when it comes back.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_43_url_safe_characters_and_new_each_time() {
        let (a, digest_a) = new_token().unwrap();
        let (b, _) = new_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest_a);
        assert_eq!(digest_a.len(), 32);
    }
}
