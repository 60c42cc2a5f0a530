//! The one error type of the HTTP API: a status, a stable code, a short message.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    success: bool,
    error_code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    pub fn unauthorized(code: &'static str) -> ApiError {
        let message = match code {
            "USER_NOT_FOUND" => "No user has that email.",
            "NO_PASSWORD_SET" => "This account has no password yet.",
            "INVALID_PASSWORD" => "The password is not right.",
            "USER_INACTIVE" => "This account is not active.",
            "MISSING_TOKEN" => "An access or refresh token is required.",
            "INVALID_TOKEN" => "The token is not valid.",
            "TOKEN_EXPIRED" => "The token has expired.",
            "TOKEN_REVOKED" => "The session of this token has ended.",
            "TOKEN_REUSED" => "This refresh token was already used; the session has been ended.",
            _ => "Not authorised.",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn too_many_attempts(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_ATTEMPTS",
                "Too many failed logins; try again later.",
            )
        }
    }

    pub fn busy() -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_BUSY",
                "The server is busy; try again in a moment.",
            )
        }
    }

    /// Something on our side failed. The cause goes to the log, never to the client.
    pub fn internal(cause: impl fmt::Display) -> ApiError {
        log::error!("internal error: {cause}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong on the server.",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(Body {
            success: false,
            error_code: self.code,
            message: &self.message,
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(why) => {
                log::warn!("database unavailable: {why}");
                ApiError::busy()
            }
            StoreError::Failed(why) => ApiError::internal(why),
        }
    }
}

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
