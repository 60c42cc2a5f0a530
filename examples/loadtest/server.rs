//! The servers under test: authlite in-process over a seeded database, and a
//! bare actix-web handler (the framework's own ceiling) to measure it against.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use actix_web::{web, App, HttpResponse, HttpServer};
use authlite::clock::now;
use authlite::ids::new_id;
use authlite::settings::Settings;
use authlite::store::{Database, Status, StoreError, User};

use crate::Options;

pub const PASSWORD: &str = "load test pass phrase";
/// Workers of the bare server: as many as authlite's on the 2-core box it is compared on.
pub const BARE_WORKERS: usize = 2;

/// An SQLite database at `db`, seeded, served on its own thread.
pub fn start_server(db: &Path, opts: &Options) -> SocketAddr {
    let db = Database::sqlite(db).expect("open the database");
    seed(&db, opts.users, opts.iterations);
    serve(db, opts)
}

/// One authlite instance on `db`, on a port and a thread of its own.
pub fn serve(db: Database, opts: &Options) -> SocketAddr {
    let settings = Settings {
        pbkdf2_iterations: opts.iterations,
        ..Settings::default()
    };
    serve_with(db, settings)
}

/// One authlite instance on `db` with these settings.
pub fn serve_with(db: Database, settings: Settings) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = listener.local_addr().expect("a local address");
    let (ready, started) = mpsc::channel();
    thread::spawn(move || {
        // Outside the runtime, as `authlite serve` does: opening may block on the database.
        let state = authlite::state::AppState::new(db, settings).expect("server state");
        actix_web::rt::System::new().block_on(async move {
            let server = authlite::app::run(listener, state).expect("server start");
            let _ = ready.send(());
            server.await
        })
    });
    started.recv().expect("the server thread starts");
    addr
}

/// `count` users sharing one hash (hashing 200 passwords at 600,000
/// iterations would take longer than the runs), in one transaction.
pub fn seed(db: &Database, count: usize, iterations: u32) {
    let phc = authlite::password::hash(PASSWORD, iterations).expect("a hash");
    db.transaction(|store| {
        store.upsert_org("load", "Load Test")?;
        for n in 0..count {
            let user = User {
                id: new_id(),
                email: email(n),
                name: format!("User {n}"),
                org_id: Some("load".into()),
                password_hash: Some(phc.clone()),
                status: Status::Active,
                created_at: now(),
                roles: vec![],
            };
            store.insert_user(&user, now())?;
        }
        Ok::<_, StoreError>(())
    })
    .expect("the seed");
}

pub fn email(n: usize) -> String {
    format!("user{n}@load.test")
}

/// A JSON body of exactly `bytes` bytes (at least the 26 of its frame).
pub fn bare_body(bytes: usize) -> String {
    let frame = r#"{"success":true,"user":""}"#;
    format!(
        r#"{{"success":true,"user":"{}"}}"#,
        "x".repeat(bytes.saturating_sub(frame.len()))
    )
}

/// Serves `GET /bare` with `body` on 2 workers, on its own thread: no database,
/// no middleware, the same answer every time.
pub fn start_bare(body: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = listener.local_addr().expect("a local address");
    let (ready, started) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let body = web::Bytes::from(body);
            let server = HttpServer::new(move || {
                let body = body.clone();
                App::new().route(
                    "/bare",
                    web::get().to(move || {
                        let body = body.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    }),
                )
            })
            .workers(BARE_WORKERS)
            .listen(listener)
            .expect("listen")
            .run();
            let _ = ready.send(());
            server.await
        })
    });
    started.recv().expect("the bare server thread starts");
    addr
}
