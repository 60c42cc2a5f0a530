//! Each instance's listener: a connection of its own, LISTENing for what the
//! writes of every instance notify (`PgStore::notify_change`), so that one
//! instance's revocation, status change or key change clears the others'
//! caches within milliseconds. Should the connection drop, it connects again;
//! what it missed meanwhile is treated as a change. Notifications only speed
//! things up: the caches expire on their own (within 1 s) without them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

use super::describe;
use super::url::Target;

/// The statement that notifies; sent within the writing transaction.
pub const NOTIFY: &str = "SELECT pg_notify('authlite_changes', '')";
const LISTEN: &str = "LISTEN authlite_changes";

/// How often the listener looks whether it is still wanted.
const TICK: Duration = Duration::from_millis(500);
/// How long it waits before connecting again: RETRY after losing a
/// connection, doubling after each failed attempt up to RETRY_MAX (a database
/// that is down is not asked hundreds of times a minute by every instance).
const RETRY: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(3);

/// Starts the listener thread; it calls `changed` after each notification and
/// each (re)connection, until `stop` is set.
pub fn start(
    target: Arc<Target>,
    stop: Arc<AtomicBool>,
    changed: Box<dyn Fn() + Send>,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name("authlite-pg-listen".into())
        .spawn(move || run(&target, &stop, changed.as_ref()))
        .map(drop)
}

fn run(target: &Target, stop: &AtomicBool, changed: &dyn Fn()) {
    let (mut lost, mut wait) = (false, RETRY);
    while !stop.load(Ordering::Relaxed) {
        match target.config.connect(target.tls.clone()) {
            Ok(mut client) => {
                if lost {
                    log::info!("listening for other instances' changes again");
                }
                lost = listen(&mut client, stop, changed);
                wait = RETRY;
            }
            Err(e) => {
                if !lost {
                    let why = describe(&e);
                    log::warn!("cannot listen for other instances' changes: {why}");
                }
                lost = true;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
        thread::sleep(wait);
    }
}

/// Serves one connection; true if it was lost (not stopped).
fn listen(client: &mut Client, stop: &AtomicBool, changed: &dyn Fn()) -> bool {
    if let Err(e) = client.batch_execute(LISTEN) {
        log::warn!(
            "cannot listen for other instances' changes: {}",
            describe(&e)
        );
        return true;
    }
    // Whatever was notified while nobody listened.
    changed();
    while !stop.load(Ordering::Relaxed) {
        match wait(client) {
            Ok(true) => changed(),
            Ok(false) if !client.is_closed() => {}
            Ok(false) => return lost("the connection closed"),
            Err(e) => return lost(&describe(&e)),
        }
    }
    false
}

/// Waits up to TICK; true if anything was notified (a burst counts once).
fn wait(client: &mut Client) -> Result<bool, postgres::Error> {
    let mut notifications = client.notifications();
    let first = notifications.timeout_iter(TICK).next()?;
    if first.is_some() {
        while notifications.iter().next()?.is_some() {}
    }
    Ok(first.is_some())
}

fn lost(why: &str) -> bool {
    log::warn!("stopped listening for other instances' changes ({why}); connecting again");
    true
}
