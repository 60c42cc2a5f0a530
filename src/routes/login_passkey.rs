//! Signing in with a passkey (SPEC §11): no password, a discoverable
//! credential with user verification. A failed sign-in counts for the
//! per-address lockout, as a failed login does.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::login::{new_session, on_blocking, Attempt, Checked};
use super::pair::{token_response, TokenPair};
use super::passkeys::{begin, ceremony_answer, credential_object, invalid, refusal, CeremonyBody};
use super::{blocking, client_ip, json_body, origin};
use crate::clock::now;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::mfa::passkeys::user_handle;
use crate::password::link;
use crate::state::AppState;
use crate::store::audit::SYSTEM;
use crate::store::{email_key, ip_key, CeremonyKind, Limit, PasskeyUse, Status, StoreError, User};

/// The `amr` of a passkey sign-in (RFC 8176): a hardware key, user
/// verification, two factors.
fn amr_passkey() -> Vec<String> {
    vec!["hwk".into(), "user".into(), "mfa".into()]
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginFinishRequest {
    /// The `ceremonyId` of POST /user/passkeys/login.
    #[schema(example = "CEREMONY_ID")]
    ceremony_id: String,
    /// The assertion's JSON form (`credential.toJSON()`).
    #[schema(value_type = Object, example = json!({"id": "CREDENTIAL_ID", "rawId": "CREDENTIAL_ID",
        "type": "public-key", "response": {"clientDataJSON": "…", "authenticatorData": "…",
        "signature": "…", "userHandle": "…"}}))]
    credential: Value,
}

#[utoipa::path(post, path = "/user/passkeys/login", operation_id = "login_with_passkey", tag = "login",
    responses(
        (status = 200, description = "A sign-in begun: options for navigator.credentials.get (empty allowCredentials)", body = CeremonyBody),
        (status = 501, description = "PASSKEYS_UNAVAILABLE", body = ErrorBody),
    ))]
pub async fn login(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let body = blocking(&state, move |state, _| {
        let (public_key, rp_state) = state.relying_party.start_login().map_err(refusal)?;
        let ceremony_id = begin(state, CeremonyKind::Login, None, rp_state)?;
        Ok(CeremonyBody::new(ceremony_id, public_key))
    })
    .await?;
    ceremony_answer(&body)
}

#[utoipa::path(post, path = "/user/passkeys/login/finish", operation_id = "finish_passkey_login", tag = "login",
    request_body = LoginFinishRequest,
    responses(
        (status = 200, description = "Signed in with a passkey: amr [\"hwk\",\"user\",\"mfa\"]", body = TokenPair),
        (status = 400, description = "INVALID_REQUEST", body = ErrorBody),
        (status = 401, description = "INVALID_CREDENTIAL (an unknown, spent or expired ceremony; a challenge, origin or relying party that does not match; a bad signature; an unknown or removed credential; no user verification), USER_NOT_FOUND (the user was deleted), USER_INACTIVE; each counted as a failed login of the address", body = ErrorBody),
        (status = 429, description = "TOO_MANY_ATTEMPTS: too many failed logins from this client address",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until the lock lifts"))),
        (status = 501, description = "PASSKEYS_UNAVAILABLE", body = ErrorBody),
    ))]
pub async fn login_finish(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: LoginFinishRequest = json_body(&req, payload).await?;
    let credential = credential_object(body.credential)?;
    let attempt = Attempt {
        email: String::new(),
        password: String::new(),
        code: None,
        ip: client_ip(&req, &state.settings.trusted_proxies),
        user_agent: origin(&req, &state.settings.trusted_proxies).user_agent,
    };
    let job_state = state.get_ref().clone();
    let digest = link::digest(&body.ceremony_id);
    let outcome = on_blocking(&state, move || {
        sign_in(&job_state, attempt, &digest, credential)
    })
    .await;
    let body = serde_json::to_string(&outcome?).map_err(ApiError::internal)?;
    Ok(token_response().body(body))
}

/// Takes a failure slot of the address, checks the assertion, and signs in;
/// a refusal keeps the slot as the failure.
fn sign_in(
    state: &AppState,
    mut attempt: Attempt,
    digest: &[u8],
    credential: Value,
) -> Result<TokenPair, ApiError> {
    let rows = reserve(state, &attempt)?;
    let checked = check(state, digest, credential);
    let (user, passkey_id, used) = match checked {
        Ok(found) => found,
        Err(Failure::Counted(e, user)) => return Err(failed(state, &attempt, e, user.map(|u| *u))),
        Err(Failure::Other(e)) => {
            let _ = state.db.write(move |store| store.release_failures(&rows));
            return Err(e);
        }
    };
    attempt.email.clone_from(&user.email);
    let email = email_key(&user.email);
    let checked = Checked {
        user,
        upgraded: None,
    };
    let record = new_session(state, &attempt, checked, amr_passkey())?;
    let pair = state.db.write(move |store| {
        store.use_passkey(&passkey_id, &used)?;
        store.clear_failures(&email)?;
        store.release_failures(&rows)?;
        record.write(store)
    })?;
    log::info!(
        "login ok with a passkey: {} from {}",
        attempt.email,
        attempt.ip_shown()
    );
    Ok(pair)
}

enum Failure {
    /// A 401 (or 400) of the sign-in: counted, with the user when one is known.
    Counted(ApiError, Option<Box<User>>),
    /// Not the caller's failure (the database, a setting): nothing counted.
    Other(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        match e.code {
            ErrorCode::InvalidCredential => Failure::Counted(e, None),
            _ => Failure::Other(e),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Other(e.into())
    }
}

/// The ceremony taken, the assertion checked against the stored passkey, and
/// the user's standing: the user, the passkey and what the sign-in changes of it.
fn check(
    state: &AppState,
    digest: &[u8],
    credential: Value,
) -> Result<(User, String, PasskeyUse), Failure> {
    let digest = digest.to_vec();
    let ceremony = state
        .db
        .write(move |store| store.take_ceremony(&digest, CeremonyKind::Login, None))?
        .filter(|c| c.expires_at > now())
        .ok_or_else(|| invalid("an unknown, spent or expired sign-in"))?;
    let rp = &state.relying_party;
    let assertion = rp.read_assertion(credential).map_err(refusal)?;
    let (passkey, user) = state.db.read(|store| {
        let passkey = store.find_passkey_by_credential(&assertion.credential_id)?;
        let user = match &passkey {
            Some(p) => store.find_user_by_id(&p.user_id)?,
            None => None,
        };
        Ok::<_, ApiError>((passkey, user))
    })?;
    let Some(passkey) = passkey.filter(|p| user_handle(&p.user_id) == assertion.user_handle) else {
        return Err(invalid("an unknown credential").into());
    };
    let Some(user) = user else {
        return Err(invalid("a credential of no user").into());
    };
    let checked = rp.finish_login(&assertion, &ceremony.state, &passkey.credential);
    let checked =
        checked.map_err(|e| Failure::Counted(refusal(e), Some(Box::new(user.clone()))))?;
    match user.status {
        Status::Deleted => {
            return Err(Failure::Counted(
                ApiError::new(ErrorCode::UserNotFound),
                Some(Box::new(user)),
            ))
        }
        Status::Inactive | Status::Banned => {
            return Err(Failure::Counted(
                ApiError::new(ErrorCode::UserInactive),
                Some(Box::new(user)),
            ))
        }
        Status::Active => {}
    }
    let used = PasskeyUse {
        credential: checked.record,
        sign_count: checked.sign_count,
        backup_eligible: checked.backup_eligible,
        backup_state: checked.backup_state,
        at: now(),
    };
    Ok((user, passkey.id, used))
}

/// A failure row under the client address, or 429 when it is locked (noted
/// once per lock as `login.locked`, with no email: a passkey names none).
fn reserve(state: &AppState, attempt: &Attempt) -> Result<Vec<i64>, ApiError> {
    let s = &state.settings;
    let key = attempt.ip.map(|ip| ip_key(ip, s.ipv6_prefix));
    let (max, window, now) = (s.max_failures_per_ip, s.lockout, now());
    let detail = json!({"email": null, "method": "passkey"});
    let locked = attempt.event("login.locked", SYSTEM.into(), now, detail);
    let noting = state.clone();
    let reserved = state.db.write(move |store| {
        let limits: Vec<Limit> = key.iter().map(|key| Limit { key, max }).collect();
        let reserved = store.reserve_failures(&limits, window, now)?;
        if let (Err(until), Some(key)) = (&reserved, &key) {
            if noting.locks_noted.first(key, *until, now) {
                store.append_event(&locked)?;
            }
        }
        Ok::<_, StoreError>(reserved)
    })?;
    reserved.map_err(|until| {
        log::warn!("passkey sign-in locked out: {}", attempt.ip_shown());
        ApiError::too_many_attempts(until.saturating_sub(now))
    })
}

/// A refused sign-in: its failure row stays; with a known user, the audit
/// log has `login.failed`.
fn failed(state: &AppState, attempt: &Attempt, e: ApiError, user: Option<User>) -> ApiError {
    let e = match e.code {
        ErrorCode::InvalidCredential => ApiError {
            status: actix_web::http::StatusCode::UNAUTHORIZED,
            ..e
        },
        _ => e,
    };
    let Some(user) = user else {
        return e;
    };
    log::info!("passkey sign-in refused: {} for {}", e.code, user.email);
    let detail = json!({"email": user.email, "code": e.code.as_str(), "method": "passkey"});
    let event = attempt
        .event("login.failed", SYSTEM.into(), now(), detail)
        .user(&user.id);
    match state.db.write(move |store| store.append_event(&event)) {
        Ok(_) => e,
        Err(written) => written.into(),
    }
}
