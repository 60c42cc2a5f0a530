//! What each command does, once the command line is parsed: a file per
//! command group, and here what they share (opening the database, printing).

mod apikey;
mod audit;
mod client;
mod copy;
mod invite;
mod keys;
mod seed;
mod serve;
mod user;

use std::fmt;
use std::io::{ErrorKind, Write};

use crate::cli::Globals;
use crate::store::Database;
use crate::tokens;

pub use apikey::apikey;
pub use audit::audit;
pub use client::client;
pub use copy::copy;
pub use keys::keys;
pub use seed::seed;
pub use serve::serve;
pub use user::user;

/// How a command ends when it does not succeed.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// Standard output's reader has gone (`authlite user list | head -1`):
    /// the command ends quietly, with status 0 as for a reader that has seen
    /// enough, through `main`, which flushes the log.
    ReaderGone,
    /// One sentence for standard error; status 1.
    Failed(String),
}

impl From<String> for Stop {
    fn from(sentence: String) -> Stop {
        Stop::Failed(sentence)
    }
}

impl From<&str> for Stop {
    fn from(sentence: &str) -> Stop {
        Stop::Failed(sentence.to_string())
    }
}

type Outcome<T = ()> = Result<T, Stop>;

/// Opens `--db`, checking the master key file against it when one is given.
fn open(globals: &Globals) -> Result<Database, String> {
    let db = Database::open(&globals.db, globals.synchronous)?;
    let sealer = tokens::Sealer::from_option(globals.master_key_file.as_deref())?;
    if sealer.has_key() {
        tokens::verify_master_key(&db, &sealer)?;
    }
    Ok(db)
}

/// Prints one line on standard output: the one way commands print. A closed
/// pipe is `Stop::ReaderGone`; any other failure (a full disk) a sentence.
fn say(line: impl fmt::Display) -> Outcome {
    match write_line(line) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Stop::ReaderGone),
        Err(e) => Err(Stop::Failed(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

/// Prints one line on standard error, for what must stay out of standard
/// output (`KEY=$(authlite apikey create …)`); failures as for `say`.
fn note(line: impl fmt::Display) -> Outcome {
    let mut stderr = std::io::stderr().lock();
    match writeln!(stderr, "{line}").and_then(|()| stderr.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Stop::ReaderGone),
        Err(e) => Err(Stop::Failed(format!("cannot write to standard error: {e}"))),
    }
}

/// Writes and flushes one line, so that an error surfaces here and not at exit.
fn write_line(line: impl fmt::Display) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}
