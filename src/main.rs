use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;

use authlite::cli::{Cli, Command};
use authlite::commands::{self, Stop};
use authlite::logging;

fn main() -> ExitCode {
    let Cli { globals, command } = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(usage) => return print_usage(&usage),
    };
    let log = logging::init();
    let result = match command {
        Command::Serve(args) => commands::serve(&globals, &args),
        Command::Seed(args) => commands::seed(&globals, &args),
        Command::User(user) => commands::user(&globals, user),
        Command::Keys(keys) => commands::keys(&globals, keys),
        Command::Apikey(apikey) => commands::apikey(&globals, apikey),
        Command::Client(client) => commands::client(&globals, client),
        Command::Audit(args) => commands::audit(&globals, args),
        Command::Copy(args) => commands::copy(&globals, &args),
    };
    // The log's last lines come before the failure's sentence, and before exit.
    log.flush();
    match result {
        Ok(()) | Err(Stop::ReaderGone) => ExitCode::SUCCESS,
        Err(Stop::Failed(message)) => fail(&message),
    }
}

/// Help, a version, or a usage error, as clap would print it, but a failed
/// write is told (or, for a closed pipe, ended quietly) instead of swallowed.
fn print_usage(usage: &clap::Error) -> ExitCode {
    match usage.print() {
        Ok(()) => ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2)),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let stream = match usage.use_stderr() {
                true => "standard error",
                false => "standard output",
            };
            fail(&format!("cannot write to {stream}: {e}"))
        }
    }
}

/// The one sentence of a failed command; if even standard error cannot take
/// it, the exit status alone says it.
fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "authlite: {message}");
    ExitCode::FAILURE
}
