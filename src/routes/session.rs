//! GET /user/me, POST /user/logout, GET /user/sessions, DELETE /user/sessions/{sid}.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::login::UserView;
use super::{bearer, blocking, optional_bearer, optional_json_body, token_error};
use crate::app::AppState;
use crate::db::now;
use crate::error::ApiError;
use crate::store::sessions;
use crate::store::users::{self, Status, User};
use crate::tokens::{AccessClaims, Verified};

/// The user and session behind a live access token, or the 401 that says why not.
fn authenticate(
    state: &AppState,
    conn: &Connection,
    token: &str,
) -> Result<(User, Verified<AccessClaims>), ApiError> {
    let verified = state
        .keys
        .ring(conn)
        .verify_access(token, &state.settings.issuer)
        .map_err(token_error)?;
    let session = sessions::find(conn, &verified.claims.sid)?;
    if session.is_none_or(|s| s.revoked_at.is_some()) {
        return Err(ApiError::unauthorized("TOKEN_REVOKED"));
    }
    // The /user/me contract has no USER_NOT_FOUND: a deleted user is an inactive one here.
    match users::find_by_id(conn, &verified.sub)? {
        Some(user) if user.status == Status::Active => Ok((user, verified)),
        _ => Err(ApiError::unauthorized("USER_INACTIVE")),
    }
}

pub async fn me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let user = blocking(&state, move |state, conn| {
        authenticate(state, conn, &token).map(|(user, _)| UserView::from(&user))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true, "user": user })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LogoutRequest {
    refresh_token: Option<String>,
    #[serde(default)]
    all: bool,
}

pub async fn logout(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let access = optional_bearer(&req)?;
    let body: LogoutRequest = optional_json_body(&req, payload).await?.unwrap_or_default();
    blocking(&state, move |state, conn| {
        let ring = state.keys.ring(conn);
        let issuer = &state.settings.issuer;
        // Either token names the session; a session already ended is not an error.
        let (user_id, sid) = match (access, body.refresh_token) {
            (Some(token), _) => {
                let v = ring.verify_access(&token, issuer).map_err(token_error)?;
                (v.sub, v.claims.sid)
            }
            (None, Some(token)) => {
                let v = ring.verify_refresh(&token, issuer).map_err(token_error)?;
                (v.sub, v.claims.sid)
            }
            (None, None) => return Err(ApiError::unauthorized("MISSING_TOKEN")),
        };
        let now = now();
        if body.all {
            let ended = sessions::revoke_all_for_user(conn, &user_id, now)?;
            log::info!("logout everywhere: user {user_id}, {ended} sessions ended");
        } else {
            sessions::revoke(conn, &sid, now)?;
            log::info!("logout: session {sid}");
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView {
    sid: String,
    created_at: u64,
    last_used_at: u64,
    expires_at: u64,
    user_agent: Option<String>,
    ip: Option<String>,
    current: bool,
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let views = blocking(&state, move |state, conn| {
        let (user, verified) = authenticate(state, conn, &token)?;
        let live = sessions::list_live(conn, &user.id, now())?;
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
    Ok(HttpResponse::Ok().json(json!({ "success": true, "sessions": views })))
}

pub async fn revoke(
    req: HttpRequest,
    sid: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let sid = sid.into_inner();
    blocking(&state, move |state, conn| {
        let (user, _) = authenticate(state, conn, &token)?;
        let now = now();
        let live = sessions::find(conn, &sid)?
            .filter(|s| s.user_id == user.id && s.revoked_at.is_none() && s.expires_at > now);
        if live.is_none() {
            return Err(ApiError::new(
                actix_web::http::StatusCode::NOT_FOUND,
                "SESSION_NOT_FOUND",
                "You have no live session with that id.",
            ));
        }
        sessions::revoke(conn, &sid, now)?;
        log::info!("session {sid} revoked by its user");
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
