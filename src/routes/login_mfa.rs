//! Signing in with a second factor (SPEC §10): after the right password, a
//! user with TOTP on gets MFA_REQUIRED and an mfaToken (or signs in at once
//! with the body's `code`), then POST /user/login/mfa trades the token and a
//! code for the login answer.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::lockout::{self, Slot};
use super::login::{new_session, on_blocking, open_session, Attempt, Checked, Signed};
use super::pair::{token_response, TokenPair};
use super::second_factor::{totp_secret, with_code, CodeAttempt};
use super::{client_ip, json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::password::link;
use crate::state::AppState;
use crate::store::Status;
use crate::tokens::AMR_PASSWORD;

/// The ways a code may be given, as MFA_REQUIRED names them.
pub const METHODS: [&str; 2] = ["totp", "recovery_code"];
/// How long an mfaToken works.
const MFA_TOKEN_TTL: u64 = 300;

/// The `amr` of a password and a second factor (RFC 8176).
fn amr_with_code() -> Vec<String> {
    vec![AMR_PASSWORD.into(), "otp".into(), "mfa".into()]
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginMfaRequest {
    /// The `mfaToken` of the MFA_REQUIRED answer.
    mfa_token: String,
    /// A TOTP code or a recovery code.
    #[schema(example = "123456")]
    code: String,
}

/// The password was right: tokens for a user without TOTP; for one with it,
/// tokens when the attempt carries a right code, else MFA_REQUIRED (which is
/// not a failure: the slot is given back, the account's count left as it is).
pub(super) fn after_password(
    state: &AppState,
    mut attempt: Attempt,
    checked: Checked,
    slot: Slot,
) -> Result<Signed, ApiError> {
    let rows = slot.rows.clone();
    let give_back = |e: ApiError| {
        let _ = lockout::give_back(state, rows.clone());
        e
    };
    let user_id = checked.user.id.clone();
    let secret = state
        .db
        .read(|store| totp_secret(state, store, &user_id, false))
        .map_err(give_back)?;
    let Some(secret) = secret else {
        return open_session(state, attempt, checked, slot)
            .map(Signed::Pair)
            .map_err(give_back);
    };
    let Some(code) = attempt.code.take() else {
        return mfa_token(state, &attempt, checked, slot).map_err(give_back);
    };
    let code_attempt = CodeAttempt {
        ip: attempt.ip,
        origin: attempt.origin(),
        during: "login",
        sign_in: true,
        recovery: true,
    };
    let user = checked.user.clone();
    let record = new_session(state, &attempt, checked, amr_with_code()).map_err(give_back)?;
    let pair = with_code(
        state,
        (&user, &secret, &code),
        code_attempt,
        Some(slot),
        move |store| record.write(store),
    )?;
    log::info!("login ok with a second factor: {}", attempt.email);
    Ok(Signed::Pair(pair))
}

/// A new mfaToken for the user; an upgraded hash is stored now, since the
/// password was right.
fn mfa_token(
    state: &AppState,
    attempt: &Attempt,
    checked: Checked,
    slot: Slot,
) -> Result<Signed, ApiError> {
    let (token, digest) = link::new_token().map_err(ApiError::internal)?;
    let (now, Checked { user, upgraded }) = (now(), checked);
    let user_id = user.id.clone();
    state.db.write(move |store| {
        store.create_mfa_token(&digest, &user_id, now.saturating_add(MFA_TOKEN_TTL))?;
        store.release_failures(&slot.rows)?;
        if let Some(phc) = &upgraded {
            store.set_password_hash(&user_id, phc, now)?;
        }
        Ok::<_, ApiError>(())
    })?;
    log::info!(
        "login needs a second factor: {} from {}",
        user.email,
        attempt.ip_shown()
    );
    Ok(Signed::MfaRequired(token))
}

#[utoipa::path(post, path = "/user/login/mfa", tag = "login",
    request_body = LoginMfaRequest,
    responses(
        (status = 200, description = "Signed in with a second factor: amr [\"pwd\",\"otp\",\"mfa\"]", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST", body = ErrorBody),
        (status = 401, description = "INVALID_CODE (a wrong or replayed code; counted as a failed login), INVALID_TOKEN (an unknown or already used mfaToken), TOKEN_EXPIRED (an mfaToken older than 300 s), USER_INACTIVE (the account was deactivated since)", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS: too many failed logins for this account or client address",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
    ))]
pub async fn login_mfa(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: LoginMfaRequest = json_body(&req, payload).await?;
    let origin = origin(&req, &state.settings.trusted_proxies);
    let attempt = Attempt {
        email: String::new(),
        password: String::new(),
        code: None,
        ip: client_ip(&req, &state.settings.trusted_proxies),
        user_agent: origin.user_agent,
    };
    let job_state = state.get_ref().clone();
    let pair = on_blocking(&state, move || second_step(&job_state, attempt, body)).await?;
    let body = serde_json::to_string(&pair).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}

fn second_step(
    state: &AppState,
    mut attempt: Attempt,
    body: LoginMfaRequest,
) -> Result<TokenPair, ApiError> {
    let digest = link::digest(&body.mfa_token);
    let (user, secret) = state.db.read(|store| {
        let found = store
            .find_mfa_token(&digest)?
            .ok_or(ErrorCode::InvalidToken)?;
        if found.expires_at <= now() {
            return Err(ApiError::new(ErrorCode::TokenExpired));
        }
        let user = store
            .find_user_by_id(&found.user_id)?
            .filter(|u| u.status != Status::Deleted)
            .ok_or(ErrorCode::InvalidToken)?;
        if user.status != Status::Active {
            return Err(ApiError::new(ErrorCode::UserInactive));
        }
        // TOTP turned off since: the token is void.
        let secret = totp_secret(state, store, &user.id, false)?.ok_or(ErrorCode::InvalidToken)?;
        Ok((user, secret))
    })?;
    attempt.email.clone_from(&user.email);
    let code_attempt = CodeAttempt {
        ip: attempt.ip,
        origin: attempt.origin(),
        during: "login",
        sign_in: true,
        recovery: true,
    };
    let checked = Checked {
        user: user.clone(),
        upgraded: None,
    };
    let record = new_session(state, &attempt, checked, amr_with_code())?;
    let pair = with_code(
        state,
        (&user, &secret, &body.code),
        code_attempt,
        None,
        move |store| {
            // Of two racing uses of one token, the second finds it spent.
            if !store.spend_mfa_token(&digest)? {
                return Err(ApiError::new(ErrorCode::InvalidToken));
            }
            record.write(store)
        },
    )?;
    log::info!(
        "login ok with a second factor: {} from {}",
        user.email,
        attempt.ip_shown()
    );
    Ok(pair)
}
