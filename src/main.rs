use std::process::ExitCode;

use clap::Parser;

use authlite::cli::{Cli, Command};
use authlite::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let result = match cli.command {
        Command::Serve(args) => commands::serve(&cli.db, cli.pbkdf2_iterations, &args),
        Command::Seed(args) => commands::seed(&cli.db, cli.pbkdf2_iterations, &args),
        Command::User(user) => commands::user(&cli.db, cli.pbkdf2_iterations, user),
        Command::Keys(keys) => commands::keys(&cli.db, keys),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("authlite: {message}");
            ExitCode::FAILURE
        }
    }
}
