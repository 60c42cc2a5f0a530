//! The failed-login count as an attempt meets it: a failure row taken under the
//! email and the client address before the password is checked, kept when the
//! check fails, given back when it succeeds.

use std::net::IpAddr;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{email_key, ip_key, Limit};

/// The failure rows an attempt holds while its password is checked.
pub(super) struct Slot {
    pub email_key: String,
    pub rows: Vec<i64>,
}

/// Takes a failure row for the email and the client address, or answers 429
/// when either is locked. `what` names the attempt in the log.
pub(super) fn reserve(
    state: &AppState,
    what: &str,
    email: &str,
    ip: Option<IpAddr>,
    now: u64,
) -> Result<Slot, ApiError> {
    let s = &state.settings;
    let email_key = email_key(email);
    let ip_key = ip.map(|ip| ip_key(ip, s.ipv6_prefix));
    let key = email_key.clone();
    let (max_email, max_ip, window) = (s.max_failures, s.max_failures_per_ip, s.lockout);
    let reserved = state.db.write(move |store| {
        let mut limits = vec![Limit {
            key: &key,
            max: max_email,
        }];
        if let Some(key) = &ip_key {
            limits.push(Limit { key, max: max_ip });
        }
        store.reserve_failures(&limits, window, now)
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
