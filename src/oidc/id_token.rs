//! The ID token and the userinfo answer (SPEC §13): who the user is, as far
//! as the scope granted lets the client know.

use serde::Serialize;

use super::has_scope;
use crate::ids::new_id;
use crate::store::User;
use crate::tokens::{Claims, Keyring};

/// The claims the scope allows. authlite has no user names: the email is
/// the `preferred_username`; emails are set by administrators or confirmed
/// at sign-up, so they count as verified (docs/oidc.md).
#[derive(Serialize, Default)]
pub struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl Profile {
    pub fn of(user: &User, scope: &str) -> Profile {
        let email = has_scope(scope, "email");
        let profile = has_scope(scope, "profile");
        Profile {
            email: email.then(|| user.email.clone()),
            email_verified: email.then_some(true),
            name: profile.then(|| user.name.clone()),
            preferred_username: profile.then(|| user.email.clone()),
            groups: has_scope(scope, "groups").then(|| user.roles.clone()),
        }
    }
}

#[derive(Serialize)]
struct IdClaims {
    auth_time: u64,
    amr: Vec<String>,
    sid: String,
    #[serde(flatten)]
    profile: Profile,
}

/// What an ID token says beyond the user.
pub struct Signing<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub sid: &'a str,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub amr: &'a [String],
    pub auth_time: u64,
    pub now: u64,
    pub lifetime: u64,
}

/// An ID token for `user`, signed by the current key.
pub fn sign(ring: &Keyring, user: &User, s: &Signing) -> Result<String, String> {
    let claims = Claims {
        iss: s.issuer.to_string(),
        sub: user.id.clone(),
        iat: s.now,
        exp: s.now.saturating_add(s.lifetime),
        jti: new_id(),
        custom: IdClaims {
            auth_time: s.auth_time,
            amr: s.amr.to_vec(),
            sid: s.sid.to_string(),
            profile: Profile::of(user, s.scope),
        },
    };
    ring.sign_id_token(claims, s.client_id, s.nonce.map(str::to_string))
}
