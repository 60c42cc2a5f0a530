//! POST /user/register and POST /user/register/confirm (SPEC §12): sign-up
//! with `--registration open`. A sign-up answers 202 the same, after the same
//! work (the password hashed, one write), whether or not the address has an
//! account: a new address is emailed a confirmation link, one with an account
//! a note saying so. Only the password's hash and the token's digest wait.

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::email::public_base;
use super::login::{new_session, on_blocking, Attempt, Checked};
use super::pair::{token_response, TokenPair};
use super::password::{on_gate, weak};
use super::{client_ip, json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode, SuccessBody};
use crate::ids::new_id;
use crate::mail::{self, templates};
use crate::password::{self, link, policy};
use crate::state::AppState;
use crate::store::audit::{user_actor, SYSTEM};
use crate::store::{normalize_email, AuditEvent, Origin, Registration, Status, User};
use crate::tokens::AMR_PASSWORD;

/// A confirmation link works this long.
const CONFIRM_TTL: u64 = 86_400;
const MAX_NAME: usize = 200;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "grace@acme.test")]
    email: String,
    #[schema(example = "a long and unusual pass phrase")]
    password: String,
    #[schema(
        example = "Grace Hopper",
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmRequest {
    /// The token of the emailed link (after `#confirm=`).
    token: String,
}

#[utoipa::path(post, path = "/user/register", tag = "login",
    request_body = RegisterRequest,
    responses(
        (status = 202, description = "Taken, whether or not the address has an account: a new address is emailed a confirmation link (valid 24 h), one with an account a note; at most one message per address per 60 s", body = SuccessBody),
        (status = 400, description = "INVALID_REQUEST, or WEAK_PASSWORD as for /user/password", body = ErrorBody),
        (status = 403, description = "REGISTRATION_CLOSED: sign-up is closed, or not open to the address's domain", body = ErrorBody),
        (status = 501, description = "EMAIL_DISABLED: this server sends no email", body = ErrorBody),
        (status = 503, description = "SERVER_BUSY: the password-hashing queue is full", body = ErrorBody),
    ))]
pub async fn register_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: RegisterRequest = json_body(&req, payload).await?;
    let email = normalize_email(&body.email)
        .map_err(|why| ApiError::invalid_request(format!("The email {why}.")))?;
    let settings = &state.settings;
    if !settings.registration_open {
        return Err(ApiError::new(ErrorCode::RegistrationClosed));
    }
    if settings.email.is_none() {
        return Err(ApiError::new(ErrorCode::EmailDisabled));
    }
    // As an admin's new user's name (the document's pattern says the same).
    let name = body.name;
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(
            "name: 1 to 200 characters, none of them control characters",
        ));
    }
    if !domain_allowed(&email, &settings.registration_domains) {
        return Err(ApiError::with_message(
            ErrorCode::RegistrationClosed,
            "Sign-up is not open to addresses of this domain.",
        ));
    }
    policy::check(&body.password, &email, settings.min_password_length).map_err(weak)?;
    let origin = origin(&req, &settings.trusted_proxies);
    let iterations = settings.pbkdf2_iterations;
    let password = body.password;
    // Hashed whether or not the address has an account: the same time either way.
    let hash = on_gate(&state, move || {
        password::hash(&password, iterations).map_err(ApiError::internal)
    })
    .await?;
    let job = state.get_ref().clone();
    let queued = web::block(move || queue_sign_up(&job, (email, name, hash), origin))
        .await
        .map_err(ApiError::internal)??;
    if queued {
        state.mail.ring();
    }
    Ok(HttpResponse::Accepted().json(json!({ "success": true })))
}

fn domain_allowed(email: &str, domains: &[String]) -> bool {
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    domains.is_empty() || domains.iter().any(|d| d == domain)
}

/// In one write: the throttle's mark, then the pending sign-up and its link,
/// or the note to an address that has an account. True when a message was queued.
fn queue_sign_up(
    state: &AppState,
    (email, name, hash): (String, String, String),
    origin: Origin,
) -> Result<bool, ApiError> {
    let (token, digest) = link::new_token().map_err(ApiError::internal)?;
    let now = now();
    let throttle = mail::throttle_key("register", &email);
    let job = state.clone();
    state.db.write(move |store| {
        if !store.throttle_mail(&throttle, now, mail::THROTTLE_WINDOW)? {
            return Ok::<_, ApiError>(false);
        }
        let base = public_base(&job);
        let existing = store.find_user_by_email(&email)?;
        let (kind, user_id, message) = match &existing {
            Some(user) if user.status == Status::Deleted => return Ok(false),
            Some(user) => {
                let link = format!("{base}/");
                let context = context(&job, &email, &link, 0);
                let note = templates::already_registered(&context);
                ("registered", Some(user.id.as_str()), note)
            }
            None => {
                store.replace_registration(&Registration {
                    email: email.clone(),
                    token_hash: digest,
                    name,
                    password_hash: hash,
                    created_at: now,
                    expires_at: now.saturating_add(CONFIRM_TTL),
                })?;
                let link = format!("{base}/#confirm={token}");
                let confirm = templates::confirm(&context(&job, &email, &link, CONFIRM_TTL));
                ("confirm", None, confirm)
            }
        };
        mail::queue(store, &job.sealer, (kind, &email, user_id), message, now)?;
        let mut event = AuditEvent::new(
            "registration.requested",
            SYSTEM,
            now,
            json!({"email": email}),
        )
        .origin(&origin);
        event.user_id = user_id.map(str::to_string);
        store.append_event(&event)?;
        Ok(true)
    })
}

fn context<'a>(
    state: &'a AppState,
    email: &'a str,
    link: &'a str,
    valid_for: u64,
) -> templates::Context<'a> {
    templates::Context {
        product: &state.settings.issuer,
        email,
        link,
        valid_for,
    }
}

#[utoipa::path(post, path = "/user/register/confirm", tag = "login",
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "The account is made (active, no org, no roles, the password given at sign-up) and signed in", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST", body = ErrorBody),
        (status = 401, description = "INVALID_TOKEN (unknown or used) or TOKEN_EXPIRED", body = ErrorBody),
        (status = 409, description = "EMAIL_TAKEN: the address got an account since", body = ErrorBody),
        (status = 503, description = "SERVER_BUSY", body = ErrorBody),
    ))]
pub async fn confirm_registration(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: ConfirmRequest = json_body(&req, payload).await?;
    let ip = client_ip(&req, &state.settings.trusted_proxies);
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect::<String>());
    let job = state.get_ref().clone();
    let pair = on_blocking(&state, move || {
        confirm_sign_up(&job, &body.token, ip, user_agent)
    })
    .await?;
    let body = serde_json::to_string(&pair).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}

fn confirm_sign_up(
    state: &AppState,
    token: &str,
    ip: Option<IpAddr>,
    user_agent: Option<String>,
) -> Result<TokenPair, ApiError> {
    let digest = link::digest(token);
    let now = now();
    let Some(pending) = state.db.read(|store| store.find_registration(&digest))? else {
        return Err(refused(ErrorCode::InvalidToken));
    };
    if pending.expires_at <= now {
        return Err(refused(ErrorCode::TokenExpired));
    }
    let user = User {
        id: new_id(),
        email: pending.email.clone(),
        name: pending.name.clone(),
        org_id: None,
        password_hash: Some(pending.password_hash.clone()),
        status: Status::Active,
        created_at: now,
        roles: Vec::new(),
    };
    let attempt = Attempt {
        email: user.email.clone(),
        password: String::new(),
        code: None,
        ip,
        user_agent,
    };
    let checked = Checked {
        user: user.clone(),
        upgraded: None,
    };
    let amr = vec![AMR_PASSWORD.to_string()];
    let session = new_session(state, &attempt, checked, amr)?.signed_in_by("registration");
    let actor = user_actor(&user.id);
    let origin = attempt.origin();
    let pair = state.db.write(move |store| {
        // A confirmation racing this one wins; the address may have an account since.
        if !store.spend_registration(&digest)? {
            return Err(refused(ErrorCode::InvalidToken));
        }
        if store.find_user_by_email(&user.email)?.is_some() {
            return Err(ApiError::new(ErrorCode::EmailTaken));
        }
        store.insert_user(&user, now)?;
        let created = AuditEvent::new("user.created", actor.as_str(), now, json!({}));
        store.append_event(&created.origin(&origin).user(&user.id))?;
        let detail = json!({"email": user.email});
        let completed = AuditEvent::new("registration.completed", actor.as_str(), now, detail);
        store.append_event(&completed.origin(&origin).user(&user.id))?;
        session.write(store)
    })?;
    log::info!(
        "sign-up confirmed: {} (user {})",
        pair.user.email,
        pair.user.id
    );
    Ok(pair)
}

fn refused(code: ErrorCode) -> ApiError {
    let message = match code {
        ErrorCode::TokenExpired => "This link has expired; sign up again for a new one.",
        _ => "This link is not valid: it was used, replaced by a newer one, or never made.",
    };
    ApiError::with_message(code, message)
}
