//! A second-factor code checked as a login attempt (SPEC §10): under the
//! lockout of the account and the client address, a wrong code kept as a
//! failure (and `mfa.failed`), a right one taken (its step, or the recovery
//! code) in the same write as what it allows, so that a replay racing it
//! finds it taken and that write undone.

use std::net::IpAddr;

use actix_web::http::StatusCode;
use serde_json::json;

use super::lockout::{self, Slot};
use crate::clock::now;
use crate::error::{ApiError, ErrorCode};
use crate::mfa;
use crate::state::AppState;
use crate::store::audit::{user_actor, SYSTEM};
use crate::store::{email_key, AuditEvent, Origin, Store, StoreError, User};
use crate::tokens::TOTP_SECRETS;

/// What a code proved, to be taken in the write that acts on it.
pub(super) enum Proof {
    Step(u64),
    /// The digest of a recovery code, which the write spends if it is the user's.
    Recovery(Vec<u8>),
}

impl Proof {
    /// Takes the code: false if it was taken before (a replay) or is none of the user's.
    fn take(&self, store: &mut dyn Store, user_id: &str) -> Result<bool, StoreError> {
        match self {
            Proof::Step(step) => store.use_totp_step(user_id, *step),
            Proof::Recovery(digest) => store.spend_recovery_code(user_id, digest),
        }
    }
}

/// Where a code is checked, and for what.
pub(super) struct CodeAttempt {
    pub ip: Option<IpAddr>,
    pub origin: Origin,
    /// Names the attempt in the log and in `mfa.failed`: "login", "confirm", …
    pub during: &'static str,
    /// A sign-in: INVALID_CODE is a 401 there, a right code clears the
    /// account's failures, and a lockout is noted as `login.locked`.
    pub sign_in: bool,
    /// Whether a recovery code is taken here.
    pub recovery: bool,
}

impl CodeAttempt {
    fn wrong(&self) -> ApiError {
        let wrong = ApiError::new(ErrorCode::InvalidCode);
        match self.sign_in {
            true => ApiError {
                status: StatusCode::UNAUTHORIZED,
                ..wrong
            },
            false => wrong,
        }
    }
}

/// The user's TOTP secret, opened: the one that is on, or (`waiting`) the
/// enrolment waiting for its first code. None when there is no such secret.
pub(super) fn totp_secret(
    state: &AppState,
    store: &mut dyn Store,
    user_id: &str,
    waiting: bool,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(stored) = store.find_totp(user_id)? else {
        return Ok(None);
    };
    if stored.enabled == waiting {
        return Ok(None);
    }
    state
        .sealer
        .open(TOTP_SECRETS, user_id, &stored.secret)
        .map(Some)
        .map_err(|why| ApiError::internal(format!("the TOTP secret of user {user_id} {why}")))
}

/// Checks `code` against `secret` for `user` under the lockout (taking a
/// failure slot, or using `slot` when the attempt holds one already), then
/// takes the code and runs `act` in one write. A wrong or replayed code is
/// INVALID_CODE, kept as a failure.
pub(super) fn with_code<T, F>(
    state: &AppState,
    (user, secret, code): (&User, &[u8], &str),
    attempt: CodeAttempt,
    slot: Option<Slot>,
    act: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut dyn Store) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let now = now();
    let slot = match slot {
        Some(slot) => slot,
        None => {
            let locked = attempt.sign_in.then(|| {
                AuditEvent::new("login.locked", SYSTEM, now, json!({"email": user.email}))
                    .origin(&attempt.origin)
            });
            lockout::reserve(state, attempt.during, &user.email, attempt.ip, now, locked)?
        }
    };
    let proof = match mfa::matching_step(secret, code, now) {
        Ok(Some(step)) => Some(Proof::Step(step)),
        Ok(None) if attempt.recovery && !mfa::looks_like_totp(code) => {
            Some(Proof::Recovery(mfa::recovery_digest(code)))
        }
        Ok(None) => None,
        Err(e) => {
            let _ = lockout::give_back(state, slot.rows);
            return Err(ApiError::internal(e));
        }
    };
    let Some(proof) = proof else {
        return Err(refused(state, user, &attempt, now));
    };
    let (user_id, email_key, rows) = (user.id.clone(), email_key(&user.email), slot.rows.clone());
    let (sign_in, wrong) = (attempt.sign_in, attempt.wrong());
    let used = AuditEvent::new("mfa.recovery.used", user_actor(&user.id), now, json!({}))
        .origin(&attempt.origin)
        .user(&user.id);
    let done = state.db.write(move |store| {
        if !proof.take(store, &user_id)? {
            return Err(wrong);
        }
        if sign_in {
            store.clear_failures(&email_key)?;
        }
        store.release_failures(&rows)?;
        if let Proof::Recovery(_) = proof {
            store.append_event(&used)?;
        }
        act(store)
    });
    match done {
        Err(e) if e.code == ErrorCode::InvalidCode => Err(refused(state, user, &attempt, now)),
        Err(e) => {
            let _ = lockout::give_back(state, slot.rows);
            Err(e)
        }
        done => done,
    }
}

/// A wrong or replayed code: its failure row stays, and the audit log says so.
fn refused(state: &AppState, user: &User, attempt: &CodeAttempt, now: u64) -> ApiError {
    log::info!(
        "second factor refused: INVALID_CODE for {} ({})",
        user.email,
        attempt.during
    );
    let failed = AuditEvent::new(
        "mfa.failed",
        user_actor(&user.id),
        now,
        json!({"during": attempt.during}),
    )
    .origin(&attempt.origin)
    .user(&user.id);
    let login_failed = attempt.sign_in.then(|| {
        let detail = json!({"email": user.email, "code": ErrorCode::InvalidCode.as_str()});
        AuditEvent::new("login.failed", SYSTEM, now, detail)
            .origin(&attempt.origin)
            .user(&user.id)
    });
    let written = state.db.write(move |store| {
        store.append_event(&failed)?;
        if let Some(event) = &login_failed {
            store.append_event(event)?;
        }
        Ok::<_, StoreError>(())
    });
    match written {
        Ok(()) => attempt.wrong(),
        Err(e) => e.into(),
    }
}
