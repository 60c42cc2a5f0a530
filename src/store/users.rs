//! Users and the orgs they belong to.

use std::fmt;
use std::str::FromStr;

use super::Result;

/// Users and orgs, as both engines store them.
pub trait Users {
    fn find_user_by_email(&mut self, email: &str) -> Result<Option<User>>;
    fn find_user_by_id(&mut self, id: &str) -> Result<Option<User>>;
    /// The user of session `sid`, and whether that session is revoked.
    fn find_user_by_session(&mut self, sid: &str) -> Result<Option<(User, bool)>>;
    /// Every user, oldest first.
    fn list_users(&mut self) -> Result<Vec<User>>;
    /// The user and their roles (a statement for each role).
    fn insert_user(&mut self, user: &User, now: u64) -> Result<()>;
    /// Name, org and status: what a seed file may change about an existing user.
    fn update_user_profile(&mut self, user: &User, now: u64) -> Result<()>;
    fn set_password_hash(&mut self, user_id: &str, hash: &str, now: u64) -> Result<()>;
    fn set_user_status(&mut self, user_id: &str, status: Status, now: u64) -> Result<()>;
    /// Replaces the user's roles with `roles` (checked, sorted, each once).
    /// Several statements, the user's row locked meanwhile.
    fn set_user_roles(&mut self, user_id: &str, roles: &[String], now: u64) -> Result<()>;
    /// Adds, then removes, roles (checked) in one step, the user's row locked
    /// meanwhile (a role in both ends up removed), and returns the roles held after it, sorted; `updated_at`
    /// moves only when something changed. The caller refuses a result over
    /// the limit by rolling back.
    fn change_user_roles(
        &mut self,
        user_id: &str,
        add: &[String],
        remove: &[String],
        now: u64,
    ) -> Result<Vec<String>>;
    /// The org's name, or None if there is no org with that id.
    fn org_name(&mut self, id: &str) -> Result<Option<String>>;
    fn upsert_org(&mut self, id: &str, name: &str) -> Result<()>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
    Banned,
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Banned => "banned",
            Status::Deleted => "deleted",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "active" => Ok(Status::Active),
            "inactive" => Ok(Status::Inactive),
            "banned" => Ok(Status::Banned),
            "deleted" => Ok(Status::Deleted),
            other => Err(format!(
                "\"{other}\" is not a status (active, inactive, banned or deleted)"
            )),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org_id: Option<String>,
    pub password_hash: Option<String>,
    pub status: Status,
    pub created_at: u64,
    /// Sorted, each once (see `crate::roles`).
    pub roles: Vec<String>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .field("roles", &self.roles)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Roles as both engines aggregate them in SQL (sorted, separated by spaces,
/// NULL for none), to compare with what the database holds.
pub(super) fn roles_to_text(roles: &[String]) -> Option<String> {
    let mut sorted = roles.to_vec();
    sorted.sort();
    (!sorted.is_empty()).then(|| sorted.join(" "))
}

/// Roles as both engines read them back: one text of names separated by
/// spaces (a role holds none), or NULL for none.
pub(super) fn roles_from_text(joined: Option<String>) -> Vec<String> {
    let mut roles: Vec<String> = joined
        .as_deref()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect();
    roles.sort();
    roles
}

/// Trims and lower-cases an email, or says why it is not one.
pub fn normalize_email(raw: &str) -> std::result::Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err("is not an email address (no @)");
    };
    let well_formed = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if well_formed {
        Ok(email)
    } else {
        Err("is not an email address")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Ada@Acme.TEST "),
            Ok("ada@acme.test".into())
        );
    }

    #[test]
    fn things_that_are_not_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "@acme.test",
            "ada@",
            "a@b@c",
            "a b@c.d",
            "ada@.test",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for s in [
            Status::Active,
            Status::Inactive,
            Status::Banned,
            Status::Deleted,
        ] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("gone".parse::<Status>().is_err());
    }
}
