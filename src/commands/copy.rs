//! `authlite copy --to DEST`: the whole database, as one snapshot, into a new
//! SQLite file or an empty PostgreSQL database (SPEC §14).

use std::time::Instant;

use super::{say, Outcome};
use crate::cli::{CopyArgs, Globals};
use crate::store::copy;

/// The source is read, never written: not migrated, and its keys not sealed
/// in place (a copy carries them as they are stored, sealed or not).
pub fn copy(globals: &Globals, args: &CopyArgs) -> Outcome {
    let started = Instant::now();
    let copied = copy::copy(&globals.db, &args.to)?;
    let tables = copied.tables.len();
    say(format_args!(
        "copied {} rows in {tables} tables from {} to {} in {:.1} s",
        copied.rows(),
        copied.from,
        copied.to,
        started.elapsed().as_secs_f64()
    ))
}
