//! SPEC §2's conventions, at every endpoint: only a JSON object is a request
//! body, GET endpoints answer HEAD, a 405 says which methods the path takes.

use serde_json::json;

use crate::helpers::*;

/// Every endpoint that reads a JSON body. Endpoints added later belong here.
const JSON_ENDPOINTS: &[&str] = &["/user/login", "/user/refresh", "/user/logout"];

#[test]
fn a_body_that_is_not_a_json_object_is_invalid_request_at_every_json_endpoint() {
    let app = spawn_app();
    let array = json!([ADA, ADA_PASSWORD]).to_string();
    for path in JSON_ENDPOINTS {
        for body in [array.as_str(), "\"x\"", "1", "true", "[]", " null"] {
            if *path == "/user/logout" && body.trim() == "null" {
                continue; // an optional body: null is no body (see below)
            }
            let resp = app.send(Req::new("POST", path).raw("application/json", body));
            assert_eq!(
                (resp.status, resp.error_shape()),
                (400, Ok("INVALID_REQUEST".to_string())),
                "POST {path} with {body}: {}",
                resp.text
            );
        }
    }
}

#[test]
fn an_array_holding_the_right_email_and_password_does_not_log_in() {
    let app = spawn_app();
    let body = json!([ADA, ADA_PASSWORD]).to_string();

    let resp = app.send(Req::new("POST", "/user/login").raw("application/json", body));

    resp.assert_error(400, "INVALID_REQUEST");
}

#[test]
fn a_null_logout_body_is_no_body() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    let anonymous = app.send(Req::new("POST", "/user/logout").raw("application/json", "null"));
    let with_bearer = app.send(
        Req::new("POST", "/user/logout")
            .bearer(&tokens.access)
            .raw("application/json", "null"),
    );

    anonymous.assert_error(401, "MISSING_TOKEN");
    with_bearer.assert_success();
    app.me(&tokens.access).assert_error(401, "TOKEN_REVOKED");
}
