//! Passkeys (SPEC §11): a user's WebAuthn credentials, and the ceremonies
//! (registrations and sign-ins) begun and not yet finished. The relying
//! party's records are opaque JSON here; `mfa::passkeys` reads them.

use super::Result;

/// Passkeys and ceremonies, as both engines store them.
pub trait Passkeys {
    /// Adds a passkey; false (and nothing changed) when its credential id is
    /// registered already, to this user or another.
    fn add_passkey(&mut self, passkey: &StoredPasskey) -> Result<bool>;
    /// The user's passkeys, oldest first.
    fn list_passkeys(&mut self, user_id: &str) -> Result<Vec<StoredPasskey>>;
    fn find_passkey_by_credential(&mut self, credential_id: &[u8])
        -> Result<Option<StoredPasskey>>;
    /// Removes one of the user's passkeys; false if it is none of theirs.
    fn remove_passkey(&mut self, user_id: &str, id: &str) -> Result<bool>;
    /// Removes every passkey of the user; how many there were.
    fn remove_passkeys(&mut self, user_id: &str) -> Result<usize>;
    fn count_passkeys(&mut self, user_id: &str) -> Result<u32>;
    /// Records a sign-in with the passkey: its updated record, counter and
    /// backup flags, and when.
    fn use_passkey(&mut self, id: &str, used: &PasskeyUse) -> Result<()>;
    fn create_ceremony(&mut self, ceremony: &Ceremony) -> Result<()>;
    /// Takes the ceremony of `digest` of that kind (and, for a registration,
    /// that user) out: a ceremony is finished at most once. Of racing takes,
    /// on any instance, exactly one gets it.
    fn take_ceremony(
        &mut self,
        digest: &[u8],
        kind: CeremonyKind,
        user_id: Option<&str>,
    ) -> Result<Option<Ceremony>>;
    /// Deletes up to PRUNE_CHUNK ceremonies that expired before `before`; how many.
    fn prune_ceremonies(&mut self, before: u64) -> Result<usize>;
}

/// A passkey as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: String,
    pub user_id: String,
    pub credential_id: Vec<u8>,
    pub name: String,
    /// The relying party's record of the credential, as JSON.
    pub credential: String,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
}

/// What a sign-in changes of a passkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyUse {
    pub credential: String,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub at: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeremonyKind {
    Register,
    Login,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::Login => "login",
        }
    }
}

/// A ceremony begun: the digest of its id, the relying party's state as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ceremony {
    pub digest: Vec<u8>,
    pub kind: CeremonyKind,
    /// The user registering; None for a sign-in.
    pub user_id: Option<String>,
    pub state: String,
    pub expires_at: u64,
}
