//! GET /docs, the API reference (SPEC §9): the page and the renderer it loads,
//! both from the binary. tests/tools/docs_page.rs renders it in Chromium.

use crate::helpers::{spawn_app, Req};

const RENDERER: &str = "/docs/rapidoc-9.3.8/rapidoc-min.js";
const VENDORED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/static/vendor/rapidoc-9.3.8/");

#[test]
fn the_reference_page_may_load_only_from_this_server() {
    let app = spawn_app();

    let page = app.get("/docs");

    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let policy = page.header("content-security-policy").unwrap_or_default();
    for rule in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(rule), "{rule} missing from {policy}");
    }
    assert!(page.text.contains("<title>authlite API reference</title>"));
    assert!(page
        .text
        .contains(&format!("<script type=\"module\" src=\"{RENDERER}\">")));
    assert!(page.text.contains("spec-url=\"/openapi.json\""));
    assert!(page.text.contains("load-fonts=\"false\""));
    assert!(
        !page.text.contains("http"),
        "an address elsewhere: {}",
        page.text
    );
}

#[test]
fn the_renderer_is_the_vendored_build_kept_a_year_with_its_licences_beside_it() {
    let app = spawn_app();

    let script = app.get(RENDERER);

    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        script.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let vendored = std::fs::read_to_string(format!("{VENDORED}rapidoc-min.js")).expect("vendored");
    assert!(
        script.text == vendored,
        "the binary serves another renderer: cargo build"
    );
    for licence in ["LICENSE.txt", "rapidoc-min.js.LICENSE.txt"] {
        let served = app.get(&format!("/docs/rapidoc-9.3.8/{licence}"));
        assert_eq!(served.status, 200, "{licence}");
        assert_eq!(
            served.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        let file = std::fs::read_to_string(format!("{VENDORED}{licence}")).expect("licence");
        assert_eq!(served.text, file, "{licence}");
    }
}

#[test]
fn nothing_else_is_served_under_docs() {
    let app = spawn_app();
    for path in [
        "/docs/",
        "/docs/rapidoc-9.3.8/",
        "/docs/rapidoc-9.3.8/rapidoc.js",
        "/docs/rapidoc-9.3.8/..%2F..%2Fstatic%2Findex.html",
        "/docs/rapidoc-9.3.7/rapidoc-min.js",
        "/docs.html",
    ] {
        app.send(Req::new("GET", path))
            .assert_error(404, "NOT_FOUND");
    }
}
