//! Set-password links: one per user, found by the digest of its token.

use super::Result;

/// Set-password links, as both engines store them.
pub trait Links {
    /// Stores a new link for the user, replacing any older one.
    fn replace_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8],
        expires_at: u64,
        now: u64,
    ) -> Result<()>;
    fn find_link(&mut self, token_hash: &[u8]) -> Result<Option<Link>>;
    /// Uses the link up; false if it was spent or replaced meanwhile.
    fn spend_link(&mut self, token_hash: &[u8]) -> Result<bool>;
    /// Drops the user's link, if any: a password changed by its owner ends it.
    fn remove_user_links(&mut self, user_id: &str) -> Result<()>;
}

pub struct Link {
    pub user_id: String,
    pub expires_at: u64,
}
