//! `authlite serve`: check everything, apply the seed, make the first key, listen.

use std::net::TcpListener;
use std::time::Duration;

use super::{open, say, seed, write_line, Outcome, Stop};
use crate::cli::{Globals, ServeArgs};
use crate::state::AppState;
use crate::tokens;
use crate::{app, backup};

pub fn serve(globals: &Globals, args: &ServeArgs) -> Outcome {
    let iterations = globals.pbkdf2_iterations;
    let mut settings = args.settings(iterations);
    settings.master_key_file = globals.master_key_file.clone();
    if let Some(dir) = settings.static_dir.as_ref().filter(|d| !d.is_dir()) {
        return Err(format!("--static {}: not a directory", dir.display()).into());
    }
    if let Some(dir) = args.backup_dir.as_ref().filter(|d| !d.is_dir()) {
        return Err(format!("--backup-dir {}: not a directory", dir.display()).into());
    }
    let db = open(globals)?;
    // The master key is checked before the seed changes anything, and the
    // first key made only after it: a bad seed file changes nothing at all.
    let sealer = tokens::Sealer::from_option(settings.master_key_file.as_deref())?;
    tokens::check_master_key(&db, &sealer)?;
    if let Some(file) = &args.seed {
        let report = seed::apply_file(&db, file, iterations, false)?;
        // As for the listening line: a server whose standard output has gone
        // goes on serving.
        match say(report) {
            Ok(()) | Err(Stop::ReaderGone) => {}
            Err(failed) => return Err(failed),
        }
    }
    tokens::ensure_key(&db, &sealer, settings.algorithm)?;
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // Links in emails and the discovery document name the port really bound
    // (`--bind 127.0.0.1:0` picks one) unless --public-url says otherwise.
    if args.public_url.is_none() {
        settings.public_url = Some(format!("http://{address}"));
    }
    let state = AppState::new(db, settings.clone()).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.backup_dir {
        let schedule = backup::Schedule {
            source: globals.db.clone(),
            dir: dir.clone(),
            every: Duration::from_secs(args.backup_interval),
            keep: usize::try_from(args.backup_keep).unwrap_or(usize::MAX),
        };
        let last_success = state.metrics.backups().map_err(|e| e.to_string())?;
        backup::start(schedule, last_success)
            .map_err(|e| format!("cannot start the backup thread: {e}"))?;
    }
    let running = state.clone();
    let served = actix_web::rt::System::new().block_on(async move {
        let server = app::run(listener, running)?;
        // A server whose standard output has gone goes on serving.
        let _ = write_line(format_args!("authlite listening on http://{address}"));
        server.await
    });
    served.map_err(|e| format!("the server stopped: {e}"))?;
    state.db.close();
    log::info!("stopped");
    Ok(())
}
