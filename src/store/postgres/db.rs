//! An open PostgreSQL database: its pool, and the ways work runs on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::batch::Batcher;
use super::conn::{Conn, Manager};
use super::{describe, listen, migrate, url, PgStore, KEY_LOCK};
use crate::store::{KeyStore, Result, Rotation, Store, StoreError, BLOCKING_THREADS_PER_WORKER};

/// How long a request waits for a pooled connection (a dead database answers
/// 503 after this), and how long a probe's answer stands.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);
const PROBE_FRESH: Duration = Duration::from_secs(1);
/// A pooled connection unused this long is closed (down to one).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long opening may wait for the first connection.
const OPEN_TIMEOUT: Duration = Duration::from_secs(4);

/// Connections a pool may open (on demand): one for every thread that may ask
/// at once (each worker's blocking threads, each hashing thread, the upkeep
/// thread). Not fewer: a request that reads may write with a second connection
/// while it holds the first, so a pool smaller than the blocking threads could
/// leave every one of them waiting for another's. 20 on 2 cores.
fn pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores * (BLOCKING_THREADS_PER_WORKER + 1) + 2).unwrap_or(u32::MAX)
}

type Pool = r2d2::Pool<Manager>;

/// An open PostgreSQL database: a pool of connections.
pub struct Db {
    pool: Pool,
    name: String,
    probed: Mutex<Option<(Instant, Result<()>)>>,
    /// Set when this is dropped: the listener, if any, then ends.
    closed: Arc<AtomicBool>,
    target: Arc<url::Target>,
    refreshes: Batcher,
}

impl Db {
    /// Connects, applies the schema steps, and builds the pool. An unreachable
    /// database or a bad URL fails within 5 s with one sentence naming the
    /// database without its password.
    pub fn open(url: &str) -> std::result::Result<Db, String> {
        let target = Arc::new(url::parse(url)?);
        let name = target.name.clone();
        connect_and_migrate(&target)?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size())
            .min_idle(Some(1))
            // An instance at rest gives back what a burst took: several
            // instances share the server's max_connections.
            .idle_timeout(Some(IDLE_TIMEOUT))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            // Costs no round trip: it marks the connection as just handed
            // out, so that its first statement may connect again once.
            .test_on_check_out(true)
            .build_unchecked(Manager {
                target: Arc::clone(&target),
            });
        Ok(Db {
            pool,
            name,
            probed: Mutex::new(None),
            closed: Arc::new(AtomicBool::new(false)),
            target,
            refreshes: Batcher::default(),
        })
    }

    /// Calls `changed` whenever any instance (or command) has ended sessions,
    /// changed a user's status or changed the keys, from a thread of its own.
    pub fn watch_changes(&self, changed: Box<dyn Fn() + Send>) -> std::io::Result<()> {
        let target = Arc::clone(&self.target);
        listen::start(target, Arc::clone(&self.closed), changed)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| {
            StoreError::Unavailable(format!("the database {} cannot be reached: {e}", self.name))
        })
    }

    /// A refresh's write, in one statement with those of the requests that
    /// come at the same time (see `batch.rs`), on `store`, a connection
    /// `read` gave, or on theirs.
    pub fn rotate_refresh(&self, store: &mut dyn Store, rotation: Rotation) -> Result<bool> {
        self.refreshes.rotate(store, rotation)
    }

    /// Each statement on its own, on a pooled connection: no transaction.
    pub fn read<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.connection()?;
        work(&mut PgStore(&mut conn))
    }

    /// One READ COMMITTED transaction, committed when `work` returns `Ok` and
    /// rolled back when it returns `Err` (or panics). What it reads stays
    /// true until it commits for the rows it writes or locks.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.locked_transaction(None, |store| work(store))
    }

    /// A change of the signing keys: a transaction that first takes the key
    /// lock, so that no other one changes the keys until it ends (under READ
    /// COMMITTED each statement after it sees what the one before it
    /// committed). So racing first starts make one first key between them;
    /// the partial unique index on the current key refuses a second one
    /// whatever happens.
    pub fn change_keys<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn KeyStore) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let lock = "SELECT pg_advisory_xact_lock($1, 0)";
        self.locked_transaction(Some(lock), |store| work(store))
    }

    /// Applying a seed file: a transaction that first takes the seeding lock,
    /// so that what one seed reads of orgs and users stays true until it
    /// commits, and of seeds racing, one creates each org and user.
    pub fn seeding<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let lock = "SELECT pg_advisory_xact_lock($1, 1)";
        self.locked_transaction(Some(lock), |store| work(store))
    }

    /// A transaction that runs `lock` (taking `KEY_LOCK` as its one
    /// parameter) before `work`.
    fn locked_transaction<T, E: From<StoreError>>(
        &self,
        lock: Option<&'static str>,
        work: impl FnOnce(&mut PgStore) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.connection()?;
        conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        let open = Open {
            conn: &mut conn,
            finished: false,
        };
        let locked = match lock {
            Some(lock) => open.conn.query_one(lock, &[&KEY_LOCK]).map(drop),
            None => Ok(()),
        };
        let done = match locked {
            Ok(()) => work(&mut PgStore(&mut *open.conn)),
            Err(e) => Err(e.into()),
        };
        open.finish(done)
    }

    /// Whether a write can be made now (for /healthz): a connection within
    /// CHECKOUT_TIMEOUT, on a database that takes writes (not a standby, not
    /// read-only). Callers within PROBE_FRESH of the last probe get its answer.
    pub fn can_write(&self) -> Result<()> {
        let mut probed = self.probed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, answer)) = probed.as_ref() {
            if at.elapsed() < PROBE_FRESH {
                return answer.clone();
            }
        }
        let answer = self.connection().and_then(|mut conn| {
            let row = conn.query_one(
                "SELECT current_setting('transaction_read_only') = 'off'",
                &[],
            )?;
            if row.try_get::<_, bool>(0)? {
                Ok(())
            } else {
                Err(StoreError::Unavailable(format!(
                    "the database {} takes no writes (read-only or a standby)",
                    self.name
                )))
            }
        });
        *probed = Some((Instant::now(), answer.clone()));
        answer
    }

    /// A pooled connection, for tests that look under the store.
    #[cfg(test)]
    pub(super) fn client(&self) -> r2d2::PooledConnection<Manager> {
        self.pool.get().unwrap()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

/// A transaction in progress: if `work` panics, it is rolled back as the
/// connection goes back to the pool, never left open for the next user.
struct Open<'c> {
    conn: &'c mut Conn,
    finished: bool,
}

impl Open<'_> {
    fn finish<T, E: From<StoreError>>(
        mut self,
        done: std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.finished = true;
        match done {
            Ok(done) => match self.conn.batch("COMMIT") {
                Ok(()) => Ok(done),
                Err(e) => {
                    let _ = self.conn.batch("ROLLBACK");
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = self.conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// Connects and applies the schema steps on a thread of its own: a server
/// that accepts the connection and then says nothing fails within
/// OPEN_TIMEOUT too, and the blocking client never runs on a thread that is
/// driving async tasks (which it cannot).
fn connect_and_migrate(target: &url::Target) -> std::result::Result<(), String> {
    let name = target.name.clone();
    let (config, tls) = (target.config.clone(), target.tls.clone());
    let (connected_tx, connected) = std::sync::mpsc::sync_channel(1);
    let (migrated_tx, migrated) = std::sync::mpsc::sync_channel(1);
    let shown = name.clone();
    std::thread::Builder::new()
        .name("authlite-pg-open".into())
        .spawn(move || {
            let mut client = match config.connect(tls) {
                Ok(client) => client,
                Err(e) => {
                    let _ = connected_tx.send(Err(describe(&e)));
                    return;
                }
            };
            let _ = connected_tx.send(Ok(()));
            let done = migrate::migrate(&mut client).map_err(|e| format!("database {shown}: {e}"));
            let _ = migrated_tx.send(done);
        })
        .map_err(|e| format!("cannot open the database {name}: {e}"))?;
    match connected.recv_timeout(OPEN_TIMEOUT) {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return Err(format!("cannot open the database {name}: {why}")),
        Err(_) => {
            return Err(format!(
                "cannot open the database {name}: no answer within {} s",
                OPEN_TIMEOUT.as_secs()
            ))
        }
    }
    migrated.recv().unwrap_or_else(|_| {
        Err(format!(
            "database {name}: applying the schema stopped without an answer"
        ))
    })
}
