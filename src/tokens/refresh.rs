//! A refresh token is also a database record: rotation looks its `jti` up anyway,
//! and the SHA-256 of the exact token, stored when it was issued, proves that it
//! is a token this server signed. That spares an Ed25519 verification (~110 us)
//! per refresh; where the record is gone, the caller checks the signature instead.

use jwt_simple::reexports::ct_codecs::{Base64UrlSafeNoPadding, Decoder};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Keyring, TokenError, REFRESH};

/// The claims of a refresh token whose signature has not been checked.
pub struct Unverified {
    pub sub: String,
    pub jti: String,
    pub sid: String,
    pub exp: u64,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    /// A string or an array of strings.
    aud: Option<serde_json::Value>,
    sub: Option<String>,
    exp: Option<u64>,
    jti: Option<String>,
    sid: Option<String>,
    typ: Option<String>,
}

impl Keyring {
    /// Everything `verify_refresh` checks but the signature and the expiry: a key
    /// of this ring and its algorithm, this issuer and audience, typ refresh. The
    /// caller must then find the token's digest in the database.
    pub fn peek_refresh(&self, token: &str, issuer: &str) -> Result<Unverified, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let header: Header = decode(header)?;
        let claims: Claims = decode(claims)?;
        let key_algorithm = header.kid.and_then(|kid| self.algorithm_of(&kid));
        let audience_ok = match self.audience() {
            None => true,
            Some(ours) => names_audience(claims.aud.as_ref(), ours),
        };
        let ours = key_algorithm.is_some_and(|a| a.as_str() == header.alg)
            && audience_ok
            && !signature.is_empty()
            && claims.iss.as_deref() == Some(issuer)
            && claims.typ.as_deref() == Some(REFRESH);
        match (ours, claims.sub, claims.jti, claims.sid, claims.exp) {
            (true, Some(sub), Some(jti), Some(sid), Some(exp)) => {
                Ok(Unverified { sub, jti, sid, exp })
            }
            _ => Err(TokenError::Invalid),
        }
    }
}

/// Whether an `aud` claim (a string or an array) names `audience`.
fn names_audience(aud: Option<&serde_json::Value>, audience: &str) -> bool {
    match aud {
        Some(serde_json::Value::String(one)) => one == audience,
        Some(serde_json::Value::Array(many)) => many.iter().any(|a| a == audience),
        _ => false,
    }
}

fn decode<T: DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes =
        Base64UrlSafeNoPadding::decode_to_vec(part, None).map_err(|_| TokenError::Invalid)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Invalid)
}

/// The SHA-256 of a token, as stored with its record.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two digests in constant time.
pub fn same_digest(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::keyring::tests::stored;
    use crate::tokens::{Algorithm, Claims as TokenClaims, RefreshClaims};

    fn ring() -> Keyring {
        ring_with_kid("k1")
    }

    fn refresh(ring: &Keyring, iss: &str, typ: &str) -> String {
        ring.sign(TokenClaims {
            iss: iss.into(),
            sub: "u1".into(),
            iat: 1,
            exp: 2,
            jti: "j1".into(),
            custom: RefreshClaims {
                sid: "s1".into(),
                typ: typ.into(),
            },
        })
        .unwrap()
    }

    #[test]
    fn a_refresh_token_of_this_ring_reads_back_even_when_expired() {
        let ring = ring();
        let peeked = ring
            .peek_refresh(&refresh(&ring, "authlite", REFRESH), "authlite")
            .unwrap();
        assert_eq!(
            (
                peeked.sub.as_str(),
                peeked.jti.as_str(),
                peeked.sid.as_str(),
                peeked.exp
            ),
            ("u1", "j1", "s1", 2)
        );
    }

    #[test]
    fn another_issuer_kind_or_key_is_refused() {
        let ring = ring();
        assert!(ring
            .peek_refresh(&refresh(&ring, "other", REFRESH), "authlite")
            .is_err());
        assert!(ring
            .peek_refresh(&refresh(&ring, "authlite", "access"), "authlite")
            .is_err());
        let stranger = ring_with_kid("k2");
        assert!(ring
            .peek_refresh(&refresh(&stranger, "authlite", REFRESH), "authlite")
            .is_err());
        assert!(ring.peek_refresh("a.b", "authlite").is_err());
    }

    fn ring_with_kid(kid: &str) -> Keyring {
        Keyring::from_stored(&[stored(kid, Algorithm::EdDSA, None)], 1000, 10, None).unwrap()
    }

    #[test]
    fn another_audience_or_an_algorithm_not_the_keys_is_refused() {
        let keys = [stored("k1", Algorithm::ES256, None)];
        let ring = Keyring::from_stored(&keys, 1000, 10, Some("api".into())).unwrap();
        let token = refresh(&ring, "authlite", REFRESH);
        assert!(ring.peek_refresh(&token, "authlite").is_ok());
        let other = Keyring::from_stored(&keys, 1000, 10, Some("other".into())).unwrap();
        assert!(other.peek_refresh(&token, "authlite").is_err());
        // The same token with its header saying EdDSA.
        let relabelled = format!(
            "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0{}",
            &token[token.find('.').unwrap()..]
        );
        assert!(ring.peek_refresh(&relabelled, "authlite").is_err());
    }

    #[test]
    fn digests_compare_by_content() {
        assert!(same_digest(&digest("a.b.c"), &digest("a.b.c")));
        assert!(!same_digest(&digest("a.b.c"), &digest("a.b.d")));
        assert!(!same_digest(&digest("a"), &[]));
    }
}
