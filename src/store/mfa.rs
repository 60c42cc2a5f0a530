//! The second factor (SPEC §10): a user's TOTP secret (sealed by the caller
//! with the master key), recovery code digests, the steps whose code was used,
//! and the tokens of sign-ins waiting for a code.

use super::Result;

/// Second factors, as both engines store them.
pub trait Mfa {
    /// The user's TOTP secret as stored (sealed), waiting or on; None without one.
    fn find_totp(&mut self, user_id: &str) -> Result<Option<StoredTotp>>;
    /// Stores an enrolment waiting for its first code, replacing a waiting
    /// one; false (and nothing changed) when TOTP is already on.
    fn begin_totp(&mut self, user_id: &str, secret: &[u8], now: u64) -> Result<bool>;
    /// Turns the waiting enrolment on; false when none waits.
    fn enable_totp(&mut self, user_id: &str, now: u64) -> Result<bool>;
    /// Removes the user's TOTP (on or waiting) and recovery codes; true if TOTP was on.
    fn remove_mfa(&mut self, user_id: &str) -> Result<bool>;
    /// Replaces the user's recovery codes by these digests.
    fn replace_recovery_codes(&mut self, user_id: &str, digests: &[Vec<u8>]) -> Result<()>;
    /// Uses a recovery code up; false if it is not one of the user's (any more).
    fn spend_recovery_code(&mut self, user_id: &str, digest: &[u8]) -> Result<bool>;
    /// Records that the code of `step` was taken; false if one was taken
    /// before (a replay). Of racing calls, on any instance, exactly one is true.
    fn use_totp_step(&mut self, user_id: &str, step: u64) -> Result<bool>;
    fn mfa_summary(&mut self, user_id: &str) -> Result<MfaState>;
    fn create_mfa_token(&mut self, digest: &[u8], user_id: &str, expires_at: u64) -> Result<()>;
    fn find_mfa_token(&mut self, digest: &[u8]) -> Result<Option<MfaToken>>;
    /// Spends an mfaToken; false if it was spent meanwhile.
    fn spend_mfa_token(&mut self, digest: &[u8]) -> Result<bool>;
    /// Deletes up to PRUNE_CHUNK used steps before `step_before` and tokens
    /// expired before `expired_before`; returns how many.
    fn prune_mfa(&mut self, step_before: u64, expired_before: u64) -> Result<usize>;
    /// Every stored TOTP secret, (user id, secret): to seal them in place.
    fn list_totp_secrets(&mut self) -> Result<Vec<(String, Vec<u8>)>>;
    /// Replaces a stored secret's bytes (sealing it in place).
    fn set_totp_secret(&mut self, user_id: &str, secret: &[u8]) -> Result<()>;
}

/// A TOTP secret as stored. Holds a secret: no Debug.
pub struct StoredTotp {
    /// Sealed with the master key, for the user's row, when there is one.
    pub secret: Vec<u8>,
    /// False while the enrolment waits for its first code.
    pub enabled: bool,
}

/// What `GET /user/mfa` and the admin view show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MfaState {
    pub totp: bool,
    pub recovery_codes_left: u32,
    /// Passkeys registered (SPEC §11).
    pub passkeys: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaToken {
    pub user_id: String,
    pub expires_at: u64,
}
