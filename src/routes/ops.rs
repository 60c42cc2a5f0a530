//! GET /healthz, the login page (built in, or from --static DIR), and the
//! authlite-client module it imports.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::blocking;
use crate::clock::now;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

const EMBEDDED_PAGE: &str = include_str!("../../static/index.html");

/// The `authlite-client` package as one ES module: its committed build output
/// (`npm run build` in clients/typescript), so that `cargo build` needs no Node.
const CLIENT_MODULE: &str = include_str!("../../clients/typescript/dist/authlite-client.js");

/// The page may load and call only this server (its script and style are inline), and may not be framed.
const PAGE_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                           script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "The database takes writes", body = Health),
        (status = 503, description = "The database cannot take a write now (SERVER_BUSY)", body = crate::error::ErrorBody),
    ))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // A write probe, answered from its cache within a second.
    let probed = web::block(move || state.db.can_write()).await;
    match probed {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(json!({ "status": "ok" }))),
        _ => Err(ApiError {
            message: "The database cannot take writes now.".into(),
            ..ApiError::busy()
        }),
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let live = blocking(&state, |_, store| Ok(store.count_live_sessions(now())?)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.gate.waiting(), live)))
}

#[utoipa::path(get, path = "/", tag = "ops",
    responses((status = 200, description = "The login page", content_type = "text/html", body = String)))]
pub async fn index(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match &state.settings.static_dir {
        None => Ok(page("index.html", EMBEDDED_PAGE.as_bytes().to_vec())),
        Some(_) => serve_file(&state, "index.html").await,
    }
}

/// GET /client/authlite-client.js: the authlite-client package's own build.
#[utoipa::path(get, path = "/client/authlite-client.js", tag = "ops",
    responses((status = 200, description = "The authlite-client package's build, one ES module", content_type = "text/javascript", body = String)))]
pub async fn client_module() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        // It changes only with the binary: an hour is short enough for an upgrade.
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(CLIENT_MODULE)
}

pub async fn static_file(
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if state.settings.static_dir.is_none() {
        return Err(not_found());
    }
    serve_file(&state, &name).await
}

/// A file straight under --static DIR; names with a path or a leading dot are not served.
async fn serve_file(state: &AppState, name: &str) -> Result<HttpResponse, ApiError> {
    let safe = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    let Some(dir) = state.settings.static_dir.clone().filter(|_| safe) else {
        return Err(not_found());
    };
    let path = dir.join(name);
    let bytes = web::block(move || std::fs::read(path))
        .await
        .map_err(ApiError::internal)?
        .map_err(|_| not_found())?;
    Ok(page(name, bytes))
}

pub(super) fn page(name: &str, bytes: Vec<u8>) -> HttpResponse {
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", PAGE_POLICY))
        .body(bytes)
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound)
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}
