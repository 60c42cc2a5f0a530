//! The application: state built once, the route table, and the server on a listener.

use std::fmt;
use std::net::TcpListener;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::middleware::{ErrorHandlers, Logger};
use actix_web::{web, App, HttpServer};

use crate::db::Pool;
use crate::gate::HashGate;
use crate::metrics::Metrics;
use crate::password;
use crate::routes;
use crate::settings::Settings;
use crate::tokens::Keys;

/// Everything a request needs, shared by all workers.
#[derive(Clone)]
pub struct AppState(Arc<State>);

pub struct State {
    pub pool: Pool,
    pub keys: Keys,
    pub gate: HashGate,
    pub settings: Settings,
    pub metrics: Metrics,
    /// Checked instead of a real hash when there is none, so every failure costs the same.
    pub dummy_hash: String,
}

impl Deref for AppState {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

#[derive(Debug)]
pub struct StartupError(String);

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

impl AppState {
    pub fn new(pool: Pool, settings: Settings) -> Result<AppState, StartupError> {
        let conn = pool
            .get()
            .map_err(|e| StartupError(format!("cannot open the database: {e}")))?;
        let lifetime = settings.access_ttl.max(settings.refresh_ttl);
        let keys = Keys::load(&conn, lifetime).map_err(StartupError)?;
        drop(conn);
        let gate = HashGate::for_this_machine()
            .map_err(|e| StartupError(format!("cannot start the hashing threads: {e}")))?;
        let metrics =
            Metrics::new().map_err(|e| StartupError(format!("cannot set up metrics: {e}")))?;
        Ok(AppState(Arc::new(State {
            dummy_hash: password::dummy_hash(settings.pbkdf2_iterations),
            pool,
            keys,
            gate,
            settings,
            metrics,
        })))
    }
}

/// Serves the API on `listener` until the returned server is stopped or gets SIGTERM/SIGINT.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    // Blocking SQLite work goes to each worker's bounded blocking pool.
    let blocking_threads = 8;
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
            .configure(routes::configure)
    })
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}
