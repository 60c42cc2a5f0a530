//! GET /.well-known/jwks.json: the public keys whose tokens may still be alive.

use actix_web::{web, HttpResponse};

use super::blocking;
use crate::app::AppState;
use crate::error::ApiError;

pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ring = blocking(&state, |state, conn| Ok(state.keys.fresh_ring(conn))).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(ring.jwks()))
}
