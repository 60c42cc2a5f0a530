use std::process::ExitCode;

use clap::Parser;

use authlite::cli::{Cli, Command};
use authlite::commands;

fn main() -> ExitCode {
    let Cli { globals, command } = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let result = match command {
        Command::Serve(args) => commands::serve(&globals, &args),
        Command::Seed(args) => commands::seed(&globals, &args),
        Command::User(user) => commands::user(&globals, user),
        Command::Keys(keys) => commands::keys(&globals, keys),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("authlite: {message}");
            ExitCode::FAILURE
        }
    }
}
