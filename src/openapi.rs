//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes;

/// Every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(example = false)]
    pub success: bool,
    /// A stable code; the endpoint's responses list which ones it gives.
    #[schema(example = "INVALID_PASSWORD")]
    pub error_code: String,
    /// A short sentence for people.
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuccessBody {
    #[schema(example = true)]
    pub success: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An Ed25519 public key (`OKP`, `EdDSA`) or a P-256 one (`EC`, `ES256`).
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: String,
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key (an EC key: its x coordinate), base64url.
    pub x: String,
    /// An EC key's y coordinate, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
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
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "authlite",
        description = "Email and password login that returns Ed25519-signed JWTs. \
                       Every error has the ErrorBody shape; bodies over 16 KiB get 413 PAYLOAD_TOO_LARGE, \
                       a body that is not JSON 415 UNSUPPORTED_MEDIA_TYPE."
    ),
    paths(
        routes::login::login,
        routes::refresh::refresh,
        routes::session::logout,
        routes::session::me,
        routes::password::change,
        routes::password::reset,
        routes::session::list,
        routes::session::revoke,
        routes::keys::jwks,
        routes::keys::openid_configuration,
        routes::ops::healthz,
        routes::ops::metrics,
        routes::ops::openapi,
        routes::ops::index,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route() {
        let doc: serde_json::Value = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        for (path, method) in [
            ("/user/login", "post"),
            ("/user/refresh", "post"),
            ("/user/logout", "post"),
            ("/user/me", "get"),
            ("/user/password", "post"),
            ("/user/password/reset", "post"),
            ("/user/sessions", "get"),
            ("/user/sessions/{sid}", "delete"),
            ("/.well-known/jwks.json", "get"),
            ("/healthz", "get"),
            ("/metrics", "get"),
            ("/openapi.json", "get"),
            ("/", "get"),
        ] {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
    }
}
