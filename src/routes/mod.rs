//! The handlers, and what every handler shares: reading bodies, tokens,
//! client addresses, and running blocking work.

pub(crate) mod admin;
pub(crate) mod console;
pub(crate) mod docs;
pub(crate) mod email;
pub(crate) mod keys;
mod lockout;
pub(crate) mod login;
pub(crate) mod login_mfa;
pub(crate) mod login_passkey;
pub(crate) mod mfa;
pub(crate) mod ops;
pub(crate) mod pair;
pub(crate) mod passkeys;
pub(crate) mod password;
pub(crate) mod refresh;
pub(crate) mod register;
mod request;
mod second_factor;
pub(crate) mod session;

pub use request::client_ip;
pub(crate) use request::whole_seconds;
pub(crate) use request::{
    bearer, form_body, json_body, optional_bearer, optional_json_body, origin, token_error,
};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpResponse, ResponseError};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Store;

/// Bodies over this many bytes are refused with 413.
pub const MAX_BODY: usize = 16 * 1024;

pub(crate) async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound))
}

/// 405, with the `Allow` header naming the methods the path takes.
pub(crate) async fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut res = ApiError::new(ErrorCode::MethodNotAllowed).error_response();
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    res
}

/// Gives every error the framework answers by itself (a malformed request line,
/// a payload error) the same JSON shape as ours.
pub fn json_error_body<B: MessageBody>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // JSON errors are ours already; an HTML page is the OIDC error page
    // (oidc::authorize), which must stay one.
    let is_ours = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if is_ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = match status.as_u16() {
        400 => ApiError::invalid_request("The request could not be read."),
        404 => ApiError::new(ErrorCode::NotFound),
        405 => ApiError::new(ErrorCode::MethodNotAllowed),
        413 => too_large(),
        415 => unsupported_media_type(),
        500..=599 => ApiError {
            status,
            ..ApiError::new(ErrorCode::InternalError)
        },
        _ => ApiError {
            status,
            ..ApiError::with_message(
                ErrorCode::HttpError,
                status.canonical_reason().unwrap_or("Error"),
            )
        },
    };
    let (req, _) = res.into_parts();
    let res = ServiceResponse::new(req, error.error_response()).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

pub(super) fn too_large() -> ApiError {
    ApiError::with_message(
        ErrorCode::PayloadTooLarge,
        format!("The request body is over {MAX_BODY} bytes."),
    )
}

pub(super) fn unsupported_media_type() -> ApiError {
    ApiError::new(ErrorCode::UnsupportedMediaType)
}

/// Runs one unit of database work on the blocking pool, reading through a
/// pooled connection (its writes go through `state.db.write`).
pub async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&AppState, &mut dyn Store) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    web::block(move || state.db.read(|store| work(&state, store)))
        .await
        .map_err(ApiError::internal)?
}
