//! The outbox sender: a thread per server that claims due messages, sends
//! them, and marks each sent, due again later (backoff: 10 s, 20 s, 40 s, …
//! at most 30 min apart, for 24 hours) or given up (a 5xx answer, or 24 hours
//! of failures: a log line and an audit event `mail.failed`). It wakes when a
//! request queues a message and every few seconds for retries and messages
//! other instances or commands queued.

use std::sync::Weak;
use std::thread;
use std::time::Duration;

use serde_json::json;

use super::transport::{Delivery, Failure};
use super::Bell;
use crate::clock::now;
use crate::metrics::MailMetrics;
use crate::state::State;
use crate::store::audit::SYSTEM;
use crate::store::{AuditEvent, ClaimedMail, Database, StoreError};
use crate::tokens::Sealer;

/// Messages claimed at once, and sent side by side (each sending thread on a
/// connection of lettre's pool).
const BATCH: u32 = 32;
const SENDERS: usize = 8;
/// How long a claim holds a message: longer than a batch can take (4 messages
/// a thread, each within the 20 s timeout), so that no other sender takes it
/// meanwhile; a sender that dies lets it go then.
const LEASE: u64 = 120;
const POLL: Duration = Duration::from_secs(5);
/// The first retry's delay; each next one doubles, up to MAX_DELAY.
const FIRST_DELAY: u64 = 10;
const MAX_DELAY: u64 = 1800;
/// Messages not delivered within this many seconds of being queued are given up.
pub const GIVE_UP_AFTER: u64 = 86_400;

/// What a delivery pass needs, outside of a server's state too (the CLI).
pub struct Sender<'a> {
    pub db: &'a Database,
    pub sealer: &'a Sealer,
    pub delivery: &'a Delivery,
    pub metrics: Option<&'a MailMetrics>,
}

/// How a message ended this time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry,
    GivenUp,
}

/// Starts the sender of a server until its state is dropped.
pub fn start(state: Weak<State>, delivery: Delivery, bell: Bell) -> std::io::Result<()> {
    thread::Builder::new()
        .name("authlite-mail".into())
        .spawn(move || loop {
            bell.wait(POLL);
            let Some(state) = state.upgrade() else { return };
            let sender = Sender {
                db: &state.db,
                sealer: &state.sealer,
                delivery: &delivery,
                metrics: Some(&state.metrics.mail),
            };
            if let Err(e) = sender.drain() {
                log::warn!("the mail sender cannot reach the database: {e}");
            }
            if let Ok(queued) = state.db.read(|store| store.queued_mail()) {
                state
                    .metrics
                    .mail
                    .queued
                    .set(i64::try_from(queued).unwrap_or(i64::MAX));
            }
        })
        .map(drop)
}

impl Sender<'_> {
    /// Sends what is due until nothing is.
    pub fn drain(&self) -> Result<(), StoreError> {
        loop {
            let now = now();
            let claimed = self
                .db
                .write(move |store| store.claim_mail(now, now + LEASE, BATCH, None))?;
            let full = claimed.len() == BATCH as usize;
            self.send_all(claimed)?;
            if !full {
                return Ok(());
            }
        }
    }

    /// Sends the message `id` now if it is due; how it ended (None: not due).
    pub fn send_one(&self, id: &str) -> Result<Option<Outcome>, StoreError> {
        let (now, id) = (now(), id.to_string());
        let mut claimed = self
            .db
            .write(move |store| store.claim_mail(now, now + LEASE, 1, Some(&id)))?;
        match claimed.pop() {
            Some(mail) => self.send_and_mark(mail).map(Some),
            None => Ok(None),
        }
    }

    fn send_all(&self, claimed: Vec<ClaimedMail>) -> Result<(), StoreError> {
        let per_sender = claimed.len().div_ceil(SENDERS).max(1);
        let mut chunks: Vec<Vec<ClaimedMail>> = Vec::new();
        let mut rest = claimed.into_iter().peekable();
        while rest.peek().is_some() {
            chunks.push(rest.by_ref().take(per_sender).collect());
        }
        thread::scope(|scope| {
            let sending: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .into_iter()
                            .try_for_each(|mail| self.send_and_mark(mail).map(drop))
                    })
                })
                .collect();
            sending
                .into_iter()
                .try_for_each(|h| h.join().unwrap_or_else(|_| Err(panicked())))
        })
    }

    fn send_and_mark(&self, mail: ClaimedMail) -> Result<Outcome, StoreError> {
        let result = match &mail.message {
            Some(stored) => super::open(self.sealer, &mail.id, stored)
                .map_err(|reason| Failure {
                    permanent: true,
                    reason,
                })
                .and_then(|message| self.delivery.send(&mail.id, &mail.recipient, &message)),
            None => Err(Failure {
                permanent: true,
                reason: "the message was emptied".into(),
            }),
        };
        let now = now();
        let outcome = match result {
            Ok(()) => Outcome::Sent,
            Err(ref f) if f.permanent || now >= mail.created_at.saturating_add(GIVE_UP_AFTER) => {
                Outcome::GivenUp
            }
            Err(_) => Outcome::Retry,
        };
        let reason = result.err().map(|f| f.reason).unwrap_or_default();
        self.mark(&mail, outcome, &reason, now)?;
        Ok(outcome)
    }

    fn mark(
        &self,
        mail: &ClaimedMail,
        outcome: Outcome,
        reason: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        let (id, reason_owned) = (mail.id.clone(), reason.to_string());
        match outcome {
            Outcome::Sent => {
                self.db.write(move |store| store.mail_sent(&id, now))?;
                log::info!(
                    "mail {} ({}) sent to {}",
                    mail.id,
                    mail.kind,
                    mail.recipient
                );
                self.count(|m| m.sent.inc());
            }
            Outcome::Retry => {
                let next_at = retry_at(mail.created_at, mail.attempts, now);
                self.db
                    .write(move |store| store.mail_retry(&id, next_at, &reason_owned))?;
                log::warn!(
                    "mail {} ({}) to {} not sent (attempt {}), tried again in {} s: {reason}",
                    mail.id,
                    mail.kind,
                    mail.recipient,
                    mail.attempts,
                    next_at.saturating_sub(now)
                );
                self.count(|m| m.retried.inc());
            }
            Outcome::GivenUp => {
                let detail = json!({
                    "messageId": mail.id, "kind": mail.kind, "attempts": mail.attempts,
                    "reason": reason,
                });
                let mut event = AuditEvent::new("mail.failed", SYSTEM, now, detail);
                event.user_id = mail.user_id.clone();
                self.db.write(move |store| {
                    store.mail_failed(&id, &reason_owned)?;
                    store.append_event(&event).map(drop)
                })?;
                log::error!(
                    "mail {} ({}) to {} given up after {} attempts: {reason}",
                    mail.id,
                    mail.kind,
                    mail.recipient,
                    mail.attempts
                );
                self.count(|m| m.failed.inc());
            }
        }
        Ok(())
    }

    fn count(&self, each: impl FnOnce(&MailMetrics)) {
        if let Some(metrics) = self.metrics {
            each(metrics);
        }
    }
}

/// When a message that failed its `attempts`-th try is due again: 10 s after
/// the first, doubling up to 30 min, and once more at the 24-hour mark.
pub fn retry_at(created_at: u64, attempts: u32, now: u64) -> u64 {
    let doublings = attempts.saturating_sub(1).min(20);
    let delay = FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY);
    now.saturating_add(delay)
        .min(created_at.saturating_add(GIVE_UP_AFTER))
        .max(now)
}

fn panicked() -> StoreError {
    StoreError::Failed("a mail sending thread panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_within_30_seconds_and_spread_out_to_the_24_hour_mark() {
        assert_eq!(retry_at(1000, 1, 1000), 1010);
        assert_eq!(retry_at(1000, 2, 1010), 1030);
        assert_eq!(retry_at(1000, 3, 1030), 1070);
        assert_eq!(retry_at(0, 30, 5000), 5000 + MAX_DELAY);
        assert_eq!(retry_at(0, 30, 86_000), 86_400);
    }
}
