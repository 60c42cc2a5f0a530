//! The keys whose tokens may still be alive, the current one that signs, and
//! the access tokens this ring has verified already.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jwt_simple::prelude::{
    Audiences, Duration as JwtDuration, ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
    ES256PublicKey, Ed25519KeyPair, Ed25519PublicKey, EdDSAKeyPairLike, EdDSAPublicKeyLike,
    HashSet, JWTClaims, RS256KeyPair, RS256PublicKey, RSAKeyPairLike, RSAPublicKeyLike, Token,
    UnixTimeStamp, VerificationOptions,
};
use jwt_simple::JWTError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{AccessClaims, Algorithm, Claims, RefreshClaims, TokenError, Verified};
use super::{ACCESS, REFRESH};
use crate::clock::now_ms;
use crate::store::StoredKey;

/// How long after a key stopped signing a server may still sign with it: it
/// learns of a rotation by another process within a second.
const SIGNING_SLACK: u64 = 2;

/// Access tokens remembered as verified. A client sends the same token for up to
/// an hour, so most requests skip the signature check; past this many entries
/// the cache starts over. A new ring (a key rotated or retired) starts empty.
const VERIFIED_CAPACITY: usize = 8192;

enum Signer {
    EdDSA(Ed25519KeyPair),
    ES256(ES256KeyPair),
    RS256(Box<RS256KeyPair>),
}

enum Verifier {
    EdDSA(Ed25519PublicKey),
    ES256(ES256PublicKey),
    RS256(Box<RS256PublicKey>),
}

impl Verifier {
    fn algorithm(&self) -> Algorithm {
        match self {
            Verifier::EdDSA(_) => Algorithm::EdDSA,
            Verifier::ES256(_) => Algorithm::ES256,
            Verifier::RS256(_) => Algorithm::RS256,
        }
    }
}

pub struct Keyring {
    current: Signer,
    current_kid: String,
    verifiers: HashMap<String, Verifier>,
    jwks: serde_json::Value,
    audience: Option<String>,
    /// When the next retired key's last token will have expired: the ring must
    /// be built again then.
    changes_at: Option<u64>,
    verified: Mutex<HashMap<String, Arc<Verified<AccessClaims>>>>,
}

impl Keyring {
    /// `stored` holds open (unsealed) key pairs; `lifetime` is the longest a
    /// token lives. Retired keys verify until then, distrusted keys never.
    pub(crate) fn from_stored(
        stored: &[StoredKey],
        lifetime: u64,
        now: u64,
        audience: Option<String>,
    ) -> Result<Keyring, String> {
        let mut current = None;
        let mut verifiers = HashMap::new();
        let mut jwks = Vec::new();
        let mut changes_at: Option<u64> = None;
        for key in stored {
            let ends = key
                .retired_at
                .map(|at| at.saturating_add(lifetime).saturating_add(SIGNING_SLACK));
            if key.distrusted_at.is_some() || ends.is_some_and(|end| end <= now) {
                continue;
            }
            if let Some(end) = ends {
                changes_at = Some(changes_at.map_or(end, |c| c.min(end)));
            }
            let damaged = |_| format!("signing key {} is damaged", key.kid);
            let algorithm: Algorithm = key.algorithm.parse()?;
            let (signer, verifier, jwk) = match algorithm {
                Algorithm::EdDSA => {
                    let pair = Ed25519KeyPair::from_bytes(&key.key_pair)
                        .map_err(damaged)?
                        .with_key_id(&key.kid);
                    let public = pair.public_key();
                    let jwk = public.to_jwk();
                    (Signer::EdDSA(pair), Verifier::EdDSA(public), jwk)
                }
                Algorithm::ES256 => {
                    let pair = ES256KeyPair::from_bytes(&key.key_pair)
                        .map_err(damaged)?
                        .with_key_id(&key.kid);
                    let public = pair.public_key();
                    let jwk = public.to_jwk();
                    (Signer::ES256(pair), Verifier::ES256(public), jwk)
                }
                Algorithm::RS256 => {
                    let pair = RS256KeyPair::from_der(&key.key_pair)
                        .map_err(damaged)?
                        .with_key_id(&key.kid);
                    let public = pair.public_key().with_key_id(&key.kid);
                    let jwk = rsa_jwk(&public, &key.kid);
                    let (pair, public) = (Box::new(pair), Box::new(public));
                    (Signer::RS256(pair), Verifier::RS256(public), jwk)
                }
            };
            let jwk: serde_json::Value =
                serde_json::from_str(&jwk).map_err(|e| format!("signing key {}: {e}", key.kid))?;
            jwks.push(jwk);
            verifiers.insert(key.kid.clone(), verifier);
            if key.retired_at.is_none() {
                current = Some((signer, key.kid.clone()));
            }
        }
        let (current, current_kid) = current.ok_or("no current signing key")?;
        Ok(Keyring {
            current,
            current_kid,
            verifiers,
            jwks: serde_json::json!({ "keys": jwks }),
            audience,
            changes_at,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn current_kid(&self) -> &str {
        &self.current_kid
    }

    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The algorithms of the published keys, each once, EdDSA first, RS256 last.
    pub fn algorithms(&self) -> Vec<&'static str> {
        [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256]
            .into_iter()
            .filter(|a| self.verifiers.values().any(|v| v.algorithm() == *a))
            .map(Algorithm::as_str)
            .collect()
    }

    pub(crate) fn changes_at(&self) -> Option<u64> {
        self.changes_at
    }

    pub(super) fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// The algorithm of the known key `kid` names, if any.
    pub(super) fn algorithm_of(&self, kid: &str) -> Option<Algorithm> {
        self.verifiers.get(kid).map(Verifier::algorithm)
    }

    pub fn sign<C: Serialize>(&self, claims: Claims<C>) -> Result<String, String> {
        let audience = self.audience.clone();
        self.sign_with(claims, audience, None)
    }

    /// An ID token (SPEC §13): for one relying party, `aud` its client id.
    pub fn sign_id_token<C: Serialize>(
        &self,
        claims: Claims<C>,
        client_id: &str,
        nonce: Option<String>,
    ) -> Result<String, String> {
        self.sign_with(claims, Some(client_id.to_string()), nonce)
    }

    /// Who an ID token this server signed names, expired or not (an
    /// `id_token_hint` may be old): `(sub, aud, sid)`.
    pub fn read_id_token_hint(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<(String, String, Option<String>), TokenError> {
        #[derive(serde::Deserialize)]
        struct Hint {
            sid: Option<String>,
        }
        let meta = Token::decode_metadata(token).map_err(|_| TokenError::Invalid)?;
        let key = meta
            .key_id()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(TokenError::Invalid)?;
        if meta.algorithm() != key.algorithm().as_str() {
            return Err(TokenError::Invalid);
        }
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from([issuer.to_string()])),
            // The key still verifies, so the token is at most a lifetime old.
            time_tolerance: Some(JwtDuration::from_days(3650)),
            accept_future: true,
            ..VerificationOptions::default()
        };
        let claims = match key {
            Verifier::EdDSA(public) => public.verify_token::<Hint>(token, Some(options)),
            Verifier::ES256(public) => public.verify_token::<Hint>(token, Some(options)),
            Verifier::RS256(public) => public.verify_token::<Hint>(token, Some(options)),
        }
        .map_err(|_| TokenError::Invalid)?;
        let aud = match claims.audiences {
            Some(Audiences::AsString(aud)) => aud,
            Some(Audiences::AsSet(set)) if set.len() == 1 => {
                set.into_iter().next().unwrap_or_default()
            }
            _ => return Err(TokenError::Invalid),
        };
        let sub = claims.subject.ok_or(TokenError::Invalid)?;
        Ok((sub, aud, claims.custom.sid))
    }

    fn sign_with<C: Serialize>(
        &self,
        claims: Claims<C>,
        audience: Option<String>,
        nonce: Option<String>,
    ) -> Result<String, String> {
        let claims = JWTClaims {
            issued_at: Some(UnixTimeStamp::from_secs(claims.iat)),
            expires_at: Some(UnixTimeStamp::from_secs(claims.exp)),
            invalid_before: None,
            issuer: Some(claims.iss),
            subject: Some(claims.sub),
            audiences: audience.map(Audiences::AsString),
            jwt_id: Some(claims.jti),
            nonce,
            custom: claims.custom,
        };
        match &self.current {
            Signer::EdDSA(pair) => pair.sign(claims),
            Signer::ES256(pair) => pair.sign(claims),
            Signer::RS256(pair) => pair.sign(claims),
        }
        .map_err(|e| e.to_string())
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

    /// `verify_access`, or the answer this ring gave the same token before: only
    /// its expiry can have changed since, so that alone is checked again.
    pub fn verify_access_cached(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<Verified<AccessClaims>, TokenError> {
        if let Some(known) = self.verified_before(token) {
            return known.map(|verified| Verified::clone(&verified));
        }
        let verified = self.verify_access(token, issuer)?;
        let mut cache = self.lock_verified();
        if cache.len() >= VERIFIED_CAPACITY {
            cache.clear();
        }
        cache.insert(token.to_string(), Arc::new(verified.clone()));
        Ok(verified)
    }

    /// What `verify_access_cached` would answer, but only from the tokens this
    /// ring verified before: None where it would have to check a signature.
    pub fn verified_before(
        &self,
        token: &str,
    ) -> Option<Result<Arc<Verified<AccessClaims>>, TokenError>> {
        let verified = self.lock_verified().get(token).cloned()?;
        Some(match verified.exp * 1000 >= now_ms() {
            true => Ok(verified),
            false => Err(TokenError::Expired),
        })
    }

    fn lock_verified(&self) -> MutexGuard<'_, HashMap<String, Arc<Verified<AccessClaims>>>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
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
        let key = meta
            .key_id()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(TokenError::Invalid)?;
        // The header must name its key's own algorithm: no HS256 or none, no
        // ES256 token against an EdDSA key, and not jwt-simple's alias "Ed25519".
        if meta.algorithm() != key.algorithm().as_str() {
            return Err(TokenError::Invalid);
        }
        let options = VerificationOptions {
            allowed_issuers: Some(HashSet::from([issuer.to_string()])),
            allowed_audiences: self.audience.clone().map(|a| HashSet::from([a])),
            time_tolerance: Some(JwtDuration::from_secs(0)),
            // iat is ours; a coarse clock a few ms behind must not reject a fresh token.
            accept_future: true,
            ..VerificationOptions::default()
        };
        let claims = match key {
            Verifier::EdDSA(public) => public.verify_token::<C>(token, Some(options)),
            Verifier::ES256(public) => public.verify_token::<C>(token, Some(options)),
            Verifier::RS256(public) => public.verify_token::<C>(token, Some(options)),
        }
        .map_err(|e| match e.downcast_ref::<JWTError>() {
            Some(JWTError::TokenHasExpired) => TokenError::Expired,
            _ => TokenError::Invalid,
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

/// An RSA public key as the JWKS shows it (SPEC §3): `kty`, `n`, `e`, `kid`,
/// `alg`, `use`, built from its components.
fn rsa_jwk(public: &RS256PublicKey, kid: &str) -> String {
    use jwt_simple::reexports::ct_codecs::{Base64UrlSafeNoPadding, Encoder};
    let parts = public.to_components();
    let encode = |bytes: &[u8]| Base64UrlSafeNoPadding::encode_to_string(bytes).unwrap_or_default();
    serde_json::json!({
        "kty": "RSA", "n": encode(&parts.n), "e": encode(&parts.e),
        "kid": kid, "alg": "RS256", "use": "sig",
    })
    .to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::now;
    use crate::tokens::AMR_PASSWORD;

    pub(crate) fn stored(kid: &str, algorithm: Algorithm, retired_at: Option<u64>) -> StoredKey {
        let key_pair = match algorithm {
            Algorithm::EdDSA => Ed25519KeyPair::generate().to_bytes(),
            Algorithm::ES256 => ES256KeyPair::generate().to_bytes(),
            Algorithm::RS256 => RS256KeyPair::generate(2048).unwrap().to_der().unwrap(),
        };
        StoredKey {
            kid: kid.into(),
            algorithm: algorithm.as_str().into(),
            key_pair,
            created_at: 100,
            retired_at,
            distrusted_at: None,
        }
    }

    fn ring_with(kids: &[&str]) -> (Keyring, Vec<StoredKey>) {
        let stored: Vec<StoredKey> = kids
            .iter()
            .enumerate()
            .map(|(i, kid)| stored(kid, Algorithm::EdDSA, (i + 1 < kids.len()).then_some(100)))
            .collect();
        (
            Keyring::from_stored(&stored, 1000, 200, None).unwrap(),
            stored,
        )
    }

    pub(crate) fn access(iss: &str, iat: u64, exp: u64) -> Claims<AccessClaims> {
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
                roles: vec![],
                amr: vec![AMR_PASSWORD.into()],
                client_id: None,
                scope: None,
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
        let ring = Keyring::from_stored(&stored, 1000, 200, None).unwrap();
        assert_eq!(ring.current_kid(), "new");
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2);
        assert_eq!(ring.changes_at(), Some(100 + 1000 + SIGNING_SLACK));
        let later = Keyring::from_stored(&stored, 1000, 1100 + SIGNING_SLACK, None).unwrap();
        assert_eq!(later.jwks()["keys"].as_array().unwrap().len(), 1);
        assert_eq!(later.changes_at(), None);
    }

    #[test]
    fn a_distrusted_key_verifies_nothing() {
        let (ring, mut stored) = ring_with(&["old", "new"]);
        let t = now();
        let token = ring.sign(access("authlite", t, t + 60)).unwrap();
        stored[1].retired_at = Some(150);
        stored[1].distrusted_at = Some(150);
        stored.push(self::stored("newest", Algorithm::EdDSA, None));
        let ring = Keyring::from_stored(&stored, 1000, 200, None).unwrap();
        assert_eq!(
            ring.verify_access(&token, "authlite").err(),
            Some(TokenError::Invalid)
        );
        let kids: Vec<_> = ring.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kids, ["old", "newest"]);
    }

    #[test]
    fn es256_and_eddsa_keys_verify_side_by_side_each_its_own_tokens() {
        let stored = vec![
            stored("ed", Algorithm::EdDSA, Some(150)),
            stored("es", Algorithm::ES256, None),
        ];
        let ring = Keyring::from_stored(&stored, 1000, 200, None).unwrap();
        assert_eq!(ring.algorithms(), ["EdDSA", "ES256"]);
        let t = now();
        let token = ring.sign(access("authlite", t, t + 60)).unwrap();
        let header = Token::decode_metadata(&token).unwrap();
        assert_eq!((header.algorithm(), header.key_id()), ("ES256", Some("es")));
        ring.verify_access(&token, "authlite").unwrap();
        let jwk = &ring.jwks()["keys"][1];
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert_eq!(jwk["alg"].as_str(), Some("ES256"));
    }

    #[test]
    fn an_rs256_key_signs_verifies_and_is_published_with_n_and_e() {
        let stored = vec![
            stored("ed", Algorithm::EdDSA, Some(150)),
            stored("rs", Algorithm::RS256, None),
        ];
        let ring = Keyring::from_stored(&stored, 1000, 200, None).unwrap();
        assert_eq!(ring.algorithms(), ["EdDSA", "RS256"]);
        let t = now();
        let token = ring.sign(access("authlite", t, t + 60)).unwrap();
        let header = Token::decode_metadata(&token).unwrap();
        assert_eq!((header.algorithm(), header.key_id()), ("RS256", Some("rs")));
        assert_eq!(ring.verify_access(&token, "authlite").unwrap().sub, "u1");
        let jwk = &ring.jwks()["keys"][1];
        let n = jwk["n"].as_str().unwrap();
        // 2048 bits = 256 bytes = 342 base64url characters; e = 65537 = "AQAB".
        assert_eq!((n.len(), jwk["e"].as_str()), (342, Some("AQAB")));
        assert_eq!(
            (
                jwk["kty"].as_str(),
                jwk["alg"].as_str(),
                jwk["use"].as_str(),
                jwk["kid"].as_str()
            ),
            (Some("RSA"), Some("RS256"), Some("sig"), Some("rs"))
        );
        assert!(jwk.get("d").is_none(), "never the private exponent");
    }

    #[test]
    fn the_audience_is_signed_and_required() {
        let stored = vec![stored("k1", Algorithm::EdDSA, None)];
        let ring = Keyring::from_stored(&stored, 1000, 200, Some("api".into())).unwrap();
        let t = now();
        let token = ring.sign(access("authlite", t, t + 60)).unwrap();
        ring.verify_access(&token, "authlite").unwrap();
        let other = Keyring::from_stored(&stored, 1000, 200, Some("other".into())).unwrap();
        assert_eq!(
            other.verify_access(&token, "authlite").err(),
            Some(TokenError::Invalid)
        );
        let none = Keyring::from_stored(&stored, 1000, 200, None).unwrap();
        let without = none.sign(access("authlite", t, t + 60)).unwrap();
        assert_eq!(
            ring.verify_access(&without, "authlite").err(),
            Some(TokenError::Invalid)
        );
    }
}
