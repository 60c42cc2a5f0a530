//! API keys: found by the digest of the key, never by the key itself.

use super::Result;

/// API keys, as both engines store them.
pub trait ApiKeys {
    /// Stores a new key under the SHA-256 digest of its secret.
    fn insert_api_key(&mut self, key: &ApiKey, digest: &[u8]) -> Result<()>;
    fn find_api_key(&mut self, digest: &[u8]) -> Result<Option<ApiKey>>;
    /// Every key, revoked and expired ones too, newest first.
    fn list_api_keys(&mut self) -> Result<Vec<ApiKey>>;
    /// Revokes the key at `now`; one revoked already keeps its time. False: no such key.
    fn revoke_api_key(&mut self, id: &str, now: u64) -> Result<bool>;
    /// Records a use at `at`, unless a later one is recorded already.
    fn touch_api_key(&mut self, id: &str, at: u64) -> Result<()>;
}

/// A key as stored, without its secret (which is not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// Scope names as given (`users:read`, …), in the order given.
    pub scopes: Vec<String>,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub last_used_at: Option<u64>,
    pub revoked_at: Option<u64>,
}
