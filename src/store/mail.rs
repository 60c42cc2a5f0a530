//! Email (SPEC §12): the outbox of messages waiting for a sender, the
//! one-per-minute throttle, and sign-ups waiting for their confirmation.

use super::Result;

/// The outbox, the throttle and pending sign-ups, as both engines store them.
pub trait Mail {
    /// Adds a message, due now.
    fn queue_mail(&mut self, mail: &NewMail) -> Result<()>;
    /// Takes up to `limit` due messages (`only`: that one alone, if due) for
    /// this sender until `lease_until`, counting an attempt for each. Of
    /// racing senders, on any instance, each message goes to one.
    fn claim_mail(
        &mut self,
        now: u64,
        lease_until: u64,
        limit: u32,
        only: Option<&str>,
    ) -> Result<Vec<ClaimedMail>>;
    /// Delivered: the message's content is dropped.
    fn mail_sent(&mut self, id: &str, now: u64) -> Result<()>;
    /// Not delivered this time: due again at `next_at`.
    fn mail_retry(&mut self, id: &str, next_at: u64, error: &str) -> Result<()>;
    /// Given up: the content is dropped, the state and error kept.
    fn mail_failed(&mut self, id: &str, error: &str) -> Result<()>;
    /// How many messages wait to be sent.
    fn queued_mail(&mut self) -> Result<u64>;
    /// The message's state and attempts (for admins and tests).
    fn mail_state(&mut self, id: &str) -> Result<Option<(String, u32)>>;
    /// True, and the time noted, when no message went under `digest` after
    /// `now - window`; false (nothing changed) otherwise. Of racing calls one is true.
    fn throttle_mail(&mut self, digest: &[u8], now: u64, window: u64) -> Result<bool>;
    /// Stores a pending sign-up, replacing the address's older one.
    fn replace_registration(&mut self, pending: &Registration) -> Result<()>;
    fn find_registration(&mut self, token_hash: &[u8]) -> Result<Option<Registration>>;
    /// Uses it up; false if it was used or replaced meanwhile.
    fn spend_registration(&mut self, token_hash: &[u8]) -> Result<bool>;
    /// Deletes up to PRUNE_CHUNK rows of each kind: throttle marks before
    /// `throttled_before`, sign-ups expired before `expired_before`, sent or
    /// given-up messages made before `done_before`; returns the most of any.
    fn prune_mail(
        &mut self,
        throttled_before: u64,
        expired_before: u64,
        done_before: u64,
    ) -> Result<usize>;
}

/// A message to queue. Holds a link: no Debug.
pub struct NewMail {
    pub id: String,
    /// What it is: forgot, invite, confirm or registered.
    pub kind: String,
    pub recipient: String,
    pub user_id: Option<String>,
    /// The rendered message, sealed for its id.
    pub message: Vec<u8>,
    pub created_at: u64,
}

/// A message a sender holds. Holds a link: no Debug.
pub struct ClaimedMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub user_id: Option<String>,
    /// None if it was emptied meanwhile (never for a queued message).
    pub message: Option<Vec<u8>>,
    /// This attempt's number, from 1.
    pub attempts: u32,
    pub created_at: u64,
}

/// A sign-up waiting for its link. Holds a hash: no Debug.
#[derive(Clone)]
pub struct Registration {
    pub email: String,
    pub token_hash: Vec<u8>,
    pub name: String,
    pub password_hash: String,
    pub created_at: u64,
    pub expires_at: u64,
}

/// The states of a message.
pub const QUEUED: &str = "queued";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
