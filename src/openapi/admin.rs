//! The admin API's rows of the OpenAPI document's error codes (SPEC section 8).

use crate::error::ErrorCode::{self, *};

/// The `error_code`s of each admin endpoint, as in `super::ERROR_CODES`.
pub const ADMIN_CODES: &[(&str, &str, &[ErrorCode])] = &[
    ("/admin/users", "get", ADMIN),
    ("/admin/users", "get", &[InvalidRequest]),
    ("/admin/users", "post", ADMIN),
    (
        "/admin/users",
        "post",
        &[WeakPassword, OrgNotFound, EmailTaken, EmailDisabled],
    ),
    ("/admin/users/{id}", "get", ADMIN),
    ("/admin/users/{id}", "patch", ADMIN),
    ("/admin/users/{id}", "patch", &[OrgNotFound, EmailTaken]),
    ("/admin/users/{id}", "delete", ADMIN),
    ("/admin/users/{id}", "delete", &[InvalidRequest]),
    ("/admin/users/{id}/password", "post", ADMIN),
    ("/admin/users/{id}/password", "post", &[WeakPassword]),
    ("/admin/users/{id}/link", "post", ADMIN),
    ("/admin/users/{id}/link", "post", &[EmailDisabled]),
    ("/admin/users/{id}/unlock", "post", ADMIN),
    ("/admin/users/{id}/mfa", "delete", ADMIN),
    ("/admin/users/{id}/sessions", "get", ADMIN),
    ("/admin/users/{id}/sessions", "delete", ADMIN),
    ("/admin/sessions/{sid}", "delete", ADMIN),
    ("/admin/sessions/{sid}", "delete", &[SessionNotFound]),
    ("/admin/orgs", "get", ADMIN),
    ("/admin/orgs", "post", ADMIN),
    ("/admin/orgs", "post", &[OrgExists]),
    ("/admin/orgs/{id}", "patch", ADMIN),
    ("/admin/orgs/{id}", "patch", &[OrgNotFound]),
    ("/admin/orgs/{id}", "delete", ADMIN),
    ("/admin/orgs/{id}", "delete", &[OrgNotFound, OrgNotEmpty]),
    ("/admin/audit", "get", ADMIN),
    ("/admin/audit", "get", &[InvalidRequest]),
    ("/admin/clients", "get", ADMIN),
    ("/admin/clients", "post", ADMIN),
    ("/admin/clients/{id}", "delete", ADMIN),
    ("/admin/clients/{id}", "delete", &[ClientNotFound]),
];

/// What every admin endpoint may answer: the bearer codes, FORBIDDEN, and
/// SERVER_BUSY (a hashing queue or a database that is full).
const ADMIN: &[ErrorCode] = &[
    MissingToken,
    InvalidToken,
    TokenExpired,
    TokenRevoked,
    UserInactive,
    Forbidden,
    ServerBusy,
];

/// Codes answered with another status than their own on some endpoints:
/// (path prefix, code, status). The admin API's USER_NOT_FOUND is a 404;
/// INVALID_CODE is a 401 at a sign-in (a 400 at /user/mfa/…).
pub const OTHER_STATUS: &[(&str, ErrorCode, u16)] = &[
    ("/admin/users/{id}", UserNotFound, 404),
    ("/user/login", InvalidCode, 401),
    ("/user/passkeys/login", InvalidCredential, 401),
];

/// The codes OTHER_STATUS adds to every endpoint under `path`.
pub(super) fn other_status_codes(path: &str) -> impl Iterator<Item = &'static ErrorCode> + '_ {
    OTHER_STATUS
        .iter()
        .filter(move |(prefix, _, _)| path.starts_with(prefix))
        .map(|(_, code, _)| code)
}

/// The status `code` is answered with on `path`.
pub fn status_here(path: &str, code: ErrorCode) -> u16 {
    OTHER_STATUS
        .iter()
        .find(|(prefix, c, _)| *c == code && path.starts_with(prefix))
        .map_or(code.status().as_u16(), |(_, _, status)| *status)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::document;

    #[test]
    fn the_admin_api_lists_user_not_found_as_a_404_and_its_own_codes() {
        let doc = document();
        let codes = |path: &str, method: &str, status: &str| {
            doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
                ["properties"]["error_code"]["enum"]
                .clone()
        };
        assert_eq!(
            codes("/admin/users/{id}", "get", "404"),
            json!(["USER_NOT_FOUND"])
        );
        assert_eq!(
            codes("/admin/users/{id}", "get", "401"),
            codes("/user/me", "get", "401")
        );
        assert_eq!(codes("/admin/users", "get", "403"), json!(["FORBIDDEN"]));
        assert_eq!(codes("/admin/users", "post", "409"), json!(["EMAIL_TAKEN"]));
        assert_eq!(
            codes("/admin/orgs/{id}", "delete", "404"),
            json!(["ORG_NOT_FOUND"])
        );
        assert_eq!(codes("/admin/orgs", "get", "404"), Value::Null);
        // Its schemas take names of their own: one named as /user/sessions'
        // would replace that one in the document.
        let schemas = &doc["components"]["schemas"];
        let patch = &schemas["UpdateUserRequest"];
        assert_eq!(
            patch["properties"]["email"],
            json!({"type": "string", "format": "email"})
        );
        assert_eq!(patch["required"], Value::Null);
        assert!(schemas["SessionView"]["properties"]["current"].is_object());
        assert!(schemas["AdminSession"]["properties"]["current"].is_null());
    }
}
