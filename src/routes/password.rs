//! POST /user/password (signed in: change it) and POST /user/password/reset
//! (a set-password link's token).
//!
//! Both hash on the hashing gate, as login does, and write through `db.write`.
//! The order of the checks is the one docs/behaviour.md gives ("Password
//! change order", "Password reset order"): nothing is hashed or counted for a
//! request refused before the password check.

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::lockout;
use super::pair::UserView;
use super::session::authenticate;
use super::{bearer, client_ip, json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorCode};
use crate::error::{ErrorBody, SuccessBody};
use crate::gate::GateError;
use crate::password::{self, link, policy};
use crate::state::AppState;
use crate::store::audit::{revoke_user_sessions_noted, user_actor};
use crate::store::{email_key, AuditEvent, Origin, Status};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    #[schema(example = "correct horse battery staple")]
    current_password: String,
    #[schema(example = "a longer and newer pass phrase")]
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    /// The token of a link from `authlite user link` (after `#set-password=`).
    token: String,
    #[schema(example = "a longer and newer pass phrase")]
    new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResetPasswordBody {
    success: bool,
    /// The account whose password was set, so that a page can sign in with it.
    user: UserView,
}

#[utoipa::path(post, path = "/user/password", tag = "session", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "The password is replaced; every other session of the user is revoked, this one goes on", body = SuccessBody),
        (status = 400, description = "INVALID_REQUEST, or WEAK_PASSWORD: newPassword is too short (--min-password-length), over 1024 bytes, the account's email, or a common password", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE as for /user/me; INVALID_PASSWORD when currentPassword is wrong (counted as a failed login)", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS: too many failed logins for this account or client address",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
        (status = 503, description = "SERVER_BUSY: the password-hashing queue is full", body = ErrorBody),
    ))]
pub async fn change(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let body: ChangePasswordRequest = json_body(&req, payload).await?;
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    let origin = origin(&req, &state.settings.trusted_proxies);
    let job_state = state.get_ref().clone();
    on_gate(&state, move || {
        change_password(&job_state, &token, body, ip, origin)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[utoipa::path(post, path = "/user/password/reset", tag = "session",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "The password is set, the link spent, every session of the user revoked and its failed logins cleared", body = ResetPasswordBody),
        (status = 400, description = "INVALID_REQUEST, or WEAK_PASSWORD as for /user/password (the link is not spent)", body = ErrorBody),
        (status = 401, description = "INVALID_TOKEN (unknown, already used, or replaced by a newer link), TOKEN_EXPIRED, or USER_NOT_FOUND (the user was deleted since)", body = ErrorBody),
        (status = 503, description = "SERVER_BUSY: the password-hashing queue is full", body = ErrorBody),
    ))]
pub async fn reset(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: ResetPasswordRequest = json_body(&req, payload).await?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let job_state = state.get_ref().clone();
    let user = on_gate(&state, move || reset_password(&job_state, body, origin)).await?;
    Ok(HttpResponse::Ok().json(ResetPasswordBody {
        success: true,
        user,
    }))
}

/// Runs `job` on a hashing thread; 503 SERVER_BUSY when the queue is full.
pub(super) async fn on_gate<T, F>(state: &AppState, job: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    state.gate.run(job).await.map_err(|e| match e {
        GateError::Busy => {
            log::warn!("password request refused: hashing queue full");
            ApiError::busy()
        }
        GateError::Failed => ApiError::internal("password job failed"),
    })?
}

fn change_password(
    state: &AppState,
    token: &str,
    body: ChangePasswordRequest,
    ip: Option<IpAddr>,
    origin: Origin,
) -> Result<(), ApiError> {
    let (user, verified) = state.db.read(|store| authenticate(state, store, token))?;
    policy::check(
        &body.new_password,
        &user.email,
        state.settings.min_password_length,
    )
    .map_err(weak)?;
    let stored = user.password_hash.clone();
    let matches = under_lockout(state, &user.email, ip, || {
        // No stored password costs the same as a wrong one, and never matches.
        let checked = password::verify(
            &body.current_password,
            stored.as_deref().unwrap_or(&state.dummy_hash),
        );
        checked && stored.is_some()
    })?;
    if !matches {
        log::info!(
            "password change refused: INVALID_PASSWORD for {}",
            user.email
        );
        return Err(ApiError::new(ErrorCode::InvalidPassword));
    }
    let phc = password::hash(&body.new_password, state.settings.pbkdf2_iterations)
        .map_err(ApiError::internal)?;
    let (user_id, sid, now) = (user.id.clone(), verified.claims.sid, now());
    let email_key = email_key(&user.email);
    let actor = user_actor(&user_id);
    let changed = AuditEvent::new("password.changed", &actor, now, json!({})).origin(&origin);
    let ended = state.write_ending_sessions(move |store| {
        store.clear_failures(&email_key)?;
        store.set_password_hash(&user_id, &phc, now)?;
        store.remove_user_links(&user_id)?;
        store.append_event(&changed.user(&user_id))?;
        let by = (actor.as_str(), &origin);
        revoke_user_sessions_noted(store, &user_id, Some(&sid), now, "password", by)
    })?;
    log::info!(
        "password changed: {}, {ended} other sessions ended",
        user.email
    );
    Ok(())
}

fn reset_password(
    state: &AppState,
    body: ResetPasswordRequest,
    origin: Origin,
) -> Result<UserView, ApiError> {
    let now = now();
    let digest = link::digest(&body.token);
    let Some(found) = state.db.read(|store| store.find_link(&digest))? else {
        return Err(link_refused(ErrorCode::InvalidToken));
    };
    if found.expires_at <= now {
        return Err(link_refused(ErrorCode::TokenExpired));
    }
    let user = state
        .db
        .read(|store| store.find_user_by_id(&found.user_id))?
        .filter(|u| u.status != Status::Deleted)
        .ok_or_else(|| link_refused(ErrorCode::UserNotFound))?;
    policy::check(
        &body.new_password,
        &user.email,
        state.settings.min_password_length,
    )
    .map_err(weak)?;
    let phc = password::hash(&body.new_password, state.settings.pbkdf2_iterations)
        .map_err(ApiError::internal)?;
    let user_id = user.id.clone();
    let email_key = email_key(&user.email);
    let actor = user_actor(&user_id);
    let reset = AuditEvent::new("password.reset", &actor, now, json!({})).origin(&origin);
    let ended = state.write_ending_sessions(move |store| {
        // A reset racing this one, or a newer link made meanwhile, wins.
        if !store.spend_link(&digest)? {
            return Err(link_refused(ErrorCode::InvalidToken));
        }
        store.set_password_hash(&user_id, &phc, now)?;
        store.clear_failures(&email_key)?;
        store.append_event(&reset.user(&user_id))?;
        let by = (actor.as_str(), &origin);
        Ok::<_, ApiError>(revoke_user_sessions_noted(
            store, &user_id, None, now, "password", by,
        )?)
    })?;
    log::info!(
        "password set by link: {}, {ended} sessions ended",
        user.email
    );
    Ok(UserView::from(&user))
}

/// Runs `verify` (the current-password check) under the login lockout of
/// `email` and the client address, as a login attempt: a failure row is taken
/// under both keys before the check (429 while either is locked), kept when
/// `verify` says no, and given back when it says yes.
fn under_lockout(
    state: &AppState,
    email: &str,
    ip: Option<IpAddr>,
    verify: impl FnOnce() -> bool,
) -> Result<bool, ApiError> {
    let slot = lockout::reserve(state, "password change", email, ip, now(), None)?;
    if !verify() {
        return Ok(false);
    }
    lockout::give_back(state, slot.rows)?;
    Ok(true)
}

pub(super) fn weak(weakness: policy::Weakness) -> ApiError {
    ApiError::with_message(ErrorCode::WeakPassword, weakness.to_string())
}

fn link_refused(code: ErrorCode) -> ApiError {
    let message = match code {
        ErrorCode::TokenExpired => "This link has expired; ask for a new one.",
        ErrorCode::UserNotFound => "The account of this link no longer exists.",
        _ => "This link is not valid: it was used, replaced by a newer one, or never made.",
    };
    ApiError::with_message(code, message)
}
