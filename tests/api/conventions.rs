//! SPEC §2's conventions, at every endpoint: only a JSON object is a request
//! body, GET endpoints answer HEAD, a 405 says which methods the path takes.

use serde_json::json;

use crate::helpers::*;

/// Every endpoint that reads a JSON body. Endpoints added later belong here.
const JSON_ENDPOINTS: &[&str] = &[
    "/user/login",
    "/user/refresh",
    "/user/logout",
    "/user/password",
    "/user/password/reset",
];

#[test]
fn a_body_that_is_not_a_json_object_is_invalid_request_at_every_json_endpoint() {
    let app = spawn_app();
    // The password change checks its bearer first.
    let access = app.login_ok(ADA, ADA_PASSWORD).access;
    let array = json!([ADA, ADA_PASSWORD]).to_string();
    for path in JSON_ENDPOINTS {
        for body in [array.as_str(), "\"x\"", "1", "true", "[]", " null"] {
            if *path == "/user/logout" && body.trim() == "null" {
                continue; // an optional body: null is no body (see below)
            }
            let resp = app.send(
                Req::new("POST", path)
                    .bearer(&access)
                    .raw("application/json", body),
            );
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

/// Every path, one of each shape, with the methods it takes. Paths added later belong here.
const PATHS: &[(&str, &str)] = &[
    ("/user/login", "POST"),
    ("/user/refresh", "POST"),
    ("/user/logout", "POST"),
    ("/user/password", "POST"),
    ("/user/password/reset", "POST"),
    ("/user/me", "GET, HEAD"),
    ("/user/sessions", "GET, HEAD"),
    ("/user/sessions/some-sid", "DELETE"),
    ("/.well-known/jwks.json", "GET, HEAD"),
    ("/client/authlite-client.js", "GET, HEAD"),
    ("/.well-known/openid-configuration", "GET, HEAD"),
    ("/healthz", "GET, HEAD"),
    ("/metrics", "GET, HEAD"),
    ("/openapi.json", "GET, HEAD"),
    ("/", "GET, HEAD"),
    ("/docs", "GET, HEAD"),
    ("/docs/rapidoc-9.3.8/rapidoc-min.js", "GET, HEAD"),
    ("/favicon.ico", "GET, HEAD"),
];

#[test]
fn every_method_a_path_does_not_take_is_405_with_an_allow_header() {
    let app = spawn_app();
    for (path, allow) in PATHS {
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
            if allow.split(", ").any(|m| m == method) {
                continue;
            }
            let resp = app.send(Req::new(method, path));
            assert_eq!(resp.status, 405, "{method} {path}: {}", resp.text);
            assert_eq!(resp.header("allow"), Some(*allow), "{method} {path}");
            if method != "HEAD" {
                resp.assert_error(405, "METHOD_NOT_ALLOWED");
            }
        }
    }
}

#[test]
fn every_get_endpoint_answers_head_with_the_same_head_and_no_body() {
    let app = spawn_app();
    for (path, allow) in PATHS.iter().filter(|(_, allow)| allow.contains("HEAD")) {
        let get = app.get(path);
        let head = app.send(Req::new("HEAD", path));
        assert_eq!(head.status, get.status, "HEAD {path} ({allow})");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
        assert_eq!(head.text, "", "HEAD {path} has a body");
    }
}

#[test]
fn a_fresh_server_shows_every_login_and_refresh_outcome_at_zero() {
    let app = spawn_app();

    let text = app.get("/metrics").text;

    for outcome in [
        "ok",
        "USER_NOT_FOUND",
        "NO_PASSWORD_SET",
        "INVALID_PASSWORD",
        "USER_INACTIVE",
        "TOO_MANY_ATTEMPTS",
        "SERVER_BUSY",
        "INTERNAL_ERROR",
    ] {
        let line = format!("authlite_logins_total{{outcome=\"{outcome}\"}} 0");
        assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
    }
    for outcome in [
        "ok",
        "INVALID_TOKEN",
        "TOKEN_EXPIRED",
        "TOKEN_REVOKED",
        "TOKEN_REUSED",
        "USER_NOT_FOUND",
        "USER_INACTIVE",
        "SERVER_BUSY",
        "INTERNAL_ERROR",
    ] {
        let line = format!("authlite_refreshes_total{{outcome=\"{outcome}\"}} 0");
        assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
    }
}

#[test]
fn a_counted_outcome_moves_from_zero_to_one() {
    let app = spawn_app();
    app.login(ADA, "wrong password")
        .assert_error(401, "INVALID_PASSWORD");

    let text = app.get("/metrics").text;

    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("authlite_logins_total{"))
        .collect();
    assert!(lines.contains(&"authlite_logins_total{outcome=\"INVALID_PASSWORD\"} 1"));
    assert!(lines.contains(&"authlite_logins_total{outcome=\"ok\"} 0"));
}
