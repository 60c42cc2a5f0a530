//! The route table, and the server on a listener.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, Service};
use actix_web::middleware::{ErrorHandlers, Logger};
use actix_web::{web, App, HttpServer};

use crate::oidc;
use crate::openapi;
use crate::routes;
use crate::state::AppState;

/// Serves the API on `listener` until the returned server is stopped or gets SIGTERM/SIGINT.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    // Reads, signing and the wait for the writer run on each worker's bounded
    // blocking pool; 8 per worker keeps the writer's batches full.
    let blocking_threads = crate::store::BLOCKING_THREADS_PER_WORKER;
    let server = HttpServer::new(move || {
        let trusted = data.settings.trusted_proxies.clone();
        let timed = data.clone();
        App::new()
            .app_data(data.clone())
            .wrap(ErrorHandlers::new().default_handler(routes::json_error_body))
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
                let method = req.method().clone();
                let state = timed.clone();
                let answer = srv.call(req);
                async move {
                    let res = answer.await?;
                    let seconds = started.elapsed().as_secs_f64();
                    state
                        .metrics
                        .observe(method.as_str(), &route, res.status().as_u16(), seconds);
                    Ok(res)
                }
            })
            .wrap(
                Logger::new("%{client}xi \"%{method}xi %U\" %s %b %Dms")
                    .custom_request_replace("method", |req| req.method().to_string())
                    .custom_request_replace("client", move |req| {
                        routes::client_ip(req.request(), &trusted)
                            .map_or_else(|| "-".to_string(), |ip| ip.to_string())
                    }),
            )
            .configure(configure)
    })
    .worker_max_blocking_threads(blocking_threads)
    // The request head, like the body (routes::request), must arrive within 10 s.
    .client_request_timeout(Duration::from_secs(10))
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post("/user/login", routes::login::login))
        .service(post("/user/login/mfa", routes::login_mfa::login_mfa))
        .service(post("/user/refresh", routes::refresh::refresh))
        .service(post("/user/logout", routes::session::logout))
        .service(get("/user/me", routes::session::me))
        .service(post("/user/password", routes::password::change))
        .service(post("/user/password/reset", routes::password::reset))
        .service(post(
            "/user/password/forgot",
            routes::email::forgot_password,
        ))
        .service(post("/user/register", routes::register::register_user))
        .service(post(
            "/user/register/confirm",
            routes::register::confirm_registration,
        ))
        .service(get("/features", routes::email::features))
        .service(get("/user/sessions", routes::session::list))
        .service(get("/user/mfa", routes::mfa::summary))
        .service(
            web::resource("/user/mfa/totp")
                .route(web::post().to(routes::mfa::enrol))
                .route(web::delete().to(routes::mfa::disable))
                .default_service(web::to(|| routes::method_not_allowed("POST, DELETE"))),
        )
        .service(post("/user/mfa/totp/confirm", routes::mfa::confirm))
        .service(post("/user/passkeys/register", routes::passkeys::register))
        .service(post(
            "/user/passkeys/register/finish",
            routes::passkeys::register_finish,
        ))
        .service(get("/user/passkeys", routes::passkeys::list))
        .service(post("/user/passkeys/login", routes::login_passkey::login))
        .service(post(
            "/user/passkeys/login/finish",
            routes::login_passkey::login_finish,
        ))
        // After the fixed paths above, which it would match too.
        .service(
            web::resource("/user/passkeys/{id}")
                .route(web::delete().to(routes::passkeys::remove))
                .default_service(web::to(|| routes::method_not_allowed("DELETE"))),
        )
        .service(post(
            "/user/mfa/recovery-codes",
            routes::mfa::new_recovery_codes,
        ))
        .service(
            web::resource("/user/sessions/{sid}")
                .route(web::delete().to(routes::session::revoke))
                .default_service(web::to(|| routes::method_not_allowed("DELETE"))),
        )
        .service(
            web::resource("/admin/api-keys")
                .route(web::get().to(routes::admin::api_keys::list))
                .route(web::head().to(routes::admin::api_keys::list))
                .route(web::post().to(routes::admin::api_keys::create))
                .default_service(web::to(|| routes::method_not_allowed("GET, HEAD, POST"))),
        )
        .service(
            web::resource("/admin/api-keys/{id}")
                .route(web::delete().to(routes::admin::api_keys::revoke))
                .default_service(web::to(|| routes::method_not_allowed("DELETE"))),
        )
        .service(get("/.well-known/jwks.json", routes::keys::jwks))
        .service(get(
            "/.well-known/openid-configuration",
            routes::keys::openid_configuration,
        ))
        .service(get("/oauth/authorize", oidc::authorize::authorize))
        .service(post(
            "/oauth/continue",
            oidc::continuation::continue_request,
        ))
        .service(post("/oauth/token", oidc::token::token))
        .service(
            web::resource("/oauth/userinfo")
                .route(web::get().to(oidc::userinfo::userinfo))
                .route(web::head().to(oidc::userinfo::userinfo))
                .route(web::post().to(oidc::userinfo::userinfo_post))
                .default_service(web::to(|| routes::method_not_allowed("GET, HEAD, POST"))),
        )
        .service(get("/oauth/logout", oidc::logout::logout))
        .configure(routes::admin::configure)
        .configure(routes::console::configure)
        .service(get("/healthz", routes::ops::healthz))
        .service(get("/metrics", routes::ops::metrics))
        .service(get("/openapi.json", openapi::serve))
        .service(get("/", routes::ops::index))
        .service(get("/docs", routes::docs::page))
        .service(get(routes::docs::VENDOR_PATH, routes::docs::vendor))
        .service(get(
            "/client/authlite-client.js",
            routes::ops::client_module,
        ))
        .service(get("/{file}", routes::ops::static_file))
        .default_service(web::to(routes::not_found));
}

fn post<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(|| routes::method_not_allowed("POST")))
}

/// A GET endpoint also answers HEAD: the same head, no body (actix drops it).
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(|| routes::method_not_allowed("GET, HEAD")))
}
