//! The hashing gate: a fixed set of threads with a bounded queue in front.
//!
//! PBKDF2 at 600,000 rounds costs ~85 ms of CPU, so logins must never run on
//! the async workers, and a burst must not queue without limit: when the
//! queue is full the caller is told at once and answers 503 SERVER_BUSY.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, PartialEq, Eq)]
pub enum GateError {
    /// The queue is full.
    Busy,
    /// The job panicked, or the pool has stopped.
    Failed,
}

pub struct HashGate {
    sender: SyncSender<Job>,
    waiting: Arc<AtomicUsize>,
}

impl HashGate {
    pub fn new(threads: usize, queue: usize) -> std::io::Result<HashGate> {
        HashGate::named("authlite-hash", threads, queue)
    }

    fn named(name: &str, threads: usize, queue: usize) -> std::io::Result<HashGate> {
        let threads = threads.max(1);
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let waiting = Arc::new(AtomicUsize::new(0));
        for n in 0..threads {
            let receiver = Arc::clone(&receiver);
            let waiting = Arc::clone(&waiting);
            thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&receiver, &waiting))?;
        }
        Ok(HashGate { sender, waiting })
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

    /// Runs `job` on a hashing thread, or fails at once if the queue is full.
    pub async fn run<T, F>(&self, job: F) -> Result<T, GateError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(job());
        });
        self.waiting.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = self.sender.try_send(job) {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(match e {
                TrySendError::Full(_) => GateError::Busy,
                TrySendError::Disconnected(_) => GateError::Failed,
            });
        }
        answer.await.map_err(|_| GateError::Failed)
    }

    /// Jobs accepted but not yet started.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
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
