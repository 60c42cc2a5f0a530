//! Registering a client (SPEC §13), the same rules for the CLI and the admin
//! API: a name, exact redirect URIs, roles, and a secret shown once.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use url::Url;

use crate::ids::new_id;
use crate::roles::{role_list, too_many, RoleError};
use crate::store::Client;

/// Longest name, in characters, and most URIs of each kind.
const MAX_NAME: usize = 100;
const MAX_URIS: usize = 20;
const MAX_URI: usize = 2000;

/// What a new client is asked to be.
pub struct NewClient<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub public: bool,
    pub roles: &'a [String],
    pub post_logout_uris: &'a [String],
}

/// A client made, its secret (None for a public client) and the secret's digest.
pub struct Made {
    pub client: Client,
    pub secret: Option<String>,
    pub digest: Option<Vec<u8>>,
}

/// The client described, or a sentence saying which field is wrong.
pub fn make(new: &NewClient, now: u64) -> Result<Made, String> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "the name must be 1 to {MAX_NAME} characters without control characters"
        ));
    }
    if new.redirect_uris.is_empty() {
        return Err("a client needs at least one redirect URI".into());
    }
    let redirect_uris = uri_list("redirect URI", new.redirect_uris)?;
    let post_logout_uris = uri_list("post-logout URI", new.post_logout_uris)?;
    let roles = role_list(new.roles).map_err(|e| match e {
        RoleError::Malformed { why, .. } => why,
        RoleError::TooMany(n) => too_many(n),
    })?;
    let (secret, digest) = match new.public {
        true => (None, None),
        false => {
            let (secret, digest) = new_secret()?;
            (Some(secret), Some(digest))
        }
    };
    let client = Client {
        id: new_id(),
        name: name.to_string(),
        public: new.public,
        redirect_uris,
        post_logout_uris,
        roles,
        created_at: now,
    };
    Ok(Made {
        client,
        secret,
        digest,
    })
}

/// A new client secret (32 random bytes, base64url) and the digest stored for it.
pub fn new_secret() -> Result<(String, Vec<u8>), String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes for a secret: {e}"))?;
    let secret = Base64UrlUnpadded::encode_string(&bytes);
    let digest = secret_digest(&secret);
    Ok((secret, digest))
}

pub fn secret_digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Each URI absolute, http or https (a native app's loopback too), without a
/// fragment (RFC 6749 §3.1.2), given once.
fn uri_list(what: &str, uris: &[String]) -> Result<Vec<String>, String> {
    if uris.len() > MAX_URIS {
        return Err(format!(
            "a client has at most {MAX_URIS} of each kind of URI"
        ));
    }
    let mut list: Vec<String> = Vec::with_capacity(uris.len());
    for raw in uris {
        let parsed = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .filter(|u| u.fragment().is_none() && raw.len() <= MAX_URI);
        if parsed.is_none() || raw.chars().any(|c| c.is_control() || c == ' ') {
            return Err(format!(
                "the {what} \"{}\" is not an absolute http(s) URL without a fragment",
                raw.chars().take(100).collect::<String>()
            ));
        }
        if !list.contains(raw) {
            list.push(raw.clone());
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new<'a>(uris: &'a [String], public: bool) -> NewClient<'a> {
        NewClient {
            name: "Grafana",
            redirect_uris: uris,
            public,
            roles: &[],
            post_logout_uris: &[],
        }
    }

    #[test]
    fn a_confidential_client_gets_a_secret_whose_digest_is_kept() {
        let uris = vec!["https://grafana.acme.test/login/generic_oauth".to_string()];
        let made = make(&new(&uris, false), 7).unwrap();
        let secret = made.secret.unwrap();
        assert_eq!(secret.len(), 43);
        assert_eq!(made.digest.unwrap(), secret_digest(&secret));
        assert_eq!(made.client.redirect_uris, uris);
        assert_eq!((made.client.created_at, made.client.public), (7, false));
        let public = make(&new(&uris, true), 7).unwrap();
        assert!(public.secret.is_none() && public.digest.is_none());
    }

    #[test]
    fn redirect_uris_must_be_absolute_http_urls_without_fragments() {
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "https://a.test/cb#frag",
            "ftp://a.test/",
            "https://a.test/c b",
        ] {
            let uris = vec![bad.to_string()];
            assert!(make(&new(&uris, true), 0).is_err(), "{bad}");
        }
        assert!(make(&new(&[], true), 0).is_err(), "none at all");
        let ok = vec!["http://127.0.0.1:9000/cb?x=1".to_string()];
        assert!(make(&new(&ok, true), 0).is_ok());
    }
}
