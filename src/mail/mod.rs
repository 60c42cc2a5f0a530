//! Email (SPEC §12): what a message says (`templates`), how it leaves
//! (`transport`: SMTP through lettre, or `.eml` files in a folder), and the
//! outbox sender (`sender`), which delivers what requests queued in the
//! transaction of what caused it. A request never waits for a mail server.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::new_ordered_id;
use crate::store::{self, NewMail, Store};
use crate::tokens::{Sealer, MAIL_MESSAGES};

pub mod sender;
pub mod templates;
pub mod transport;

pub use templates::Rendered;

/// Where messages go, and from whom.
#[derive(Clone)]
pub struct EmailSettings {
    pub transport: Transport,
    /// `--mail-from`: "Name <addr>" or an address.
    pub from: String,
}

#[derive(Clone)]
pub enum Transport {
    /// `--smtp-url` (credentials in it) and `--smtp-ca-file`.
    Smtp {
        url: String,
        ca_file: Option<PathBuf>,
    },
    /// `--mail-dir`: one `.eml` file per message.
    Dir(PathBuf),
}

impl fmt::Debug for EmailSettings {
    /// The SMTP URL may hold a password: only its scheme and host are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = match &self.transport {
            Transport::Smtp { url, .. } => transport::shown_url(url),
            Transport::Dir(dir) => dir.display().to_string(),
        };
        f.debug_struct("EmailSettings")
            .field("to", &to)
            .field("from", &self.from)
            .finish()
    }
}

/// The default sender of `--mail-dir` messages when `--mail-from` is not given.
pub const DEFAULT_FROM: &str = "authlite <authlite@localhost>";

/// How long an invitation's link works (`user invite --ttl`'s default).
pub const INVITE_TTL: u64 = 7 * 86_400;

/// One message per purpose and address within this many seconds.
pub const THROTTLE_WINDOW: u64 = 60;

/// The digest the throttle keeps for a purpose and an address (no address in clear).
pub fn throttle_key(purpose: &str, email: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("{purpose}:{email}").as_bytes()).to_vec()
}

/// What a queued row holds, sealed: the rendered message.
#[derive(Serialize, Deserialize)]
struct Stored {
    subject: String,
    text: String,
    html: String,
}

/// Queues `message` to `recipient` in the caller's transaction; its id.
pub fn queue(
    store: &mut dyn Store,
    sealer: &Sealer,
    (kind, recipient, user_id): (&str, &str, Option<&str>),
    message: Rendered,
    now: u64,
) -> store::Result<String> {
    let id = new_ordered_id();
    let stored = Stored {
        subject: message.subject,
        text: message.text,
        html: message.html,
    };
    let plain = serde_json::to_vec(&stored)
        .map_err(|e| store::StoreError::Failed(format!("cannot encode a message: {e}")))?;
    store.queue_mail(&NewMail {
        id: id.clone(),
        kind: kind.to_string(),
        recipient: recipient.to_string(),
        user_id: user_id.map(str::to_string),
        message: sealer.seal(MAIL_MESSAGES, &id, &plain),
        created_at: now,
    })?;
    Ok(id)
}

/// Opens a queued row's message; why not, as a sentence.
pub fn open(sealer: &Sealer, id: &str, stored: &[u8]) -> Result<Rendered, String> {
    let plain = sealer
        .open(MAIL_MESSAGES, id, stored)
        .map_err(|why| format!("the stored message {why}"))?;
    let stored: Stored = serde_json::from_slice(&plain)
        .map_err(|e| format!("the stored message cannot be read: {e}"))?;
    Ok(Rendered {
        subject: stored.subject,
        text: stored.text,
        html: stored.html,
    })
}

/// Wakes the sender when a message is queued, so that it need not poll fast.
#[derive(Clone, Default)]
pub struct Bell(Arc<(Mutex<bool>, Condvar)>);

impl Bell {
    pub fn ring(&self) {
        let (rung, wake) = &*self.0;
        if let Ok(mut rung) = rung.lock() {
            *rung = true;
            wake.notify_all();
        }
    }

    /// Waits until rung or `at_most` has passed.
    pub fn wait(&self, at_most: Duration) {
        let (rung, wake) = &*self.0;
        let Ok(guard) = rung.lock() else { return };
        let Ok((mut guard, _)) = wake.wait_timeout_while(guard, at_most, |rung| !*rung) else {
            return;
        };
        *guard = false;
    }
}

/// A set-password link to email: an invitation or an admin's link.
pub struct LinkMail<'a> {
    /// `invite` or `link`.
    pub kind: &'a str,
    /// `--issuer` and `--public-url`.
    pub product: &'a str,
    pub base: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub token: &'a str,
    pub valid_for: u64,
}

/// Queues `link`'s message in the caller's transaction (which stores the
/// link itself); the message's id.
pub fn queue_link(
    store: &mut dyn Store,
    sealer: &Sealer,
    link: &LinkMail,
    now: u64,
) -> store::Result<String> {
    let url = format!("{}/#set-password={}", link.base, link.token);
    let context = templates::Context {
        product: link.product,
        email: link.email,
        link: &url,
        valid_for: link.valid_for,
    };
    let message = match link.kind {
        "invite" => templates::invite(&context),
        _ => templates::set_password(&context),
    };
    let to = (link.kind, link.email, Some(link.user_id));
    queue(store, sealer, to, message, now)
}
