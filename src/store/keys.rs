//! Signing keys (sealed when the database has a master key) and the `meta`
//! values beside them. The one unretired key is current; a distrusted key
//! verifies nothing.

use std::fmt;

use super::{Result, Store};

/// Reading the signing keys: any transaction or none.
pub trait SigningKeys {
    /// Every key, oldest first.
    fn list_keys(&mut self) -> Result<Vec<StoredKey>>;
    /// A cheap fingerprint of the key table, to notice a `keys rotate` or `keys
    /// retire` from another process.
    fn key_generation(&mut self) -> Result<(i64, i64, i64)>;
    fn current_kid(&mut self) -> Result<Option<String>>;
    fn meta(&mut self, name: &str) -> Result<Option<Vec<u8>>>;
}

/// Changing the signing keys: only inside `Database::change_keys`, which
/// keeps every other key change out until it commits, so that what it read
/// of the keys stays true (racing first starts make one first key).
pub trait KeyChanges {
    /// Retires the current key (if any) and makes `kid` current.
    fn make_key_current(
        &mut self,
        kid: &str,
        algorithm: &str,
        key_pair: &[u8],
        now: u64,
    ) -> Result<()>;
    /// Distrusts a key (retiring it if current); false if there is no such key.
    fn distrust_key(&mut self, kid: &str, now: u64) -> Result<bool>;
    /// Replaces a key's stored bytes (sealing it in place).
    fn set_key_pair(&mut self, kid: &str, key_pair: &[u8]) -> Result<()>;
    fn set_meta(&mut self, name: &str, value: &[u8]) -> Result<()>;
}

/// What `Database::change_keys` gives its work: the whole store, and the key changes.
pub trait KeyStore: Store + KeyChanges {}

impl<T: Store + KeyChanges + ?Sized> KeyStore for T {}

pub struct StoredKey {
    pub kid: String,
    /// "EdDSA" or "ES256".
    pub algorithm: String,
    pub key_pair: Vec<u8>,
    pub created_at: u64,
    /// When it stopped signing; `None`: current.
    pub retired_at: Option<u64>,
    /// When `keys retire` distrusted it; its tokens are refused from then on.
    pub distrusted_at: Option<u64>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("distrusted_at", &self.distrusted_at)
            .finish_non_exhaustive()
    }
}

/// The name in `meta` of the text sealed with the master key.
pub const MASTER_KEY_CHECK: &str = "master_key_check";
