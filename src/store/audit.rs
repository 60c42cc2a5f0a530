//! The audit log (SPEC §8): security events, each written in the transaction
//! of the change it records, never carrying a password, hash, token, code or key.

use serde::Serialize;
use serde_json::Value;

use super::{Result, Store};

/// Audit events, as both engines store them.
pub trait Audit {
    /// Appends one event (its `id` is ignored); returns the id it got.
    fn append_event(&mut self, event: &AuditEvent) -> Result<i64>;
    /// Events that pass every filter given, newest first (by id), at most `limit`.
    fn list_events(&mut self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// Deletes up to PRUNE_CHUNK events from before `cutoff`, oldest first; returns how many.
    fn prune_events(&mut self, cutoff: u64) -> Result<usize>;
    /// Takes an erased user's email out of the log, which keeps their id
    /// (SPEC §8): see `without_email`. Returns how many events changed.
    fn forget_email(&mut self, user_id: &str, email: &str) -> Result<usize>;
}

/// Every event type of the SPEC's table.
pub const EVENT_TYPES: &[&str] = &[
    "login.succeeded",
    "login.failed",
    "login.locked",
    "mfa.failed",
    "session.revoked",
    "session.reused",
    "password.changed",
    "password.reset",
    "password.set",
    "link.created",
    "user.created",
    "user.updated",
    "user.deleted",
    "user.erased",
    "user.unlocked",
    "mfa.totp.enabled",
    "mfa.totp.disabled",
    "mfa.recovery.regenerated",
    "mfa.recovery.used",
    "mfa.reset",
    "passkey.added",
    "passkey.removed",
    "key.rotated",
    "key.retired",
    "apikey.created",
    "apikey.revoked",
    "client.created",
    "client.removed",
    "oidc.authorized",
    "registration.requested",
    "registration.completed",
    // Not in SPEC §8's table: a message the outbox gave up (SPEC §12).
    "mail.failed",
];

/// The actor of commands run from the command line.
pub const CLI: &str = "cli";
/// The actor of what the server does by itself (reuse detection, a refused login).
pub const SYSTEM: &str = "system";

/// The actor of a user acting on their own account.
pub fn user_actor(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// As SPEC §8 shows it: `{id, at, type, userId, actor, ip, userAgent, detail}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Given by the store, in the order of commit.
    pub id: i64,
    pub at: u64,
    /// One of EVENT_TYPES.
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<String>,
    pub actor: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A JSON object.
    pub detail: Value,
}

impl AuditEvent {
    /// An event of `kind` at `at`, with no user and no origin yet.
    pub fn new(kind: &str, actor: impl Into<String>, at: u64, detail: Value) -> AuditEvent {
        AuditEvent {
            id: 0,
            at,
            kind: kind.to_string(),
            user_id: None,
            actor: actor.into(),
            ip: None,
            user_agent: None,
            detail,
        }
    }

    pub fn user(mut self, user_id: &str) -> AuditEvent {
        self.user_id = Some(user_id.to_string());
        self
    }

    /// Where the request that caused it came from.
    pub fn origin(mut self, origin: &Origin) -> AuditEvent {
        self.ip.clone_from(&origin.ip);
        self.user_agent.clone_from(&origin.user_agent);
        self
    }
}

/// Where a request came from: its client address and `User-Agent`.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Revokes every session of the user but `keep`, recording a `session.revoked`
/// event with `reason` for each live one, by `actor` from `origin`; returns
/// how many were revoked.
pub fn revoke_user_sessions_noted(
    store: &mut dyn Store,
    user_id: &str,
    keep: Option<&str>,
    now: u64,
    reason: &str,
    (actor, origin): (&str, &Origin),
) -> Result<usize> {
    let live = store.list_live_sessions(user_id, now)?;
    for session in live.iter().filter(|s| Some(s.id.as_str()) != keep) {
        store.append_event(&revoked(&session.id, reason, actor, now, origin).user(user_id))?;
    }
    store.revoke_user_sessions(user_id, keep, now)
}

/// The `session.revoked` event of session `sid`.
pub fn revoked(sid: &str, reason: &str, actor: &str, now: u64, origin: &Origin) -> AuditEvent {
    let detail = serde_json::json!({"sid": sid, "reason": reason});
    AuditEvent::new("session.revoked", actor, now, detail).origin(origin)
}

/// Revokes API key `id`, recording `event` (its `apikey.revoked`) unless the
/// key was revoked already, which stays as it was. False: no such key.
pub fn revoke_api_key(store: &mut dyn Store, id: &str, event: &AuditEvent) -> Result<bool> {
    let keys = store.list_api_keys()?;
    let Some(key) = keys.iter().find(|k| k.id == id) else {
        return Ok(false);
    };
    if key.revoked_at.is_none() {
        store.revoke_api_key(id, event.at)?;
        store.append_event(event)?;
    }
    Ok(true)
}

/// Which events `list_events` gives; times in Unix seconds, both ends included.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub user_id: Option<String>,
    pub kind: Option<String>,
    pub since: Option<u64>,
    pub until: Option<u64>,
    /// The cursor: only events older than this id (the last one of the page before).
    pub before: Option<i64>,
    pub limit: u32,
}

/// A detail as stored: a JSON object's text, read back as an object.
pub(super) fn parse_detail(text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| super::StoreError::Failed(format!("an audit event's detail is not JSON: {e}")))
}

/// What `forget_email` looks for in the details' text: the email as a JSON
/// string, lower-cased (emails are stored normalized).
pub(super) fn email_needle(email: &str) -> String {
    Value::String(email.to_lowercase()).to_string()
}

/// Nulls, in `detail`, every string equal to `email` (case aside) and, in an
/// event of the user (`theirs`), every `email` field, which may hold an
/// address they had before; at any depth. True if anything changed.
pub(super) fn without_email(detail: &mut Value, theirs: bool, email: &str) -> bool {
    match detail {
        Value::String(text) if text.to_lowercase() == email.to_lowercase() => {
            *detail = Value::Null;
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| {
            without_email(item, theirs, email) | changed
        }),
        Value::Object(fields) => fields.iter_mut().fold(false, |changed, (name, value)| {
            let named = theirs && name == "email" && !value.is_null();
            if named {
                *value = Value::Null;
            }
            named | without_email(value, theirs, email) | changed
        }),
        _ => false,
    }
}
