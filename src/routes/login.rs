//! POST /user/login, and issuing a token pair (shared with refresh).

use std::net::IpAddr;
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::lockout::{self, Slot};
use super::login_mfa;
use super::pair::{sign_pair, token_response, SignedPair, TokenPair};
use super::{client_ip, json_body};
use crate::clock::now;
use crate::error::ErrorBody;
use crate::error::{ApiError, ErrorCode};
use crate::gate::{GateError, Ticket};
use crate::ids::new_id;
use crate::password;
use crate::state::AppState;
use crate::store::audit::{user_actor, SYSTEM};
use crate::store::{normalize_email, AuditEvent, Origin, Session, Status, Store, User};
use crate::tokens::AMR_PASSWORD;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "ada@acme.test")]
    email: String,
    #[schema(example = "correct horse battery staple")]
    password: String,
    /// A TOTP or recovery code, for an account with a second factor: signs in
    /// at once instead of answering MFA_REQUIRED. (No example: the code
    /// samples send what every account needs, and this only some do.)
    code: Option<String>,
}

/// Who is logging in from where, once the body has been checked.
pub(super) struct Attempt {
    pub email: String,
    pub password: String,
    /// A second factor's code sent with the password.
    pub code: Option<String>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Attempt {
    pub fn ip_shown(&self) -> String {
        self.ip.map_or_else(|| "-".to_string(), |ip| ip.to_string())
    }

    pub fn origin(&self) -> Origin {
        Origin {
            ip: self.ip.map(|ip| ip.to_string()),
            user_agent: self.user_agent.clone(),
        }
    }

    /// An audit event of this attempt, from where it came.
    pub fn event(
        &self,
        kind: &str,
        actor: String,
        now: u64,
        detail: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent::new(kind, actor, now, detail).origin(&self.origin())
    }
}

/// A login's answer: tokens, or the second factor to ask for.
pub(super) enum Signed {
    Pair(TokenPair),
    /// MFA_REQUIRED, with the mfaToken that goes with the code.
    MfaRequired(String),
}

#[utoipa::path(post, path = "/user/login", tag = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new session and its first token pair", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST: malformed body, missing or mistyped field, or an email that is not one", body = ErrorBody),
        (status = 401, description = "The first that applies: USER_NOT_FOUND, NO_PASSWORD_SET, INVALID_PASSWORD, USER_INACTIVE (with --conceal-accounts the first two answer INVALID_PASSWORD); then, for an account with a second factor, MFA_REQUIRED with mfaToken and methods (not a failure), or with `code` in the body, INVALID_CODE (counted as a failed login)", body = ErrorBody),
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
        code: body.code,
        ip: client_ip(&req, &state.settings.trusted_proxies),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    };
    let state = state.get_ref().clone();
    let started = Instant::now();
    // A task of its own, so that a login once begun settles its failure count
    // even if the client goes away between its steps.
    let outcome = actix_web::rt::spawn(attempt_login(state.clone(), attempt))
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(e)));
    let refused = outcome
        .as_ref()
        .is_err_and(|e| e.code == ErrorCode::InvalidPassword);
    if refused && state.settings.conceal_accounts {
        // A sleep, not work: the time is padded without holding a thread.
        let padded = started + state.conceal_refusals_for;
        actix_web::rt::time::sleep_until(padded.into()).await;
    }
    let counted = match &outcome {
        Ok(Signed::Pair(_)) => None,
        Ok(Signed::MfaRequired(_)) => Some(ErrorCode::MfaRequired),
        Err(e) => Some(e.code),
    };
    state.metrics.login(counted);
    match outcome? {
        Signed::Pair(pair) => {
            let body = serde_json::to_string(&pair).map_err(ApiError::internal)?;
            Ok(token_response().body(body))
        }
        Signed::MfaRequired(mfa_token) => Ok(mfa_required(&mfa_token)),
    }
}

/// The login in three steps: the database work before the hash and after it
/// on actix's blocking threads, the hash alone on a hashing thread. A hashing
/// thread that waited for the writer's commits would leave its core idle, and
/// the login rate below the hashing rate by that much. The place at the gate
/// is taken first, so that a burst is refused before it touches the database.
async fn attempt_login(state: AppState, mut attempt: Attempt) -> Result<Signed, ApiError> {
    let ordinary = state.gate.admit().map_err(refusal)?;
    let locked = attempt.event(
        "login.locked",
        SYSTEM.into(),
        now(),
        json!({"email": attempt.email}),
    );
    let (job_state, email, ip) = (state.clone(), attempt.email.clone(), attempt.ip);
    let (slot, user) = on_blocking(&state, move || prepare(&job_state, &email, ip, locked)).await?;
    let password = std::mem::take(&mut attempt.password);
    let checked = hash_on_lane(&state, ordinary, user, password).await;
    settle(&state, attempt, slot, checked).await
}

/// Verifies the password on the lane its stored hash belongs on.
async fn hash_on_lane(
    state: &AppState,
    ordinary: Ticket,
    user: Option<User>,
    password: String,
) -> Result<Verdict, ApiError> {
    let iterations = state.settings.pbkdf2_iterations;
    let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let ticket = match stored {
        // Checked on the imported lane, so that a few slow imported accounts
        // cannot hold up everyone else's logins.
        Some(phc) if password::costs_more_than_own(phc, iterations) => {
            drop(ordinary);
            state.imported_gate.admit().map_err(refusal)?
        }
        _ => ordinary,
    };
    let dummy = state.dummy_hash.clone();
    ticket
        .run(move || check_password(&password, user, &dummy, iterations))
        .await
        .map_err(refusal)?
}

/// Opens the session and gives the slot back, or keeps the slot as the
/// failure (and its audit event); a password that was not checked gives it back too.
async fn settle(
    state: &AppState,
    attempt: Attempt,
    slot: Slot,
    checked: Result<Verdict, ApiError>,
) -> Result<Signed, ApiError> {
    let (job_state, rows) = (state.clone(), slot.rows.clone());
    match checked {
        Ok(Verdict::Match(user)) => {
            on_blocking(state, move || {
                login_mfa::after_password(&job_state, attempt, user, slot)
            })
            .await
        }
        Ok(Verdict::Refused(code, user_id)) => {
            log::info!(
                "login refused: {code} for {} from {}",
                attempt.email,
                attempt.ip_shown()
            );
            let detail = json!({"email": attempt.email, "code": code.as_str()});
            let mut failed = attempt.event("login.failed", SYSTEM.into(), now(), detail);
            failed.user_id = user_id;
            let shown = conceal(code, state.settings.conceal_accounts);
            on_blocking(state, move || {
                let written = job_state.db.write(move |store| store.append_event(&failed));
                written.map_err(ApiError::from)
            })
            .await?;
            Err(ApiError::new(shown))
        }
        Err(e) => {
            on_blocking(state, move || lockout::give_back(&job_state, rows)).await?;
            Err(e)
        }
    }
}

/// Takes a failure slot (or answers 429), then reads the user.
fn prepare(
    state: &AppState,
    email: &str,
    ip: Option<IpAddr>,
    locked: AuditEvent,
) -> Result<(Slot, Option<User>), ApiError> {
    let slot = lockout::reserve(state, "login", email, ip, now(), Some(locked))?;
    let user = state
        .db
        .read(|store| store.find_user_by_email(email))
        .inspect_err(|_| {
            let _ = lockout::give_back(state, slot.rows.clone());
        })?
        .filter(|u| u.status != Status::Deleted);
    Ok((slot, user))
}

/// Database work and signing, on actix's blocking threads.
pub(super) async fn on_blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    state
        .gate
        .step(work)
        .await
        .map_err(|_| ApiError::internal("login step failed"))?
}

fn refusal(e: GateError) -> ApiError {
    match e {
        GateError::Busy => {
            log::warn!("login refused: hashing queue full");
            ApiError::busy()
        }
        GateError::Failed => ApiError::internal("login job failed"),
    }
}

/// What the password check found.
pub(super) enum Verdict {
    Match(Checked),
    /// With the id of the user whose email it was, if any.
    Refused(ErrorCode, Option<String>),
}

/// A user whose password matched, with the hash to store if it should be upgraded.
pub(super) struct Checked {
    pub user: User,
    pub upgraded: Option<String>,
}

/// Verifies the password, on a hashing thread: the user, or the code that
/// refuses them.
fn check_password(
    password: &str,
    user: Option<User>,
    dummy_hash: &str,
    iterations: u32,
) -> Result<Verdict, ApiError> {
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // Always run one full verification, so that a missing account costs what a wrong password does.
    let matches = password::verify(password, stored.as_deref().unwrap_or(dummy_hash));
    let refused = |code, user: Option<User>| Ok(Verdict::Refused(code, user.map(|u| u.id)));
    let (user, stored) = match (user, stored) {
        (None, _) => return refused(ErrorCode::UserNotFound, None),
        (u @ Some(_), None) => return refused(ErrorCode::NoPasswordSet, u),
        (u, _) if !matches => return refused(ErrorCode::InvalidPassword, u),
        (Some(u), _) if u.status != Status::Active => {
            return refused(ErrorCode::UserInactive, Some(u))
        }
        (Some(u), Some(stored)) => (u, stored),
    };
    let upgraded = match password::needs_rehash(&stored, iterations) {
        true => Some(password::hash(password, iterations).map_err(ApiError::internal)?),
        false => None,
    };
    Ok(Verdict::Match(Checked { user, upgraded }))
}

/// Clears the email's failures, gives the address's slot back, stores an
/// upgraded hash, and records a new session with its first pair.
pub(super) fn open_session(
    state: &AppState,
    attempt: Attempt,
    checked: Checked,
    slot: Slot,
) -> Result<TokenPair, ApiError> {
    let (email, ip) = (attempt.email.clone(), attempt.ip_shown());
    let hash_upgraded = checked.upgraded.is_some();
    let record = new_session(state, &attempt, checked, vec![AMR_PASSWORD.to_string()])?;
    let sid = record.sid().to_string();
    let signed = state.db.write(move |store| {
        store.clear_failures(&slot.email_key)?;
        store.release_failures(&slot.rows)?;
        record.write(store)
    })?;
    log::info!(
        "login ok: {email} session {sid}{} from {ip}",
        if hash_upgraded {
            " (hash upgraded)"
        } else {
            ""
        },
    );
    Ok(signed)
}

/// A session signed but not yet written, with what its write records.
pub(super) struct NewSession {
    session: Session,
    signed: SignedPair,
    succeeded: AuditEvent,
    upgraded: Option<String>,
}

impl NewSession {
    pub fn sid(&self) -> &str {
        &self.session.id
    }

    /// The sign-in's audit event names `method` (SPEC §8) instead of "password".
    pub fn signed_in_by(mut self, method: &str) -> NewSession {
        self.succeeded.detail["method"] = method.into();
        self
    }

    /// Records the session, its first pair, the sign-in and an upgraded hash.
    pub fn write(self, store: &mut dyn Store) -> Result<TokenPair, ApiError> {
        let (user_id, now) = (self.session.user_id.clone(), self.session.created_at);
        store.append_event(&self.succeeded)?;
        if let Some(phc) = &self.upgraded {
            store.set_password_hash(&user_id, phc, now)?;
        }
        store.create_session(&self.session, &self.signed.refresh_record())?;
        store.record_login(&user_id, now)?;
        Ok(self.signed.pair)
    }
}

/// Signs the first pair of a new session of `checked.user`, signed in as
/// `amr` says (SPEC §3), before any write lock is taken.
pub(super) fn new_session(
    state: &AppState,
    attempt: &Attempt,
    checked: Checked,
    amr: Vec<String>,
) -> Result<NewSession, ApiError> {
    let Checked { user, upgraded } = checked;
    let now = now();
    let session = Session {
        id: new_id(),
        user_id: user.id.clone(),
        created_at: now,
        last_used_at: now,
        expires_at: now.saturating_add(state.settings.refresh_ttl),
        revoked_at: None,
        user_agent: attempt.user_agent.clone(),
        ip: attempt.ip.map(|ip| ip.to_string()),
        amr,
    };
    let ring = state
        .db
        .read(|store| Ok::<_, ApiError>(state.keys.ring(store)))?;
    let signed = sign_pair(state, &ring, &user, (&session.id, &session.amr), now)?;
    state.known_users.remember(&user);
    // A session signed in by a hardware key is a passkey's (SPEC §8's methods).
    let method = match session.amr.first().map(String::as_str) {
        Some("hwk") => "passkey",
        _ => "password",
    };
    let detail = json!({"method": method, "amr": session.amr, "sid": session.id});
    let succeeded = attempt
        .event("login.succeeded", user_actor(&user.id), now, detail)
        .user(&user.id);
    Ok(NewSession {
        session,
        signed,
        succeeded,
        upgraded,
    })
}

/// 401 MFA_REQUIRED: the password was right, the second factor is asked for.
/// It carries a token: never kept by a cache.
fn mfa_required(mfa_token: &str) -> HttpResponse {
    let code = ErrorCode::MfaRequired;
    let body = json!({
        "success": false,
        "error_code": code.as_str(),
        "message": code.message(),
        "mfaToken": mfa_token,
        "methods": login_mfa::METHODS,
    });
    token_response()
        .status(actix_web::http::StatusCode::UNAUTHORIZED)
        .body(body.to_string())
}

/// With --conceal-accounts, nobody learns from a refusal whether an account exists.
fn conceal(code: ErrorCode, conceal_accounts: bool) -> ErrorCode {
    match code {
        ErrorCode::UserNotFound | ErrorCode::NoPasswordSet if conceal_accounts => {
            ErrorCode::InvalidPassword
        }
        _ => code,
    }
}
