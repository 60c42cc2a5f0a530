//! `authlite seed FILE`, and the seed file `serve --seed` applies.

use std::io::Read;

use super::{open, say, Outcome};
use crate::cli::{Globals, SeedArgs};
use crate::seed;
use crate::store::Database;

pub fn seed(globals: &Globals, args: &SeedArgs) -> Outcome {
    let db = open(globals)?;
    let report = apply_file(&db, &args.file, globals.pbkdf2_iterations, args.dry_run)?;
    say(report)
}

/// Reads the seed `file` (`-`: standard input) and applies it, all or nothing.
pub(super) fn apply_file(
    db: &Database,
    file: &str,
    iterations: u32,
    dry_run: bool,
) -> Result<seed::Report, String> {
    let (json, source) = if file == "-" {
        let mut json = String::new();
        std::io::stdin()
            .read_to_string(&mut json)
            .map_err(|e| format!("cannot read the seed from standard input: {e}"))?;
        (json, "<stdin>".to_string())
    } else {
        let json = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read the seed file {file}: {e}"))?;
        (json, file.to_string())
    };
    seed::apply(db, &json, &source, iterations, dry_run).map_err(|e| e.to_string())
}
