//! The signed-in user's second factor (SPEC §10): GET /user/mfa, TOTP on
//! (an enrolment, then its first code) and off, and new recovery codes.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::pair::token_response;
use super::second_factor::{totp_secret, with_code, CodeAttempt};
use super::session::authenticate;
use super::{bearer, blocking, client_ip, json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::mfa;
use crate::state::AppState;
use crate::store::audit::user_actor;
use crate::store::{AuditEvent, Store};
use crate::tokens::TOTP_SECRETS;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaBody {
    success: bool,
    /// Whether TOTP is on.
    totp: bool,
    recovery_codes_left: u32,
    /// Passkeys registered (section 11).
    passkeys: u32,
}

/// A TOTP enrolment waiting for its first code. Holds a secret: no Debug.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentBody {
    success: bool,
    /// The secret in base32, to type into an authenticator app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    secret: String,
    /// `otpauth://totp/ISSUER:EMAIL?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`
    otpauth_url: String,
    /// An SVG image of the QR code of `otpauthUrl`.
    qr_svg: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodesBody {
    success: bool,
    /// Ten codes, each taken once; shown only now.
    #[schema(example = json!(["abcde-fghij"]))]
    recovery_codes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// A TOTP code (six digits), or where taken, a recovery code.
    #[schema(example = "123456")]
    code: String,
}

#[utoipa::path(get, path = "/user/mfa", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's second factors", body = MfaBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
    ))]
pub async fn summary(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let found = blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        Ok(store.mfa_summary(&user.id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MfaBody {
        success: true,
        totp: found.totp,
        recovery_codes_left: found.recovery_codes_left,
        passkeys: found.passkeys,
    }))
}

#[utoipa::path(post, path = "/user/mfa/totp", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "An enrolment waiting for its first code (a newer one replaces it)", body = EnrolmentBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 409, description = "MFA_ALREADY_ENABLED: TOTP is on", body = ErrorBody),
    ))]
pub async fn enrol(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req)?;
    let body = blocking(&state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        let secret = mfa::new_secret().map_err(ApiError::internal)?;
        let sealed = state.sealer.seal(TOTP_SECRETS, &user.id, &secret);
        let user_id = user.id.clone();
        let begun = state
            .db
            .write(move |store| store.begin_totp(&user_id, &sealed, now()))?;
        if !begun {
            return Err(ApiError::new(ErrorCode::MfaAlreadyEnabled));
        }
        let secret = mfa::base32(&secret).map_err(ApiError::internal)?;
        let otpauth_url = mfa::otpauth_url(&state.settings.issuer, &user.email, &secret);
        let qr_svg = mfa::qr_svg(&otpauth_url).map_err(ApiError::internal)?;
        log::info!("TOTP enrolment begun: {}", user.email);
        Ok(EnrolmentBody {
            success: true,
            secret,
            otpauth_url,
            qr_svg,
        })
    })
    .await?;
    let body = serde_json::to_string(&body).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}

#[utoipa::path(post, path = "/user/mfa/totp/confirm", tag = "mfa", security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "TOTP is on; the first set of recovery codes", body = RecoveryCodesBody),
        (status = 400, description = "INVALID_REQUEST, or INVALID_CODE (counted as a failed login)", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 409, description = "MFA_NOT_ENABLED: no enrolment is waiting", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
    ))]
pub async fn confirm(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let codes = with_user_code(&req, payload, &state, Action::Confirm).await?;
    recovery_codes_answer(codes)
}

#[utoipa::path(delete, path = "/user/mfa/totp", tag = "mfa", security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "TOTP and the recovery codes are removed", body = SuccessBody),
        (status = 400, description = "INVALID_REQUEST, or INVALID_CODE: not a TOTP or recovery code of the account (counted as a failed login)", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 409, description = "MFA_NOT_ENABLED: TOTP is off", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
    ))]
pub async fn disable(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    with_user_code(&req, payload, &state, Action::Disable).await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[utoipa::path(post, path = "/user/mfa/recovery-codes", tag = "mfa", security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "A new set of recovery codes; the old one is void", body = RecoveryCodesBody),
        (status = 400, description = "INVALID_REQUEST, or INVALID_CODE: not a TOTP code of the account (a recovery code is not taken here; counted as a failed login)", body = ErrorBody),
        (status = 401, description = "MISSING_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_REVOKED or USER_INACTIVE", body = ErrorBody),
        (status = 409, description = "MFA_NOT_ENABLED: TOTP is off", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
    ))]
pub async fn new_recovery_codes(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let codes = with_user_code(&req, payload, &state, Action::NewRecoveryCodes).await?;
    recovery_codes_answer(codes)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Confirm,
    Disable,
    NewRecoveryCodes,
}

/// Checks the body's code for the signed-in user and does `action`; the new
/// recovery codes, when it makes some.
async fn with_user_code(
    req: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
    action: Action,
) -> Result<Vec<String>, ApiError> {
    let token = bearer(req)?;
    let body: CodeRequest = json_body(req, payload).await?;
    let attempt = CodeAttempt {
        ip: client_ip(req, &state.settings.trusted_proxies),
        origin: origin(req, &state.settings.trusted_proxies),
        during: match action {
            Action::Confirm => "confirm",
            Action::Disable => "disable",
            Action::NewRecoveryCodes => "recovery-codes",
        },
        sign_in: false,
        recovery: action == Action::Disable,
    };
    blocking(state, move |state, store| {
        let (user, _) = authenticate(state, store, &token)?;
        let waiting = action == Action::Confirm;
        let Some(secret) = totp_secret(state, store, &user.id, waiting)? else {
            return Err(match waiting {
                true => ApiError::with_message(
                    ErrorCode::MfaNotEnabled,
                    "No TOTP enrolment is waiting for its first code (POST /user/mfa/totp starts one).",
                ),
                false => ApiError::new(ErrorCode::MfaNotEnabled),
            });
        };
        let codes = match action {
            Action::Disable => Vec::new(),
            _ => mfa::new_recovery_codes().map_err(ApiError::internal)?,
        };
        let digests: Vec<Vec<u8>> = codes.iter().map(|c| mfa::recovery_digest(c)).collect();
        let (user_id, email) = (user.id.clone(), user.email.clone());
        let kind = match action {
            Action::Confirm => "mfa.totp.enabled",
            Action::Disable => "mfa.totp.disabled",
            Action::NewRecoveryCodes => "mfa.recovery.regenerated",
        };
        let event = AuditEvent::new(kind, user_actor(&user.id), now(), json!({}))
            .origin(&attempt.origin)
            .user(&user.id);
        with_code(
            state,
            (&user, &secret, &body.code),
            attempt,
            None,
            move |store: &mut dyn Store| {
                let changed = match action {
                    Action::Confirm => store.enable_totp(&user_id, event.at)?,
                    Action::Disable => store.remove_mfa(&user_id)?,
                    Action::NewRecoveryCodes => store.find_totp(&user_id)?.is_some_and(|t| t.enabled),
                };
                // A confirm or a disable that raced this one went first.
                if !changed {
                    return Err(ApiError::new(ErrorCode::MfaNotEnabled));
                }
                if action != Action::Disable {
                    store.replace_recovery_codes(&user_id, &digests)?;
                }
                store.append_event(&event)?;
                log::info!("{kind}: {email}");
                Ok(())
            },
        )?;
        Ok(codes)
    })
    .await
}

/// Recovery codes are shown once: never kept by a cache.
fn recovery_codes_answer(recovery_codes: Vec<String>) -> Result<HttpResponse, ApiError> {
    let body = RecoveryCodesBody {
        success: true,
        recovery_codes,
    };
    let body = serde_json::to_string(&body).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}
