//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorCode::{self, *};
use crate::routes;

mod admin;
mod example;
mod samples;
use admin::{other_status_codes, status_here, ADMIN_CODES};

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
        routes::login_mfa::login_mfa,
        routes::mfa::summary,
        routes::mfa::enrol,
        routes::mfa::confirm,
        routes::mfa::disable,
        routes::mfa::new_recovery_codes,
        routes::passkeys::register,
        routes::passkeys::register_finish,
        routes::passkeys::list,
        routes::passkeys::remove,
        routes::login_passkey::login,
        routes::login_passkey::login_finish,
        routes::refresh::refresh,
        routes::session::logout,
        routes::session::me,
        routes::password::change,
        routes::password::reset,
        routes::email::forgot_password,
        routes::register::register_user,
        routes::register::confirm_registration,
        routes::email::features,
        routes::session::list,
        routes::session::revoke,
        routes::admin::api_keys::list,
        routes::admin::api_keys::create,
        routes::admin::api_keys::revoke,
        routes::keys::jwks,
        routes::keys::openid_configuration,
        routes::ops::healthz,
        routes::ops::metrics,
        serve,
        routes::ops::index,
        routes::docs::page,
        routes::ops::client_module,
        routes::admin::users::list_users,
        routes::admin::user_edits::create_user,
        routes::admin::users::get_user,
        routes::admin::user_edits::update_user,
        routes::admin::users::delete_user,
        routes::admin::user_actions::set_password,
        routes::admin::user_actions::create_link,
        routes::admin::user_actions::unlock,
        routes::admin::mfa::reset_mfa,
        routes::admin::sessions::list_user_sessions,
        routes::admin::sessions::revoke_user_sessions,
        routes::admin::sessions::revoke_session,
        routes::admin::orgs::list_orgs,
        routes::admin::orgs::create_org,
        routes::admin::orgs::rename_org,
        routes::admin::orgs::delete_org,
        routes::admin::audit::list_events,
        routes::admin::clients::list_clients,
        routes::admin::clients::create_client,
        routes::admin::clients::remove_client,
        crate::oidc::authorize::authorize,
        crate::oidc::continuation::continue_request,
        crate::oidc::token::token,
        crate::oidc::userinfo::userinfo,
        crate::oidc::userinfo::userinfo_post,
        crate::oidc::logout::logout,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The codes a bearer-token endpoint refuses a token with.
const BEARER: &[ErrorCode] = &[
    MissingToken,
    InvalidToken,
    TokenExpired,
    TokenRevoked,
    UserInactive,
];

/// The codes an admin endpoint refuses its caller with (SPEC §8).
const ADMIN: &[ErrorCode] = &[
    MissingToken,
    InvalidToken,
    TokenExpired,
    TokenRevoked,
    UserInactive,
    Forbidden,
    ServerBusy,
];

/// The `error_code`s of each endpoint, as (path, method, codes): the document
/// lists them by status as an `enum`, so that generated clients get a union
/// type. A new endpoint adds its rows here; rows for one endpoint merge.
pub const ERROR_CODES: &[(&str, &str, &[ErrorCode])] = &[
    (
        "/user/login",
        "post",
        &[
            UserNotFound,
            NoPasswordSet,
            InvalidPassword,
            UserInactive,
            MfaRequired,
            InvalidCode,
            TooManyAttempts,
            ServerBusy,
        ],
    ),
    (
        "/user/login/mfa",
        "post",
        &[
            InvalidCode,
            InvalidToken,
            TokenExpired,
            UserInactive,
            TooManyAttempts,
            ServerBusy,
        ],
    ),
    ("/user/mfa", "get", BEARER),
    ("/user/mfa", "get", &[ServerBusy]),
    ("/user/mfa/totp", "post", BEARER),
    ("/user/mfa/totp", "post", &[MfaAlreadyEnabled, ServerBusy]),
    ("/user/mfa/totp", "delete", BEARER),
    (
        "/user/mfa/totp",
        "delete",
        &[InvalidCode, MfaNotEnabled, TooManyAttempts, ServerBusy],
    ),
    ("/user/mfa/totp/confirm", "post", BEARER),
    (
        "/user/mfa/totp/confirm",
        "post",
        &[InvalidCode, MfaNotEnabled, TooManyAttempts, ServerBusy],
    ),
    ("/user/mfa/recovery-codes", "post", BEARER),
    (
        "/user/mfa/recovery-codes",
        "post",
        &[InvalidCode, MfaNotEnabled, TooManyAttempts, ServerBusy],
    ),
    ("/user/passkeys/register", "post", BEARER),
    (
        "/user/passkeys/register",
        "post",
        &[PasskeysUnavailable, ServerBusy],
    ),
    ("/user/passkeys/register/finish", "post", BEARER),
    (
        "/user/passkeys/register/finish",
        "post",
        &[InvalidCredential, PasskeysUnavailable, ServerBusy],
    ),
    ("/user/passkeys", "get", BEARER),
    ("/user/passkeys", "get", &[ServerBusy]),
    ("/user/passkeys/{id}", "delete", BEARER),
    (
        "/user/passkeys/{id}",
        "delete",
        &[PasskeyNotFound, ServerBusy],
    ),
    (
        "/user/passkeys/login",
        "post",
        &[PasskeysUnavailable, ServerBusy],
    ),
    (
        "/user/passkeys/login/finish",
        "post",
        &[
            InvalidCredential,
            UserNotFound,
            UserInactive,
            TooManyAttempts,
            PasskeysUnavailable,
            ServerBusy,
        ],
    ),
    (
        "/user/refresh",
        "post",
        &[
            InvalidToken,
            TokenExpired,
            TokenRevoked,
            TokenReused,
            UserNotFound,
            UserInactive,
            ServerBusy,
        ],
    ),
    (
        "/user/logout",
        "post",
        &[
            MissingToken,
            InvalidToken,
            TokenExpired,
            TokenRevoked,
            UserNotFound,
            UserInactive,
            ServerBusy,
        ],
    ),
    ("/user/me", "get", BEARER),
    ("/user/sessions", "get", BEARER),
    ("/user/sessions/{sid}", "delete", BEARER),
    (
        "/user/sessions/{sid}",
        "delete",
        &[SessionNotFound, ServerBusy],
    ),
    ("/user/password", "post", BEARER),
    (
        "/user/password",
        "post",
        &[InvalidPassword, WeakPassword, TooManyAttempts, ServerBusy],
    ),
    (
        "/user/password/reset",
        "post",
        &[
            InvalidToken,
            TokenExpired,
            UserNotFound,
            WeakPassword,
            ServerBusy,
        ],
    ),
    (
        "/user/password/forgot",
        "post",
        &[EmailDisabled, ServerBusy],
    ),
    (
        "/user/register",
        "post",
        &[WeakPassword, RegistrationClosed, EmailDisabled, ServerBusy],
    ),
    (
        "/user/register/confirm",
        "post",
        &[InvalidToken, TokenExpired, EmailTaken, ServerBusy],
    ),
    ("/admin/api-keys", "get", ADMIN),
    ("/admin/api-keys", "post", ADMIN),
    ("/admin/api-keys/{id}", "delete", ADMIN),
    ("/admin/api-keys/{id}", "delete", &[ApiKeyNotFound]),
    ("/healthz", "get", &[ServerBusy]),
    ("/oauth/continue", "post", BEARER),
    (
        "/oauth/continue",
        "post",
        &[LoginRequired, AuthorizationNotFound, ServerBusy],
    ),
];

/// Endpoints that answer errors in OAuth's shapes (RFC 6749 §5.2, RFC 6750
/// §3) or as a page, never authlite's error body.
const OAUTH_SHAPED: &[&str] = &[
    "/oauth/token",
    "/oauth/userinfo",
    "/oauth/authorize",
    "/oauth/logout",
];

/// What every endpoint that reads a JSON body may also answer.
pub const BODY_ERRORS: &[ErrorCode] = &[
    InvalidRequest,
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
];

/// What any request may get, whatever its path: the document names them once,
/// in the `ErrorCode` schema, rather than under every endpoint.
pub const ANY_REQUEST: &[ErrorCode] = &[NotFound, MethodNotAllowed, InternalError, HttpError];

/// Request fields that hold an email address: (schema, property).
const EMAIL_FIELDS: &[(&str, &str)] = &[
    ("LoginRequest", "email"),
    ("ForgotRequest", "email"),
    ("RegisterRequest", "email"),
    ("CreateUserRequest", "email"),
    ("UpdateUserRequest", "email"),
];

#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The document as served: the generated one, with each error answer's codes
/// as an `enum`, email fields marked `format: email`, and code samples.
pub fn document() -> Value {
    let mut doc = with_error_codes();
    samples::add(&mut doc);
    doc
}

fn with_error_codes() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    for (schema, field) in EMAIL_FIELDS {
        if let Some(property) = doc
            .pointer_mut(&format!("/components/schemas/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut)
        {
            property.insert("format".into(), json!("email"));
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        if OAUTH_SHAPED.contains(&path.as_str()) {
            continue;
        }
        for (method, operation) in item.iter_mut() {
            let takes_body = operation.get("requestBody").is_some();
            let body_rows = BODY_ERRORS.iter().filter(|_| takes_body);
            let rows = ERROR_CODES
                .iter()
                .chain(ADMIN_CODES)
                .filter(|(p, m, _)| p == path && m == method)
                .flat_map(|(_, _, codes)| codes.iter())
                .chain(body_rows);
            let mut codes: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
            for code in rows.chain(other_status_codes(path)) {
                let list = codes.entry(status_here(path, *code)).or_default();
                if !list.contains(&code.as_str()) {
                    list.push(code.as_str());
                }
            }
            if let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            {
                for (status, codes) in codes {
                    list_codes(responses, status, &codes);
                }
            }
        }
    }
    doc
}

/// Gives the `status` answer an error body whose `error_code` is one of `codes`.
fn list_codes(responses: &mut Map<String, Value>, status: u16, codes: &[&str]) {
    let response = responses
        .entry(status.to_string())
        .or_insert_with(|| json!({ "description": codes.join(", ") }));
    let schema = json!({
        "type": "object",
        "required": ["success", "error_code", "message"],
        "properties": {
            "success": { "type": "boolean", "const": false },
            "error_code": { "type": "string", "enum": codes },
            "message": { "type": "string", "description": "A short sentence for people." },
        },
    });
    let mut schema = schema;
    if codes.contains(&MfaRequired.as_str()) {
        schema["properties"]["mfaToken"] = json!({
            "type": "string",
            "description": "With MFA_REQUIRED: give it to POST /user/login/mfa with a code (it works 300 s, once).",
        });
        schema["properties"]["methods"] = json!({
            "type": "array",
            "items": { "type": "string", "enum": routes::login_mfa::METHODS },
            "description": "With MFA_REQUIRED: the kinds of code taken.",
        });
    }
    if let Some(response) = response.as_object_mut() {
        response.insert(
            "content".into(),
            json!({ "application/json": { "schema": schema } }),
        );
    }
}

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
    fn every_error_answer_lists_its_codes_as_an_enum() {
        let doc = document();
        let mut seen = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            if OAUTH_SHAPED.contains(&path.as_str()) {
                continue;
            }
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if !status.starts_with('4') && !status.starts_with('5') {
                        continue;
                    }
                    let codes = &response["content"]["application/json"]["schema"]["properties"]
                        ["error_code"]["enum"];
                    assert!(
                        codes.as_array().is_some_and(|c| !c.is_empty()),
                        "{method} {path} {status}: no error_code enum (add a row to ERROR_CODES)"
                    );
                    seen += 1;
                }
            }
        }
        assert!(seen > 15, "{seen}");
        let login_401 = &doc["paths"]["/user/login"]["post"]["responses"]["401"];
        assert_eq!(
            login_401["content"]["application/json"]["schema"]["properties"]["error_code"]["enum"],
            json!([
                "USER_NOT_FOUND",
                "NO_PASSWORD_SET",
                "INVALID_PASSWORD",
                "USER_INACTIVE",
                "MFA_REQUIRED",
                "INVALID_CODE"
            ])
        );
    }

    /// Every code in some endpoint's enum or among those any request may get,
    /// each under its own status, and the `ErrorCode` schema is exactly `ALL`.
    #[test]
    fn the_document_names_every_code_once_each_under_its_status() {
        let doc = document();
        let mut listed: Vec<&str> = ANY_REQUEST.iter().map(|c| c.as_str()).collect();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for operation in item.as_object().unwrap().values() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    let schema = &response["content"]["application/json"]["schema"];
                    let Some(codes) = schema["properties"]["error_code"]["enum"].as_array() else {
                        continue;
                    };
                    for code in codes.iter().map(|c| c.as_str().unwrap()) {
                        let known = ErrorCode::ALL.iter().find(|c| c.as_str() == code);
                        let known_status = known.map(|c| status_here(path, *c).to_string());
                        assert_eq!(known_status.as_deref(), Some(status.as_str()), "{code}");
                        listed.push(code);
                    }
                }
            }
        }
        listed.sort_unstable();
        listed.dedup();
        let mut all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        all.sort_unstable();
        assert_eq!(
            listed, all,
            "a code no endpoint lists, or one missing from ALL"
        );
        let schema: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            doc["components"]["schemas"]["ErrorCode"]["enum"],
            json!(schema)
        );
        assert_eq!(
            doc["components"]["schemas"]["ErrorBody"]["properties"]["error_code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
    }

    /// Generated clients name their functions after them (openapi-typescript
    /// refuses a document where two are the same).
    #[test]
    fn every_operation_id_is_unique() {
        let doc = document();
        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|operation| operation["operationId"].as_str())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "{ids:?}");
    }

    #[test]
    fn the_login_email_is_format_email() {
        let doc = document();
        let email = &doc["components"]["schemas"]["LoginRequest"]["properties"]["email"];
        assert_eq!(email["format"], "email");
    }

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
            ("/user/login/mfa", "post"),
            ("/user/mfa", "get"),
            ("/user/mfa/totp", "post"),
            ("/user/mfa/totp", "delete"),
            ("/user/mfa/totp/confirm", "post"),
            ("/user/mfa/recovery-codes", "post"),
            ("/.well-known/jwks.json", "get"),
            ("/healthz", "get"),
            ("/metrics", "get"),
            ("/openapi.json", "get"),
            ("/", "get"),
            ("/docs", "get"),
            ("/.well-known/openid-configuration", "get"),
            ("/client/authlite-client.js", "get"),
            ("/admin/users", "get"),
            ("/admin/users", "post"),
            ("/admin/users/{id}", "get"),
            ("/admin/users/{id}", "patch"),
            ("/admin/users/{id}", "delete"),
            ("/admin/users/{id}/password", "post"),
            ("/admin/users/{id}/link", "post"),
            ("/admin/users/{id}/unlock", "post"),
            ("/admin/users/{id}/mfa", "delete"),
            ("/admin/users/{id}/sessions", "get"),
            ("/admin/users/{id}/sessions", "delete"),
            ("/admin/sessions/{sid}", "delete"),
            ("/admin/orgs", "get"),
            ("/admin/orgs", "post"),
            ("/admin/orgs/{id}", "patch"),
            ("/admin/orgs/{id}", "delete"),
            ("/admin/api-keys", "get"),
            ("/admin/api-keys", "post"),
            ("/admin/api-keys/{id}", "delete"),
        ] {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
    }
}
