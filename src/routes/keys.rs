//! GET /.well-known/jwks.json: the public keys whose tokens may still be alive;
//! GET /.well-known/openid-configuration: where verifiers find them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::blocking;
use crate::error::ApiError;
use crate::state::AppState;

/// How long verifiers may keep the keys: a retired key leaves their caches
/// within this (SPEC §2: at most 60 s).
const CACHE_CONTROL: &str = "public, max-age=60";

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "Every public key whose tokens may still be alive", body = Jwks)))]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ring = blocking(&state, |state, store| Ok(state.keys.fresh_ring(store))).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_CONTROL))
        .json(ring.jwks()))
}

/// The fields the discovery-based verifiers read (Spring's `issuer-uri`,
/// ASP.NET's `Authority`, go-oidc, express-oauth2-jwt-bearer): `issuer`, which
/// each compares with the issuer it was given; `jwks_uri`, where each gets the
/// keys; `id_token_signing_alg_values_supported`, which go-oidc and
/// express-oauth2-jwt-bearer take as the algorithms to accept. The rest say what
/// the tokens hold.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "keys",
    responses((status = 200, description = "A discovery document for token verifiers", body = Discovery)))]
pub async fn openid_configuration(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ring = blocking(&state, |state, store| Ok(state.keys.fresh_ring(store))).await?;
    let base = match &state.settings.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let document = json!({
        "issuer": state.settings.issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ring.algorithms(),
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "sid", "typ", "email", "name", "orgId",
            "auth_time", "nonce", "amr", "email_verified", "preferred_username", "groups"],
        // The OpenID Connect provider (SPEC §13).
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "end_session_endpoint": format!("{base}/oauth/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": crate::oidc::SCOPES,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_CONTROL))
        .json(document))
}

#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key (`OKP`, `EdDSA`), a P-256 one (`EC`, `ES256`) or a
/// 2048-bit RSA one (`RSA`, `RS256`: `n` and `e` instead of `crv` and `x`).
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: String,
    /// An OKP or EC key's curve.
    #[schema(example = "Ed25519")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// The public key (an EC key: its x coordinate), base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// An EC key's y coordinate, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// An RSA key's modulus, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// An RSA key's public exponent, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}

/// What token verifiers need to find the keys from the issuer.
#[derive(Serialize, ToSchema)]
pub struct Discovery {
    /// The `--issuer` value: every token's `iss`.
    pub issuer: String,
    /// `--public-url` + `/.well-known/jwks.json`.
    pub jwks_uri: String,
    /// The algorithms of the published keys.
    #[schema(example = json!(["EdDSA"]))]
    pub id_token_signing_alg_values_supported: Vec<String>,
    #[schema(example = json!(["public"]))]
    pub subject_types_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    /// `--public-url` + `/oauth/authorize` (SPEC §13)
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    #[schema(example = json!(["code"]))]
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    #[schema(example = json!(["authorization_code", "refresh_token"]))]
    pub grant_types_supported: Vec<String>,
    #[schema(example = json!(["S256"]))]
    pub code_challenge_methods_supported: Vec<String>,
    #[schema(example = json!(["client_secret_basic", "client_secret_post", "none"]))]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    #[schema(example = json!(["openid", "email", "profile", "groups", "offline_access"]))]
    pub scopes_supported: Vec<String>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
}
