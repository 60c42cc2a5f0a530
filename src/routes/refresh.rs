//! POST /user/refresh: rotation, the reuse grace, and reuse detection.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::{Connection, TransactionBehavior};
use serde::Deserialize;
use utoipa::ToSchema;

use super::pair::{sign_pair, TokenPair};
use super::{blocking, json_body, token_error};
use crate::app::AppState;
use crate::db::{now, now_ms};
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::store::sessions;
use crate::store::users::{self, Status};
use crate::tokens::{digest, same_digest};

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
    let ring = state.keys.ring(conn);
    let claims = ring
        .peek_refresh(token, &settings.issuer)
        .map_err(token_error)?;
    let record = sessions::find_refresh(conn, &claims.jti)?
        .filter(|r| same_digest(&r.token_hash, &digest(token)));
    let Some(record) = record else {
        // Not a token on record (expired and pruned, or forged): its signature tells which.
        return Err(match ring.verify_refresh(token, &settings.issuer) {
            Err(e) => token_error(e),
            Ok(_) => ApiError::unauthorized("INVALID_TOKEN"),
        });
    };
    let (now, now_ms) = (now(), now_ms());
    if claims.exp * 1000 < now_ms {
        return Err(ApiError::unauthorized("TOKEN_EXPIRED"));
    }
    let session = sessions::find(conn, &record.session_id)?
        .filter(|s| s.id == claims.sid && s.user_id == claims.sub)
        .ok_or_else(|| ApiError::unauthorized("INVALID_TOKEN"))?;
    if session.revoked_at.is_some() {
        return Err(ApiError::unauthorized("TOKEN_REVOKED"));
    }
    if let Some(used_at_ms) = record.used_at_ms {
        return replay_or_reuse(state, conn, &session.id, used_at_ms, record.rotated_to);
    }
    let user = users::find_by_id(conn, &claims.sub)?;
    let user = match user {
        Some(u) if u.status == Status::Active => u,
        Some(u) if u.status != Status::Deleted => {
            return Err(end_session(state, conn, &session.id, "USER_INACTIVE")?)
        }
        _ => return Err(end_session(state, conn, &session.id, "USER_NOT_FOUND")?),
    };

    let signed = sign_pair(state, &ring, &user, &session.id, now)?;
    let answer = serde_json::to_string(&signed.pair).map_err(ApiError::internal)?;
    let writing = state.write_lock();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The session may have ended, or a racing use of this token won, while this one signed.
    let still_live = sessions::find(&tx, &session.id)?.is_some_and(|s| s.revoked_at.is_none());
    if !still_live {
        return Err(ApiError::unauthorized("TOKEN_REVOKED"));
    }
    if !sessions::claim_refresh(&tx, &claims.jti, now_ms, &answer)? {
        drop((tx, writing));
        let first = sessions::find_refresh(conn, &claims.jti)?;
        let (used_at_ms, rotated_to) = first
            .and_then(|r| Some((r.used_at_ms?, r.rotated_to)))
            .ok_or_else(|| ApiError::unauthorized("INVALID_TOKEN"))?;
        return replay_or_reuse(state, conn, &session.id, used_at_ms, rotated_to);
    }
    signed.record(&tx, &session.id)?;
    sessions::touch(&tx, &session.id, now, now + settings.refresh_ttl)?;
    tx.commit()?;
    log::debug!("refresh ok: session {}", session.id);
    Ok(answer)
}

/// A token used before: within the grace, the answer its first use got (two tabs
/// racing); after it, a stolen token being replayed, so the session ends.
fn replay_or_reuse(
    state: &AppState,
    conn: &Connection,
    sid: &str,
    used_at_ms: u64,
    first_answer: Option<String>,
) -> Result<String, ApiError> {
    let within_grace = now_ms().saturating_sub(used_at_ms) <= state.settings.reuse_grace * 1000;
    match first_answer.filter(|_| within_grace) {
        Some(answer) => Ok(answer),
        None => {
            log::warn!("refresh token reused: session {sid} revoked");
            Err(end_session(state, conn, sid, "TOKEN_REUSED")?)
        }
    }
}

/// Revokes the session and gives the 401 that says why.
fn end_session(
    state: &AppState,
    conn: &Connection,
    sid: &str,
    code: &'static str,
) -> Result<ApiError, ApiError> {
    let _writing = state.write_lock();
    sessions::revoke(conn, sid, now())?;
    log::info!("refresh refused: {code}; session {sid} revoked");
    Ok(ApiError::unauthorized(code))
}
