//! What the admin API answers: users, orgs and sessions as an admin sees them,
//! and the opaque cursor of a list.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::settings::Settings;
use crate::store::{email_key, Org, Session, Store, User, UserDetails};

/// The admin view of a user (SPEC section 8): times in Unix seconds or null.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    id: String,
    email: String,
    name: String,
    org_id: Option<String>,
    roles: Vec<String>,
    /// active, inactive, banned or deleted
    status: String,
    has_password: bool,
    created_at: u64,
    updated_at: u64,
    last_login_at: Option<u64>,
    /// When the account's login lockout ends; null when not locked.
    locked_until: Option<u64>,
    mfa: MfaSummary,
}

/// Second factors (passkeys come with section 11: 0 until then).
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct MfaSummary {
    totp: bool,
    recovery_codes_left: u32,
    passkeys: u32,
}

impl AdminUser {
    /// The user as the store holds it now, on the connection or transaction `store`.
    pub fn read(
        settings: &Settings,
        store: &mut dyn Store,
        user: &User,
        now: u64,
    ) -> Result<AdminUser, ApiError> {
        let mut page = AdminUser::read_page(settings, store, std::slice::from_ref(user), now)?;
        Ok(page.remove(0))
    }

    /// A page of users, their times, second factors and lockouts read at once
    /// (one query, not three a user).
    pub fn read_page(
        settings: &Settings,
        store: &mut dyn Store,
        users: &[User],
        now: u64,
    ) -> Result<Vec<AdminUser>, ApiError> {
        let keys: Vec<(String, String)> = users
            .iter()
            .map(|u| (u.id.clone(), email_key(&u.email)))
            .collect();
        let mut details =
            store.user_details(&keys, settings.max_failures, settings.lockout, now)?;
        Ok(users
            .iter()
            .map(|user| AdminUser::new(user, details.remove(&user.id)))
            .collect())
    }

    /// `details` None: the user is gone meanwhile (times as created, no factor).
    fn new(user: &User, details: Option<UserDetails>) -> AdminUser {
        let times = details.map(|d| d.times);
        let mfa = details.map(|d| d.mfa).unwrap_or_default();
        AdminUser {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            org_id: user.org_id.clone(),
            roles: user.roles.clone(),
            status: user.status.to_string(),
            has_password: user.password_hash.is_some(),
            created_at: user.created_at,
            updated_at: times.map_or(user.created_at, |t| t.updated_at),
            last_login_at: times.and_then(|t| t.last_login_at),
            locked_until: details.and_then(|d| d.locked_until),
            mfa: MfaSummary {
                totp: mfa.totp,
                recovery_codes_left: mfa.recovery_codes_left,
                passkeys: mfa.passkeys,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgView {
    id: String,
    name: String,
    /// How many users belong to it, deleted ones aside.
    users: i64,
}

impl From<Org> for OrgView {
    fn from(org: Org) -> OrgView {
        OrgView {
            id: org.id,
            name: org.name,
            users: org.users,
        }
    }
}

/// A session as `/user/sessions` shows it, without `current`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminSession {
    sid: String,
    created_at: u64,
    last_used_at: u64,
    expires_at: u64,
    user_agent: Option<String>,
    ip: Option<String>,
}

impl From<Session> for AdminSession {
    fn from(s: Session) -> AdminSession {
        AdminSession {
            sid: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            ip: s.ip,
        }
    }
}

/// The cursor after a page of users (pairs of lowercase hex digits): the last email in hex, so that clients
/// treat it as opaque. Any cursor of that shape is a place in the order
/// (bytes that are not UTF-8 read as U+FFFD), so none that fits the
/// document is refused.
pub fn cursor_after(email: &str) -> String {
    email.bytes().map(|b| format!("{b:02x}")).collect()
}

pub fn email_of_cursor(cursor: &str) -> Result<String, ApiError> {
    let refused = || ApiError::invalid_request("cursor: not a cursor this server gave");
    if cursor.len() % 2 != 0
        || !cursor
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(refused());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).map_err(|_| refused()))
        .collect::<Result<Vec<u8>, _>>()?;
    // PostgreSQL refuses a NUL in text. No email holds one, so the emails after
    // `a\0b` are those after `a`: the cursor ends at its first NUL.
    let before_nul = bytes.split(|b| *b == 0).next().unwrap_or_default();
    Ok(String::from_utf8_lossy(before_nul).into_owned())
}

/// Characters a name or an org id has at most.
pub const MAX_TEXT: usize = 200;

/// A name or an org id as given: 1 to MAX_TEXT characters, none of them
/// control characters (`char::is_control`: the ranges of the documents' pattern).
pub fn checked_text(field: &str, raw: &str) -> Result<String, ApiError> {
    if raw.is_empty() || raw.chars().count() > MAX_TEXT || raw.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(format!(
            "{field}: from 1 to {MAX_TEXT} characters, none of them control characters"
        )));
    }
    Ok(raw.to_string())
}

/// A role, as the OpenAPI document describes one (see `crate::roles`).
#[derive(ToSchema)]
#[schema(pattern = "^[a-z][a-z0-9_.:-]{0,63}$")]
pub struct RoleName(#[allow(dead_code)] String);

/// A user's status, as the OpenAPI document describes one.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum StatusName {
    Active,
    Inactive,
    Banned,
    Deleted,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_its_email_and_garbage_is_refused() {
        let cursor = cursor_after("ada@acme.test");
        assert_eq!(email_of_cursor(&cursor).unwrap(), "ada@acme.test");
        assert_eq!(email_of_cursor("ff").unwrap(), "\u{fffd}");
        assert_eq!(email_of_cursor("").unwrap(), "");
        assert_eq!(email_of_cursor("61006200").unwrap(), "a");
        for bad in ["***", "a", "0g", "AB", "+1"] {
            assert!(email_of_cursor(bad).is_err(), "{bad}");
        }
    }
}
