//! The one error type of the HTTP API: a status, a stable code, a short message.
//! `ErrorCode` is the only place a code is written: the OpenAPI document, the
//! metrics' labels and the TypeScript client's `ErrorCode` type derive from it.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::store::StoreError;

/// Declares `ErrorCode` from one table: variant, wire string, HTTP status, default message.
macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:ident, $message:literal;)*) => {
        /// Every `error_code` the server sends.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire string, as in the body's `error_code`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub const fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            /// The message sent when the route says nothing more.
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidRequest => "INVALID_REQUEST", BAD_REQUEST, "The request could not be read.";
    WeakPassword => "WEAK_PASSWORD", BAD_REQUEST, "The new password is too weak.";
    UserNotFound => "USER_NOT_FOUND", UNAUTHORIZED, "No user has that email.";
    NoPasswordSet => "NO_PASSWORD_SET", UNAUTHORIZED, "This account has no password yet.";
    InvalidPassword => "INVALID_PASSWORD", UNAUTHORIZED, "The password is not right.";
    UserInactive => "USER_INACTIVE", UNAUTHORIZED, "This account is not active.";
    MissingToken => "MISSING_TOKEN", UNAUTHORIZED, "An access or refresh token is required.";
    InvalidToken => "INVALID_TOKEN", UNAUTHORIZED, "The token is not valid.";
    TokenExpired => "TOKEN_EXPIRED", UNAUTHORIZED, "The token has expired.";
    TokenRevoked => "TOKEN_REVOKED", UNAUTHORIZED, "The session of this token has ended.";
    TokenReused => "TOKEN_REUSED", UNAUTHORIZED,
        "This refresh token was already used; the session has been ended.";
    MfaRequired => "MFA_REQUIRED", UNAUTHORIZED,
        "The password is right; now send the code of your second factor.";
    // 400 at /user/mfa/*, 401 at a sign-in (OTHER_STATUS in openapi/admin.rs).
    InvalidCode => "INVALID_CODE", BAD_REQUEST, "The code is not right.";
    MfaAlreadyEnabled => "MFA_ALREADY_ENABLED", CONFLICT, "TOTP is already on for this account.";
    MfaNotEnabled => "MFA_NOT_ENABLED", CONFLICT, "TOTP is not on for this account.";
    // 400 at registration, 401 at a passkey sign-in (OTHER_STATUS in openapi/admin.rs).
    InvalidCredential => "INVALID_CREDENTIAL", BAD_REQUEST,
        "The passkey could not be verified.";
    PasskeyNotFound => "PASSKEY_NOT_FOUND", NOT_FOUND, "You have no passkey with that id.";
    PasskeysUnavailable => "PASSKEYS_UNAVAILABLE", NOT_IMPLEMENTED,
        "Passkeys need --public-url (or --rp-id) to name a host, not an IP address.";
    Forbidden => "FORBIDDEN", FORBIDDEN, "You may not do this.";
    ApiKeyNotFound => "API_KEY_NOT_FOUND", NOT_FOUND, "There is no API key with that id.";
    SessionNotFound => "SESSION_NOT_FOUND", NOT_FOUND, "You have no live session with that id.";
    OrgNotFound => "ORG_NOT_FOUND", NOT_FOUND, "No org has that id.";
    EmailTaken => "EMAIL_TAKEN", CONFLICT, "Another user has that email.";
    OrgExists => "ORG_EXISTS", CONFLICT, "An org with that id exists already.";
    OrgNotEmpty => "ORG_NOT_EMPTY", CONFLICT, "Users still belong to this org.";
    EmailDisabled => "EMAIL_DISABLED", NOT_IMPLEMENTED, "This server sends no email.";
    RegistrationClosed => "REGISTRATION_CLOSED", FORBIDDEN, "Sign-up is closed on this server.";
    ClientNotFound => "CLIENT_NOT_FOUND", NOT_FOUND, "There is no OpenID Connect client with that id.";
    AuthorizationNotFound => "AUTHORIZATION_NOT_FOUND", NOT_FOUND,
        "This sign-in request is unknown, finished or expired; go back to the application and start again.";
    LoginRequired => "LOGIN_REQUIRED", UNAUTHORIZED,
        "The application asks you to sign in again.";
    NotFound => "NOT_FOUND", NOT_FOUND, "There is nothing at this path.";
    MethodNotAllowed => "METHOD_NOT_ALLOWED", METHOD_NOT_ALLOWED,
        "This path does not take that method.";
    RequestTimeout => "REQUEST_TIMEOUT", REQUEST_TIMEOUT,
        "The request body did not arrive in time.";
    PayloadTooLarge => "PAYLOAD_TOO_LARGE", PAYLOAD_TOO_LARGE, "The request body is too large.";
    UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE", UNSUPPORTED_MEDIA_TYPE,
        "The request body must be JSON (Content-Type: application/json).";
    TooManyAttempts => "TOO_MANY_ATTEMPTS", TOO_MANY_REQUESTS,
        "Too many failed logins; try again later.";
    InternalError => "INTERNAL_ERROR", INTERNAL_SERVER_ERROR, "Something went wrong on the server.";
    ServerBusy => "SERVER_BUSY", SERVICE_UNAVAILABLE, "The server is busy; try again in a moment.";
    // Any other error the framework answers by itself; ApiError carries its real status.
    HttpError => "HTTP_ERROR", BAD_REQUEST, "The request could not be handled.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some("Every error_code the server sends."))
            .into()
    }
}

impl ToSchema for ErrorCode {}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    success: bool,
    error_code: ErrorCode,
    message: &'a str,
}

impl ApiError {
    /// The code with its own status and message.
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError {
            status: code.status(),
            code,
            message: Cow::Borrowed(code.message()),
            retry_after: None,
        }
    }

    /// The code with a message that says more (which field, which limit).
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            message: Cow::Owned(message.into()),
            ..ApiError::new(code)
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::with_message(ErrorCode::InvalidRequest, message)
    }

    pub fn too_many_attempts(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after.max(1)),
            ..ApiError::new(ErrorCode::TooManyAttempts)
        }
    }

    /// USER_NOT_FOUND as the admin API answers it: 404, where a sign-in's is 401.
    pub fn no_such_user() -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            ..ApiError::with_message(ErrorCode::UserNotFound, "No user has that id.")
        }
    }

    pub fn busy() -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(ErrorCode::ServerBusy)
        }
    }

    /// Something on our side failed. The cause goes to the log, never to the client.
    pub fn internal(cause: impl fmt::Display) -> ApiError {
        log::error!("internal error: {cause}");
        ApiError::new(ErrorCode::InternalError)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> ApiError {
        ApiError::new(code)
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
            StoreError::Refused(why) => {
                log::debug!("a value the database cannot hold: {why}");
                ApiError::invalid_request("a value holds a character that cannot be stored")
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
    pub error_code: ErrorCode,
    /// A short sentence for people.
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuccessBody {
    #[schema(example = true)]
    pub success: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[test]
    fn each_code_is_one_distinct_upper_case_word_with_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{text}"
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
            assert!(code.message().ends_with('.'), "{text}: {}", code.message());
        }
    }

    #[actix_web::test]
    async fn an_error_answers_its_status_code_and_message() {
        let response =
            ApiError::with_message(ErrorCode::WeakPassword, "Too short.").error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = to_bytes(response.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "success": false, "error_code": "WEAK_PASSWORD", "message": "Too short." })
        );
        let busy = ApiError::busy();
        assert_eq!(
            (busy.status.as_u16(), busy.code.as_str()),
            (503, "SERVER_BUSY")
        );
        assert_eq!(busy.message, ErrorCode::ServerBusy.message());
    }
}
