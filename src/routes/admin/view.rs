//! What the admin API answers: users, orgs and sessions as an admin sees them,
//! and the opaque cursor of a list.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::settings::Settings;
use crate::store::{email_key, Org, Session, Store, User};

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

/// Second factors: none exist yet, so always none.
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
        let times = store.user_times(&user.id)?;
        let locked_until = store.locked_until(
            &email_key(&user.email),
            settings.max_failures,
            settings.lockout,
            now,
        )?;
        Ok(AdminUser {
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
            locked_until,
            mfa: MfaSummary::default(),
        })
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

/// The cursor after a page of users: the last email, base64url-encoded, so
/// that clients treat it as opaque.
pub fn cursor_after(email: &str) -> String {
    Base64UrlUnpadded::encode_string(email.as_bytes())
}

pub fn email_of_cursor(cursor: &str) -> Result<String, ApiError> {
    let refused = || ApiError::invalid_request("cursor: not a cursor this server gave");
    let bytes = Base64UrlUnpadded::decode_vec(cursor).map_err(|_| refused())?;
    String::from_utf8(bytes).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_its_email_and_garbage_is_refused() {
        let cursor = cursor_after("ada@acme.test");
        assert_eq!(email_of_cursor(&cursor).unwrap(), "ada@acme.test");
        for bad in ["***", "a", "/w"] {
            assert!(email_of_cursor(bad).is_err(), "{bad}");
        }
    }
}
