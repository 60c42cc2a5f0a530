//! GET /.well-known/jwks.json: the public keys whose tokens may still be alive.

use actix_web::{web, HttpResponse};

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
