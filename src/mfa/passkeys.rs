//! The WebAuthn relying party of passkeys (SPEC §11). webauthn-rs does every
//! check (CBOR, COSE, attestation "none", signatures, challenge, origin, rp id
//! hash, user verification, counters); this module only turns its options and
//! records into the JSON forms the browser and the store take.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// How long a ceremony may take, in seconds (and the browser's timeout).
pub const CEREMONY_TTL: u64 = 300;

/// Why a ceremony step failed.
#[derive(Debug)]
pub enum Refusal {
    /// The server cannot do passkeys as configured (an IP address as rp id).
    Unavailable(String),
    /// The credential failed a check: INVALID_CREDENTIAL. For the log only.
    Invalid(String),
}

/// The relying party as `--public-url`, `--rp-id` and `--issuer` make it.
pub struct RelyingParty(Result<Webauthn, String>);

/// A credential registered: what the store keeps of it.
pub struct Registered {
    pub credential_id: Vec<u8>,
    /// The relying party's record, as JSON.
    pub record: String,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

/// A sign-in's assertion, read but not yet checked.
pub struct Assertion {
    credential: PublicKeyCredential,
    /// The credential id it names.
    pub credential_id: Vec<u8>,
    /// The user handle the authenticator returned.
    pub user_handle: Uuid,
}

impl RelyingParty {
    /// The rp id is `rp_id`, else the host of `public_url`; the one origin
    /// accepted is `public_url`'s (default `http://localhost`).
    pub fn new(public_url: Option<&str>, rp_id: Option<&str>, name: &str) -> RelyingParty {
        RelyingParty(build(public_url.unwrap_or("http://localhost"), rp_id, name))
    }

    fn webauthn(&self) -> Result<&Webauthn, Refusal> {
        self.0
            .as_ref()
            .map_err(|why| Refusal::Unavailable(why.clone()))
    }

    /// Options for `navigator.credentials.create` (the JSON form
    /// `parseCreationOptionsFromJSON` takes) and the state to keep. The
    /// credential must be discoverable and user-verified.
    pub fn start_registration(
        &self,
        user_id: &str,
        email: &str,
        display_name: &str,
        exclude: Vec<Vec<u8>>,
    ) -> Result<(Value, String), Refusal> {
        let exclude = Some(exclude);
        let (options, state) = self
            .webauthn()?
            .start_passkey_registration(user_handle(user_id), email, display_name, exclude)
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        let mut options = serde_json::to_value(options.public_key).map_err(invalid)?;
        // webauthn-rs asks for a discoverable credential only as a preference;
        // SPEC §11 needs one, since sign-in names no credential.
        if let Some(selection) = options
            .get_mut("authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        Ok((without_nulls(options), to_json(&state)?))
    }

    /// Checks the browser's `credential.toJSON()` against the kept state.
    pub fn finish_registration(
        &self,
        credential: Value,
        state: &str,
    ) -> Result<Registered, Refusal> {
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(credential).map_err(invalid)?;
        let state: PasskeyRegistration = serde_json::from_str(state).map_err(invalid)?;
        let passkey = self
            .webauthn()?
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        let record = to_json(&passkey)?;
        let credential = Credential::from(passkey);
        Ok(Registered {
            credential_id: credential.cred_id.to_vec(),
            record,
            sign_count: credential.counter,
            backup_eligible: credential.backup_eligible,
            backup_state: credential.backup_state,
        })
    }

    /// Options for `navigator.credentials.get` with an empty
    /// `allowCredentials` (any discoverable credential of this rp), and the state.
    pub fn start_login(&self) -> Result<(Value, String), Refusal> {
        let (options, state) = self
            .webauthn()?
            .start_discoverable_authentication()
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        // Only the public key options: the mediation webauthn-rs adds
        // (conditional, for autofill) is the page's choice, not ours.
        let options = serde_json::to_value(options.public_key).map_err(invalid)?;
        Ok((without_nulls(options), to_json(&state)?))
    }

    /// Reads which credential and user an assertion names.
    pub fn read_assertion(&self, credential: Value) -> Result<Assertion, Refusal> {
        let credential: PublicKeyCredential =
            serde_json::from_value(credential).map_err(invalid)?;
        let (user_handle, credential_id) = self
            .webauthn()?
            .identify_discoverable_authentication(&credential)
            .map(|(handle, id)| (handle, id.to_vec()))
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        Ok(Assertion {
            credential,
            credential_id,
            user_handle,
        })
    }

    /// Checks the assertion against the kept state and the stored record;
    /// the record as the sign-in leaves it (counter, backup flags).
    pub fn finish_login(
        &self,
        assertion: &Assertion,
        state: &str,
        record: &str,
    ) -> Result<Registered, Refusal> {
        let state: DiscoverableAuthentication = serde_json::from_str(state).map_err(invalid)?;
        let mut passkey: Passkey = serde_json::from_str(record).map_err(invalid)?;
        let result = self
            .webauthn()?
            .finish_discoverable_authentication_v2(&assertion.credential, state, &passkey)
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        if !result.user_verified() {
            return Err(Refusal::Invalid("no user verification".into()));
        }
        passkey.update_credential(&result);
        let record = to_json(&passkey)?;
        let credential = Credential::from(passkey);
        Ok(Registered {
            credential_id: credential.cred_id.to_vec(),
            record,
            sign_count: credential.counter,
            backup_eligible: credential.backup_eligible,
            backup_state: credential.backup_state,
        })
    }
}

/// The WebAuthn user handle of a user: derived from the user's id, so that
/// it needs no column and shows nothing of the id.
pub fn user_handle(user_id: &str) -> Uuid {
    let digest = Sha256::digest(format!("authlite passkey user\0{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn build(public_url: &str, rp_id: Option<&str>, name: &str) -> Result<Webauthn, String> {
    let origin = Url::parse(public_url)
        .map_err(|e| format!("the public URL {public_url} is not one: {e}"))?;
    // Checked here as webauthn-rs would, so that its own ERROR line is not
    // logged at every start with an IP address as public URL (the default).
    let host = origin.domain().unwrap_or_default().to_string();
    let rp_id = rp_id.unwrap_or(&host);
    let fits = !rp_id.is_empty() && (host == rp_id || host.ends_with(&format!(".{rp_id}")));
    let refused = || {
        format!(
            "passkeys need a host name as relying party id: \"{rp_id}\" is not one of the \
             origin {public_url} (set --public-url to e.g. http://localhost:8080, or --rp-id)"
        )
    };
    if !fits {
        return Err(refused());
    }
    WebauthnBuilder::new(rp_id, &origin)
        .map_err(|_| refused())?
        .rp_name(name)
        .timeout(Duration::from_secs(CEREMONY_TTL))
        .build()
        .map_err(|e| format!("passkeys cannot be set up: {e}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Refusal> {
    serde_json::to_string(value).map_err(invalid)
}

fn invalid(e: serde_json::Error) -> Refusal {
    Refusal::Invalid(e.to_string())
}

/// Drops `null` members: a browser's option dictionaries take a missing
/// member, not a null one.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_address_is_no_relying_party_and_a_host_name_is() {
        let ip = RelyingParty::new(Some("http://127.0.0.1:8080"), None, "authlite");
        assert!(matches!(ip.start_login(), Err(Refusal::Unavailable(_))));
        let host = RelyingParty::new(Some("http://localhost:8080"), None, "authlite");
        let (options, _) = host.start_login().unwrap();
        assert_eq!(options["rpId"], "localhost");
        assert_eq!(options["userVerification"], "required");
        assert_eq!(options["allowCredentials"], serde_json::json!([]));
        let other = RelyingParty::new(Some("https://auth.example.com"), Some("example.com"), "x");
        assert_eq!(other.start_login().unwrap().0["rpId"], "example.com");
        let wrong = RelyingParty::new(Some("https://auth.example.com"), Some("other.com"), "x");
        assert!(matches!(wrong.start_login(), Err(Refusal::Unavailable(_))));
    }

    #[test]
    fn registration_asks_for_a_discoverable_user_verified_credential() {
        let rp = RelyingParty::new(Some("http://localhost:8080"), None, "Acme");
        let (options, _) = rp
            .start_registration("u1", "ada@acme.test", "Ada", vec![vec![1, 2, 3]])
            .unwrap();
        let selection = &options["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["requireResidentKey"], true);
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(options["rp"]["id"], "localhost");
        assert_eq!(options["rp"]["name"], "Acme");
        assert_eq!(options["user"]["name"], "ada@acme.test");
        assert_eq!(options["excludeCredentials"][0]["id"], "AQID");
        assert_eq!(options["timeout"], 300_000);
        assert_eq!(user_handle("u1"), user_handle("u1"));
        assert_ne!(user_handle("u1"), user_handle("u2"));
    }
}
