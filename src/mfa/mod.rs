//! TOTP and recovery codes (SPEC §10): RFC 6238 with the parameters every
//! authenticator app takes (HMAC-SHA1, 6 digits, 30-second steps, a 20-byte
//! secret), computed by `totp-rs`; the enrolment's otpauth URL and its QR image
//! (`qrcode`, as SVG); recovery codes, kept only as SHA-256 digests. Nothing
//! here touches the database or HTTP.

pub mod passkeys;

use qrcode::render::svg;
use qrcode::QrCode;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

/// Seconds per step.
pub const STEP: u64 = 30;
const DIGITS: usize = 6;
const SECRET_BYTES: usize = 20;
/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code, a hyphen aside (50 bits).
const RECOVERY_CHARS: usize = 10;
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The step a time falls in.
pub fn step_of(now: u64) -> u64 {
    now / STEP
}

/// A new random secret.
pub fn new_secret() -> Result<Vec<u8>, getrandom::Error> {
    let mut secret = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut secret)?;
    Ok(secret)
}

fn totp(secret: &[u8]) -> Result<TOTP, String> {
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP, secret.to_vec())
        .map_err(|e| format!("a stored TOTP secret is not usable: {e}"))
}

/// The secret as authenticator apps take it typed in: base32, no padding.
pub fn base32(secret: &[u8]) -> Result<String, String> {
    Ok(totp(secret)?.get_secret_base32())
}

/// Whether `code` is shaped as a TOTP code (six digits; spaces ignored).
pub fn looks_like_totp(code: &str) -> bool {
    let digits: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
    digits.len() == DIGITS && digits.iter().all(u8::is_ascii_digit)
}

/// The step whose code `code` is, among the step of `now` and one either
/// side; None when it is none of theirs.
pub fn matching_step(secret: &[u8], code: &str, now: u64) -> Result<Option<u64>, String> {
    if !looks_like_totp(code) {
        return Ok(None);
    }
    let code: String = code.chars().filter(|c| *c != ' ').collect();
    let totp = totp(secret)?;
    let current = step_of(now);
    let mut found = None;
    // Every candidate is computed and compared, in constant time each.
    for step in [
        current.saturating_sub(1),
        current,
        current.saturating_add(1),
    ] {
        let expected = totp.generate(step.saturating_mul(STEP));
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

/// `otpauth://totp/ISSUER:EMAIL?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_url(issuer: &str, email: &str, secret_base32: &str) -> String {
    let issuer = encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret_base32}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP}",
        encode(email)
    )
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An SVG image of the QR code of `text`.
pub fn qr_svg(text: &str) -> Result<String, String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| format!("no QR code: {e}"))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// A new set of recovery codes (`xxxxx-xxxxx`, lower-case base32).
pub fn new_recovery_codes() -> Result<Vec<String>, getrandom::Error> {
    let mut bytes = [0u8; RECOVERY_CODES * RECOVERY_CHARS];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .chunks(RECOVERY_CHARS)
        .map(|chunk| {
            // 256 is a multiple of 32: every character equally likely.
            let chars: String = chunk
                .iter()
                .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b % 32)]))
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect())
}

/// What is stored for a recovery code: the SHA-256 of it without hyphens or
/// spaces, lower-cased, so that it is taken however it is typed.
pub fn recovery_digest(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    Sha256::digest(normal.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret and vectors (8 digits there: the last six here).
    #[test]
    fn codes_are_rfc_6238s_within_one_step_either_side() {
        let secret = b"12345678901234567890";
        assert_eq!(matching_step(secret, "287082", 59).unwrap(), Some(1));
        assert_eq!(
            matching_step(secret, "081804", 1111111109).unwrap(),
            Some(37037036)
        );
        assert_eq!(
            matching_step(secret, "081804", 1111111109 + 30).unwrap(),
            Some(37037036)
        );
        assert_eq!(
            matching_step(secret, "081804", 1111111109 - 30).unwrap(),
            Some(37037036)
        );
        assert_eq!(
            matching_step(secret, "081804", 1111111109 + 60).unwrap(),
            None
        );
        assert_eq!(
            matching_step(secret, "081 804", 1111111109).unwrap(),
            Some(37037036)
        );
        for bad in ["", "08180", "0818044", "abcdef", "٠٨١٨٠٤"] {
            assert_eq!(
                matching_step(secret, bad, 1111111109).unwrap(),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_url_names_issuer_and_account_and_the_qr_is_svg() {
        let url = otpauth_url(
            "Acme Co",
            "ada+1@acme.test",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        );
        assert_eq!(
            url,
            "otpauth://totp/Acme%20Co:ada%2B1%40acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            base32(b"12345678901234567890").unwrap(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        let svg = qr_svg(&url).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_their_digest_ignores_typing() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert!(!looks_like_totp(code));
        }
        let code = &codes[0];
        let typed = format!(" {} ", code.to_uppercase().replace('-', ""));
        assert_eq!(recovery_digest(&typed), recovery_digest(code));
        assert_ne!(recovery_digest(&codes[1]), recovery_digest(code));
        assert_eq!(new_secret().unwrap().len(), 20);
    }
}
