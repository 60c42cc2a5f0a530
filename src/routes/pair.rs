//! A new token pair: signed without the database, then recorded in a short write.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::ids::{new_id, new_ordered_id};
use crate::state::AppState;
use crate::store::{NewRefresh, User};
use crate::tokens::{digest, AccessClaims, Claims, Keyring, RefreshClaims, ACCESS, REFRESH};

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org_id: Option<String>,
    /// The user's roles, sorted; empty when none.
    pub roles: Vec<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            org_id: u.org_id.clone(),
            roles: u.roles.clone(),
        }
    }
}

/// The answer to a login or a refresh. Holds tokens: no Debug.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub success: bool,
    pub access_token: String,
    pub refresh_token: String,
    /// The refresh token's `jti`.
    pub token_id: String,
    /// Unix seconds at which the access token expires (its `exp`).
    pub expires_at: u64,
    pub user: UserView,
}

/// The start of an answer that carries tokens: JSON, and never kept by a cache
/// (RFC 6749 section 5.1).
pub fn token_response() -> HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

/// A pair signed but not yet on record.
pub struct SignedPair {
    pub pair: TokenPair,
    refresh_exp: u64,
    /// The digest that later vouches for the refresh token.
    refresh_hash: Vec<u8>,
}

/// Signs an access and a refresh token for `user` in session `sid`, which
/// signed in as `amr` says. Signing is the slow part, so it runs before the
/// caller takes the write lock.
pub fn sign_pair(
    state: &AppState,
    ring: &Keyring,
    user: &User,
    session: (&str, &[String]),
    now: u64,
) -> Result<SignedPair, ApiError> {
    sign_pair_for(state, ring, user, session, now, None)
}

/// What an access token issued to an OpenID Connect client adds: its id and scope.
#[derive(Clone, Debug)]
pub struct ForClient {
    pub client_id: String,
    pub scope: String,
}

/// `sign_pair`, for a client when `client` is given (SPEC §13).
pub fn sign_pair_for(
    state: &AppState,
    ring: &Keyring,
    user: &User,
    (sid, amr): (&str, &[String]),
    now: u64,
    client: Option<&ForClient>,
) -> Result<SignedPair, ApiError> {
    let settings = &state.settings;
    let access_exp = now.saturating_add(settings.access_ttl);
    let refresh_exp = now.saturating_add(settings.refresh_ttl);
    let access_token = ring
        .sign(Claims {
            iss: settings.issuer.clone(),
            sub: user.id.clone(),
            iat: now,
            exp: access_exp,
            jti: new_id(),
            custom: AccessClaims {
                sid: sid.to_string(),
                typ: ACCESS.to_string(),
                email: user.email.clone(),
                name: user.name.clone(),
                org_id: user.org_id.clone(),
                roles: user.roles.clone(),
                amr: amr.to_vec(),
                client_id: client.map(|c| c.client_id.clone()),
                scope: client.map(|c| c.scope.clone()),
            },
        })
        .map_err(ApiError::internal)?;
    let token_id = new_ordered_id();
    let refresh_token = ring
        .sign(Claims {
            iss: settings.issuer.clone(),
            sub: user.id.clone(),
            iat: now,
            exp: refresh_exp,
            jti: token_id.clone(),
            custom: RefreshClaims {
                sid: sid.to_string(),
                typ: REFRESH.to_string(),
            },
        })
        .map_err(ApiError::internal)?;
    Ok(SignedPair {
        refresh_hash: digest(&refresh_token),
        pair: TokenPair {
            success: true,
            access_token,
            refresh_token,
            token_id,
            expires_at: access_exp,
            user: UserView::from(user),
        },
        refresh_exp,
    })
}

impl SignedPair {
    /// The refresh token as its session records it.
    pub fn refresh_record(&self) -> NewRefresh<'_> {
        NewRefresh {
            jti: &self.pair.token_id,
            hash: &self.refresh_hash,
            expires_at: self.refresh_exp,
        }
    }
}
