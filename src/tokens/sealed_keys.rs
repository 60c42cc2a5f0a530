//! The master key's hold on the key table: it must be the database's own, every
//! key pair that can sign or verify must open with it in its own row, and a
//! database sealed before (plain, or by round 2 without rows) is brought to that
//! state in place, under the key table's lock.

use super::sealing::{Refusal, KEY_PAIRS, TOTP_SECRETS};
use super::Sealer;
use crate::store::{Database, KeyStore, SigningKeys, StoreError, StoredKey, MASTER_KEY_CHECK};

type Outcome<T> = Result<T, String>;

pub(super) fn sql(e: StoreError) -> String {
    format!("the signing keys cannot be read or written: {e}")
}

const NOT_THE_ONE: &str =
    "the master key file is not the one this database's signing keys are sealed with";
const NEEDS_KEY: &str = "this database's signing keys are sealed: give its master key file \
                         with --master-key-file (or AUTHLITE_MASTER_KEY_FILE)";

/// The sentence for a key pair that will not be used, and how to get past it.
fn refused(kid: &str, why: Refusal) -> String {
    format!(
        "signing key {kid} {why}, so it is not used: distrust it with \
         `authlite keys retire {kid}` or restore the database from a backup"
    )
}

/// Whether `guard` will rewrite key pairs (sealing or binding them), so that
/// the transaction should overwrite the old bytes in the file.
pub(super) fn rewrites(db: &Database, sealer: &Sealer) -> Outcome<bool> {
    let check = db.read(|s| s.meta(MASTER_KEY_CHECK)).map_err(sql)?;
    Ok(sealer.has_key() && !check.is_some_and(|c| Sealer::is_bound(&c)))
}

/// Fails with one sentence unless `sealer` is this database's master key and
/// every live key pair but `except`'s opens with it in its own row. A plain
/// database is sealed in place, one sealed by round 2 bound in place.
pub(super) fn guard(
    store: &mut dyn KeyStore,
    sealer: &Sealer,
    except: Option<&str>,
) -> Outcome<()> {
    match (store.meta(MASTER_KEY_CHECK).map_err(sql)?, sealer.has_key()) {
        (None, false) => Ok(()),
        (Some(_), false) => Err(NEEDS_KEY.into()),
        (Some(check), true) if !sealer.matches(&check) => Err(NOT_THE_ONE.into()),
        (Some(check), true) if Sealer::is_bound(&check) => {
            let mut keys = live_keys(store, except)?;
            open_pairs(&mut keys, sealer)
        }
        (Some(_), true) => bind_in_place(store, sealer, except),
        (None, true) => seal_in_place(store, sealer),
    }
}

/// Only checks that `sealer` is this database's master key (or that it has none
/// and needs none), for commands that do not touch the keys.
pub fn verify_master_key(db: &Database, sealer: &Sealer) -> Outcome<()> {
    match db.read(|s| s.meta(MASTER_KEY_CHECK)).map_err(sql)? {
        Some(check) if sealer.has_key() && !sealer.matches(&check) => Err(NOT_THE_ONE.into()),
        _ => Ok(()),
    }
}

/// What `guard` checks, reading only: fails with its sentence where it would,
/// so that a command (`serve --seed`) can refuse before it writes anything.
/// What `guard` would rewrite in place is left for it.
pub fn check_master_key(db: &Database, sealer: &Sealer) -> Outcome<()> {
    db.read(
        |store| match (store.meta(MASTER_KEY_CHECK).map_err(sql)?, sealer.has_key()) {
            (Some(_), false) => Err(NEEDS_KEY.into()),
            (Some(check), true) if !sealer.matches(&check) => Err(NOT_THE_ONE.into()),
            (Some(check), true) if Sealer::is_bound(&check) => {
                let mut keys = live_keys(store, None)?;
                open_pairs(&mut keys, sealer)
            }
            _ => Ok(()),
        },
    )
}

/// Replaces each stored key pair by its open bytes, refusing any that does not
/// open with `sealer` in its own row (with a key: one planted plain, or moved).
pub(super) fn open_pairs(keys: &mut [StoredKey], sealer: &Sealer) -> Outcome<()> {
    for key in keys {
        key.key_pair = sealer
            .open(KEY_PAIRS, &key.kid, &key.key_pair)
            .map_err(|why| refused(&key.kid, why))?;
    }
    Ok(())
}

/// The keys that can still sign or verify (a distrusted key is never opened).
pub(super) fn live_keys<S: SigningKeys + ?Sized>(
    store: &mut S,
    except: Option<&str>,
) -> Outcome<Vec<StoredKey>> {
    let mut keys = store.list_keys().map_err(sql)?;
    keys.retain(|k| k.distrusted_at.is_none() && Some(k.kid.as_str()) != except);
    Ok(keys)
}

/// A plain database takes the master key: its key pairs are sealed in their rows.
fn seal_in_place(store: &mut dyn KeyStore, sealer: &Sealer) -> Outcome<()> {
    let stored = store.list_keys().map_err(sql)?;
    for key in &stored {
        if Sealer::looks_sealed(&key.key_pair) {
            return Err(refused(
                &key.kid,
                "is sealed, yet the database records no master key",
            ));
        }
        let sealed = sealer.seal(KEY_PAIRS, &key.kid, &key.key_pair);
        store.set_key_pair(&key.kid, &sealed).map_err(sql)?;
    }
    // TOTP secrets too: they make codes as a key makes tokens.
    for (user_id, secret) in store.list_totp_secrets().map_err(sql)? {
        if !Sealer::looks_sealed(&secret) {
            let sealed = sealer.seal(TOTP_SECRETS, &user_id, &secret);
            store.set_totp_secret(&user_id, &sealed).map_err(sql)?;
        }
    }
    finish(store, sealer)?;
    log::info!("sealed {} signing keys with the master key", stored.len());
    Ok(())
}

/// Round 2 sealed key pairs for no row: each live one is opened (a plain one
/// planted there is refused) and sealed again bound to its kid.
fn bind_in_place(store: &mut dyn KeyStore, sealer: &Sealer, except: Option<&str>) -> Outcome<()> {
    let keys = live_keys(store, except)?;
    for key in &keys {
        let pair = sealer
            .open_unbound(KEY_PAIRS, &key.key_pair)
            .map_err(|why| refused(&key.kid, why))?;
        let bound = sealer.seal(KEY_PAIRS, &key.kid, &pair);
        store.set_key_pair(&key.kid, &bound).map_err(sql)?;
    }
    finish(store, sealer)?;
    log::info!(
        "bound {} sealed signing keys to their rows (sealed by an earlier version)",
        keys.len()
    );
    Ok(())
}

/// Stores the bound check, which records that the database is sealed and its
/// values bound, and drops the grace answers, which were plain or unbound: they
/// would go within a minute anyway (a tab racing this start gets TOKEN_REUSED).
fn finish(store: &mut dyn KeyStore, sealer: &Sealer) -> Outcome<()> {
    store
        .set_meta(MASTER_KEY_CHECK, &sealer.check_value())
        .map_err(sql)?;
    store.forget_grace_answers().map_err(sql)?;
    Ok(())
}
