//! Secrets at rest under the master key (`--master-key-file`): XChaCha20-Poly1305
//! with a 24-byte random nonce, under a key derived from the file by HKDF-SHA256,
//! one derived key per purpose so that a value sealed for one use opens for no
//! other, and the row it belongs to (a kid, a session) in the associated data so
//! that it opens in no other row either.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// Every sealed value starts with `\0AS` and a version. A NUL never starts
/// JSON, a token or text, so a plain value is never taken for a sealed one.
const FAMILY: &[u8] = b"\0AS";
/// Round 2's values: sealed for a purpose but for no row. Opened only to bind
/// them when a database sealed by that version is opened.
const UNBOUND: &[u8] = b"\0AS1";
/// Values bound to their row: the associated data is this prefix and the row.
const BOUND: &[u8] = b"\0AS2";
const NONCE_LEN: usize = 24;
/// The fewest bytes a master key file may hold.
pub const MIN_MASTER_KEY: usize = 32;

/// The purpose of the answers kept for the reuse grace (they hold tokens).
pub const GRACE_ANSWERS: &[u8] = b"authlite sealed data v1";
/// The purpose of signing key pairs.
pub const KEY_PAIRS: &[u8] = b"authlite signing key v1";
/// The purpose of TOTP secrets (bound to the user's id).
pub const TOTP_SECRETS: &[u8] = b"authlite totp secret v1";
/// The purpose of queued messages (bound to the message's id): they hold links.
pub const MAIL_MESSAGES: &[u8] = b"authlite mail message v1";
/// The purpose of the check value that tells one master key from another.
const CHECK: &[u8] = b"authlite master key check v1";
const CHECK_TEXT: &[u8] = b"authlite: this database's secrets are sealed with this key";

/// Why a stored value was not opened: the end of a sentence that names it.
pub type Refusal = &'static str;

/// Seals and opens stored secrets; without a master key values pass through.
#[derive(Clone)]
pub struct Sealer {
    master: Option<Arc<Hkdf<Sha256>>>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.master {
            Some(_) => "<redacted>",
            None => "none",
        };
        f.debug_struct("Sealer").field("master_key", &key).finish()
    }
}

impl Sealer {
    /// No master key: values pass through unchanged.
    pub fn plain() -> Sealer {
        Sealer { master: None }
    }

    /// A sealer keyed by the whole content of a secret (at least 32 bytes).
    pub fn with_secret(secret: &[u8]) -> Result<Sealer, String> {
        if secret.len() < MIN_MASTER_KEY {
            return Err(format!(
                "holds {} bytes, and a master key needs at least {MIN_MASTER_KEY}",
                secret.len()
            ));
        }
        let master = Hkdf::<Sha256>::new(Some(b"authlite master key"), secret);
        Ok(Sealer {
            master: Some(Arc::new(master)),
        })
    }

    /// Reads the master key file; one sentence naming it when it will not do.
    pub fn from_file(path: &Path) -> Result<Sealer, String> {
        let shown = path.display();
        let secret = std::fs::read(path)
            .map_err(|e| format!("cannot read the master key file {shown}: {e}"))?;
        Sealer::with_secret(&secret).map_err(|why| {
            format!(
                "the master key file {shown} {why} (make one with: head -c 32 /dev/urandom > {shown})"
            )
        })
    }

    /// `from_file` when a file is given, else `plain`.
    pub fn from_option(path: Option<&Path>) -> Result<Sealer, String> {
        path.map_or(Ok(Sealer::plain()), Sealer::from_file)
    }

    pub fn has_key(&self) -> bool {
        self.master.is_some()
    }

    /// With a key: AEAD under `purpose`'s key, `row` (a kid, a session) in the
    /// associated data, a random nonce. Without: `plain` as it is.
    pub fn seal(&self, purpose: &[u8], row: &str, plain: &[u8]) -> Vec<u8> {
        let Some(cipher) = self.cipher(purpose) else {
            return plain.to_vec();
        };
        let mut nonce = [0u8; NONCE_LEN];
        // The OS random source failing is not recoverable for a login server.
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let aad = [BOUND, row.as_bytes()].concat();
        let payload = Payload {
            msg: plain,
            aad: &aad,
        };
        // Encryption fails only past 256 GiB of input.
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("a secret of sane length seals");
        [BOUND, &nonce, &sealed].concat()
    }

    /// Opens what `seal` made for this `purpose` and `row`. With a key, every
    /// other value is refused: a plain one (nothing authlite wrote once the
    /// database was sealed), an unbound one, one sealed for another row. Without
    /// a key a plain value comes back as it is and a sealed one is refused.
    pub fn open(&self, purpose: &[u8], row: &str, stored: &[u8]) -> Result<Vec<u8>, Refusal> {
        let Some(cipher) = self.cipher(purpose) else {
            return match stored.starts_with(FAMILY) {
                true => Err("is sealed with a master key, and none was given (--master-key-file)"),
                false => Ok(stored.to_vec()),
            };
        };
        match stored.strip_prefix(BOUND) {
            Some(rest) => decrypt(&cipher, &[BOUND, row.as_bytes()].concat(), rest),
            None if stored.starts_with(UNBOUND) => Err(
                "is sealed in round 2's format, bound to no row, in a database already upgraded",
            ),
            None if stored.starts_with(FAMILY) => {
                Err("is sealed in a format newer than this version of authlite knows")
            }
            None => Err("is stored unsealed in a database whose secrets are sealed"),
        }
    }

    /// Opens a value sealed by round 2 (bound to no row), to bind it.
    pub fn open_unbound(&self, purpose: &[u8], stored: &[u8]) -> Result<Vec<u8>, Refusal> {
        let cipher = self.cipher(purpose).ok_or("needs the master key to open")?;
        match stored.strip_prefix(UNBOUND) {
            Some(rest) => decrypt(&cipher, UNBOUND, rest),
            None if stored.starts_with(FAMILY) => {
                Err("is sealed in a format round 2 did not write")
            }
            None => Err("is stored unsealed in a database whose secrets are sealed"),
        }
    }

    /// Whether `stored` carries a sealed prefix (of any version).
    pub fn looks_sealed(stored: &[u8]) -> bool {
        stored.starts_with(FAMILY)
    }

    /// The check value stored beside sealed keys; bound, so it also records
    /// that the database's values are bound to their rows.
    pub fn check_value(&self) -> Vec<u8> {
        self.seal(CHECK, "", CHECK_TEXT)
    }

    /// Whether `stored` (a check value, bound or round 2's) was sealed with
    /// this sealer's key.
    pub fn matches(&self, stored: &[u8]) -> bool {
        let opened = match Sealer::is_bound(stored) {
            true => self.open(CHECK, "", stored),
            false => self.open_unbound(CHECK, stored),
        };
        self.has_key() && opened.is_ok_and(|t| t == CHECK_TEXT)
    }

    /// Whether a check value is of the bound format (else round 2 sealed the
    /// database, and its values are still to be bound to their rows).
    pub fn is_bound(check: &[u8]) -> bool {
        check.starts_with(BOUND)
    }

    fn cipher(&self, purpose: &[u8]) -> Option<XChaCha20Poly1305> {
        let master = self.master.as_ref()?;
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 255 * 32.
        master
            .expand(purpose, &mut key)
            .expect("32 bytes expand from HKDF-SHA256");
        Some(XChaCha20Poly1305::new(&Key::from(key)))
    }
}

fn decrypt(cipher: &XChaCha20Poly1305, aad: &[u8], rest: &[u8]) -> Result<Vec<u8>, Refusal> {
    let (nonce, sealed) = rest
        .split_at_checked(NONCE_LEN)
        .ok_or("is a sealed value cut short")?;
    let nonce = XNonce::try_from(nonce).map_err(|_| "is a sealed value with a bad nonce")?;
    let payload = Payload { msg: sealed, aad };
    cipher.decrypt(&nonce, payload).map_err(|_| {
        "does not open with this master key file in this row (sealed for another row, with another key, or damaged)"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(byte: u8) -> Sealer {
        Sealer::with_secret(&[byte; 32]).unwrap()
    }

    /// What round 2 stored: sealed for a purpose, bound to no row.
    fn seal_unbound(sealer: &Sealer, purpose: &[u8], plain: &[u8]) -> Vec<u8> {
        let nonce = [5u8; NONCE_LEN];
        let payload = Payload {
            msg: plain,
            aad: UNBOUND,
        };
        let sealed = sealer.cipher(purpose).unwrap();
        let sealed = sealed.encrypt(&XNonce::from(nonce), payload).unwrap();
        [UNBOUND, &nonce, &sealed].concat()
    }

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let (a, b) = (keyed(1), keyed(2));
        let sealed = a.seal(GRACE_ANSWERS, "s1", b"{\"accessToken\":\"x\"}");
        assert!(sealed.starts_with(BOUND));
        assert!(!sealed.windows(11).any(|w| w == b"accessToken"));
        let opened = a.open(GRACE_ANSWERS, "s1", &sealed).unwrap();
        assert_eq!(opened, b"{\"accessToken\":\"x\"}");
        assert!(b.open(GRACE_ANSWERS, "s1", &sealed).is_err());
        assert!(Sealer::plain().open(GRACE_ANSWERS, "s1", &sealed).is_err());
        assert_ne!(
            a.seal(KEY_PAIRS, "k", b"same"),
            a.seal(KEY_PAIRS, "k", b"same")
        );
    }

    #[test]
    fn a_value_sealed_for_one_row_opens_in_no_other() {
        let a = keyed(1);
        let sealed = a.seal(KEY_PAIRS, "kid-a", b"secret");
        assert_eq!(a.open(KEY_PAIRS, "kid-a", &sealed).unwrap(), b"secret");
        assert_eq!(
            a.open(KEY_PAIRS, "kid-b", &sealed),
            Err("does not open with this master key file in this row (sealed for another row, with another key, or damaged)")
        );
        assert!(a.open(GRACE_ANSWERS, "kid-a", &sealed).is_err());
    }

    #[test]
    fn with_a_key_plain_unbound_and_unknown_values_are_refused() {
        let a = keyed(1);
        assert_eq!(
            a.open(KEY_PAIRS, "k", b"plain key bytes"),
            Err("is stored unsealed in a database whose secrets are sealed")
        );
        let unbound = seal_unbound(&a, KEY_PAIRS, b"secret");
        assert!(a.open(KEY_PAIRS, "k", &unbound).is_err());
        assert_eq!(a.open_unbound(KEY_PAIRS, &unbound).unwrap(), b"secret");
        assert!(a.open_unbound(KEY_PAIRS, b"plain").is_err());
        assert!(a.open(KEY_PAIRS, "k", b"\0AS9future").is_err());
        assert!(Sealer::looks_sealed(&unbound) && !Sealer::looks_sealed(b"{}"));
    }

    #[test]
    fn without_a_key_values_pass_through() {
        let plain = Sealer::plain();
        assert_eq!(plain.seal(KEY_PAIRS, "k", b"abc"), b"abc");
        assert_eq!(plain.open(KEY_PAIRS, "k", b"abc").unwrap(), b"abc");
    }

    #[test]
    fn the_check_tells_keys_apart_in_both_formats() {
        let a = keyed(1);
        let check = a.check_value();
        assert!(Sealer::is_bound(&check));
        assert!(a.matches(&check));
        assert!(!keyed(2).matches(&check));
        assert!(!Sealer::plain().matches(&check));
        let old = seal_unbound(&a, CHECK, CHECK_TEXT);
        assert!(!Sealer::is_bound(&old));
        assert!(a.matches(&old) && !keyed(2).matches(&old));
        let mut damaged = a.seal(KEY_PAIRS, "k", b"x");
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(a.open(KEY_PAIRS, "k", &damaged).is_err());
        assert!(a.open(KEY_PAIRS, "k", &damaged[..10]).is_err());
    }

    #[test]
    fn a_short_secret_is_refused_and_debug_hides_the_key() {
        assert!(Sealer::with_secret(&[1; 31]).is_err());
        let shown = format!("{:?}", keyed(7));
        assert!(shown.contains("redacted"), "{shown}");
    }
}
