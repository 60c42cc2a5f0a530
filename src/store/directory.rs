//! What the admin API reads and changes beyond a login's needs: users found
//! by a filter a page at a time, their times, erasing them, and orgs.

use std::collections::HashMap;

use super::{MfaState, Result, Status, User};

/// The admin API's view of users and orgs, as both engines store them.
pub trait Directory {
    /// Users matching `filter` whose email sorts after `after`, by email, at
    /// most `limit` of them (keyset pagination: rows added meanwhile neither
    /// repeat nor hide others).
    fn search_users(
        &mut self,
        filter: &UserFilter,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>>;
    /// When the user's row last changed and when they last signed in.
    fn user_times(&mut self, user_id: &str) -> Result<Option<UserTimes>>;
    /// What the admin view adds to each of a page of users, in one read:
    /// `users` are (user id, failed-login key) pairs, and `locked_until` is
    /// `Failures::locked_until` of that key with `max` and `window`. Users
    /// that do not exist are left out.
    fn user_details(
        &mut self,
        users: &[(String, String)],
        max: u32,
        window: u64,
        now: u64,
    ) -> Result<HashMap<String, UserDetails>>;
    /// Email, name, org and status.
    fn update_user(&mut self, user: &User, now: u64) -> Result<()>;
    fn record_login(&mut self, user_id: &str, now: u64) -> Result<()>;
    /// Removes the user and, by cascade, their roles, sessions and links;
    /// false if there was no such user.
    fn erase_user(&mut self, user_id: &str) -> Result<bool>;
    /// Every org by id, each with how many users not deleted belong to it.
    fn list_orgs(&mut self) -> Result<Vec<Org>>;
    /// False, and nothing written, if an org has that id already.
    fn insert_org(&mut self, id: &str, name: &str) -> Result<bool>;
    /// False if there is no such org.
    fn rename_org(&mut self, id: &str, name: &str) -> Result<bool>;
    /// How many users not deleted belong to the org.
    fn count_org_members(&mut self, id: &str) -> Result<i64>;
    /// Takes the org off its deleted users, then removes it; false if there
    /// was no such org. The caller checks first that no other user belongs to it.
    fn delete_org(&mut self, id: &str) -> Result<bool>;
}

/// What `search_users` keeps; `None` keeps every user.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Lower-cased: a substring of the email or the (lower-cased) name.
    pub query: Option<String>,
    pub status: Option<Status>,
    pub org_id: Option<String>,
    pub role: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserTimes {
    pub updated_at: u64,
    pub last_login_at: Option<u64>,
}

/// A user's times, second factors and lockout, as `user_details` reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserDetails {
    pub times: UserTimes,
    pub mfa: MfaState,
    pub locked_until: Option<u64>,
}

/// The end of a lockout, from the `max`-th newest failure within `window`
/// (None when `max` is 0: no lockout), as `Failures::locked_until` counts.
pub fn lockout_end(nth_newest: Option<u64>, max: u32, window: u64, now: u64) -> Option<u64> {
    nth_newest
        .filter(|_| max > 0)
        .map(|at| at.saturating_add(window))
        .filter(|&until| until > now)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    pub id: String,
    pub name: String,
    /// Users not deleted.
    pub users: i64,
}
