//! The failed-login count as an attempt meets it: a failure row taken under the
//! email and the client address before the password is checked, kept when the
//! check fails, given back when it succeeds.

use std::net::IpAddr;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{email_key, ip_key, AuditEvent, Limit, Store, StoreError};

/// The failure rows an attempt holds while its password is checked.
pub(super) struct Slot {
    pub email_key: String,
    pub rows: Vec<i64>,
}

/// Takes a failure row for the email and the client address, or answers 429
/// when either is locked, recording `locked` in the audit log once per lock.
/// `what` names the attempt in the log.
pub(super) fn reserve(
    state: &AppState,
    what: &str,
    email: &str,
    ip: Option<IpAddr>,
    now: u64,
    locked: Option<AuditEvent>,
) -> Result<Slot, ApiError> {
    let s = &state.settings;
    let email_key = email_key(email);
    let ip_key = ip.map(|ip| ip_key(ip, s.ipv6_prefix));
    let key = email_key.clone();
    let (max_email, max_ip, window) = (s.max_failures, s.max_failures_per_ip, s.lockout);
    let noting = state.clone();
    let reserved = state.db.write(move |store| {
        let mut limits = vec![Limit {
            key: &key,
            max: max_email,
        }];
        if let Some(key) = &ip_key {
            limits.push(Limit { key, max: max_ip });
        }
        let reserved = store.reserve_failures(&limits, window, now)?;
        if let (Err(until), Some(event)) = (&reserved, locked) {
            let email_locked = store.locked_until(&key, max_email, window, now)?.is_some();
            let lock = match (email_locked, &ip_key) {
                (false, Some(ip_key)) => ip_key,
                _ => &key,
            };
            if noting.locks_noted.first(lock, *until, now) {
                note_lock(store, event)?;
            }
        }
        Ok::<_, StoreError>(reserved)
    })?;
    match reserved {
        Ok(rows) => Ok(Slot { email_key, rows }),
        Err(until) => {
            let from = ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
            log::warn!("{what} locked out: {email} from {from}");
            Err(ApiError::too_many_attempts(until - now))
        }
    }
}

/// Gives reserved rows back: the attempt did not fail.
pub(super) fn give_back(state: &AppState, rows: Vec<i64>) -> Result<(), ApiError> {
    Ok(state.db.write(move |store| store.release_failures(&rows))?)
}

/// Records a lockout, with the user whose email it names, if there is one.
fn note_lock(store: &mut dyn Store, mut event: AuditEvent) -> Result<(), StoreError> {
    let email = event.detail["email"].as_str().unwrap_or_default();
    event.user_id = store.find_user_by_email(email)?.map(|u| u.id);
    store.append_event(&event)?;
    Ok(())
}
