//! POST /user/login, and issuing a token pair (shared with refresh).

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::Connection;
use serde::Deserialize;
use utoipa::ToSchema;

use super::pair::{sign_pair, TokenPair};
use super::{client_ip, json_body};
use crate::app::AppState;
use crate::db::{new_id, now};
use crate::error::ApiError;
use crate::gate::GateError;
use crate::openapi::ErrorBody;
use crate::password;
use crate::store::users::{self, normalize_email, Status};
use crate::store::{failures, sessions};

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "ada@acme.test")]
    email: String,
    #[schema(example = "correct horse battery staple")]
    password: String,
}

/// Who is logging in from where, once the body has been checked.
struct Attempt {
    email: String,
    password: String,
    ip: Option<String>,
    user_agent: Option<String>,
}

#[utoipa::path(post, path = "/user/login", tag = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new session and its first token pair", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST: malformed body, missing or mistyped field, or an email that is not one", body = ErrorBody),
        (status = 401, description = "The first that applies: USER_NOT_FOUND, NO_PASSWORD_SET, INVALID_PASSWORD, USER_INACTIVE (with --conceal-accounts the first two answer INVALID_PASSWORD)", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS: too many failed logins for this email or client address",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
        (status = 503, description = "SERVER_BUSY: the password-hashing queue is full", body = ErrorBody),
    ))]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: LoginRequest = json_body(&req, payload).await?;
    let email = normalize_email(&body.email)
        .map_err(|why| ApiError::invalid_request(format!("The email {why}.")))?;
    let attempt = Attempt {
        email,
        password: body.password,
        ip: client_ip(&req, &state.settings.trusted_proxies).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    };
    let state = state.get_ref().clone();
    let job_state = state.clone();
    let outcome = state
        .gate
        .run(move || perform(&job_state, attempt))
        .await
        .map_err(|e| match e {
            GateError::Busy => {
                log::warn!("login refused: hashing queue full");
                ApiError::busy()
            }
            GateError::Failed => ApiError::internal("login job failed"),
        })
        .and_then(|outcome| outcome);
    state
        .metrics
        .login(outcome.as_ref().map_or_else(|e| e.code, |_| "ok"));
    Ok(HttpResponse::Ok().json(outcome?))
}

/// The whole login, on a hashing thread: lock check, verify, then record the outcome.
fn perform(state: &AppState, attempt: Attempt) -> Result<TokenPair, ApiError> {
    let settings = &state.settings;
    let conn = state.pool.get()?;
    let now = now();
    let email_key = failures::email_key(&attempt.email);
    let ip_key = attempt.ip.as_deref().map(failures::ip_key);
    if let Some(until) = locked_until(state, &conn, &email_key, ip_key.as_deref(), now)? {
        log::warn!(
            "login locked out: {} from {}",
            attempt.email,
            shown(&attempt.ip)
        );
        return Err(ApiError::too_many_attempts(until - now));
    }

    let user = users::find_by_email(&conn, &attempt.email)?.filter(|u| u.status != Status::Deleted);
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // Always run one full verification, so that a missing account costs what a wrong password does.
    let matches = password::verify(
        &attempt.password,
        stored.as_deref().unwrap_or(&state.dummy_hash),
    );
    let refusal = match (&user, &stored) {
        (None, _) => Some("USER_NOT_FOUND"),
        (Some(_), None) => Some("NO_PASSWORD_SET"),
        _ if !matches => Some("INVALID_PASSWORD"),
        (Some(u), _) if u.status != Status::Active => Some("USER_INACTIVE"),
        _ => None,
    };
    let (Some(user), None) = (user, refusal) else {
        let code = refusal.unwrap_or("USER_NOT_FOUND");
        state
            .writer
            .write(move |conn| Ok(record_failure(conn, &email_key, ip_key.as_deref(), now)?))?;
        log::info!(
            "login refused: {code} for {} from {}",
            attempt.email,
            shown(&attempt.ip)
        );
        return Err(ApiError::unauthorized(conceal(
            code,
            settings.conceal_accounts,
        )));
    };

    let upgraded = match stored.as_deref() {
        Some(phc) if password::needs_rehash(phc, settings.pbkdf2_iterations) => Some(
            password::hash(&attempt.password, settings.pbkdf2_iterations)
                .map_err(ApiError::internal)?,
        ),
        _ => None,
    };
    let session = sessions::Session {
        id: new_id(),
        user_id: user.id.clone(),
        created_at: now,
        last_used_at: now,
        expires_at: now + settings.refresh_ttl,
        revoked_at: None,
        user_agent: attempt.user_agent,
        ip: attempt.ip.clone(),
    };
    let signed = sign_pair(state, &state.keys.ring(&conn), &user, &session.id, now)?;
    drop(conn);
    let (user_id, sid, hash_upgraded) = (user.id.clone(), session.id.clone(), upgraded.is_some());
    let signed = state.writer.write(move |conn| {
        failures::clear(conn, &email_key)?;
        if let Some(phc) = &upgraded {
            users::set_password_hash(conn, &user_id, phc, now)?;
        }
        sessions::create(conn, &session)?;
        signed.record(conn, &session.id)?;
        Ok(signed)
    })?;
    log::info!(
        "login ok: {} session {}{} from {}",
        user.email,
        sid,
        if hash_upgraded {
            " (hash upgraded)"
        } else {
            ""
        },
        shown(&attempt.ip)
    );
    Ok(signed.pair)
}

fn locked_until(
    state: &AppState,
    conn: &Connection,
    email_key: &str,
    ip_key: Option<&str>,
    now: u64,
) -> Result<Option<u64>, ApiError> {
    let s = &state.settings;
    let by_email = failures::locked_until(conn, email_key, s.max_failures, s.lockout, now)?;
    let by_ip = match ip_key {
        Some(key) => failures::locked_until(conn, key, s.max_failures_per_ip, s.lockout, now)?,
        None => None,
    };
    Ok(by_email.max(by_ip))
}

fn record_failure(
    conn: &Connection,
    email_key: &str,
    ip_key: Option<&str>,
    now: u64,
) -> rusqlite::Result<()> {
    failures::record(conn, email_key, now)?;
    if let Some(key) = ip_key {
        failures::record(conn, key, now)?;
    }
    Ok(())
}

/// With --conceal-accounts, nobody learns from a refusal whether an account exists.
fn conceal(code: &'static str, conceal_accounts: bool) -> &'static str {
    match code {
        "USER_NOT_FOUND" | "NO_PASSWORD_SET" if conceal_accounts => "INVALID_PASSWORD",
        _ => code,
    }
}

fn shown(ip: &Option<String>) -> &str {
    ip.as_deref().unwrap_or("-")
}
