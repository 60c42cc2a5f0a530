//! POST /user/password/forgot and GET /features (SPEC §12). A forgot request
//! answers the same, in the same time, whether or not the address has an
//! account: every valid request makes the same write (the throttle's mark),
//! and only inside it is the account looked up and the message queued.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::mail::{self, templates};
use crate::password::link;
use crate::state::{AppState, State};
use crate::store::audit::SYSTEM;
use crate::store::{normalize_email, AuditEvent, Status};

#[derive(Deserialize, ToSchema)]
pub struct ForgotRequest {
    #[schema(example = "ada@acme.test")]
    email: String,
}

#[derive(Serialize, ToSchema)]
pub struct Features {
    success: bool,
    /// Whether this server sends email (forgot-password, invitations, sign-up).
    email: bool,
    /// Whether POST /user/register takes sign-ups.
    #[schema(value_type = String, pattern = "^(open|closed)$", example = "closed")]
    registration: &'static str,
    passkeys: bool,
    /// Whether the OpenID Connect provider is on (`--issuer` is an http(s) URL).
    oidc: bool,
}

#[utoipa::path(get, path = "/features", tag = "ops",
    responses((status = 200, description = "What this server offers, for pages and clients", body = Features)))]
pub async fn features(state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    let issuer = settings.issuer.as_str();
    HttpResponse::Ok().json(Features {
        success: true,
        email: settings.email.is_some(),
        registration: match settings.registration_open {
            true => "open",
            false => "closed",
        },
        passkeys: true,
        oidc: issuer.starts_with("https://") || issuer.starts_with("http://"),
    })
}

#[utoipa::path(post, path = "/user/password/forgot", tag = "session",
    request_body = ForgotRequest,
    responses(
        (status = 200, description = "Always, for a valid email: when an active account has it, a set-password link is emailed (at most one per account per 60 s)", body = SuccessBody),
        (status = 400, description = "INVALID_REQUEST: not an email", body = ErrorBody),
        (status = 501, description = "EMAIL_DISABLED: this server sends no email", body = ErrorBody),
        (status = 503, description = "SERVER_BUSY: the database cannot take it now", body = ErrorBody),
    ))]
pub async fn forgot_password(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: ForgotRequest = json_body(&req, payload).await?;
    let email = normalize_email(&body.email)
        .map_err(|why| ApiError::invalid_request(format!("The email {why}.")))?;
    if state.settings.email.is_none() {
        return Err(ApiError::new(ErrorCode::EmailDisabled));
    }
    let origin = origin(&req, &state.settings.trusted_proxies);
    let job = state.get_ref().clone();
    let queued = web::block(move || queue_forgot(&job, email, origin))
        .await
        .map_err(ApiError::internal)??;
    if queued {
        state.mail.ring();
    }
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// In one write: the throttle's mark, then for an active account a new link
/// and its message. True when a message was queued.
fn queue_forgot(
    state: &AppState,
    email: String,
    origin: crate::store::Origin,
) -> Result<bool, ApiError> {
    let (token, digest) = link::new_token().map_err(ApiError::internal)?;
    let now = now();
    let expires_at = now.saturating_add(state.settings.forgot_ttl);
    let throttle = mail::throttle_key("forgot", &email);
    let job = state.clone();
    let queued = state.db.write(move |store| {
        if !store.throttle_mail(&throttle, now, mail::THROTTLE_WINDOW)? {
            return Ok::<_, ApiError>(None);
        }
        let user = store
            .find_user_by_email(&email)?
            .filter(|u| u.status == Status::Active);
        let Some(user) = user else { return Ok(None) };
        store.replace_link(&user.id, &digest, expires_at, now)?;
        let link = format!("{}/#set-password={token}", public_base(&job));
        let message = templates::forgot(&templates::Context {
            product: &job.settings.issuer,
            email: &user.email,
            link: &link,
            valid_for: job.settings.forgot_ttl,
        });
        let to = ("forgot", user.email.as_str(), Some(user.id.as_str()));
        let id = mail::queue(store, &job.sealer, to, message, now)?;
        let detail = json!({"expiresAt": expires_at, "sent": true, "messageId": id});
        let event = AuditEvent::new("link.created", SYSTEM, now, detail)
            .origin(&origin)
            .user(&user.id);
        store.append_event(&event)?;
        Ok(Some(user.id))
    })?;
    if let Some(user_id) = &queued {
        log::info!("forgot-password link queued for user {user_id}");
    }
    Ok(queued.is_some())
}

/// The address links start with: `--public-url`.
pub(crate) fn public_base(state: &State) -> &str {
    state
        .settings
        .public_url
        .as_deref()
        .unwrap_or("http://127.0.0.1:8080")
}
