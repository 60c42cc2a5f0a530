//! GET and DELETE /admin/users/{id}/sessions, DELETE /admin/sessions/{sid}.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Scope;
use super::view::AdminSession;
use super::{as_admin, find_user};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::state::AppState;
use crate::store::audit::revoked;

#[derive(Serialize, ToSchema)]
pub struct AdminSessionsBody {
    success: bool,
    sessions: Vec<AdminSession>,
}

#[utoipa::path(get, path = "/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user's live sessions, newest first", body = AdminSessionsBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn list_user_sessions(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let sessions = as_admin(&req, &state, Scope::UsersRead, move |_, store, _| {
        let user = find_user(store, &id)?;
        let live = store.list_live_sessions(&user.id, now())?;
        Ok(live.into_iter().map(AdminSession::from).collect())
    })
    .await?;
    Ok(HttpResponse::Ok().json(AdminSessionsBody {
        success: true,
        sessions,
    }))
}

#[utoipa::path(delete, path = "/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Every session of the user is revoked", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "USER_NOT_FOUND", body = ErrorBody),
    ))]
pub async fn revoke_user_sessions(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        state.write_ending_sessions(move |store| {
            let user = find_user(store, &id)?;
            let ended = by.revoke_sessions(store, &user.id, now(), "admin")?;
            let actor = by.caller.actor();
            log::info!("{actor} revoked {ended} sessions of user {}", user.id);
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[utoipa::path(delete, path = "/admin/sessions/{sid}", tag = "admin", security(("bearer" = [])),
    params(("sid" = String, Path, description = "The session id")),
    responses(
        (status = 200, description = "The session is revoked", body = SuccessBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorBody),
        (status = 404, description = "SESSION_NOT_FOUND: no live session has that id", body = ErrorBody),
    ))]
pub async fn revoke_session(
    req: HttpRequest,
    sid: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sid = sid.into_inner();
    as_admin(&req, &state, Scope::UsersWrite, move |state, _, by| {
        state.write_ending_sessions(move |store| {
            let now = now();
            let live = store
                .find_session(&sid)?
                .filter(|s| s.revoked_at.is_none() && s.expires_at > now);
            let ended_now = match live {
                Some(_) => store.revoke_session(&sid, now)?,
                None => false,
            };
            let Some(live) = live.filter(|_| ended_now) else {
                return Err(ApiError::with_message(
                    ErrorCode::SessionNotFound,
                    "No live session has that id.",
                ));
            };
            let ended = revoked(&sid, "admin", &by.caller.actor(), now, &by.origin);
            store.append_event(&ended.user(&live.user_id))?;
            log::info!("session {sid} revoked by {}", by.caller.actor());
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
