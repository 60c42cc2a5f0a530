//! Secrets at rest under the master key (`--master-key-file`): XChaCha20-Poly1305
//! with a 24-byte random nonce, under a key derived from the file by HKDF-SHA256,
//! one derived key per purpose so that a value sealed for one use opens for no other.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// Every sealed value starts with this. A NUL never starts JSON, a token or
/// text, so a plain value written before the master key is never taken for a
/// sealed one; the version lets a later format come in beside this one.
const VERSION: &[u8] = b"\0AS1";
const NONCE_LEN: usize = 24;
/// The fewest bytes a master key file may hold.
pub const MIN_MASTER_KEY: usize = 32;

/// The purpose of what `seal` and `open` hold (the lead's refresh records).
const DATA: &[u8] = b"authlite sealed data v1";
/// The purpose of signing key pairs.
pub const KEY_PAIRS: &[u8] = b"authlite signing key v1";
/// The purpose of the check value that tells one master key from another.
pub const CHECK: &[u8] = b"authlite master key check v1";
const CHECK_TEXT: &[u8] = b"authlite: this database's secrets are sealed with this key";

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

    /// With a key: AEAD, random nonce, a version prefix. Without: `plain` as is.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        self.seal_for(DATA, plain)
    }

    /// Refuses sealed data without the key or with another key; a plain value
    /// (written before there was a master key) comes back as it is.
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, String> {
        self.open_for(DATA, stored)
    }

    pub fn seal_for(&self, purpose: &[u8], plain: &[u8]) -> Vec<u8> {
        let Some(cipher) = self.cipher(purpose) else {
            return plain.to_vec();
        };
        let mut nonce = [0u8; NONCE_LEN];
        // The OS random source failing is not recoverable for a login server.
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let payload = Payload {
            msg: plain,
            aad: VERSION,
        };
        // Encryption fails only past 256 GiB of input.
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("a secret of sane length seals");
        [VERSION, &nonce, &sealed].concat()
    }

    pub fn open_for(&self, purpose: &[u8], stored: &[u8]) -> Result<Vec<u8>, String> {
        let Some(rest) = stored.strip_prefix(VERSION) else {
            return Ok(stored.to_vec());
        };
        let Some(cipher) = self.cipher(purpose) else {
            return Err("a value in the database is sealed with a master key, and none was given (--master-key-file)".into());
        };
        let (nonce, sealed) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or("a sealed value in the database is cut short")?;
        let nonce = XNonce::try_from(nonce).map_err(|_| "a sealed value has a bad nonce")?;
        let payload = Payload {
            msg: sealed,
            aad: VERSION,
        };
        cipher.decrypt(&nonce, payload).map_err(|_| {
            "a sealed value in the database does not open with this master key file".to_string()
        })
    }

    /// The check value stored beside sealed keys.
    pub fn check_value(&self) -> Vec<u8> {
        self.seal_for(CHECK, CHECK_TEXT)
    }

    /// Whether `stored` (a check value) was sealed with this sealer's key.
    pub fn matches(&self, stored: &[u8]) -> bool {
        self.has_key()
            && stored.starts_with(VERSION)
            && self.open_for(CHECK, stored).is_ok_and(|t| t == CHECK_TEXT)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(byte: u8) -> Sealer {
        Sealer::with_secret(&[byte; 32]).unwrap()
    }

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let (a, b) = (keyed(1), keyed(2));
        let sealed = a.seal(b"{\"accessToken\":\"x\"}");
        assert!(sealed.starts_with(VERSION));
        assert!(!sealed.windows(11).any(|w| w == b"accessToken"));
        assert_eq!(a.open(&sealed).unwrap(), b"{\"accessToken\":\"x\"}");
        assert!(b.open(&sealed).is_err());
        assert!(Sealer::plain().open(&sealed).is_err());
        assert_ne!(a.seal(b"same"), a.seal(b"same"), "the nonce is random");
    }

    #[test]
    fn without_a_key_values_pass_through_and_plain_values_open_anywhere() {
        let plain = Sealer::plain();
        assert_eq!(plain.seal(b"abc"), b"abc");
        assert_eq!(plain.open(b"abc").unwrap(), b"abc");
        assert_eq!(keyed(1).open(b"{}").unwrap(), b"{}");
    }

    #[test]
    fn purposes_do_not_mix_and_the_check_tells_keys_apart() {
        let a = keyed(1);
        let sealed = a.seal_for(KEY_PAIRS, b"secret");
        assert!(a.open(&sealed).is_err());
        assert_eq!(a.open_for(KEY_PAIRS, &sealed).unwrap(), b"secret");
        let check = a.check_value();
        assert!(a.matches(&check));
        assert!(!keyed(2).matches(&check));
        assert!(!Sealer::plain().matches(&check));
        let mut damaged = a.seal(b"x");
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(a.open(&damaged).is_err());
        assert!(a.open(&damaged[..10]).is_err());
    }

    #[test]
    fn a_short_secret_is_refused_and_debug_hides_the_key() {
        assert!(Sealer::with_secret(&[1; 31]).is_err());
        let shown = format!("{:?}", keyed(7));
        assert!(shown.contains("redacted"), "{shown}");
    }
}
