//! Signing and verifying access and refresh tokens (EdDSA, a `kid` in every header).

mod keys;
mod refresh;
mod sealing;

use std::collections::HashMap;

use jwt_simple::prelude::{
    Duration as JwtDuration, Ed25519KeyPair, Ed25519PublicKey, EdDSAKeyPairLike,
    EdDSAPublicKeyLike, HashSet, JWTClaims, Token, UnixTimeStamp, VerificationOptions,
};
use jwt_simple::JWTError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::store::keys::StoredKey;

pub use keys::{ensure_key, rotate, Keys};
pub use refresh::{digest, same_digest, Unverified};
pub use sealing::Sealer;

pub const ACCESS: &str = "access";
pub const REFRESH: &str = "refresh";

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AccessClaims {
    pub sid: String,
    pub typ: String,
    pub email: String,
    pub name: String,
    #[serde(rename = "orgId")]
    pub org_id: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct RefreshClaims {
    pub sid: String,
    pub typ: String,
}

/// What a verified token says: the standard claims plus its own.
#[derive(Clone)]
pub struct Verified<C> {
    pub sub: String,
    pub jti: String,
    pub exp: u64,
    pub claims: C,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this server: malformed, bad signature, unknown kid, wrong alg, iss or typ.
    Invalid,
    Expired,
}

/// The keys whose tokens may still be alive, and the current one that signs.
pub struct Keyring {
    current: Ed25519KeyPair,
    verifiers: HashMap<String, Ed25519PublicKey>,
    jwks: serde_json::Value,
}

impl Keyring {
    pub(crate) fn from_stored(
        stored: &[StoredKey],
        lifetime: u64,
        now: u64,
    ) -> Result<Keyring, String> {
        let mut current = None;
        let mut verifiers = HashMap::new();
        let mut jwks = Vec::new();
        for key in stored {
            let alive = key.retired_at.is_none_or(|at| at + lifetime > now);
            if !alive {
                continue;
            }
            let pair = Ed25519KeyPair::from_bytes(&key.key_pair)
                .map_err(|_| format!("signing key {} is damaged", key.kid))?
                .with_key_id(&key.kid);
            let public = pair.public_key();
            let jwk: serde_json::Value = serde_json::from_str(&public.to_jwk())
                .map_err(|e| format!("signing key {}: {e}", key.kid))?;
            jwks.push(jwk);
            verifiers.insert(key.kid.clone(), public);
            if key.retired_at.is_none() {
                current = Some(pair);
            }
        }
        let current = current.ok_or("no current signing key")?;
        Ok(Keyring {
            current,
            verifiers,
            jwks: serde_json::json!({ "keys": jwks }),
        })
    }

    pub fn current_kid(&self) -> &str {
        self.current.key_id().as_deref().unwrap_or_default()
    }

    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    pub fn sign<C: Serialize>(&self, claims: Claims<C>) -> Result<String, String> {
        let claims = JWTClaims {
            issued_at: Some(UnixTimeStamp::from_secs(claims.iat)),
            expires_at: Some(UnixTimeStamp::from_secs(claims.exp)),
            invalid_before: None,
            issuer: Some(claims.iss),
            subject: Some(claims.sub),
            audiences: None,
            jwt_id: Some(claims.jti),
            nonce: None,
            custom: claims.custom,
        };
        self.current.sign(claims).map_err(|e| e.to_string())
    }

    pub fn verify_access(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<Verified<AccessClaims>, TokenError> {
        let verified: Verified<AccessClaims> = self.verify(token, issuer)?;
        if verified.claims.typ != ACCESS {
            return Err(TokenError::Invalid);
        }
        Ok(verified)
    }

    pub fn verify_refresh(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<Verified<RefreshClaims>, TokenError> {
        let verified: Verified<RefreshClaims> = self.verify(token, issuer)?;
        if verified.claims.typ != REFRESH {
            return Err(TokenError::Invalid);
        }
        Ok(verified)
    }

    fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<Verified<C>, TokenError> {
        let meta = Token::decode_metadata(token).map_err(|_| TokenError::Invalid)?;
        // jwt-simple also takes "Ed25519"; the contract says EdDSA only.
        if meta.algorithm() != "EdDSA" {
            return Err(TokenError::Invalid);
        }
        let key = meta
            .key_id()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(TokenError::Invalid)?;
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from([issuer.to_string()])),
            time_tolerance: Some(JwtDuration::from_secs(0)),
            // iat is ours; a coarse clock a few ms behind must not reject a fresh token.
            accept_future: true,
            ..VerificationOptions::default()
        };
        let claims = key.verify_token::<C>(token, Some(options)).map_err(|e| {
            match e.downcast_ref::<JWTError>() {
                Some(JWTError::TokenHasExpired) => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })?;
        match (claims.subject, claims.jwt_id, claims.expires_at) {
            (Some(sub), Some(jti), Some(exp)) => Ok(Verified {
                sub,
                jti,
                exp: exp.as_secs(),
                claims: claims.custom,
            }),
            _ => Err(TokenError::Invalid),
        }
    }
}

/// The claims every token has, around the kind-specific ones.
pub struct Claims<C> {
    pub iss: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub custom: C,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::now;

    fn ring_with(kids: &[&str]) -> (Keyring, Vec<StoredKey>) {
        let stored: Vec<StoredKey> = kids
            .iter()
            .enumerate()
            .map(|(i, kid)| StoredKey {
                kid: kid.to_string(),
                key_pair: Ed25519KeyPair::generate().to_bytes(),
                created_at: 100,
                retired_at: (i + 1 < kids.len()).then_some(100),
            })
            .collect();
        (Keyring::from_stored(&stored, 1000, 200).unwrap(), stored)
    }

    fn access(iss: &str, iat: u64, exp: u64) -> Claims<AccessClaims> {
        Claims {
            iss: iss.into(),
            sub: "u1".into(),
            iat,
            exp,
            jti: "j1".into(),
            custom: AccessClaims {
                sid: "s1".into(),
                typ: ACCESS.into(),
                email: "a@b.c".into(),
                name: "A".into(),
                org_id: None,
            },
        }
    }

    #[test]
    fn a_signed_access_token_verifies_with_its_claims() {
        let (ring, _) = ring_with(&["k1"]);
        let t = now();
        let token = ring.sign(access("authlite", t, t + 60)).unwrap();
        let v = ring.verify_access(&token, "authlite").unwrap();
        assert_eq!(
            (v.sub.as_str(), v.jti.as_str(), v.exp),
            ("u1", "j1", t + 60)
        );
        assert_eq!(v.claims.sid, "s1");
    }

    #[test]
    fn wrong_issuer_kind_or_expiry_is_refused() {
        let (ring, _) = ring_with(&["k1"]);
        let t = now();
        let token = ring.sign(access("authlite", t, t + 60)).unwrap();
        assert_eq!(
            ring.verify_access(&token, "other").err(),
            Some(TokenError::Invalid)
        );
        assert_eq!(
            ring.verify_refresh(&token, "authlite").err(),
            Some(TokenError::Invalid)
        );
        let old = ring.sign(access("authlite", t - 100, t - 50)).unwrap();
        assert_eq!(
            ring.verify_access(&old, "authlite").err(),
            Some(TokenError::Expired)
        );
    }

    #[test]
    fn a_token_from_another_keyring_with_the_same_kid_is_refused() {
        let (ring, _) = ring_with(&["k1"]);
        let (other, _) = ring_with(&["k1"]);
        let t = now();
        let token = other.sign(access("authlite", t, t + 60)).unwrap();
        assert_eq!(
            ring.verify_access(&token, "authlite").err(),
            Some(TokenError::Invalid)
        );
    }

    #[test]
    fn retired_keys_verify_until_their_tokens_could_have_expired() {
        let (_, stored) = ring_with(&["old", "new"]);
        let ring = Keyring::from_stored(&stored, 1000, 200).unwrap();
        assert_eq!(ring.current_kid(), "new");
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        let later = Keyring::from_stored(&stored, 1000, 1100).unwrap();
        assert_eq!(later.jwks()["keys"].as_array().unwrap().len(), 1);
    }
}
