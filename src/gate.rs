//! The hashing gate: a fixed set of threads with a bounded queue in front.
//!
//! PBKDF2 at 600,000 rounds costs ~85 ms of CPU, so logins must never run on
//! the async workers, and a burst must not queue without limit: when every
//! place (a thread or a queue slot) is taken the caller is told at once and
//! answers 503 SERVER_BUSY. A login takes its place before its database work
//! and hands the threads only the hash, so that no hashing thread waits on
//! the database while its core could hash.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::{oneshot, Semaphore};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, PartialEq, Eq)]
pub enum GateError {
    /// Every place is taken.
    Busy,
    /// The job panicked, or the pool has stopped.
    Failed,
}

pub struct HashGate {
    shared: Arc<Shared>,
    /// How many callers may hold a place at once: the threads and the queue.
    places: usize,
    /// Callers' database steps running at once on actix's blocking threads.
    steps: Semaphore,
}

struct Shared {
    sender: SyncSender<Job>,
    /// Places held: callers between `admit` and the end of their hash.
    taken: AtomicUsize,
    /// Jobs handed to the threads and not yet started.
    waiting: AtomicUsize,
}

/// A place at the gate, taken before the database work that leads up to a
/// hash, so that a burst is refused before it costs anything; given up when
/// the hash is done (or the ticket dropped unused).
pub struct Ticket(Arc<Shared>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    pub fn new(threads: usize, queue: usize) -> std::io::Result<HashGate> {
        HashGate::named("authlite-hash", threads, queue)
    }

    fn named(name: &str, threads: usize, queue: usize) -> std::io::Result<HashGate> {
        let threads = threads.max(1);
        let places = threads + queue;
        // Never full: at most `places` jobs exist at once.
        let (sender, receiver) = sync_channel::<Job>(places);
        let receiver = Arc::new(Mutex::new(receiver));
        let shared = Arc::new(Shared {
            sender,
            taken: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
        });
        for n in 0..threads {
            let receiver = Arc::clone(&receiver);
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&receiver, &shared.waiting))?;
        }
        // Two per hashing thread: enough that the next hashes are always ready
        // (a step takes a few ms beside ~85 ms of hashing), few enough that a
        // stalled database cannot hold every blocking thread other requests need.
        let steps = Semaphore::new(2 * threads);
        Ok(HashGate {
            shared,
            places,
            steps,
        })
    }

    /// One thread per core, and a queue of 16 per thread: at ~85 ms a hash the
    /// last in line waits ~1.4 s, which a person at a login form still accepts.
    pub fn for_this_machine() -> std::io::Result<HashGate> {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        HashGate::new(cores, cores * 16)
    }

    /// The lane for imported hashes that cost more than authlite's own (up to
    /// about 1 s each): half the cores, so that however many such logins
    /// arrive, the other half keeps answering ordinary ones; a short queue,
    /// as each place in it is a second of waiting.
    pub fn for_imported_hashes() -> std::io::Result<HashGate> {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / 2).max(1);
        HashGate::named("authlite-imported", threads, threads * 4)
    }

    /// Takes a place, or fails at once if every place is taken.
    pub fn admit(&self) -> Result<Ticket, GateError> {
        self.shared
            .taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |taken| {
                (taken < self.places).then_some(taken + 1)
            })
            .map(|_| Ticket(Arc::clone(&self.shared)))
            .map_err(|_| GateError::Busy)
    }

    /// Runs `job` on a hashing thread, or fails at once if every place is taken.
    pub async fn run<T, F>(&self, job: F) -> Result<T, GateError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.admit()?.run(job).await
    }

    /// Runs a caller's database step on actix's blocking threads, a bounded number at once.
    pub async fn step<T, F>(&self, work: F) -> Result<T, GateError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.steps.acquire().await.map_err(|_| GateError::Failed)?;
        actix_web::web::block(work)
            .await
            .map_err(|_| GateError::Failed)
    }

    /// Jobs handed to a hashing thread but not yet started.
    pub fn waiting(&self) -> usize {
        self.shared.waiting.load(Ordering::SeqCst)
    }
}

impl Ticket {
    /// Runs `job` on a hashing thread of the gate that gave the ticket; the
    /// place is given up once the job has run.
    pub async fn run<T, F>(self, job: F) -> Result<T, GateError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = Arc::clone(&self.0);
        let (reply, answer) = oneshot::channel();
        // The place is given up before the answer goes, so that a caller who
        // has its answer finds the place free.
        let job: Job = Box::new(move || {
            let answer = job();
            drop(self);
            let _ = reply.send(answer);
        });
        shared.waiting.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = shared.sender.try_send(job) {
            shared.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(match e {
                TrySendError::Full(_) => GateError::Busy,
                TrySendError::Disconnected(_) => GateError::Failed,
            });
        }
        answer.await.map_err(|_| GateError::Failed)
    }
}

fn work(receiver: &Mutex<Receiver<Job>>, waiting: &AtomicUsize) {
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else { return };
        waiting.fetch_sub(1, Ordering::SeqCst);
        // A panicking job drops its reply, so its caller sees Failed; the thread lives on.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    #[actix_web::test]
    async fn a_job_runs_off_the_calling_thread() {
        let gate = HashGate::new(1, 1).unwrap();
        let name = gate
            .run(|| thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("authlite-hash-0"));
    }

    #[actix_web::test]
    async fn a_full_queue_answers_busy_at_once() {
        let gate = HashGate::new(1, 1).unwrap();
        let (release, blocked) = channel::<()>();
        let blocked = Mutex::new(blocked);
        // Occupy the thread, then the one queue place.
        let first = gate.run(move || blocked.lock().unwrap().recv().ok());
        let mut first = Box::pin(first);
        let _ = futures_poll_once(first.as_mut()).await;
        thread::sleep(Duration::from_millis(50));
        let second = Box::pin(gate.run(|| 2));
        let mut second = second;
        let _ = futures_poll_once(second.as_mut()).await;
        assert_eq!(gate.run(|| 3).await, Err(GateError::Busy));
        release.send(()).unwrap();
        assert_eq!(first.await, Ok(Some(())));
        assert_eq!(second.await, Ok(2));
    }

    #[actix_web::test]
    async fn a_panicking_job_fails_alone() {
        let gate = HashGate::new(1, 4).unwrap();
        assert_eq!(
            gate.run(|| panic!("boom")).await,
            Err::<(), _>(GateError::Failed)
        );
        assert_eq!(gate.run(|| 7).await, Ok(7));
    }

    #[actix_web::test]
    async fn a_ticket_holds_its_place_until_its_job_has_run() {
        let gate = HashGate::new(1, 1).unwrap();
        let first = gate.admit().unwrap();
        let second = gate.admit().unwrap();
        assert_eq!(gate.admit().err(), Some(GateError::Busy));
        assert_eq!(gate.waiting(), 0, "a ticket alone is not a job");
        drop(second);
        assert_eq!(first.run(|| 5).await, Ok(5));
        let (a, b) = (gate.admit().unwrap(), gate.admit().unwrap());
        assert_eq!(gate.run(|| 6).await, Err(GateError::Busy));
        assert_eq!((a.run(|| 1).await, b.run(|| 2).await), (Ok(1), Ok(2)));
        assert_eq!(gate.run(|| 7).await, Ok(7));
    }

    /// Polls a future once so that its synchronous part (the enqueue) runs.
    async fn futures_poll_once<F: std::future::Future + Unpin>(fut: F) -> Option<F::Output> {
        let mut fut = fut;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
