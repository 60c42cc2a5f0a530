//! The OpenID Connect provider (SPEC §13), written on authlite's own store and
//! keys: clients, the authorization endpoint and the page's continuation of
//! it, the token endpoint, userinfo, logout and the ID token. See docs/oidc.md.

pub(crate) mod authorize;
pub mod clients;
pub(crate) mod continuation;
pub(crate) mod id_token;
pub(crate) mod logout;
pub(crate) mod token;
pub(crate) mod userinfo;

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

/// A code is good for this long (SPEC §13).
pub const CODE_TTL: u64 = 60;
/// How long the page has to finish an authorization or a logout.
pub const REQUEST_TTL: u64 = 600;
/// The scopes granted when asked for; others asked for are left out.
pub const SCOPES: [&str; 5] = ["openid", "email", "profile", "groups", "offline_access"];

/// The supported scopes asked for, in our order, space-separated; None
/// without `openid`.
pub fn granted_scope(asked: &str) -> Option<String> {
    let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
    if !asked.contains(&"openid") {
        return None;
    }
    let granted: Vec<&str> = SCOPES.into_iter().filter(|s| asked.contains(s)).collect();
    Some(granted.join(" "))
}

pub fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// A PKCE challenge (RFC 7636 §4.2): 43 base64url characters, as S256 makes.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `verifier` (43-128 unreserved characters) is the one whose S256
/// challenge is `challenge`.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let made = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(made.as_bytes().ct_eq(challenge.as_bytes()))
}

/// `base` with these query parameters added (RFC 6749 §4.1.2: the redirect
/// URI's own query is kept).
pub fn with_query(base: &str, pairs: &[(&str, Option<&str>)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in pairs {
                    if let Some(value) = value {
                        query.append_pair(name, value);
                    }
                }
            }
            url.to_string()
        }
        Err(_) => base.to_string(),
    }
}

/// Where this server is, as browsers and relying parties see it:
/// `--public-url`, else the scheme and host the request came to.
pub fn public_base(req: &actix_web::HttpRequest, public_url: Option<&str>) -> String {
    match public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_need_openid_and_keep_only_the_known_ones() {
        assert_eq!(granted_scope("email openid x"), Some("openid email".into()));
        assert_eq!(granted_scope("email profile"), None);
        assert_eq!(
            granted_scope("groups offline_access openid profile email"),
            Some("openid email profile groups offline_access".into())
        );
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_challenge(challenge));
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(&verifier.replace('d', "e"), challenge));
        assert!(!pkce_matches("short", challenge));
    }

    #[test]
    fn parameters_join_the_redirect_uris_own_query() {
        assert_eq!(
            with_query(
                "https://a.test/cb?x=1",
                &[("code", Some("c d")), ("state", None)]
            ),
            "https://a.test/cb?x=1&code=c+d"
        );
    }
}
