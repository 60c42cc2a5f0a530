//! Every hash format authlite reads: its own PBKDF2 PHC strings and the ones a
//! team brings from elsewhere (bcrypt from PocketBase and Supabase, Argon2 and
//! scrypt PHC strings, PBKDF2-SHA512, Django's `pbkdf2_sha256$…`).
//!
//! Verification is the RustCrypto crates' and the `bcrypt` crate's; each runs
//! in full and compares in constant time, so a wrong password costs what a
//! right one does. Nothing here writes a hash in these formats: a good login
//! replaces them with PBKDF2-SHA256.

use std::fmt;

use argon2::Argon2;
use base64ct::{Base64, Encoding};
use pbkdf2::password_hash::PasswordVerifier;
use pbkdf2::phc::PasswordHash;
use pbkdf2::Pbkdf2;
use scrypt::Scrypt;
use subtle::ConstantTimeEq;

use super::cost::{OverCap, Work};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `$pbkdf2-sha256$…` and `$pbkdf2-sha512$…`
    Pbkdf2,
    /// `$2a$`, `$2b$`, `$2y$`
    Bcrypt,
    /// `$argon2id$…`, `$argon2i$…`
    Argon2,
    /// `$scrypt$…`
    Scrypt,
    /// `pbkdf2_sha256$ITER$SALT$HASH`
    Django,
}

fn format_of(hash: &str) -> Option<Format> {
    const PREFIXES: [(&str, Format); 9] = [
        ("$pbkdf2-sha256$", Format::Pbkdf2),
        ("$pbkdf2-sha512$", Format::Pbkdf2),
        ("$2a$", Format::Bcrypt),
        ("$2b$", Format::Bcrypt),
        ("$2y$", Format::Bcrypt),
        ("$argon2id$", Format::Argon2),
        ("$argon2i$", Format::Argon2),
        ("$scrypt$", Format::Scrypt),
        ("pbkdf2_sha256$", Format::Django),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| hash.starts_with(prefix))
        .map(|&(_, format)| format)
}

/// Why a hash cannot be imported. Never quotes the hash.
#[derive(Debug, PartialEq, Eq)]
pub enum ImportError {
    /// Not one of the formats authlite reads.
    UnknownFormat,
    /// A known format, but the string does not parse as one.
    Malformed(&'static str),
    /// Parses, but one check would cost a login more than authlite allows.
    TooCostly(OverCap),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::UnknownFormat => f.write_str(
                "is not a hash authlite can import (bcrypt $2a$/$2b$/$2y$, $argon2id$, $argon2i$, \
                 $scrypt$, $pbkdf2-sha256$, $pbkdf2-sha512$ or Django's pbkdf2_sha256$)",
            ),
            ImportError::Malformed(format) => write!(f, "is not a well-formed {format} hash"),
            ImportError::TooCostly(why) => write!(f, "is too costly to check at login: {why}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Whether `hash` is one authlite can check at login, and if not, why.
pub fn check_importable(hash: &str) -> Result<(), ImportError> {
    work_of(hash)?.check().map_err(ImportError::TooCostly)
}

/// What one check of `hash` costs, if it is a hash authlite reads.
pub fn work_of(hash: &str) -> Result<Work, ImportError> {
    match format_of(hash).ok_or(ImportError::UnknownFormat)? {
        Format::Pbkdf2 => pbkdf2_work(hash),
        Format::Bcrypt => bcrypt_work(hash),
        Format::Argon2 => argon2_work(hash),
        Format::Scrypt => scrypt_work(hash),
        Format::Django => django_parts(hash)
            .ok_or(ImportError::Malformed("Django pbkdf2_sha256"))
            .map(|parts| Work::pbkdf2_sha256(parts.iterations, 32)),
    }
}

/// Checks `password` against `stored` in whichever format it is. A hash
/// over the cap never verifies and costs nothing: one stored before the cap
/// existed cannot exhaust the server. authlite's own PBKDF2-SHA256 hashes are
/// exempt, as their cost is the operator's `--pbkdf2-iterations`.
pub fn verify(password: &str, stored: &str) -> bool {
    let own = stored.starts_with("$pbkdf2-sha256$");
    if !own && check_importable(stored).is_err() {
        return false;
    }
    let password = password.as_bytes();
    match format_of(stored) {
        Some(Format::Pbkdf2) => {
            phc(stored).is_some_and(|h| Pbkdf2::default().verify_password(password, &h).is_ok())
        }
        Some(Format::Bcrypt) => bcrypt::verify(password, stored).unwrap_or(false),
        Some(Format::Argon2) => {
            phc(stored).is_some_and(|h| Argon2::default().verify_password(password, &h).is_ok())
        }
        Some(Format::Scrypt) => {
            phc(stored).is_some_and(|h| Scrypt::default().verify_password(password, &h).is_ok())
        }
        Some(Format::Django) => django_parts(stored).is_some_and(|p| p.verify(password)),
        None => false,
    }
}

fn phc(hash: &str) -> Option<PasswordHash> {
    PasswordHash::new(hash)
        .ok()
        .filter(|h| h.salt.is_some() && h.hash.is_some())
}

fn pbkdf2_work(hash: &str) -> Result<Work, ImportError> {
    let malformed = ImportError::Malformed("PBKDF2 PHC");
    let parsed = phc(hash).ok_or(ImportError::Malformed("PBKDF2 PHC"))?;
    let params = pbkdf2::Params::try_from(&parsed).map_err(|_| malformed)?;
    // The crate derives `l` bytes (32 when absent): a hash of another length never verifies.
    if parsed.hash.map(|out| out.len()) != Some(params.output_len()) {
        return Err(ImportError::Malformed(
            "PBKDF2 PHC (hash length differs from l)",
        ));
    }
    Ok(match hash.starts_with("$pbkdf2-sha512$") {
        true => Work::pbkdf2_sha512(params.rounds(), params.output_len()),
        false => Work::pbkdf2_sha256(params.rounds(), params.output_len()),
    })
}

fn bcrypt_work(hash: &str) -> Result<Work, ImportError> {
    let parts: bcrypt::HashParts = hash.parse().map_err(|_| ImportError::Malformed("bcrypt"))?;
    // The costs bcrypt defines; the crate refuses others when verifying.
    if !(4..=31).contains(&parts.get_cost()) {
        return Err(ImportError::Malformed("bcrypt"));
    }
    Ok(Work::bcrypt(parts.get_cost()))
}

fn argon2_work(hash: &str) -> Result<Work, ImportError> {
    let malformed = || ImportError::Malformed("Argon2 PHC");
    let parsed = phc(hash).ok_or_else(malformed)?;
    argon2::Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| malformed())?;
    if let Some(version) = parsed.version {
        argon2::Version::try_from(version).map_err(|_| malformed())?;
    }
    let params = argon2::Params::try_from(&parsed).map_err(|_| malformed())?;
    Ok(Work::argon2(params.m_cost(), params.t_cost()))
}

fn scrypt_work(hash: &str) -> Result<Work, ImportError> {
    let malformed = || ImportError::Malformed("scrypt PHC");
    let parsed = phc(hash).ok_or_else(malformed)?;
    let params = scrypt::Params::try_from(&parsed).map_err(|_| malformed())?;
    Ok(Work::scrypt(params.log_n(), params.r(), params.p()))
}

/// Django's `pbkdf2_sha256$ITERATIONS$SALT$BASE64(HASH)`: the salt is used as
/// the text it is, the hash is standard base64 of 32 bytes.
struct DjangoParts<'a> {
    iterations: u32,
    salt: &'a str,
    hash: &'a str,
}

fn django_parts(stored: &str) -> Option<DjangoParts<'_>> {
    let mut fields = stored.strip_prefix("pbkdf2_sha256$")?.split('$');
    let (iterations, salt, hash) = (fields.next()?, fields.next()?, fields.next()?);
    let iterations: u32 = iterations.parse().ok().filter(|&n| n > 0)?;
    let decoded = Base64::decode_vec(hash).ok()?;
    let well_formed = fields.next().is_none() && !salt.is_empty() && decoded.len() == 32;
    well_formed.then_some(DjangoParts {
        iterations,
        salt,
        hash,
    })
}

impl DjangoParts<'_> {
    fn verify(&self, password: &[u8]) -> bool {
        let mut derived = [0u8; 32];
        let salt = self.salt.as_bytes();
        // The non-generic entry point is compiled with the pbkdf2 crate's own
        // optimisation, so that test builds check a Django hash as fast as a PHC one.
        match pbkdf2::Params::new(self.iterations) {
            Ok(params) => pbkdf2::pbkdf2_hmac_with_params(
                password,
                salt,
                pbkdf2::Algorithm::Pbkdf2Sha256,
                params,
                &mut derived,
            ),
            Err(_) => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, self.iterations, &mut derived)
            }
        }
        let encoded = Base64::encode_string(&derived);
        encoded.as_bytes().ct_eq(self.hash.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by other tools (Python's bcrypt, argon2-cffi and hashlib) for "hunter2 hunter2".
    const PASSWORD: &str = "hunter2 hunter2";

    #[test]
    fn unknown_formats_are_refused_and_never_verify() {
        for hash in [
            "",
            "hunter2",
            "$1$abc$def",
            "$argon2d$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$2x$04$abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS",
            "sha1$salt$hash",
        ] {
            assert_eq!(
                check_importable(hash),
                Err(ImportError::UnknownFormat),
                "{hash}"
            );
            assert!(!verify(PASSWORD, hash));
        }
    }

    #[test]
    fn malformed_strings_of_known_formats_are_refused() {
        for hash in [
            "$2b$04$short",
            "$2b$99$abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
            "$argon2id$v=7$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$scrypt$ln=4,r=8,p=1,x=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$pbkdf2-sha256$i=10,l=32$c2FsdHNhbHQ$aGFzaGhhc2g",
            "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHQ$aGFzaGhhc2g",
            "pbkdf2_sha256$0$salt$aGFzaA==",
            "pbkdf2_sha256$1000$$aGFzaA==",
            "pbkdf2_sha256$1000$salt$not base64",
            "pbkdf2_sha256$1000$salt$aGFzaA==$more",
        ] {
            assert!(
                matches!(check_importable(hash), Err(ImportError::Malformed(_))),
                "{hash}: {:?}",
                check_importable(hash)
            );
        }
    }

    #[test]
    fn hashes_that_would_stall_a_login_are_refused() {
        for hash in [
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$scrypt$ln=24,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "pbkdf2_sha256$4000000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(
                matches!(check_importable(hash), Err(ImportError::TooCostly(_))),
                "{hash}: {:?}",
                check_importable(hash)
            );
        }
    }

    /// Hashes the old per-parameter caps accepted: each alone fits, together
    /// they cost 18 GiB (scrypt's B), ~80 s (Argon2 m·t) or ~16 s (bcrypt 18).
    const OVER_THE_CAP: [&str; 6] = [
        "$scrypt$ln=0,r=8388608,p=16$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=18,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1048576,t=64,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=262144,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$18$abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS",
        "$pbkdf2-sha512$i=2000000,l=64$c2FsdHNhbHQ$\
         AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ];

    #[test]
    fn the_cap_is_on_one_check_not_on_each_parameter() {
        for hash in OVER_THE_CAP {
            let refusal = check_importable(hash);
            assert!(
                matches!(refusal, Err(ImportError::TooCostly(_))),
                "{hash}: {refusal:?}"
            );
        }
    }

    #[test]
    fn a_stored_hash_over_the_cap_never_verifies_and_costs_nothing() {
        use std::time::{Duration, Instant};
        for hash in OVER_THE_CAP {
            let started = Instant::now();
            assert!(!verify(PASSWORD, hash), "{hash}");
            assert!(started.elapsed() < Duration::from_millis(50), "{hash}");
        }
    }

    #[test]
    fn the_refusal_never_quotes_the_hash() {
        let hash = "$2b$04$secretsecretsecretsecret";
        let message = check_importable(hash).unwrap_err().to_string();
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn a_bcrypt_hash_verifies_its_password_in_every_prefix() {
        let made = bcrypt::hash(PASSWORD, 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let hash = format!("{prefix}{}", &made[4..]);
            assert_eq!(check_importable(&hash), Ok(()));
            assert!(verify(PASSWORD, &hash));
            assert!(!verify("hunter2 hunter3", &hash));
        }
    }

    #[test]
    fn a_django_hash_verifies_its_password() {
        // hashlib.pbkdf2_hmac("sha256", b"hunter2 hunter2", b"pepper", 1000), base64.
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD.as_bytes(), b"pepper", 1000, &mut derived);
        let hash = format!(
            "pbkdf2_sha256$1000$pepper${}",
            Base64::encode_string(&derived)
        );
        assert_eq!(check_importable(&hash), Ok(()));
        assert!(verify(PASSWORD, &hash));
        assert!(!verify("hunter2 hunter3", &hash));
    }

    #[test]
    fn authlites_own_hashes_are_importable() {
        let hash = crate::password::hash(PASSWORD, 1000).unwrap();
        assert_eq!(check_importable(&hash), Ok(()));
        assert!(verify(PASSWORD, &hash));
    }

    /// Both verifications run in full: the fastest of interleaved runs of a
    /// right and a wrong password (the runs least disturbed by the tests beside
    /// this one) agree. Run alone they agree within a few per cent (bcrypt cost
    /// 8: 32.7 ms against 30.9 ms); the wide window is for a loaded machine and
    /// still catches what it guards against, a check that skips the hashing for
    /// a wrong password (a ratio near 0).
    #[test]
    fn a_wrong_password_costs_what_a_right_one_does() {
        use std::time::{Duration, Instant};
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD.as_bytes(), b"pepper", 5_000, &mut derived);
        let django = format!(
            "pbkdf2_sha256$5000$pepper${}",
            Base64::encode_string(&derived)
        );
        for hash in [bcrypt::hash(PASSWORD, 8).unwrap(), django] {
            let (mut right, mut wrong) = (Vec::new(), Vec::new());
            for _ in 0..9 {
                for (password, times) in [(PASSWORD, &mut right), ("hunter2 hunter3", &mut wrong)] {
                    let started = Instant::now();
                    verify(password, &hash);
                    times.push(started.elapsed());
                }
            }
            let fastest = |t: Vec<Duration>| t.into_iter().min().unwrap_or_default().as_secs_f64();
            let ratio = fastest(wrong) / fastest(right);
            assert!(
                (0.5..=2.0).contains(&ratio),
                "{}: ratio {ratio:.2}",
                &hash[..4]
            );
        }
    }
}
