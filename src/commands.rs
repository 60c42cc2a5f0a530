//! What each command does, once the command line is parsed. Errors are one sentence.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;

use crate::app;
use crate::cli::{Globals, KeysCommand, SeedArgs, ServeArgs, UserCommand};
use crate::db::{new_id, now};
use crate::password;
use crate::roles::{self, RoleError};
use crate::seed;
use crate::state::AppState;
use crate::store::{email_key, Database, Status, StoreError, StoredKey, User};
use crate::tokens;

type Outcome = Result<(), String>;

pub fn serve(globals: &Globals, args: &ServeArgs) -> Outcome {
    let iterations = globals.pbkdf2_iterations;
    let mut settings = args.settings(iterations);
    settings.master_key_file = globals.master_key_file.clone();
    if let Some(dir) = settings.static_dir.as_ref().filter(|d| !d.is_dir()) {
        return Err(format!("--static {}: not a directory", dir.display()));
    }
    let db = open(globals)?;
    // The master key is checked (and a first key made) before the seed changes anything.
    let sealer = tokens::Sealer::from_option(settings.master_key_file.as_deref())?;
    tokens::ensure_key(&db, &sealer, settings.algorithm)?;
    if let Some(file) = &args.seed {
        say(apply_seed(&db, file, iterations, false)?)?;
    }
    let state = AppState::new(db, settings.clone()).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
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

pub fn seed(globals: &Globals, args: &SeedArgs) -> Outcome {
    let db = open(globals)?;
    let report = apply_seed(&db, &args.file, globals.pbkdf2_iterations, args.dry_run)?;
    say(report)?;
    Ok(())
}

fn apply_seed(
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

pub fn user(globals: &Globals, command: UserCommand) -> Outcome {
    let iterations = globals.pbkdf2_iterations;
    let db = open(globals)?;
    let failed = |e: StoreError| format!("database {}: {e}", db.name());
    match command {
        UserCommand::Add {
            email,
            name,
            org,
            password_stdin,
            password_hash,
            status,
            roles,
        } => {
            let roles = roles::role_list(&roles).map_err(|e| match e {
                RoleError::TooMany(n) => format!("--role: {}", roles::too_many(n)),
                RoleError::Malformed { why, .. } => format!("--role: {why}"),
            })?;
            if db
                .read(|s| s.find_user_by_email(&email))
                .map_err(failed)?
                .is_some()
            {
                return Err(format!("a user with the email {email} already exists"));
            }
            if let Some(org) = &org {
                if db.read(|s| s.org_name(org)).map_err(failed)?.is_none() {
                    return Err(format!(
                        "there is no org \"{org}\" (orgs are made by a seed file)"
                    ));
                }
            }
            if let Some(hash) = &password_hash {
                password::check_importable(hash)
                    .map_err(|why| format!("the --password-hash given for {email} {why}"))?;
            }
            let password_hash = match password_stdin {
                true => Some(hash_stdin_password(iterations)?),
                false => password_hash,
            };
            let user = User {
                id: new_id(),
                email,
                name,
                org_id: org,
                password_hash,
                status,
                created_at: now(),
                roles,
            };
            db.transaction(|s| s.insert_user(&user, now()))
                .map_err(failed)?;
            say(format_args!("created user {} {}", user.id, user.email))?;
        }
        UserCommand::SetPassword { email, .. } => {
            let user = find(&db, &email)?;
            let phc = hash_stdin_password(iterations)?;
            let now = now();
            // Whoever held the old password, a link or a session is shut out.
            let ended = db
                .transaction(|s| {
                    s.set_password_hash(&user.id, &phc, now)?;
                    s.remove_user_links(&user.id)?;
                    s.revoke_user_sessions(&user.id, None, now)
                })
                .map_err(failed)?;
            say(format_args!(
                "password set for {email} ({ended} sessions ended)"
            ))?;
        }
        UserCommand::SetStatus { email, status } => {
            let user = find(&db, &email)?;
            // A deleted user's link stays on record, refused as USER_NOT_FOUND
            // (SPEC §2), until the account comes back: then it is gone too.
            let shut_out = status == Status::Banned
                || (user.status == Status::Deleted && status != Status::Deleted);
            db.transaction(|s| {
                s.set_user_status(&user.id, status, now())?;
                match shut_out {
                    true => s.remove_user_links(&user.id),
                    false => Ok(()),
                }
            })
            .map_err(failed)?;
            say(format_args!("{email} is now {status}"))?;
        }
        UserCommand::Roles { email, add, remove } => change_roles(&db, &email, &add, &remove)?,
        UserCommand::List { json } => {
            print_users(&db.read(|s| s.list_users()).map_err(failed)?, json)?;
        }
        UserCommand::Unlock { email } => {
            let cleared = db
                .transaction(|s| s.clear_failures(&email_key(&email)))
                .map_err(failed)?;
            say(format_args!(
                "{email} unlocked ({cleared} failed logins cleared)"
            ))?;
        }
        UserCommand::Link {
            email,
            ttl,
            public_url,
        } => {
            let user = find(&db, &email)?;
            if user.status == Status::Deleted {
                return Err(format!(
                    "the user {email} is deleted: no link is made for them"
                ));
            }
            let (token, digest) = password::link::new_token()
                .map_err(|e| format!("no random bytes for a link: {e}"))?;
            let now = now();
            // Printed first: a link that could not be written out replaces nothing.
            say(format_args!("{public_url}/#set-password={token}"))?;
            db.transaction(|s| s.replace_link(&user.id, &digest, now.saturating_add(ttl), now))
                .map_err(|e| format!("the link above was not saved: {}", failed(e)))?;
        }
    }
    Ok(())
}

/// `user roles`: the change in one transaction, refused whole when the user
/// would hold too many; prints the roles held after it.
fn change_roles(db: &Database, email: &str, add: &[String], remove: &[String]) -> Outcome {
    let user = find(db, email)?;
    let held = match add.is_empty() && remove.is_empty() {
        true => user.roles,
        false => db.transaction(|s| {
            let held = s.change_user_roles(&user.id, add, remove, now())?;
            match held.len() > roles::MAX_ROLES {
                true => Err(format!(
                    "{email} would hold {}; nothing was changed",
                    roles::too_many(held.len())
                )),
                false => Ok(held),
            }
        })?,
    };
    match held.is_empty() {
        true => say(format_args!("{email}: no roles")),
        false => say(format_args!("{email}: {}", held.join(", "))),
    }
}

fn find(db: &Database, email: &str) -> Result<User, String> {
    db.read(|s| s.find_user_by_email(email))
        .map_err(|e| format!("database {}: {e}", db.name()))?
        .ok_or_else(|| format!("there is no user with the email {email}"))
}

/// Reads one password from standard input (a trailing newline is not part of it) and hashes it.
fn hash_stdin_password(iterations: u32) -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = input.strip_suffix('\n').unwrap_or(&input);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("the password read from standard input is empty".into());
    }
    password::hash(password, iterations).map_err(|e| e.to_string())
}

fn print_users(list: &[User], json: bool) -> Outcome {
    if json {
        let rows: Vec<_> = list
            .iter()
            .map(|u| {
                serde_json::json!({
                    "id": u.id, "email": u.email, "name": u.name, "orgId": u.org_id,
                    "status": u.status.as_str(), "hasPassword": u.password_hash.is_some(),
                    "createdAt": u.created_at, "roles": u.roles,
                })
            })
            .collect();
        return say(serde_json::Value::Array(rows));
    }
    say(format_args!(
        "{:<32}  {:<30}  {:<20}  {:<12}  {:<8}  {:<8}  ROLES",
        "ID", "EMAIL", "NAME", "ORG", "STATUS", "PASSWORD"
    ))?;
    for u in list {
        let roles = match u.roles.is_empty() {
            true => "-".to_string(),
            false => u.roles.join(","),
        };
        say(format_args!(
            "{:<32}  {:<30}  {:<20}  {:<12}  {:<8}  {:<8}  {roles}",
            u.id,
            u.email,
            u.name,
            u.org_id.as_deref().unwrap_or("-"),
            u.status,
            if u.password_hash.is_some() {
                "yes"
            } else {
                "no"
            }
        ))?;
    }
    Ok(())
}

pub fn keys(globals: &Globals, command: KeysCommand) -> Outcome {
    let db = open(globals)?;
    let failed = |e: StoreError| format!("database {}: {e}", db.name());
    let sealer = tokens::Sealer::from_option(globals.master_key_file.as_deref())?;
    match command {
        KeysCommand::Rotate { algorithm } => {
            let kid = tokens::rotate(&db, &sealer, algorithm)?;
            say(format_args!(
                "new signing key {kid} ({algorithm}) is current"
            ))?;
        }
        KeysCommand::Retire { kid, algorithm } => {
            let retired = tokens::retire(&db, &sealer, algorithm, &kid)?;
            if let Some(new) = &retired.new_current {
                say(format_args!(
                    "new signing key {new} ({algorithm}) is current"
                ))?;
            }
            match retired.already {
                true => say(format_args!("signing key {kid} was already retired"))?,
                false => say(format_args!(
                    "signing key {kid} is retired: its tokens are refused from now on"
                ))?,
            }
        }
        KeysCommand::List {
            access_ttl,
            refresh_ttl,
        } => {
            // Listing needs no key pair: a sealed database lists without the master key.
            if sealer.has_key() || db.read(|s| s.current_kid()).map_err(failed)?.is_none() {
                tokens::ensure_key(&db, &sealer, tokens::Algorithm::default())?;
            }
            let keys = db.read(|s| s.list_keys()).map_err(failed)?;
            print_keys(&keys, access_ttl.max(refresh_ttl))?;
        }
    }
    Ok(())
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

fn open(globals: &Globals) -> Result<Database, String> {
    let db = Database::open(&globals.db, globals.synchronous)?;
    let sealer = tokens::Sealer::from_option(globals.master_key_file.as_deref())?;
    if sealer.has_key() {
        tokens::verify_master_key(&db, &sealer)?;
    }
    Ok(db)
}

/// Prints one line on standard output. A closed pipe (`authlite user list |
/// head -1`) ends the command quietly, with status 0 as for a reader that
/// has seen enough; any other failure (a full disk) is an error sentence.
pub fn say(line: impl fmt::Display) -> Outcome {
    match write_line(line) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

/// Writes and flushes one line, so that an error surfaces here and not at exit.
fn write_line(line: impl fmt::Display) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}
