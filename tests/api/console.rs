//! The admin console's page (SPEC section 9): served at /admin/ and /admin
//! without a token, beside the admin API that still wants one. Its flows are
//! tested in Chromium by clients/typescript/test/console.test.mjs.

use crate::helpers::*;

const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                      script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

#[test]
fn the_console_is_served_at_admin_with_and_without_the_slash_and_needs_no_token() {
    let app = spawn_app();

    for path in ["/admin/", "/admin"] {
        let resp = app.get(path);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(resp.header("content-security-policy"), Some(POLICY));
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert!(
            resp.text.contains("<title>Admin · authlite</title>"),
            "{path}"
        );
        assert!(resp.text.contains("<label for=\"email\">Email</label>"));
        assert!(resp
            .text
            .contains("<label for=\"password\">Password</label>"));
    }
}

#[test]
fn the_console_script_is_javascript_that_imports_the_served_client() {
    let app = spawn_app();

    let resp = app.get("/admin/admin.js");

    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(resp.text.contains("from \"../client/authlite-client.js\""));
}

#[test]
fn the_console_loads_nothing_from_outside() {
    let app = spawn_app();

    for path in ["/admin/", "/admin/admin.js"] {
        let text = app.get(path).text.to_lowercase().replace('\'', "\"");
        for needle in [
            "src=\"http",
            "src=\"//",
            "href=\"http",
            "href=\"//",
            "url(http",
            "url(\"http",
            "url(//",
            "from \"http",
            "import(\"http",
        ] {
            assert!(
                !text.contains(needle),
                "{path} loads from outside: {needle}"
            );
        }
    }
}

#[test]
fn the_console_answers_head_and_refuses_other_methods_while_the_admin_api_still_wants_a_token() {
    let app = spawn_app();

    for path in ["/admin/", "/admin", "/admin/admin.js"] {
        let head = app.send(Req::new("HEAD", path));
        assert_eq!((head.status, head.text.as_str()), (200, ""), "HEAD {path}");
        let post = app.send(Req::new("POST", path));
        assert_eq!(post.error_shape(), Ok("METHOD_NOT_ALLOWED".to_string()));
        assert_eq!(
            (post.status, post.header("allow")),
            (405, Some("GET, HEAD")),
            "POST {path}"
        );
    }
    app.get("/admin/users").assert_error(401, "MISSING_TOKEN");
    app.get("/admin/nothing").assert_error(404, "NOT_FOUND");
}
