//! One thread writes, in batches. A request hands its write over and waits for
//! the commit; writes that queue up meanwhile share the next transaction and its
//! one commit (group commit). Nobody sleeps in SQLite's busy handler, and no lock
//! passes between threads on every write.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::{error, PooledConnection};
use crate::store::StoreError;

/// A write: given the connection it runs inside its own savepoint and says
/// whether to keep it; given none (its transaction could not begin) it runs
/// nothing. What it returns is handed the batch's fate once that is known.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Deliver) + Send>;
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Writes in one batch at most; enough that a commit is shared, few enough that a
/// batch stays short.
const MAX_BATCH: usize = 64;

/// How often, while writes come in, the writer folds the log back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// How long a write probe may take, and how long its answer stands.
const PROBE_WAIT: Duration = Duration::from_secs(2);
const PROBE_FRESH: Duration = Duration::from_secs(1);

pub struct Writer {
    jobs: Sender<Job>,
    probed: Mutex<Option<(Instant, Result<(), StoreError>)>>,
}

impl Writer {
    pub fn start(conn: PooledConnection) -> std::io::Result<Writer> {
        let (jobs, queue) = channel();
        thread::Builder::new()
            .name("authlite-writer".into())
            .spawn(move || write_batches(conn, &queue))?;
        Ok(Writer {
            jobs,
            probed: Mutex::new(None),
        })
    }

    /// Runs `work` in the writer's transaction and returns its result once that
    /// transaction has committed. An `Err` from `work` rolls back its own writes only.
    /// An `Err` from here means nothing of `work` is on disk.
    pub fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.send(work)?.recv().map_err(|_| stopped())?
    }

    /// Whether a write can be made now: a one-row write through the queue (so
    /// that a disk that takes no more writes, or a read-only file, fails it),
    /// which must commit within PROBE_WAIT. Callers within PROBE_FRESH of
    /// the last probe get its answer, so asking often costs nothing.
    pub fn can_write(&self) -> Result<(), StoreError> {
        let mut probed = self.probed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, answer)) = probed.as_ref() {
            if at.elapsed() < PROBE_FRESH {
                return answer.clone();
            }
        }
        let answer = match self.send(probe)?.recv_timeout(PROBE_WAIT) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => Err(StoreError::Unavailable(format!(
                "no write could be made within {} s",
                PROBE_WAIT.as_secs()
            ))),
            Err(RecvTimeoutError::Disconnected) => Err(stopped()),
        };
        *probed = Some((Instant::now(), answer.clone()));
        answer
    }

    fn send<T, E, F>(&self, work: F) -> Result<Receiver<Result<T, E>>, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = sync_channel(1);
        self.jobs.send(job(work, reply)).map_err(|_| stopped())?;
        Ok(answer)
    }
}

/// Writes the time of the probe under `meta.healthz`.
fn probe(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta (name, value) VALUES ('healthz', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute([crate::clock::now_ms().to_string()])?;
    Ok(())
}

fn stopped() -> StoreError {
    StoreError::Failed("the writer thread has stopped".into())
}

fn job<T, E, F>(work: F, reply: SyncSender<Result<T, E>>) -> Job
where
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    Box::new(move |conn| {
        let result = conn.map(work);
        let keep = matches!(result, Some(Ok(_)));
        let deliver: Deliver = Box::new(move |fate| {
            let _ = reply.send(match (fate, result) {
                (Ok(()), Some(result)) => result,
                (Err(e), _) => Err(e.into()),
                (Ok(()), None) => {
                    Err(StoreError::Failed("a write was answered without running".into()).into())
                }
            });
        });
        (keep, deliver)
    })
}

fn write_batches(conn: PooledConnection, queue: &Receiver<Job>) {
    let mut checkpointed = Instant::now();
    while let Ok(first) = queue.recv() {
        let mut batch = VecDeque::from([first]);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push_back(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch);
        if checkpointed.elapsed() >= CHECKPOINT_EVERY {
            checkpoint(&conn);
            checkpointed = Instant::now();
        }
    }
}

/// Copies the write-ahead log into the database. It runs here, between batches,
/// because only with writes paused can a checkpoint finish, and only a finished
/// one lets the next write start the log over: one running beside a steady
/// stream of commits never catches up, and the log grows without end (measured:
/// 677 MB in 12 s of refreshes).
fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        log::warn!("checkpoint failed: {e}");
    }
}

/// Runs the jobs in as few transactions as it can. When SQLite rolls a whole
/// transaction back under a job (disk full, I/O error), the jobs already run in
/// it are lost with it and told so, and the rest start again in a new one: a
/// job is answered `Ok` exactly when its writes are committed.
fn run_batch(conn: &Connection, mut pending: VecDeque<Job>) {
    while !pending.is_empty() {
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            log::error!("cannot begin a write transaction: {e}");
            let error = error(e);
            for job in pending.drain(..) {
                let (_, deliver) = job(None);
                deliver(Err(error.clone()));
            }
            return;
        }
        let mut ran = Vec::with_capacity(pending.len());
        let mut lost = None;
        while let Some(job) = pending.pop_front() {
            match run_job(conn, job) {
                Ran::Done(deliver) => ran.push(deliver),
                Ran::Failed(deliver, e) => deliver(Err(e)),
                Ran::RolledBack(deliver, e) => {
                    deliver(Err(e.clone()));
                    lost = Some(e);
                    break;
                }
            }
        }
        let fate = match lost {
            Some(e) => Err(e),
            None => commit(conn),
        };
        for deliver in ran {
            deliver(fate.clone());
        }
    }
}

enum Ran {
    /// Its savepoint is released (or rolled back, if it asked): its fate is the commit's.
    Done(Deliver),
    /// Its own writes are undone; the transaction goes on.
    Failed(Deliver, StoreError),
    /// SQLite rolled the whole transaction back while this job ran.
    RolledBack(Deliver, StoreError),
}

fn run_job(conn: &Connection, job: Job) -> Ran {
    if let Err(e) = conn.execute_batch("SAVEPOINT job") {
        let (_, deliver) = job(None);
        return match conn.is_autocommit() {
            true => Ran::RolledBack(deliver, rolled_back()),
            false => Ran::Failed(deliver, error(e)),
        };
    }
    // A panicking job drops its reply, so its caller sees an error; the batch goes on.
    let Ok((keep, deliver)) = catch_unwind(AssertUnwindSafe(|| job(Some(conn)))) else {
        return match undo(conn) {
            Ok(()) => Ran::Done(Box::new(|_| ())),
            Err(e) => Ran::RolledBack(Box::new(|_| ()), e),
        };
    };
    if conn.is_autocommit() {
        return Ran::RolledBack(deliver, rolled_back());
    }
    let kept = match keep {
        true => conn
            .execute_batch("RELEASE job")
            .map_err(|e| StoreError::Failed(format!("cannot keep a write: {e}"))),
        false => undo(conn),
    };
    match kept {
        Ok(()) => Ran::Done(deliver),
        Err(e) => match undo(conn) {
            Ok(()) => Ran::Failed(deliver, e),
            Err(e) => Ran::RolledBack(deliver, e),
        },
    }
}

/// Undoes the current job's writes, unless SQLite has already undone the whole transaction.
fn undo(conn: &Connection) -> Result<(), StoreError> {
    if conn.is_autocommit() {
        return Err(rolled_back());
    }
    match conn.execute_batch("ROLLBACK TO job; RELEASE job") {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(StoreError::Failed(format!("cannot undo a write: {e}")))
        }
    }
}

fn commit(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("COMMIT").map_err(|e| {
        // A COMMIT that fails may leave the transaction open; none of it stays.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        log::error!("commit failed: {e}");
        error(e)
    })
}

fn rolled_back() -> StoreError {
    StoreError::Failed("SQLite rolled the write transaction back".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, super::super::Pool, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let pool = super::super::open(&dir.path().join("w.db")).unwrap();
        let writer = Writer::start(pool.get().unwrap()).unwrap();
        (dir, pool, writer)
    }

    fn org_count(pool: &super::super::Pool) -> i64 {
        let conn = pool.get().unwrap();
        conn.query_row("SELECT count(*) FROM orgs", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_write_is_committed_before_its_result_comes_back() {
        let (_dir, pool, writer) = writer();
        let n: usize = writer
            .write(|conn| {
                Ok::<_, StoreError>(
                    conn.execute("INSERT INTO orgs (id, name) VALUES ('a', 'A')", [])?,
                )
            })
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(org_count(&pool), 1);
    }

    #[test]
    fn a_failing_write_rolls_back_alone() {
        let (_dir, pool, writer) = writer();
        let failed: Result<(), StoreError> = writer.write(|conn| {
            conn.execute("INSERT INTO orgs (id, name) VALUES ('x', 'X')", [])?;
            Err(StoreError::Failed("no".into()))
        });
        assert!(matches!(failed, Err(StoreError::Failed(why)) if why == "no"));
        writer.write(insert_org("b")).unwrap();
        assert_eq!(org_count(&pool), 1);
    }

    type Work = Box<dyn FnOnce(&Connection) -> Result<(), StoreError> + Send>;

    fn insert_org(id: &'static str) -> impl FnOnce(&Connection) -> Result<(), StoreError> {
        move |conn| {
            conn.execute("INSERT INTO orgs (id, name) VALUES (?1, 'n')", [id])?;
            Ok(())
        }
    }

    fn org_ids(pool: &super::super::Pool) -> Vec<String> {
        let conn = pool.get().unwrap();
        let mut stmt = conn.prepare("SELECT id FROM orgs ORDER BY id").unwrap();
        let ids = stmt.query_map([], |r| r.get(0)).unwrap();
        ids.map(Result::unwrap).collect()
    }

    #[test]
    fn a_rolled_back_batch_fails_its_callers_and_the_rest_run_anew() {
        let dir = tempfile::tempdir().unwrap();
        let pool = super::super::open(&dir.path().join("w.db")).unwrap();
        let conn = pool.get().unwrap();
        // A table without constraints: a statement on it keeps no statement
        // journal, so SQLITE_FULL rolls the whole transaction back.
        conn.execute_batch("CREATE TABLE filler (b BLOB)").unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 2))
            .unwrap();
        let writer = std::sync::Arc::new(Writer::start(conn).unwrap());
        // The first write holds the writer until the three others are queued
        // behind it, in order, so that they share the next batch.
        let (release, hold) = channel::<()>();
        let held = {
            let writer = std::sync::Arc::clone(&writer);
            thread::spawn(move || {
                writer.write(move |_| {
                    hold.recv().unwrap();
                    Ok::<_, StoreError>(())
                })
            })
        };
        thread::sleep(Duration::from_millis(200));
        let queue = |work: Work| {
            let writer = std::sync::Arc::clone(&writer);
            let t = thread::spawn(move || writer.write(work));
            thread::sleep(Duration::from_millis(200));
            t
        };
        let before = queue(Box::new(insert_org("before")));
        let full = queue(Box::new(|conn: &Connection| {
            conn.execute("INSERT INTO filler VALUES (zeroblob(1000000))", [])?;
            Ok(())
        }));
        let after = queue(Box::new(insert_org("after")));
        release.send(()).unwrap();
        held.join().unwrap().unwrap();
        let before = before.join().unwrap();
        let full = full.join().unwrap();
        let after = after.join().unwrap();
        assert!(full.is_err());
        assert!(matches!(before, Err(StoreError::Failed(_))), "{before:?}");
        assert!(after.is_ok(), "{after:?}");
        assert_eq!(org_ids(&pool), ["after"]);
    }

    #[test]
    fn a_write_lock_held_elsewhere_past_the_busy_timeout_is_server_busy() {
        let dir = tempfile::tempdir().unwrap();
        let pool = super::super::open(&dir.path().join("w.db")).unwrap();
        let conn = pool.get().unwrap();
        conn.busy_timeout(Duration::from_millis(100)).unwrap();
        let writer = Writer::start(conn).unwrap();
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let refused = writer.write(insert_org("x")).unwrap_err();
        assert!(matches!(refused, StoreError::Unavailable(_)), "{refused:?}");
        other.execute_batch("ROLLBACK").unwrap();
        writer.write(insert_org("y")).unwrap();
        assert_eq!(org_ids(&pool), ["y"]);
    }

    #[test]
    fn the_write_probe_fails_where_writes_fail() {
        let dir = tempfile::tempdir().unwrap();
        let pool = super::super::open(&dir.path().join("w.db")).unwrap();
        let conn = pool.get().unwrap();
        // Every write to the table fails, as on a full disk; a transaction that
        // writes nothing still commits.
        conn.execute_batch(
            "CREATE TEMP TRIGGER full BEFORE UPDATE ON main.meta BEGIN SELECT RAISE(FAIL, 'full'); END;
             CREATE TEMP TRIGGER full_insert BEFORE INSERT ON main.meta BEGIN SELECT RAISE(FAIL, 'full'); END;",
        )
        .unwrap();
        let failing = Writer::start(conn).unwrap();
        assert!(matches!(failing.can_write(), Err(StoreError::Failed(_))));
        let (_dir, _pool, writable) = writer();
        writable.can_write().unwrap();
    }

    #[test]
    fn writes_from_many_threads_all_land() {
        let (_dir, pool, writer) = writer();
        let writer = std::sync::Arc::new(writer);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let writer = std::sync::Arc::clone(&writer);
                thread::spawn(move || {
                    for i in 0..25 {
                        writer
                            .write(move |conn| {
                                conn.execute(
                                    "INSERT INTO orgs (id, name) VALUES (?1, 'n')",
                                    [format!("{t}-{i}")],
                                )?;
                                Ok::<_, StoreError>(())
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(org_count(&pool), 200);
    }
}
