//! Who may call the admin API (SPEC section 8): an admin user's access token,
//! or an API key with the scope an endpoint needs.

use crate::error::{ApiError, ErrorCode};
use crate::routes::session::authenticate;
use crate::state::AppState;
use crate::store::Store;

/// The role that opens the admin API.
pub const ADMIN_ROLE: &str = "admin";

/// Who is calling the admin API.
// ApiKey comes with the API-key slice.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub enum Caller {
    User(String /* user id */),
    ApiKey(String /* key id */),
}

impl Caller {
    /// "user:ID" or "apikey:ID" (SPEC §8 audit actor).
    pub fn actor(&self) -> String {
        match self {
            Caller::User(id) => format!("user:{id}"),
            Caller::ApiKey(id) => format!("apikey:{id}"),
        }
    }
}

/// What an endpoint needs (SPEC §8 API keys table).
// The audit and API-key slices use the scopes this one does not.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    UsersRead,
    UsersWrite,
    AuditRead,
    ClientsWrite,
    /// Only admin users, never a key.
    ApiKeys,
}

/// Reads the bearer token and decides: 401 MISSING_TOKEN / INVALID_TOKEN /
/// TOKEN_EXPIRED / TOKEN_REVOKED as for /user/me, 403 FORBIDDEN for a user
/// without the `admin` role. Runs on a blocking thread with the store.
pub fn authorize(
    state: &AppState,
    store: &mut dyn Store,
    req_bearer: Option<&str>,
    scope: Scope,
) -> Result<Caller, ApiError> {
    let token = req_bearer.ok_or_else(|| ApiError::new(ErrorCode::MissingToken))?;
    // API keys come with their own half of this function; until then anything
    // that is not an access token is INVALID_TOKEN.
    let _ = scope;
    let (user, _) = authenticate(state, store, token)?;
    if !user.roles.iter().any(|r| r == ADMIN_ROLE) {
        log::info!("admin API refused: {} has no admin role", user.id);
        return Err(ApiError::new(ErrorCode::Forbidden));
    }
    Ok(Caller::User(user.id))
}
