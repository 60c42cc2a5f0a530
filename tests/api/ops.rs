//! Operational endpoints, the login page, and how requests that miss are answered.

use authlite::error::ErrorCode;
use authlite::settings::Settings;
use serde_json::json;

use crate::helpers::*;

#[test]
fn healthz_answers_ok() {
    let app = spawn_app();

    let resp = app.get("/healthz");

    assert_eq!((resp.status, resp.json()), (200, json!({ "status": "ok" })));
}

#[test]
fn the_root_serves_an_html_login_page_with_a_password_field() {
    let app = spawn_app();

    let resp = app.get("/");

    assert_eq!(resp.status, 200);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = resp.text.to_lowercase().replace('\'', "\"");
    assert!(
        page.contains("type=\"password\"") || page.contains("type=password"),
        "no password input in the page"
    );
}

#[test]
fn the_login_page_loads_nothing_from_outside() {
    let app = spawn_app();

    let page = app.get("/").text.to_lowercase().replace('\'', "\"");

    for needle in [
        "src=\"http:",
        "src=\"https:",
        "src=\"//",
        "url(http",
        "url(\"http",
        "url(//",
        "@import \"http",
    ] {
        assert!(
            !page.contains(needle),
            "the page loads an outside resource: {needle}"
        );
    }
    for tag in page.split("<link").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        assert!(
            !tag.contains("href=\"http") && !tag.contains("href=\"//"),
            "the page links an outside resource: <link{tag}>"
        );
    }
}

#[test]
fn with_a_static_dir_the_login_page_comes_from_that_directory() {
    let pages = tempfile::tempdir().expect("temp dir");
    let marker = "<!doctype html><title>custom</title><input type=\"password\"> custom-page-7f3a";
    std::fs::write(pages.path().join("index.html"), marker).expect("write index.html");
    let app = spawn_app_with(Settings {
        static_dir: Some(pages.path().to_path_buf()),
        ..test_settings()
    });

    let resp = app.get("/");

    assert_eq!(resp.status, 200, "{}", resp.text);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(resp.text.contains("custom-page-7f3a"), "{}", resp.text);
}

#[test]
fn an_unknown_path_is_404_with_the_error_shape() {
    let app = spawn_app();

    app.get("/no/such/page").assert_error(404, "NOT_FOUND");
    app.post_json("/user/nothing", &json!({}))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn a_wrong_method_is_405_with_the_error_shape() {
    let app = spawn_app();

    for (method, path) in [
        ("GET", "/user/login"),
        ("GET", "/user/refresh"),
        ("PUT", "/user/logout"),
        ("DELETE", "/user/me"),
        ("POST", "/user/sessions"),
        ("POST", "/.well-known/jwks.json"),
    ] {
        let resp = app.send(Req::new(method, path));
        assert_eq!(
            (resp.status, resp.error_shape()),
            (405, Ok("METHOD_NOT_ALLOWED".to_string())),
            "{method} {path}: {}",
            resp.text
        );
    }
}

#[test]
fn a_post_that_is_not_json_is_415_with_the_error_shape() {
    let app = spawn_app();
    let body = json!({ "email": ADA, "password": ADA_PASSWORD }).to_string();

    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "text/html; charset=utf-8",
    ] {
        for path in ["/user/login", "/user/refresh", "/user/logout"] {
            let resp = app.send(Req::new("POST", path).raw(content_type, &body));
            assert_eq!(
                (resp.status, resp.error_shape()),
                (415, Ok("UNSUPPORTED_MEDIA_TYPE".to_string())),
                "{content_type} to {path}: {}",
                resp.text
            );
        }
    }
}

#[test]
fn a_json_body_without_a_content_type_or_with_a_charset_is_read() {
    let app = spawn_app();
    let body = json!({ "email": ADA, "password": ADA_PASSWORD }).to_string();

    Tokens::from_resp(&app.send(Req::new("POST", "/user/login").bytes(&body)));
    Tokens::from_resp(
        &app.send(Req::new("POST", "/user/login").raw("application/json; charset=utf-8", &body)),
    );
}

#[test]
fn openapi_json_describes_every_endpoint() {
    let app = spawn_app();

    let resp = app.get("/openapi.json");

    assert_eq!(resp.status, 200, "{}", resp.text);
    let doc = resp.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "openapi version: {}",
        doc["openapi"]
    );
    let paths = &doc["paths"];
    for (method, path) in [
        ("post", "/user/login"),
        ("post", "/user/refresh"),
        ("post", "/user/logout"),
        ("get", "/user/me"),
        ("get", "/user/sessions"),
        ("get", "/.well-known/jwks.json"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/"),
        ("post", "/user/password"),
        ("post", "/user/password/reset"),
        ("get", "/.well-known/openid-configuration"),
        ("get", "/client/authlite-client.js"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} missing from {paths}"
        );
    }
    let delete = paths
        .as_object()
        .expect("paths object")
        .iter()
        .find(|(p, _)| p.starts_with("/user/sessions/{"))
        .map(|(_, item)| item["delete"].is_object());
    assert_eq!(delete, Some(true), "DELETE /user/sessions/{{sid}} missing");
}

#[test]
fn openapi_json_names_every_error_code_the_server_sends_and_no_other() {
    let app = spawn_app();

    let doc = app.get("/openapi.json").json();

    let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["ErrorCode"]["type"], "string");
    assert_eq!(schemas["ErrorCode"]["enum"], json!(all));
    assert!(all.contains(&"REQUEST_TIMEOUT"), "{all:?}");
    assert!(!all.contains(&"DATABASE_UNAVAILABLE"), "{all:?}");
    assert_eq!(
        schemas["ErrorBody"]["properties"]["error_code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let login = &doc["paths"]["/user/login"]["post"]["responses"];
    let codes = |status: &str| {
        login[status]["content"]["application/json"]["schema"]["properties"]["error_code"]["enum"]
            .clone()
    };
    assert_eq!(codes("408"), json!(["REQUEST_TIMEOUT"]));
    assert_eq!(codes("413"), json!(["PAYLOAD_TOO_LARGE"]));
    assert_eq!(codes("503"), json!(["SERVER_BUSY"]));
}

#[test]
fn metrics_are_prometheus_text_with_a_latency_histogram() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    app.refresh_ok(&tokens.refresh);

    let resp = app.get("/metrics");

    assert_eq!(resp.status, 200, "{}", resp.text);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(resp.text.contains("# TYPE"), "{}", resp.text);
    assert!(resp.text.contains("_bucket{"), "{}", resp.text);
    assert!(resp.text.contains("le=\"+Inf\""), "{}", resp.text);
    let metrics = resp.text.to_lowercase();
    assert!(metrics.contains("login"), "no login counts: {}", resp.text);
    assert!(
        metrics.contains("refresh"),
        "no refresh counts: {}",
        resp.text
    );
}

#[test]
fn metrics_count_logins_and_refreshes_by_outcome_as_they_happen() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    app.login(ADA, "wrong")
        .assert_error(401, "INVALID_PASSWORD");
    app.login(UNKNOWN, "wrong")
        .assert_error(401, "USER_NOT_FOUND");
    app.refresh_ok(&tokens.refresh);
    app.refresh("garbage").assert_error(401, "INVALID_TOKEN");

    let text = app.get("/metrics").text;

    for line in [
        "authlite_logins_total{outcome=\"ok\"} 1",
        "authlite_logins_total{outcome=\"INVALID_PASSWORD\"} 1",
        "authlite_logins_total{outcome=\"USER_NOT_FOUND\"} 1",
        "authlite_refreshes_total{outcome=\"ok\"} 1",
        "authlite_refreshes_total{outcome=\"INVALID_TOKEN\"} 1",
        "authlite_active_sessions 1",
        "authlite_hash_queue_depth 0",
        "authlite_http_request_duration_seconds_count{method=\"POST\",route=\"/user/login\",status=\"401\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
    }
    assert!(!text.contains(ADA), "an email in the metrics");
}

#[test]
fn the_openapi_document_passes_an_openapi_validator() {
    let app = spawn_app();
    let doc = app.get("/openapi.json").text;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, doc).unwrap();

    let validator = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output();
    let ran = validator
        .as_ref()
        .is_ok_and(|out| !String::from_utf8_lossy(&out.stderr).contains("No module named"));
    if !ran {
        assert!(
            std::env::var("AUTHLITE_REQUIRE_EXAMPLES").as_deref() != Ok("1"),
            "openapi-spec-validator is not installed (pip install openapi-spec-validator)"
        );
        eprintln!("OPENAPI VALIDATION NOT RUN: pip install openapi-spec-validator");
        return;
    }
    let out = validator.unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
