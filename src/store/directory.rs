//! What the admin API reads and changes beyond a login's needs: users found
//! by a filter a page at a time, their times, erasing them, and orgs.

use super::{Result, Status, User};

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    pub id: String,
    pub name: String,
    /// Users not deleted.
    pub users: i64,
}
