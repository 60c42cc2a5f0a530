//! The real App started inside the test process on 127.0.0.1:0, over a
//! temporary database: an SQLite file, or, with `AUTHLITE_TEST_API_POSTGRES`
//! set to an admin URL, a PostgreSQL database made for the test and dropped
//! after it (`.ci/run` runs the HTTP suite both ways).

use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use authlite::settings::Settings;

use super::cast::seed_json;

/// The database a test's servers share: an SQLite file, or a PostgreSQL
/// database made for the test and dropped after it.
pub struct TestDatabase {
    /// What `--db` names: the SQLite file's path, or a PostgreSQL URL.
    pub target: String,
    postgres_admin: Option<String>,
}

impl TestDatabase {
    /// `sqlite_file`, or a new PostgreSQL database when the run asks for one.
    pub fn new(sqlite_file: &Path) -> TestDatabase {
        let Ok(admin) = std::env::var("AUTHLITE_TEST_API_POSTGRES") else {
            return TestDatabase::sqlite(sqlite_file);
        };
        let name = format!("authlite_api_{}", authlite::ids::new_id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .expect("connect to AUTHLITE_TEST_API_POSTGRES");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let (base, _) = admin.rsplit_once('/').expect("a URL ending in /DATABASE");
        TestDatabase {
            target: format!("{base}/{name}"),
            postgres_admin: Some(admin),
        }
    }

    /// A new database (see `new`) with the seed cast in it, hashed at `seed_iterations`.
    pub fn seeded(sqlite_file: &Path, seed_iterations: u32) -> TestDatabase {
        let database = TestDatabase::new(sqlite_file);
        let db = database.open();
        authlite::seed::apply(&db, &seed_json(), "test seed", seed_iterations, false)
            .expect("apply the test seed");
        database
    }

    pub fn sqlite(file: &Path) -> TestDatabase {
        TestDatabase {
            target: file.to_string_lossy().into_owned(),
            postgres_admin: None,
        }
    }

    pub fn on_postgres(&self) -> bool {
        self.postgres_admin.is_some()
    }

    pub fn open(&self) -> authlite::store::Database {
        authlite::store::Database::open(&self.target, Default::default())
            .expect("open the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin) = &self.postgres_admin else {
            return;
        };
        let name = self.target.rsplit('/').next().unwrap_or_default();
        if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A server running on a thread of its own; stopped when dropped.
pub struct InProcess {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub address: String,
    handle: Option<ServerHandle>,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    /// Serves the database `db` on a free port; returns once it listens.
    pub fn start(db: &str, settings: Settings) -> InProcess {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
        InProcess::start_on(listener, db, settings)
    }

    /// Like `start`, on a listener bound already (for settings that name its URL).
    pub fn start_on(listener: TcpListener, db: &str, settings: Settings) -> InProcess {
        let port = listener.local_addr().expect("local addr").port();
        let (tx, rx) = mpsc::channel::<Result<ServerHandle, String>>();
        let db = db.to_string();
        let thread = std::thread::spawn(move || {
            // Opened outside the runtime, as `authlite serve` does: the PostgreSQL
            // client blocks on a runtime of its own.
            let state = match authlite::store::Database::open(&db, Default::default())
                .map_err(|e| format!("open: {e:?}"))
                .and_then(|pool| {
                    authlite::state::AppState::new(pool, settings)
                        .map_err(|e| format!("state: {e:?}"))
                }) {
                Ok(state) => state,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            // The last handle on the state is dropped here, outside the runtime too.
            let running = state.clone();
            actix_web::rt::System::new().block_on(async move {
                match authlite::app::run(listener, running) {
                    Ok(server) => {
                        let _ = tx.send(Ok(server.handle()));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("run: {e:?}")));
                    }
                }
            });
            drop(state);
        });
        let handle = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server thread answers")
            .expect("the server starts");
        InProcess {
            address: format!("http://127.0.0.1:{port}"),
            handle: Some(handle),
            thread: Some(thread),
        }
    }

    /// Stops the server and waits for its thread to end, as a restart would.
    pub fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            drop(handle.stop(false));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // The stop command is sent at once; nobody needs to wait for it.
            drop(handle.stop(false));
        }
    }
}
