//! POST /user/login, and issuing a token pair (shared with refresh).

use std::net::IpAddr;
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::lockout::{self, Slot};
use super::pair::{sign_pair, token_response, TokenPair};
use super::{client_ip, json_body};
use crate::db::{new_id, now};
use crate::error::ErrorBody;
use crate::error::{ApiError, ErrorCode};
use crate::gate::GateError;
use crate::password;
use crate::state::AppState;
use crate::store::audit::{user_actor, SYSTEM};
use crate::store::{normalize_email, AuditEvent, Origin, Session, Status, User};

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
    ip: Option<IpAddr>,
    user_agent: Option<String>,
}

impl Attempt {
    fn ip_shown(&self) -> String {
        self.ip.map_or_else(|| "-".to_string(), |ip| ip.to_string())
    }

    /// An audit event of this attempt, from where it came.
    fn event(&self, kind: &str, actor: String, now: u64, detail: serde_json::Value) -> AuditEvent {
        let origin = Origin {
            ip: self.ip.map(|ip| ip.to_string()),
            user_agent: self.user_agent.clone(),
        };
        AuditEvent::new(kind, actor, now, detail).origin(&origin)
    }
}

#[utoipa::path(post, path = "/user/login", tag = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new session and its first token pair", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST: malformed body, missing or mistyped field, or an email that is not one", body = ErrorBody),
        (status = 401, description = "The first that applies: USER_NOT_FOUND, NO_PASSWORD_SET, INVALID_PASSWORD, USER_INACTIVE (with --conceal-accounts the first two answer INVALID_PASSWORD)", body = ErrorBody),
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
        ip: client_ip(&req, &state.settings.trusted_proxies),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    };
    let state = state.get_ref().clone();
    let started = Instant::now();
    let outcome = match on_lane(&state, Lane::Ordinary, attempt).await {
        Step::Imported(attempt) => on_lane(&state, Lane::Imported, attempt).await,
        step => step,
    };
    let outcome = match outcome {
        Step::Done(outcome) => outcome,
        Step::Imported(_) => Err(ApiError::internal("login deferred twice")),
    };
    let refused = outcome
        .as_ref()
        .is_err_and(|e| e.code == ErrorCode::InvalidPassword);
    if refused && state.settings.conceal_accounts {
        // A sleep, not work: the time is padded without holding a thread.
        let padded = started + state.conceal_refusals_for;
        actix_web::rt::time::sleep_until(padded.into()).await;
    }
    state.metrics.login(outcome.as_ref().err().map(|e| e.code));
    let body = serde_json::to_string(&outcome?).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}

/// Which hashing threads a login runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    Ordinary,
    /// For stored hashes that cost more than our own, so that a few slow
    /// imported accounts cannot hold up everyone else's logins.
    Imported,
}

/// How far a login got on its lane.
enum Step {
    Done(Result<TokenPair, ApiError>),
    /// The stored hash belongs on the imported lane; nothing was recorded.
    Imported(Attempt),
}

async fn on_lane(state: &AppState, lane: Lane, attempt: Attempt) -> Step {
    let job_state = state.clone();
    let gate = match lane {
        Lane::Ordinary => &state.gate,
        Lane::Imported => &state.imported_gate,
    };
    gate.run(move || perform(&job_state, attempt, lane))
        .await
        .unwrap_or_else(|e| {
            Step::Done(Err(match e {
                GateError::Busy => {
                    log::warn!("login refused: hashing queue full");
                    ApiError::busy()
                }
                GateError::Failed => ApiError::internal("login job failed"),
            }))
        })
}

/// The whole login, on a hashing thread: take a failure slot, check the
/// password, then give the slot back and open a session, or keep it as the failure.
fn perform(state: &AppState, attempt: Attempt, lane: Lane) -> Step {
    let now = now();
    let locked = attempt.event(
        "login.locked",
        SYSTEM.into(),
        now,
        json!({"email": attempt.email}),
    );
    let slot = match lockout::reserve(
        state,
        "login",
        &attempt.email,
        attempt.ip,
        now,
        Some(locked),
    ) {
        Ok(slot) => slot,
        Err(e) => return Step::Done(Err(e)),
    };
    let checked = match check_password(state, &attempt, lane) {
        Ok(checked) => checked,
        Err(e) => {
            let _ = lockout::give_back(state, slot.rows);
            return Step::Done(Err(e));
        }
    };
    Step::Done(match checked {
        Verdict::Match(user) => {
            let rows = slot.rows.clone();
            open_session(state, attempt, user, slot, now).inspect_err(|_| {
                let _ = lockout::give_back(state, rows);
            })
        }
        Verdict::Imported => {
            let _ = lockout::give_back(state, slot.rows);
            return Step::Imported(attempt);
        }
        Verdict::Refused(code, user_id) => {
            log::info!(
                "login refused: {code} for {} from {}",
                attempt.email,
                attempt.ip_shown()
            );
            let detail = json!({"email": attempt.email, "code": code.as_str()});
            let mut failed = attempt.event("login.failed", SYSTEM.into(), now, detail);
            failed.user_id = user_id;
            let shown = conceal(code, state.settings.conceal_accounts);
            state
                .db
                .write(move |store| store.append_event(&failed))
                .map_err(ApiError::from)
                .and(Err(ApiError::new(shown)))
        }
    })
}

/// What the password check found.
enum Verdict {
    Match(Checked),
    /// With the id of the user whose email it was, if any.
    Refused(ErrorCode, Option<String>),
    /// Not checked: the stored hash belongs on the imported lane.
    Imported,
}

/// A user whose password matched, with the hash to store if it should be upgraded.
struct Checked {
    user: User,
    upgraded: Option<String>,
}

/// Looks the user up and verifies the password: the user, or the code that
/// refuses them. No connection is held while hashing.
fn check_password(state: &AppState, attempt: &Attempt, lane: Lane) -> Result<Verdict, ApiError> {
    let user = state
        .db
        .read(|store| store.find_user_by_email(&attempt.email))?
        .filter(|u| u.status != Status::Deleted);
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let iterations = state.settings.pbkdf2_iterations;
    if lane == Lane::Ordinary
        && stored
            .as_deref()
            .is_some_and(|s| password::costs_more_than_own(s, iterations))
    {
        return Ok(Verdict::Imported);
    }
    // Always run one full verification, so that a missing account costs what a wrong password does.
    let matches = password::verify(
        &attempt.password,
        stored.as_deref().unwrap_or(&state.dummy_hash),
    );
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
        true => Some(password::hash(&attempt.password, iterations).map_err(ApiError::internal)?),
        false => None,
    };
    Ok(Verdict::Match(Checked { user, upgraded }))
}

/// Clears the email's failures, gives the address's slot back, stores an
/// upgraded hash, and records a new session with its first pair.
fn open_session(
    state: &AppState,
    attempt: Attempt,
    checked: Checked,
    slot: Slot,
    now: u64,
) -> Result<TokenPair, ApiError> {
    let Checked { user, upgraded } = checked;
    let session = Session {
        id: new_id(),
        user_id: user.id.clone(),
        created_at: now,
        last_used_at: now,
        expires_at: now.saturating_add(state.settings.refresh_ttl),
        revoked_at: None,
        user_agent: attempt.user_agent.clone(),
        ip: attempt.ip.map(|ip| ip.to_string()),
    };
    let ring = state
        .db
        .read(|store| Ok::<_, ApiError>(state.keys.ring(store)))?;
    let signed = sign_pair(state, &ring, &user, &session.id, now)?;
    let (user_id, sid, hash_upgraded) = (user.id.clone(), session.id.clone(), upgraded.is_some());
    // amr: the password alone until a second factor exists (SPEC §3).
    let detail = json!({"method": "password", "amr": ["pwd"], "sid": sid});
    let succeeded = attempt.event("login.succeeded", user_actor(&user_id), now, detail);
    let signed = state.db.write(move |store| {
        store.append_event(&succeeded.user(&user_id))?;
        store.clear_failures(&slot.email_key)?;
        store.release_failures(&slot.rows)?;
        if let Some(phc) = &upgraded {
            store.set_password_hash(&user_id, phc, now)?;
        }
        store.create_session(&session, &signed.refresh_record())?;
        Ok::<_, ApiError>(signed)
    })?;
    log::info!(
        "login ok: {} session {sid}{} from {}",
        user.email,
        if hash_upgraded {
            " (hash upgraded)"
        } else {
            ""
        },
        attempt.ip_shown()
    );
    Ok(signed.pair)
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
