//! POST /user/refresh: rotation, the reuse grace, and reuse detection.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
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
fn rotate(state: &AppState, conn: &Connection, token: &str) -> Result<String, ApiError> {
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
    let sid = record.session_id;
    let (user, revoked) = users::find_by_session(conn, &sid)?
        .filter(|(user, _)| sid == claims.sid && user.id == claims.sub)
        .ok_or_else(|| ApiError::unauthorized("INVALID_TOKEN"))?;
    if revoked {
        return Err(ApiError::unauthorized("TOKEN_REVOKED"));
    }
    if let Some(used_at_ms) = record.used_at_ms {
        return replay_or_reuse(state, &sid, used_at_ms, record.rotated_to);
    }
    match user.status {
        Status::Active => {}
        Status::Deleted => return Err(end_session(state, &sid, "USER_NOT_FOUND")?),
        Status::Inactive | Status::Banned => {
            return Err(end_session(state, &sid, "USER_INACTIVE")?)
        }
    }

    let signed = sign_pair(state, &ring, &user, &sid, now)?;
    let refresh_ttl = settings.refresh_ttl;
    let answer = serde_json::to_string(&signed.pair).map_err(ApiError::internal)?;
    let (jti, session_id, first_answer) = (claims.jti.clone(), sid.clone(), answer.clone());
    let claimed = state.writer.write(move |conn| {
        // False when the session ended, or a racing use of this token won, while this one signed.
        if !sessions::claim_refresh(conn, &jti, now_ms, &first_answer)? {
            return Ok(false);
        }
        signed.record(conn, &session_id)?;
        sessions::touch(conn, &session_id, now, now + refresh_ttl)?;
        Ok(true)
    })?;
    if !claimed {
        let revoked = users::find_by_session(conn, &sid)?.is_none_or(|(_, revoked)| revoked);
        let first = sessions::find_refresh(conn, &claims.jti)?;
        let (used_at_ms, rotated_to) = first
            .and_then(|r| Some((r.used_at_ms?, r.rotated_to)))
            .filter(|_| !revoked)
            .ok_or_else(|| ApiError::unauthorized("TOKEN_REVOKED"))?;
        return replay_or_reuse(state, &sid, used_at_ms, rotated_to);
    }
    log::debug!("refresh ok: session {sid}");
    Ok(answer)
}

/// A token used before: within the grace, the answer its first use got (two tabs
/// racing); after it, a stolen token being replayed, so the session ends.
fn replay_or_reuse(
    state: &AppState,
    sid: &str,
    used_at_ms: u64,
    first_answer: Option<String>,
) -> Result<String, ApiError> {
    let within_grace = now_ms().saturating_sub(used_at_ms) <= state.settings.reuse_grace * 1000;
    match first_answer.filter(|_| within_grace) {
        Some(answer) => Ok(answer),
        None => {
            log::warn!("refresh token reused: session {sid} revoked");
            Err(end_session(state, sid, "TOKEN_REUSED")?)
        }
    }
}

/// Revokes the session and gives the 401 that says why.
fn end_session(state: &AppState, sid: &str, code: &'static str) -> Result<ApiError, ApiError> {
    let (owned_sid, now) = (sid.to_string(), now());
    state
        .writer
        .write(move |conn| Ok(sessions::revoke(conn, &owned_sid, now)?))?;
    log::info!("refresh refused: {code}; session {sid} revoked");
    Ok(ApiError::unauthorized(code))
}
