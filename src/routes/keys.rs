//! GET /.well-known/jwks.json: the public keys whose tokens may still be alive;
//! GET /.well-known/openid-configuration: where verifiers find them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::blocking;
use crate::app::AppState;
use crate::error::ApiError;

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "Every public key whose tokens may still be alive", body = crate::openapi::Jwks)))]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ring = blocking(&state, |state, conn| Ok(state.keys.fresh_ring(conn))).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(ring.jwks()))
}

/// The fields the discovery-based verifiers read (Spring's `issuer-uri`,
/// ASP.NET's `Authority`, go-oidc, express-oauth2-jwt-bearer): `issuer`, which
/// each compares with the issuer it was given; `jwks_uri`, where each gets the
/// keys; `id_token_signing_alg_values_supported`, which go-oidc and
/// express-oauth2-jwt-bearer take as the algorithms to accept. The rest say what
/// the tokens hold.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "keys",
    responses((status = 200, description = "A discovery document for token verifiers", body = crate::openapi::Discovery)))]
pub async fn openid_configuration(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ring = blocking(&state, |state, conn| Ok(state.keys.fresh_ring(conn))).await?;
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
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "sid", "typ", "email", "name", "orgId"],
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(document))
}
