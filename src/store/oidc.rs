//! The OpenID Connect provider (SPEC §13): its clients, the authorizations
//! waiting for the login page, the codes (as digests) and the sessions a code
//! made. In the database, so that each step may land on another instance.

use super::Result;

/// The provider's rows, as both engines store them.
pub trait Oidc {
    /// A new client, with the digest of its secret (None: a public client).
    fn insert_client(&mut self, client: &Client, secret_digest: Option<&[u8]>) -> Result<()>;
    /// Every client, oldest first.
    fn list_clients(&mut self) -> Result<Vec<Client>>;
    fn find_client(&mut self, id: &str) -> Result<Option<StoredClient>>;
    /// Replaces a confidential client's secret; false if there is no such client.
    fn set_client_secret(&mut self, id: &str, digest: &[u8]) -> Result<bool>;
    /// Removes a client, its codes and requests, and revokes the sessions its
    /// codes made; false if there was none.
    fn remove_client(&mut self, id: &str, now: u64) -> Result<bool>;
    fn insert_oidc_request(&mut self, request: &OidcRequest) -> Result<()>;
    fn find_oidc_request(&mut self, id: &str) -> Result<Option<OidcRequest>>;
    /// Deletes a request as it is answered; false if it was answered meanwhile.
    fn take_oidc_request(&mut self, id: &str) -> Result<bool>;
    fn insert_code(&mut self, digest: &[u8], code: &AuthCode) -> Result<()>;
    fn find_code(&mut self, digest: &[u8]) -> Result<Option<AuthCode>>;
    /// Marks a code used by the redemption that made session `sid`; false if
    /// it was used before. Of racing calls, on any instance, exactly one is true.
    fn spend_code(&mut self, digest: &[u8], now: u64, sid: &str) -> Result<bool>;
    fn insert_grant(&mut self, grant: &Grant) -> Result<()>;
    fn find_grant(&mut self, sid: &str) -> Result<Option<Grant>>;
    /// Deletes up to PRUNE_CHUNK requests and codes that expired before
    /// `expired_before`; returns how many.
    fn prune_oidc(&mut self, expired_before: u64) -> Result<usize>;
}

/// A relying party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// A public client has no secret and must use PKCE.
    pub public: bool,
    /// Matched exactly.
    pub redirect_uris: Vec<String>,
    pub post_logout_uris: Vec<String>,
    /// When not empty, only users holding one of these may sign in to it.
    pub roles: Vec<String>,
    pub created_at: u64,
}

/// A client with the digest of its secret. The digest is not a secret, but
/// still kept out of logs: no Debug.
pub struct StoredClient {
    pub client: Client,
    pub secret_digest: Option<Vec<u8>>,
}

/// What a request waits for.
pub const AUTHORIZE: &str = "authorize";
pub const LOGOUT: &str = "logout";

/// An authorization (or a logout) waiting for the login page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcRequest {
    /// Random and unguessable: the page gets it in the URL's fragment.
    pub id: String,
    /// AUTHORIZE or LOGOUT.
    pub kind: String,
    pub client_id: String,
    /// Where the browser goes next: the registered redirect URI (or, for a
    /// logout, the post-logout URI, empty for none).
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `none` or `login`.
    pub prompt: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
}

/// An authorization code as stored (under its digest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthCode {
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// The signing in's `amr` (RFC 8176 values).
    pub amr: Vec<String>,
    pub auth_time: u64,
    pub expires_at: u64,
    /// Set by its one redemption, with the session that made.
    pub used_at: Option<u64>,
    pub sid: Option<String>,
}

/// A session made by a client's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub sid: String,
    pub client_id: String,
    pub scope: String,
    pub auth_time: u64,
}

/// A list as stored: a JSON array of strings.
pub(super) fn list_to_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

pub(super) fn list_from_text(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| super::StoreError::Failed(format!("a stored client list is damaged: {e}")))
}
