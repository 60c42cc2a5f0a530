//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

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
        serve,
        routes::ops::index,
        routes::ops::client_module,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The codes a bearer-token endpoint refuses a token with.
const BEARER: &[&str] = &[
    "MISSING_TOKEN",
    "INVALID_TOKEN",
    "TOKEN_EXPIRED",
    "TOKEN_REVOKED",
    "USER_INACTIVE",
];

/// The `error_code`s of each error answer, as (path, method, status, codes):
/// the document lists them as an `enum`, so that generated clients get a union
/// type. A new endpoint adds its rows here; rows for one status merge.
pub const ERROR_CODES: &[(&str, &str, u16, &[&str])] = &[
    (
        "/user/login",
        "post",
        401,
        &[
            "USER_NOT_FOUND",
            "NO_PASSWORD_SET",
            "INVALID_PASSWORD",
            "USER_INACTIVE",
        ],
    ),
    ("/user/login", "post", 429, &["TOO_MANY_ATTEMPTS"]),
    ("/user/login", "post", 503, &["SERVER_BUSY"]),
    (
        "/user/refresh",
        "post",
        401,
        &[
            "INVALID_TOKEN",
            "TOKEN_EXPIRED",
            "TOKEN_REVOKED",
            "TOKEN_REUSED",
            "USER_NOT_FOUND",
            "USER_INACTIVE",
        ],
    ),
    ("/user/refresh", "post", 503, &["SERVER_BUSY"]),
    (
        "/user/logout",
        "post",
        401,
        &[
            "MISSING_TOKEN",
            "INVALID_TOKEN",
            "TOKEN_EXPIRED",
            "TOKEN_REVOKED",
            "USER_NOT_FOUND",
            "USER_INACTIVE",
        ],
    ),
    ("/user/logout", "post", 503, &["SERVER_BUSY"]),
    ("/user/me", "get", 401, BEARER),
    ("/user/sessions", "get", 401, BEARER),
    ("/user/sessions/{sid}", "delete", 401, BEARER),
    (
        "/user/sessions/{sid}",
        "delete",
        404,
        &["SESSION_NOT_FOUND"],
    ),
    ("/user/sessions/{sid}", "delete", 503, &["SERVER_BUSY"]),
    (
        "/user/password",
        "post",
        401,
        &[
            "MISSING_TOKEN",
            "INVALID_TOKEN",
            "TOKEN_EXPIRED",
            "TOKEN_REVOKED",
            "USER_INACTIVE",
            "INVALID_PASSWORD",
        ],
    ),
    ("/user/password", "post", 400, &["WEAK_PASSWORD"]),
    ("/user/password", "post", 429, &["TOO_MANY_ATTEMPTS"]),
    ("/user/password", "post", 503, &["SERVER_BUSY"]),
    (
        "/user/password/reset",
        "post",
        401,
        &["INVALID_TOKEN", "TOKEN_EXPIRED", "USER_NOT_FOUND"],
    ),
    ("/user/password/reset", "post", 400, &["WEAK_PASSWORD"]),
    ("/user/password/reset", "post", 503, &["SERVER_BUSY"]),
    ("/healthz", "get", 503, &["SERVER_BUSY"]),
];

/// What every endpoint that reads a JSON body may also answer.
const BODY_ERRORS: &[(u16, &str)] = &[
    (400, "INVALID_REQUEST"),
    (408, "REQUEST_TIMEOUT"),
    (413, "PAYLOAD_TOO_LARGE"),
    (415, "UNSUPPORTED_MEDIA_TYPE"),
];

/// Request fields that hold an email address: (schema, property).
const EMAIL_FIELDS: &[(&str, &str)] = &[("LoginRequest", "email")];

#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The document as served: the generated one, with each error answer's codes
/// as an `enum` and email fields marked `format: email`.
pub fn document() -> Value {
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
        for (method, operation) in item.iter_mut() {
            let takes_body = operation.get("requestBody").is_some();
            let body_rows = BODY_ERRORS.iter().filter(|_| takes_body);
            let rows = ERROR_CODES
                .iter()
                .filter(|(p, m, _, _)| p == path && m == method)
                .flat_map(|(_, _, status, codes)| codes.iter().map(move |c| (*status, *c)))
                .chain(body_rows.copied());
            let mut codes: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
            for (status, code) in rows {
                let list = codes.entry(status).or_default();
                if !list.contains(&code) {
                    list.push(code);
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
                "USER_INACTIVE"
            ])
        );
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
            ("/.well-known/jwks.json", "get"),
            ("/healthz", "get"),
            ("/metrics", "get"),
            ("/openapi.json", "get"),
            ("/", "get"),
            ("/.well-known/openid-configuration", "get"),
            ("/client/authlite-client.js", "get"),
        ] {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
    }
}
