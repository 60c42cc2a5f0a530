//! Password hashes: PBKDF2-HMAC-SHA256 PHC strings for everything new, and the
//! formats other systems store (see `imported`), checked until the next good
//! login replaces them.
//!
//! Each hash carries its own cost, so raising it only changes new hashes;
//! older or imported ones are re-hashed on the next good login.

pub mod cost;
mod imported;
pub mod link;
pub mod policy;

use pbkdf2::password_hash::PasswordHasher;
use pbkdf2::phc::PasswordHash;
use pbkdf2::{Algorithm, Params, Pbkdf2};

pub use imported::{check_importable, ImportError};

use cost::Work;

/// The smallest count the pbkdf2 crate accepts.
pub const MIN_ITERATIONS: u32 = Params::MIN_ROUNDS;

/// The prefix of the hashes authlite makes.
const CURRENT: &str = "$pbkdf2-sha256$";

#[derive(Debug)]
pub struct HashError;

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("password hashing failed")
    }
}

impl std::error::Error for HashError {}

/// Hashes `password` with a fresh 16-byte random salt at `iterations`.
pub fn hash(password: &str, iterations: u32) -> Result<String, HashError> {
    let params = Params::new(iterations).map_err(|_| HashError)?;
    let hasher = Pbkdf2::new(Algorithm::Pbkdf2Sha256, params);
    let hash = hasher
        .hash_password(password.as_bytes())
        .map_err(|_| HashError)?;
    Ok(hash.to_string())
}

/// Checks `password` against a stored hash of any format authlite reads; the
/// comparison is constant-time. A stored string that does not parse never verifies.
pub fn verify(password: &str, stored: &str) -> bool {
    imported::verify(password, stored)
}

/// Whether a stored hash should be replaced on the next good login: anything but
/// a PBKDF2-SHA256 hash made with at least `iterations`.
pub fn needs_rehash(stored: &str, iterations: u32) -> bool {
    if !stored.starts_with(CURRENT) {
        return true;
    }
    PasswordHash::new(stored)
        .ok()
        .and_then(|parsed| Params::try_from(&parsed).ok())
        .is_none_or(|params| params.rounds() < iterations)
}

/// Whether one check of `stored` costs more than one of authlite's own hashes
/// at `iterations`: such checks run on the imported-hash lane, so that they
/// never hold up ordinary logins. A hash that does not parse costs nothing.
pub fn costs_more_than_own(stored: &str, iterations: u32) -> bool {
    imported::work_of(stored)
        .is_ok_and(|work| work.nanos > Work::pbkdf2_sha256(iterations, 32).nanos)
}

/// A hash no password matches that costs the same to check as a real one at
/// `iterations`: verifying against it hides whether an account exists.
pub fn dummy_hash(iterations: u32) -> String {
    format!(
        "$pbkdf2-sha256$i={iterations},l=32$AAAAAAAAAAAAAAAAAAAAAA$\
         AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let phc = hash("correct horse", 1000).unwrap();
        assert!(phc.starts_with("$pbkdf2-sha256$i=1000,l=32$"), "{phc}");
        assert!(verify("correct horse", &phc));
        assert!(!verify("correct horsf", &phc));
    }

    #[test]
    fn the_same_password_gets_a_different_salt_each_time() {
        assert_ne!(hash("x", 1000).unwrap(), hash("x", 1000).unwrap());
    }

    #[test]
    fn a_hash_below_the_current_cost_needs_rehash() {
        let phc = hash("x", 1000).unwrap();
        assert!(needs_rehash(&phc, 2000));
        assert!(!needs_rehash(&phc, 1000));
        assert!(needs_rehash("garbage", 1000));
    }

    #[test]
    fn every_other_format_needs_rehash_whatever_its_cost() {
        let sha512 = "$pbkdf2-sha512$i=900000,l=64$c2FsdHNhbHQ$\
                      AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(needs_rehash(sha512, 1000));
        assert!(needs_rehash(
            "$2b$04$abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS",
            1000
        ));
        assert!(needs_rehash("pbkdf2_sha256$900000$salt$aGFzaA==", 1000));
    }

    #[test]
    fn the_dummy_hash_parses_at_its_cost_and_matches_nothing() {
        let dummy = dummy_hash(1000);
        assert!(!needs_rehash(&dummy, 1000));
        assert!(!verify("", &dummy));
        assert!(!verify("anything", &dummy));
    }

    #[test]
    fn a_count_below_the_minimum_is_refused() {
        assert!(hash("x", MIN_ITERATIONS - 1).is_err());
    }
}
