//! GET /admin/ (and /admin): the admin console of SPEC section 9, built into
//! the binary like the login page. The page itself is public; every call it
//! makes to the admin API carries the signed-in admin's token.

use actix_web::{web, HttpResponse};

use super::ops::page;

const PAGE: &str = include_str!("../../static/admin.html");
const SCRIPT: &str = include_str!("../../static/admin.js");

async fn console() -> HttpResponse {
    page("admin.html", PAGE.as_bytes().to_vec())
}

async fn script() -> HttpResponse {
    page("admin.js", SCRIPT.as_bytes().to_vec())
}

/// Registered before the catch-all `/{file}`, which would take `/admin`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let not_allowed = || web::to(|| super::method_not_allowed("GET, HEAD"));
    for path in ["/admin", "/admin/"] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(console))
                .route(web::head().to(console))
                .default_service(not_allowed()),
        );
    }
    cfg.service(
        web::resource("/admin/admin.js")
            .route(web::get().to(script))
            .route(web::head().to(script))
            .default_service(not_allowed()),
    );
}
