//! GET /docs: the API reference (SPEC §9), /openapi.json rendered by RapiDoc,
//! which is built into the binary beside its licences (static/vendor/), so
//! that the page works offline and loads nothing from anywhere else.

use actix_web::{web, HttpResponse};

use crate::error::{ApiError, ErrorCode};

const PAGE: &str = include_str!("../../static/docs.html");

/// Where the renderer's files are served: the version is in the path, so that
/// a browser may keep them for a year and an upgrade is a new address.
pub const VENDOR_PATH: &str = "/docs/rapidoc-9.3.8/{file}";

/// The vendored files of RapiDoc 9.3.8 (npm `rapidoc`, MIT), as published.
const VENDOR: &[(&str, &str, &str)] = &[
    (
        "rapidoc-min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/vendor/rapidoc-9.3.8/rapidoc-min.js"),
    ),
    (
        "rapidoc-min.js.LICENSE.txt",
        "text/plain; charset=utf-8",
        include_str!("../../static/vendor/rapidoc-9.3.8/rapidoc-min.js.LICENSE.txt"),
    ),
    (
        "LICENSE.txt",
        "text/plain; charset=utf-8",
        include_str!("../../static/vendor/rapidoc-9.3.8/LICENSE.txt"),
    ),
];

/// The page may load and call only this server: no inline script, no fonts
/// or images from elsewhere (RapiDoc styles its elements inline).
const PAGE_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                           img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                           base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[utoipa::path(get, path = "/docs", tag = "ops",
    responses((status = 200, description = "The API reference: this document, with code samples, rendered in the browser",
        content_type = "text/html", body = String)))]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", PAGE_POLICY))
        .insert_header(("Referrer-Policy", "no-referrer"))
        // Small, and it names the renderer's version: always asked again.
        .insert_header(("Cache-Control", "no-cache"))
        .body(PAGE)
}

/// GET /docs/rapidoc-9.3.8/{file}: the renderer and its licences.
pub async fn vendor(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let Some((_, content_type, body)) = VENDOR.iter().find(|(name, _, _)| *name == *file) else {
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(*body))
}
