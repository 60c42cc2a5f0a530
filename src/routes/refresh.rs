//! POST /user/refresh: rotation, the reuse grace, and reuse detection.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::pair::{sign_pair_for, token_response, ForClient, TokenPair};
use super::{blocking, json_body, origin, token_error};
use crate::clock::{now, now_ms};
use crate::error::ErrorBody;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::audit::{revoked, SYSTEM};
use crate::store::{AuditEvent, Origin, RefreshRecord, Rotation, Status, Store, User};
use crate::tokens::{digest, same_digest, Unverified, AMR_PASSWORD, GRACE_ANSWERS};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    refresh_token: String,
}

#[utoipa::path(post, path = "/user/refresh", tag = "login",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the token sent is spent. Sent again within --reuse-grace seconds, it gets this same answer.", body = TokenPair),
        (status = 401, description = "INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED, TOKEN_REUSED (the session is then revoked), USER_NOT_FOUND or USER_INACTIVE (the session is then revoked)", body = ErrorBody),
    ))]
pub async fn refresh(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: RefreshRequest = json_body(&req, payload).await?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let answer = blocking(&state, move |state, store| {
        rotate(state, store, &body.refresh_token, &origin, None)
    })
    .await;
    state.metrics.refresh(answer.as_ref().err().map(|e| e.code));
    Ok(token_response().body(answer?))
}

/// Spends a refresh token and returns the JSON answer: a new pair, or within the
/// reuse grace the very answer its first use got. With `client`, the pair is
/// one for that OpenID Connect client (its refresh grant, SPEC §13).
pub(crate) fn rotate(
    state: &AppState,
    store: &mut dyn Store,
    token: &str,
    origin: &Origin,
    client: Option<&ForClient>,
) -> Result<String, ApiError> {
    if client.is_none() {
        if let Some(answer) = spend_for_known_user(state, store, token)? {
            return Ok(answer);
        }
    }
    let (claims, record, newest) = check(state, store, token)?;
    // A client's token is spent at /oauth/token only: here it would buy a
    // first-party pair, with none of the client's limits.
    if client.is_none() && store.find_grant(&claims.sid)?.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidToken));
    }
    if !newest {
        return replay_or_reuse(state, &claims, &record, origin);
    }
    let user = &record.user;
    let ended = |code| {
        let event = revoked(&claims.sid, "status", SYSTEM, now(), origin).user(&user.id);
        end_session(state, &claims.sid, code, event)
    };
    match user.status {
        Status::Active => {}
        Status::Deleted => return Err(ended(ErrorCode::UserNotFound)?),
        Status::Inactive | Status::Banned => return Err(ended(ErrorCode::UserInactive)?),
    }
    state.known_users.remember(user);
    match spend(state, store, &claims, token, (user, &record.amr), client)? {
        Some(answer) => Ok(answer),
        // A racing use of this token won, or the session ended, while this one signed.
        None => match store.find_refresh(&claims.sid)? {
            Some(record) if !record.revoked => replay_or_reuse(state, &claims, &record, origin),
            _ => Err(ApiError::new(ErrorCode::TokenRevoked)),
        },
    }
}

/// Reads the token and its session's record, in the contract's order of refusals:
/// INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED. Also says whether it is the
/// session's newest token, the only one that can be spent.
pub(super) fn check(
    state: &AppState,
    store: &mut dyn Store,
    token: &str,
) -> Result<(Unverified, RefreshRecord, bool), ApiError> {
    let issuer = &state.settings.issuer;
    let ring = state.keys.ring(store);
    let claims = ring.peek_refresh(token, issuer).map_err(token_error)?;
    let sid = claims.sid.clone();
    let record = state.db.read_hot(store, move |s| s.find_refresh(&sid))?;
    let newest = record.as_ref().is_some_and(|r| {
        r.refresh_jti == claims.jti && same_digest(&r.refresh_hash, &digest(token))
    });
    if !newest {
        // The digest vouches only for the newest token; any other needs its signature.
        ring.verify_refresh(token, issuer).map_err(token_error)?;
    }
    let record = record
        .filter(|r| r.user.id == claims.sub)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    if claims.exp.saturating_mul(1000) < now_ms() {
        return Err(ApiError::new(ErrorCode::TokenExpired));
    }
    if record.revoked {
        return Err(ApiError::new(ErrorCode::TokenRevoked));
    }
    Ok((claims, record, newest))
}

/// The hot path: a token that reads as a live one of a user this server has
/// signed for, spent in one write with the whole answer signed before it.
/// None where that does not apply or the write finds the session otherwise
/// (spent, ended, the token not the one issued, the user changed): then
/// `rotate` reads the session and decides, in the contract's order.
fn spend_for_known_user(
    state: &AppState,
    store: &mut dyn Store,
    token: &str,
) -> Result<Option<String>, ApiError> {
    let ring = state.keys.ring(store);
    let Ok(claims) = ring.peek_refresh(token, &state.settings.issuer) else {
        return Ok(None);
    };
    if claims.exp.saturating_mul(1000) < now_ms() {
        return Ok(None);
    }
    // A session signed in otherwise than by password fails the write's check
    // of its amr, and takes the slow path.
    let password_only = [AMR_PASSWORD.to_string()];
    match state.known_users.get(&claims.sub) {
        Some(user) => spend(state, store, &claims, token, (&user, &password_only), None),
        None => Ok(None),
    }
}

/// Signs a new pair for `user` and records it in place of the spent token, if
/// the session still holds that token as issued and the user is still active
/// and as the pair shows them (else `None`).
fn spend(
    state: &AppState,
    store: &mut dyn Store,
    claims: &Unverified,
    token: &str,
    (user, amr): (&User, &[String]),
    client: Option<&ForClient>,
) -> Result<Option<String>, ApiError> {
    let (now, now_ms) = (now(), now_ms());
    let session = (claims.sid.as_str(), amr);
    let ring = state.keys.ring(store);
    let signed = sign_pair_for(state, &ring, user, session, now, client)?;
    let answer = serde_json::to_string(&signed.pair).map_err(ApiError::internal)?;
    let row = grace_row(&claims.sid, &claims.jti);
    let grace_answer = state.sealer.seal(GRACE_ANSWERS, &row, answer.as_bytes());
    let next = signed.refresh_record();
    let rotation = Rotation {
        sid: claims.sid.clone(),
        jti: claims.jti.clone(),
        hash: digest(token),
        user: user.clone(),
        amr: amr.to_vec(),
        for_client: client.is_some(),
        next_jti: next.jti.to_string(),
        next_hash: next.hash.to_vec(),
        expires_at: next.expires_at,
        now_ms,
        grace_answer,
    };
    let spent = state.db.rotate_refresh(store, rotation)?;
    if spent {
        log::debug!("refresh ok: session {}", claims.sid);
    }
    Ok(spent.then_some(answer))
}

/// A token used before: the token spent last, within the grace, gets the answer
/// its first use got (two tabs racing); any other is a stolen token being
/// replayed, so the session ends.
fn replay_or_reuse(
    state: &AppState,
    claims: &Unverified,
    record: &RefreshRecord,
    origin: &Origin,
) -> Result<String, ApiError> {
    let answer = record
        .grace_answer
        .as_deref()
        .filter(|_| spent_within_grace(state, claims, record));
    if let Some(answer) = answer.and_then(|sealed| open_grace_answer(state, claims, sealed)) {
        return Ok(answer);
    }
    log::warn!("refresh token reused: session {} revoked", claims.sid);
    let detail = serde_json::json!({"sid": claims.sid});
    let reused = AuditEvent::new("session.reused", SYSTEM, now(), detail)
        .user(&record.user.id)
        .origin(origin);
    Err(end_session(
        state,
        &claims.sid,
        ErrorCode::TokenReused,
        reused,
    )?)
}

/// Whether the token is the one its session spent last, and that within the grace.
pub(super) fn spent_within_grace(
    state: &AppState,
    claims: &Unverified,
    record: &RefreshRecord,
) -> bool {
    let grace_ms = state.settings.reuse_grace.saturating_mul(1000);
    record.spent_jti.as_deref() == Some(claims.jti.as_str())
        && record
            .spent_at_ms
            .is_some_and(|at| now_ms().saturating_sub(at) <= grace_ms)
}

/// What a grace answer is bound to: the session and the token whose use it answers.
fn grace_row(sid: &str, spent_jti: &str) -> String {
    format!("{sid}/{spent_jti}")
}

/// The stored answer, unless it is not the one sealed for this session and token
/// (moved from another row, planted plain): that one is not used.
fn open_grace_answer(state: &AppState, claims: &Unverified, sealed: &[u8]) -> Option<String> {
    let row = grace_row(&claims.sid, &claims.jti);
    let opened = state.sealer.open(GRACE_ANSWERS, &row, sealed);
    match opened.map(String::from_utf8) {
        Ok(Ok(answer)) => Some(answer),
        Ok(Err(_)) => None,
        Err(why) => {
            log::warn!("the grace answer of session {} {why}: not used", claims.sid);
            None
        }
    }
}

/// Revokes the session, recording `event`, and gives the 401 that says why.
fn end_session(
    state: &AppState,
    sid: &str,
    code: ErrorCode,
    event: AuditEvent,
) -> Result<ApiError, ApiError> {
    let (owned_sid, now) = (sid.to_string(), now());
    state.write_ending_sessions(move |store| {
        store.append_event(&event)?;
        store.revoke_session(&owned_sid, now)
    })?;
    log::info!("refresh refused: {code}; session {sid} revoked");
    Ok(ApiError::new(code))
}
