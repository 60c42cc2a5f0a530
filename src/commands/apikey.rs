//! `authlite apikey …`: API keys for apps' backends (SPEC §8).

use super::{note, open, say, Outcome};
use crate::api_keys;
use crate::cli::{ApikeyCommand, Globals};
use crate::clock::now;
use crate::ids::new_id;
use crate::store::audit::{revoke_api_key, CLI};
use crate::store::{ApiKey, AuditEvent, Database, StoreError};
use serde_json::json;

pub fn apikey(globals: &Globals, command: ApikeyCommand) -> Outcome {
    let db = open(globals)?;
    match command {
        ApikeyCommand::Create { name, scopes, ttl } => create(&db, name, &scopes, ttl),
        ApikeyCommand::List { json } => list(&db, json),
        ApikeyCommand::Revoke { id } => revoke(&db, &id),
    }
}

/// The sentence for a database that failed under a command.
fn failed(db: &Database) -> impl Fn(StoreError) -> String + '_ {
    |e| format!("database {}: {e}", db.name())
}

/// Prints the key alone on standard output, then stores its digest.
fn create(db: &Database, name: String, scopes: &[String], ttl: Option<u64>) -> Outcome {
    let scopes = api_keys::scope_list(scopes).map_err(|why| format!("--scope: {why}"))?;
    let (secret, digest) =
        api_keys::new_key().map_err(|e| format!("no random bytes for a key: {e}"))?;
    let now = now();
    let key = ApiKey {
        id: new_id(),
        name,
        scopes,
        created_at: now,
        expires_at: ttl.map(|ttl| now.saturating_add(ttl)),
        last_used_at: None,
        revoked_at: None,
    };
    let created = AuditEvent::new("apikey.created", CLI, now, json!({ "apiKeyId": key.id }));
    // Printed first: a key that could not be written out is never stored.
    say(&secret)?;
    db.transaction(|s| {
        s.insert_api_key(&key, &digest)?;
        s.append_event(&created)
    })
    .map_err(|e| format!("the key above was not saved: {}", failed(db)(e)))?;
    note(format_args!("created API key {} ({})", key.id, key.name))
}

fn list(db: &Database, json: bool) -> Outcome {
    let keys = db.read(|s| s.list_api_keys()).map_err(failed(db))?;
    match json {
        true => print_json(&keys),
        false => print_table(&keys),
    }
}

fn revoke(db: &Database, id: &str) -> Outcome {
    let known = db.read(|s| s.list_api_keys()).map_err(failed(db))?;
    let Some(key) = known.into_iter().find(|k| k.id == id) else {
        return Err(format!("there is no API key with the id {id}").into());
    };
    if let Some(at) = key.revoked_at {
        return say(format_args!("API key {id} was already revoked (at {at})"));
    }
    let revoked = AuditEvent::new("apikey.revoked", CLI, now(), json!({ "apiKeyId": id }));
    db.transaction(|s| revoke_api_key(s, id, &revoked))
        .map_err(failed(db))?;
    say(format_args!(
        "API key {id} ({}) revoked: running servers refuse it within a second",
        key.name
    ))
}

fn print_json(keys: &[ApiKey]) -> Outcome {
    let rows: Vec<_> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "id": k.id, "name": k.name, "scopes": k.scopes, "createdAt": k.created_at,
                "expiresAt": k.expires_at, "lastUsedAt": k.last_used_at, "revokedAt": k.revoked_at,
            })
        })
        .collect();
    say(serde_json::Value::Array(rows))
}

fn print_table(keys: &[ApiKey]) -> Outcome {
    say(format_args!(
        "{:<32}  {:<20}  {:<40}  {:<10}  {:<10}  {:<10}  REVOKED",
        "ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "LAST USED"
    ))?;
    let time = |at: Option<u64>| at.map_or_else(|| "-".to_string(), |t| t.to_string());
    for k in keys {
        say(format_args!(
            "{:<32}  {:<20}  {:<40}  {:<10}  {:<10}  {:<10}  {}",
            k.id,
            k.name,
            k.scopes.join(","),
            k.created_at,
            time(k.expires_at),
            time(k.last_used_at),
            time(k.revoked_at),
        ))?;
    }
    Ok(())
}
