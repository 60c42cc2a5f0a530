//! `authlite keys rotate|retire|list`.

use super::{open, say, Outcome};
use crate::cli::{Globals, KeysCommand};
use crate::clock::now;
use crate::store::{Database, StoreError, StoredKey};
use crate::tokens::{self, Algorithm, Sealer};

pub fn keys(globals: &Globals, command: KeysCommand) -> Outcome {
    let db = open(globals)?;
    let sealer = Sealer::from_option(globals.master_key_file.as_deref())?;
    match command {
        KeysCommand::Rotate { algorithm } => rotate(&db, &sealer, algorithm),
        KeysCommand::Retire { kid, algorithm } => retire(&db, &sealer, algorithm, &kid),
        KeysCommand::List {
            access_ttl,
            refresh_ttl,
        } => list(&db, &sealer, access_ttl.max(refresh_ttl)),
    }
}

fn rotate(db: &Database, sealer: &Sealer, algorithm: Algorithm) -> Outcome {
    let kid = tokens::rotate(db, sealer, algorithm)?;
    say(format_args!(
        "new signing key {kid} ({algorithm}) is current"
    ))
}

fn retire(db: &Database, sealer: &Sealer, algorithm: Algorithm, kid: &str) -> Outcome {
    let retired = tokens::retire(db, sealer, algorithm, kid)?;
    if let Some(new) = &retired.new_current {
        say(format_args!(
            "new signing key {new} ({algorithm}) is current"
        ))?;
    }
    match retired.already {
        true => say(format_args!("signing key {kid} was already retired")),
        false => say(format_args!(
            "signing key {kid} is retired: its tokens are refused from now on"
        )),
    }
}

/// `lifetime`: how long a retired key's tokens may still be presented.
fn list(db: &Database, sealer: &Sealer, lifetime: u64) -> Outcome {
    let failed = |e: StoreError| format!("database {}: {e}", db.name());
    // Listing needs no key pair: a sealed database lists without the master key.
    if sealer.has_key() || db.read(|s| s.current_kid()).map_err(failed)?.is_none() {
        tokens::ensure_key(db, sealer, Algorithm::default())?;
    }
    let keys = db.read(|s| s.list_keys()).map_err(failed)?;
    print_keys(&keys, lifetime)
}

fn print_keys(list: &[StoredKey], lifetime: u64) -> Outcome {
    say(format_args!(
        "{:<16}  {:<9}  {:<12}  STATE",
        "KID", "ALGORITHM", "CREATED"
    ))?;
    let now = now();
    for key in list {
        let state = match (key.retired_at, key.distrusted_at) {
            (_, Some(at)) => format!("distrusted at {at}: verifies nothing"),
            (None, None) => "current".to_string(),
            (Some(at), None) if at.saturating_add(lifetime) > now => {
                let until = at.saturating_add(lifetime);
                format!("retired at {at}, verifies until {until}")
            }
            (Some(at), None) => format!("retired at {at}, verifies nothing (expired)"),
        };
        say(format_args!(
            "{:<16}  {:<9}  {:<12}  {state}",
            key.kid, key.algorithm, key.created_at
        ))?;
    }
    Ok(())
}
