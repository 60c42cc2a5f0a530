//! Signing and verifying access and refresh tokens (EdDSA, ES256 or RS256, a `kid` in
//! every header), the keyring and its liveness, and secrets sealed at rest.

mod keyring;
mod keys;
mod lifecycle;
mod refresh;
mod sealed_keys;
mod sealing;

use serde::{Deserialize, Serialize};

pub use keyring::Keyring;
pub use keys::{Keys, Policy};
pub use lifecycle::{ensure_key, load_ring, retire, rotate, Retired};
pub use refresh::{digest, same_digest, Unverified};
pub use sealed_keys::{check_master_key, verify_master_key};
pub use sealing::{Sealer, GRACE_ANSWERS, KEY_PAIRS, MAIL_MESSAGES, MIN_MASTER_KEY, TOTP_SECRETS};

pub const ACCESS: &str = "access";
/// The `amr` value of a password sign-in (RFC 8176).
pub const AMR_PASSWORD: &str = "pwd";
pub const REFRESH: &str = "refresh";

/// The algorithm a signing key signs with; each token is verified only by a
/// key of the algorithm its header names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Algorithm {
    /// Ed25519.
    #[default]
    EdDSA,
    /// ECDSA on P-256 with SHA-256, for the libraries that know no EdDSA.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key, for the relying
    /// parties that know nothing else (SPEC §3, §13).
    RS256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EdDSA" => Ok(Algorithm::EdDSA),
            "ES256" => Ok(Algorithm::ES256),
            "RS256" => Ok(Algorithm::RS256),
            other => Err(format!("\"{other}\" is not EdDSA, ES256 or RS256")),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AccessClaims {
    pub sid: String,
    pub typ: String,
    pub email: String,
    pub name: String,
    #[serde(rename = "orgId")]
    pub org_id: Option<String>,
    /// The user's roles when the token was signed. Tokens signed before roles
    /// existed have none: they read as empty.
    #[serde(default)]
    pub roles: Vec<String>,
    /// How the session signed in (RFC 8176 values).
    #[serde(default)]
    pub amr: Vec<String>,
    /// A token issued to an OpenID Connect client (SPEC §13): its id and the
    /// scope granted. None on tokens of authlite's own sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
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
    /// Not a token of this server: malformed, bad signature, unknown kid, wrong
    /// alg, iss, aud or typ.
    Invalid,
    Expired,
}

/// The claims every token has, around the kind-specific ones. The audience,
/// when the server has one, is the keyring's own.
pub struct Claims<C> {
    pub iss: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub custom: C,
}
