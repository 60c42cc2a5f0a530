//! The state built once and shared by every request, and the upkeep thread
//! that prunes what it no longer needs. Nothing here knows about HTTP.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;

use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::gate::HashGate;
use crate::metrics::Metrics;
use crate::password;
use crate::settings::Settings;
use crate::store::{failures, sessions};
use crate::tokens::{Keys, Policy, Sealer};
use crate::writer::Writer;

/// Everything a request needs, shared by all workers.
#[derive(Clone)]
pub struct AppState(Arc<State>);

pub struct State {
    pub pool: Pool,
    pub keys: Keys,
    pub gate: HashGate,
    pub settings: Settings,
    pub metrics: Metrics,
    /// Every write of a request goes through this one thread.
    pub writer: Writer,
    /// Checked instead of a real hash when there is none, so every failure costs the same.
    pub dummy_hash: String,
    /// Seals secrets stored in the database with the master key, if there is one.
    pub sealer: Sealer,
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
        let sealer =
            Sealer::from_option(settings.master_key_file.as_deref()).map_err(StartupError)?;
        let policy = Policy {
            lifetime: settings.access_ttl.max(settings.refresh_ttl),
            audience: settings.audience.clone(),
            algorithm: settings.algorithm,
            sealer: sealer.clone(),
        };
        let keys = Keys::open(&conn, policy).map_err(StartupError)?;
        drop(conn);
        let gate = HashGate::for_this_machine()
            .map_err(|e| StartupError(format!("cannot start the hashing threads: {e}")))?;
        let metrics =
            Metrics::new().map_err(|e| StartupError(format!("cannot set up metrics: {e}")))?;
        let writer = pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|conn| Writer::start(conn).map_err(|e| e.to_string()))
            .map_err(|e| StartupError(format!("cannot start the writer thread: {e}")))?;
        let state = Arc::new(State {
            dummy_hash: password::dummy_hash(settings.pbkdf2_iterations),
            pool,
            keys,
            gate,
            settings,
            metrics,
            writer,
            sealer,
        });
        start_upkeep(Arc::downgrade(&state))
            .map_err(|e| StartupError(format!("cannot start the upkeep thread: {e}")))?;
        Ok(AppState(state))
    }
}

impl State {
    /// Drops sessions whose newest token has expired, and failures past the window.
    fn prune(&self) -> Result<(), ApiError> {
        let (now, lockout) = (db::now(), self.settings.lockout);
        self.in_chunks(move |conn| Ok(sessions::prune_expired(conn, now)?))?;
        self.in_chunks(move |conn| Ok(failures::prune(conn, now, lockout, sessions::PRUNE_CHUNK)?))
    }

    /// Clears the answers kept for the reuse grace once it has passed.
    fn clear_grace_answers(&self) -> Result<(), ApiError> {
        let spent_before_ms = db::now_ms().saturating_sub(self.settings.reuse_grace * 1000);
        self.in_chunks(move |conn| Ok(sessions::clear_grace_answers(conn, spent_before_ms)?))
    }

    /// Runs a chunked pruning statement until it runs out of rows, one write each,
    /// so that requests' writes go in between.
    fn in_chunks<F>(&self, chunk: F) -> Result<(), ApiError>
    where
        F: Fn(&Connection) -> Result<usize, ApiError> + Clone + Send + 'static,
    {
        while self.writer.write(chunk.clone())? >= sessions::PRUNE_CHUNK as usize {}
        Ok(())
    }
}

const TICK: Duration = Duration::from_secs(1);
const PRUNE_EVERY: u32 = 3600;
/// Grace answers go within a minute after the grace: a sweep every 20 s.
const CLEAR_GRACE_EVERY: u32 = 20;

/// Prunes expired rows every hour (and at start), and clears grace answers,
/// until the state is dropped.
fn start_upkeep(state: Weak<State>) -> std::io::Result<()> {
    thread::Builder::new()
        .name("authlite-upkeep".into())
        .spawn(move || {
            for tick in 0u32.. {
                thread::sleep(TICK);
                let Some(state) = state.upgrade() else { return };
                if tick % PRUNE_EVERY == 0 {
                    if let Err(e) = state.prune() {
                        log::warn!("pruning expired rows failed: {e}");
                    }
                }
                if tick % CLEAR_GRACE_EVERY == 0 {
                    if let Err(e) = state.clear_grace_answers() {
                        log::warn!("clearing reuse-grace answers failed: {e}");
                    }
                }
            }
        })
        .map(drop)
}
