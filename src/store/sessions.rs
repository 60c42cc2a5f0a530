//! Sessions, one per login, each also the refresh record of its newest token.

use super::{Result, User};

/// Sessions and their refresh tokens, as both engines store them.
pub trait Sessions {
    fn create_session(&mut self, session: &Session, refresh: &NewRefresh) -> Result<()>;
    fn find_session(&mut self, id: &str) -> Result<Option<Session>>;
    /// The user's sessions that are neither revoked nor expired, newest first.
    fn list_live_sessions(&mut self, user_id: &str, now: u64) -> Result<Vec<Session>>;
    fn count_live_sessions(&mut self, now: u64) -> Result<i64>;
    /// Revokes one session; false if it was already revoked or does not exist.
    fn revoke_session(&mut self, id: &str, now: u64) -> Result<bool>;
    /// Revokes every session of the user but `keep`, if given; returns how many.
    fn revoke_user_sessions(
        &mut self,
        user_id: &str,
        keep: Option<&str>,
        now: u64,
    ) -> Result<usize>;
    fn find_refresh(&mut self, sid: &str) -> Result<Option<RefreshRecord>>;
    /// Spends the session's newest token and records `next` in its place, with
    /// the answer to replay within the grace. One conditional UPDATE, which is
    /// all a refresh needs when the caller already knows the user: false if
    /// the session does not hold exactly `spent` (another use came first, the
    /// session has ended, the user is no longer active or not as the answer
    /// shows them).
    fn rotate_refresh(
        &mut self,
        spent: &Spent,
        next: &NewRefresh,
        now_ms: u64,
        grace_answer: &[u8],
    ) -> Result<bool>;
    /// `rotate_refresh` for each of `batch`, each with its own outcome in
    /// the batch's order: one that the database refuses does not fail the
    /// others. Of two that spend the same token, at most one wins.
    fn rotate_refreshes(&mut self, batch: &[Rotation]) -> Vec<Result<bool>>;
    /// Deletes up to PRUNE_CHUNK sessions whose newest token has expired; returns how many.
    fn prune_expired_sessions(&mut self, now: u64) -> Result<usize>;
    /// Clears up to PRUNE_CHUNK grace answers spent before `spent_before_ms`.
    fn clear_grace_answers(&mut self, spent_before_ms: u64) -> Result<usize>;
    /// Clears every stored grace answer at once (when a plain database is sealed).
    fn forget_grace_answers(&mut self) -> Result<usize>;
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: u64,
    pub last_used_at: u64,
    pub expires_at: u64,
    pub revoked_at: Option<u64>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// How the session was signed in (RFC 8176 values): the `amr` of every
    /// access token it issues.
    pub amr: Vec<String>,
}

/// A session's refresh record: its user, its newest token, and the one spent before it.
pub struct RefreshRecord {
    pub user: User,
    pub revoked: bool,
    /// The session's `amr`.
    pub amr: Vec<String>,
    pub refresh_jti: String,
    /// SHA-256 of the newest token as issued.
    pub refresh_hash: Vec<u8>,
    pub spent_jti: Option<String>,
    /// When the spent token was used, Unix milliseconds.
    pub spent_at_ms: Option<u64>,
    /// The answer its use returned (sealed JSON holding tokens: never log it).
    pub grace_answer: Option<Vec<u8>>,
}

/// An `amr` as stored: its values separated by spaces (RFC 8176 values hold none).
pub(super) fn amr_to_text(amr: &[String]) -> String {
    amr.join(" ")
}

pub(super) fn amr_from_text(text: &str) -> Vec<String> {
    text.split_ascii_whitespace().map(str::to_string).collect()
}

/// The token a refresh spends, and what its answer was made of.
pub struct Spent<'a> {
    pub sid: &'a str,
    pub jti: &'a str,
    /// SHA-256 of the token as presented: only the token issued has the stored one.
    pub hash: &'a [u8],
    /// The user as the answer shows them (id, email, name, org, roles), and active.
    pub user: &'a User,
    /// The session's sign-in as the answer shows it.
    pub amr: &'a [String],
    /// Whether the session is an OpenID Connect client's (it has a grant):
    /// `/user/refresh` spends only first-party tokens, `/oauth/token` only
    /// its client's.
    pub for_client: bool,
}

/// The token that a login or refresh issues, as the session records it.
pub struct NewRefresh<'a> {
    pub jti: &'a str,
    pub hash: &'a [u8],
    pub expires_at: u64,
}

/// One refresh's write, owned, so that it can wait for other requests' to
/// share a statement with them: the arguments of `rotate_refresh`.
pub struct Rotation {
    pub sid: String,
    pub jti: String,
    pub hash: Vec<u8>,
    pub user: User,
    pub amr: Vec<String>,
    pub for_client: bool,
    pub next_jti: String,
    pub next_hash: Vec<u8>,
    pub expires_at: u64,
    pub now_ms: u64,
    pub grace_answer: Vec<u8>,
}

impl Rotation {
    pub fn spent(&self) -> Spent<'_> {
        Spent {
            sid: &self.sid,
            jti: &self.jti,
            hash: &self.hash,
            user: &self.user,
            amr: &self.amr,
            for_client: self.for_client,
        }
    }

    pub fn next(&self) -> NewRefresh<'_> {
        NewRefresh {
            jti: &self.next_jti,
            hash: &self.next_hash,
            expires_at: self.expires_at,
        }
    }

    /// `rotate_refresh` of this on `store`.
    pub fn apply(&self, store: &mut (impl Sessions + ?Sized)) -> Result<bool> {
        store.rotate_refresh(&self.spent(), &self.next(), self.now_ms, &self.grace_answer)
    }
}
