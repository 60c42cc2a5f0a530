//! Refreshes that arrive together share one statement: a commit and a round
//! trip cost PostgreSQL more than the row they write, so under load one
//! UPDATE of several sessions does several times the work of one each.
//!
//! No thread of its own and no waiting for company: the first request in
//! leads, writing what is queued when it starts (at first only its own); those
//! that come while it writes queue, and when it is done one of them leads the
//! next batch with them all. So an idle server writes at once, and a busy one
//! in batches as large as the requests that came during one write.

use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::store::{Result, Rotation, Sessions, StoreError};

/// Rows in one statement at most: the rest wait for the next.
const MOST: usize = 64;

#[derive(Default)]
pub struct Batcher {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<(Rotation, Sender<Turn>)>,
    /// Whether a request is writing a batch now, or has been told to. One at
    /// a time: measured, two at once write smaller batches and refresh slower.
    leading: bool,
}

enum Turn {
    Done(Result<bool>),
    /// Write the next batch.
    Lead,
}

impl Batcher {
    /// `rotation` written on `store` or on the connection of the request that
    /// leads its batch; its outcome as `Sessions::rotate_refresh` gives it.
    pub fn rotate(&self, store: &mut dyn Sessions, rotation: Rotation) -> Result<bool> {
        let (answer, turn) = channel();
        let lead_now = {
            let mut queue = self.lock();
            queue.waiting.push((rotation, answer));
            !std::mem::replace(&mut queue.leading, true)
        };
        if !lead_now {
            match turn.recv() {
                Ok(Turn::Done(outcome)) => return outcome,
                Ok(Turn::Lead) => {}
                Err(_) => return Err(lost()),
            }
        }
        self.lead(store);
        match turn.recv() {
            Ok(Turn::Done(outcome)) => outcome,
            _ => Err(lost()),
        }
    }

    /// Writes what is queued, this request's own first among it (told to
    /// lead, it is the first waiting), hands the lead on to the first that
    /// came meanwhile, then tells each its outcome.
    fn lead(&self, store: &mut dyn Sessions) {
        let batch = {
            let mut queue = self.lock();
            let end = queue.waiting.len().min(MOST);
            queue.waiting.drain(..end).collect::<Vec<_>>()
        };
        let handover = Handover(self);
        let (rotations, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let outcomes = store.rotate_refreshes(&rotations);
        drop(handover);
        for (answer, outcome) in answers.into_iter().zip(outcomes) {
            // Only a request that has gone (its thread unwound) does not hear.
            let _ = answer.send(Turn::Done(outcome));
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Passes the lead on when dropped, also if the write panicked: to the first
/// request waiting, or to nobody.
struct Handover<'a>(&'a Batcher);

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        let mut queue = self.0.lock();
        while let Some((_, answer)) = queue.waiting.first() {
            if answer.send(Turn::Lead).is_ok() {
                return;
            }
            queue.waiting.remove(0);
        }
        queue.leading = false;
    }
}

fn lost() -> StoreError {
    StoreError::Failed("a refresh's batch ended without its outcome".to_string())
}
