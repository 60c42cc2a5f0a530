//! GET /user/me, POST /user/logout, GET /user/sessions, DELETE /user/sessions/{sid}.

use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::pair::UserView;
use super::{bearer, blocking, optional_bearer, optional_json_body, origin, refresh, token_error};
use crate::clock::now;
use crate::error::{ApiError, ErrorCode};
use crate::error::{ErrorBody, SuccessBody};
use crate::state::AppState;
use crate::store::audit::{revoke_user_sessions_noted, revoked, user_actor};
use crate::store::{Status, Store, User};
use crate::tokens::{AccessClaims, Verified};

/// `authenticate_any`, for a token of authlite's own page or apps only: one
/// issued to an OpenID Connect client works at `/user/me` and
/// `/oauth/userinfo` (SPEC §13), and elsewhere would act with the whole of
/// the user's powers (their sessions, factors, the admin API), not the
/// client's.
pub(crate) fn authenticate(
    state: &AppState,
    store: &mut dyn Store,
    token: &str,
) -> Result<(User, Verified<AccessClaims>), ApiError> {
    let (user, verified) = authenticate_any(state, store, token)?;
    if verified.claims.client_id.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    Ok((user, verified))
}

/// The user and session behind a live access token, or the 401 that says why
/// not. What it read of the session is kept for `known_user`.
pub(crate) fn authenticate_any(
    state: &AppState,
    store: &mut dyn Store,
    token: &str,
) -> Result<(User, Verified<AccessClaims>), ApiError> {
    let verified = state
        .keys
        .verify_access(store, token, &state.settings.issuer)
        .map_err(token_error)?;
    let (epoch, read_at) = (state.sessions.epoch(), Instant::now());
    let found = store.find_user_by_session(&verified.claims.sid)?;
    state
        .sessions
        .put(epoch, &verified.claims.sid, found.clone(), read_at);
    let user = judge(found, &verified.sub)?;
    Ok((user, verified))
}

/// The user of a token for `sub`, given what the database holds of its
/// session (as read, or as the session cache keeps it).
fn judge<U: Borrow<User>>(found: Option<(U, bool)>, sub: &str) -> Result<U, ApiError> {
    match found {
        Some((_, true)) | None => Err(ApiError::new(ErrorCode::TokenRevoked)),
        // The /user/me contract has no USER_NOT_FOUND: a deleted user is an inactive one here.
        Some((user, false))
            if user.borrow().id != sub || user.borrow().status != Status::Active =>
        {
            Err(ApiError::new(ErrorCode::UserInactive))
        }
        Some((user, false)) => Ok(user),
    }
}

/// `authenticate_any` from what this server read already, with no connection:
/// the token verified before by a ring checked within the last 500 ms, and its
/// session read within `session_cache::FRESH`. None where it would need the database.
fn known_user(state: &AppState, token: &str) -> Option<Result<Arc<User>, ApiError>> {
    let ring = state.keys.checked_ring()?;
    let verified = match ring.verified_before(token)? {
        Ok(verified) => verified,
        Err(e) => return Some(Err(token_error(e))),
    };
    let found = state.sessions.get(&verified.claims.sid)?;
    Some(judge(found, &verified.sub))
}

#[derive(Serialize, ToSchema)]
pub struct MeBody {
    success: bool,
    user: UserView,
}

#[utoipa::path(get, path = "/user/me", tag = "session", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN (a refresh token included), TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
    ))]
pub async fn me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let user = match known_user(&state, &token) {
        Some(known) => known?,
        None => {
            blocking(&state, move |state, store| {
                authenticate_any(state, store, &token).map(|(user, _)| Arc::new(user))
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok().json(MeBody {
        success: true,
        user: UserView::from(&*user),
    }))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutRequest {
    /// Names the session when no bearer token is sent.
    refresh_token: Option<String>,
    /// End every session of the user, not only this one.
    #[schema(default = false)]
    #[serde(default)]
    all: bool,
}

#[utoipa::path(post, path = "/user/logout", tag = "session", security(("bearer" = []), ()),
    request_body(content = Option<LogoutRequest>, description = "Optional with a bearer token"),
    responses(
        (status = 200, description = "The session (or with all: every session of the user) is revoked", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED (the session has ended, or the refresh token is not its newest), USER_NOT_FOUND or USER_INACTIVE; nothing is revoked", body = ErrorBody),
    ))]
pub async fn logout(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let access = optional_bearer(&req)?;
    let body: LogoutRequest = optional_json_body(&req, payload).await?.unwrap_or_default();
    let origin = origin(&req, &state.settings.trusted_proxies);
    blocking(&state, move |state, store| {
        let (user_id, sid) = match (access, body.refresh_token) {
            (Some(token), _) => {
                let (user, verified) = authenticate(state, store, &token)?;
                (user.id, verified.claims.sid)
            }
            (None, Some(token)) => live_refresh(state, store, &token)?,
            (None, None) => return Err(ApiError::new(ErrorCode::MissingToken)),
        };
        let now = now();
        let actor = user_actor(&user_id);
        state.write_ending_sessions(move |store| {
            if body.all {
                let by = (actor.as_str(), &origin);
                let ended = revoke_user_sessions_noted(store, &user_id, None, now, "logout", by)?;
                log::info!("logout everywhere: user {user_id}, {ended} sessions ended");
            } else {
                store
                    .append_event(&revoked(&sid, "logout", &actor, now, &origin).user(&user_id))?;
                store.revoke_session(&sid, now)?;
                log::info!("logout: session {sid}");
            }
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// The user and session of a refresh token that `/user/refresh` would take:
/// its session's newest, or the one spent last within the grace. Any other
/// (rotated, reused) is TOKEN_REVOKED; unlike a refresh, nothing is revoked.
fn live_refresh(
    state: &AppState,
    store: &mut dyn Store,
    token: &str,
) -> Result<(String, String), ApiError> {
    let (claims, record, newest) = refresh::check(state, store, token)?;
    if !newest && !refresh::spent_within_grace(state, &claims, &record) {
        return Err(ApiError::new(ErrorCode::TokenRevoked));
    }
    match record.user.status {
        Status::Active => Ok((claims.sub, claims.sid)),
        Status::Deleted => Err(ApiError::new(ErrorCode::UserNotFound)),
        Status::Inactive | Status::Banned => Err(ApiError::new(ErrorCode::UserInactive)),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    sid: String,
    created_at: u64,
    last_used_at: u64,
    expires_at: u64,
    user_agent: Option<String>,
    ip: Option<String>,
    current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionsBody {
    success: bool,
    sessions: Vec<SessionView>,
}

#[utoipa::path(get, path = "/user/sessions", tag = "session", security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's live sessions, newest first", body = SessionsBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
    ))]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let views = blocking(&state, move |state, store| {
        let (user, verified) = authenticate(state, store, &token)?;
        let live = store.list_live_sessions(&user.id, now())?;
        Ok(live
            .into_iter()
            .map(|s| SessionView {
                current: s.id == verified.claims.sid,
                sid: s.id,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
                user_agent: s.user_agent,
                ip: s.ip,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(SessionsBody {
        success: true,
        sessions: views,
    }))
}

#[utoipa::path(delete, path = "/user/sessions/{sid}", tag = "session", security(("bearer" = [])),
    params(("sid" = String, Path, description = "The session id")),
    responses(
        (status = 200, description = "The session is revoked", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 404, description = "SESSION_NOT_FOUND: not one of the user's live sessions", body = ErrorBody),
    ))]
pub async fn revoke(
    req: HttpRequest,
    sid: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let sid = sid.into_inner();
    let origin = origin(&req, &state.settings.trusted_proxies);
    blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        let now = now();
        let live = store
            .find_session(&sid)?
            .filter(|s| s.user_id == user.id && s.revoked_at.is_none() && s.expires_at > now);
        if live.is_none() {
            return Err(ApiError::new(ErrorCode::SessionNotFound));
        }
        let event = revoked(&sid, "revoked", &user_actor(&user.id), now, &origin).user(&user.id);
        state.write_ending_sessions(move |store| {
            store.append_event(&event)?;
            store.revoke_session(&sid, now)?;
            log::info!("session {sid} revoked by its user");
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
