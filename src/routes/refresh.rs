//! POST /user/refresh: rotation, the reuse grace, and reuse detection.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::{Connection, TransactionBehavior};
use serde::Deserialize;
use utoipa::ToSchema;

use super::login::{issue_pair, TokenPair};
use super::{blocking, json_body, token_error};
use crate::app::AppState;
use crate::db::{now, now_ms};
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::store::sessions;
use crate::store::users::{self, Status};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    refresh_token: String,
}

#[utoipa::path(post, path = "/user/refresh", tag = "login",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the token sent is spent. Sent again within --reuse-grace seconds, it gets this same answer.", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST", body = ErrorBody),
        (status = 401, description = "INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED, TOKEN_REUSED (the session is then revoked), USER_NOT_FOUND or USER_INACTIVE (the session is then revoked)", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ))]
pub async fn refresh(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: RefreshRequest = json_body(&req, payload).await?;
    let answer = blocking(&state, move |state, conn| {
        rotate(state, conn, &body.refresh_token)
    })
    .await;
    state
        .metrics
        .refresh(answer.as_ref().map_or_else(|e| e.code, |_| "ok"));
    let answer = answer?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(answer))
}

/// Spends a refresh token and returns the JSON answer: a new pair, or within the
/// reuse grace the very answer its first use got.
fn rotate(state: &AppState, conn: &mut Connection, token: &str) -> Result<String, ApiError> {
    let settings = &state.settings;
    let verified = state
        .keys
        .ring(conn)
        .verify_refresh(token, &settings.issuer)
        .map_err(token_error)?;
    let (now, now_ms) = (now(), now_ms());
    // IMMEDIATE: racing uses of one token queue here, so exactly one of them rotates.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let invalid = || ApiError::unauthorized("INVALID_TOKEN");
    let record = sessions::find_refresh(&tx, &verified.jti)?.ok_or_else(invalid)?;
    let session = sessions::find(&tx, &record.session_id)?.ok_or_else(invalid)?;
    if session.id != verified.claims.sid || session.user_id != verified.sub {
        return Err(invalid());
    }
    if session.revoked_at.is_some() {
        return Err(ApiError::unauthorized("TOKEN_REVOKED"));
    }
    if let Some(used_at_ms) = record.used_at_ms {
        let within_grace = now_ms.saturating_sub(used_at_ms) <= settings.reuse_grace * 1000;
        return match record.rotated_to.filter(|_| within_grace) {
            // Two tabs racing with one token: both get the pair the first one got.
            Some(first_answer) => Ok(first_answer),
            None => {
                sessions::revoke(&tx, &session.id, now)?;
                tx.commit()?;
                log::warn!("refresh token reused: session {} revoked", session.id);
                Err(ApiError::unauthorized("TOKEN_REUSED"))
            }
        };
    }

    let user = users::find_by_id(&tx, &verified.sub)?;
    let refusal = match &user {
        None => Some("USER_NOT_FOUND"),
        Some(u) if u.status == Status::Deleted => Some("USER_NOT_FOUND"),
        Some(u) if u.status != Status::Active => Some("USER_INACTIVE"),
        Some(_) => None,
    };
    let (Some(user), None) = (user, refusal) else {
        let code = refusal.unwrap_or("USER_NOT_FOUND");
        sessions::revoke(&tx, &session.id, now)?;
        tx.commit()?;
        log::info!("refresh refused: {code}; session {} revoked", session.id);
        return Err(ApiError::unauthorized(code));
    };

    let pair = issue_pair(state, &tx, &user, &session.id, now)?;
    let answer = serde_json::to_string(&pair).map_err(ApiError::internal)?;
    sessions::mark_used(&tx, &verified.jti, now_ms, &answer)?;
    sessions::touch(&tx, &session.id, now, now + settings.refresh_ttl)?;
    tx.commit()?;
    log::debug!("refresh ok: session {}", session.id);
    Ok(answer)
}
