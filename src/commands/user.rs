//! `authlite user …`: one function per subcommand.

use std::io::Read;

use serde_json::json;

use super::{open, say, Outcome};
use crate::cli::{AddUserArgs, Globals, UserCommand};
use crate::clock::now;
use crate::ids::new_id;
use crate::password;
use crate::roles::{self, RoleError};
use crate::store::audit::{revoke_user_sessions_noted, CLI};
use crate::store::{email_key, AuditEvent, Database, Origin, Status, StoreError, User};

pub fn user(globals: &Globals, command: UserCommand) -> Outcome {
    let iterations = globals.pbkdf2_iterations;
    let db = open(globals)?;
    match command {
        UserCommand::Add(args) => add(&db, iterations, args),
        UserCommand::SetPassword { email, .. } => set_password(&db, iterations, &email),
        UserCommand::SetStatus { email, status } => set_status(&db, &email, status),
        UserCommand::Roles { email, add, remove } => change_roles(&db, &email, &add, &remove),
        UserCommand::List { json } => list(&db, json),
        UserCommand::Unlock { email } => unlock(&db, &email),
        UserCommand::Link {
            email,
            ttl,
            public_url,
        } => link(&db, &email, ttl, &public_url),
        UserCommand::Invite(args) => super::invite::invite(globals, &db, args),
    }
}

/// The sentence for a database that failed under a command.
fn failed(db: &Database) -> impl Fn(StoreError) -> String + '_ {
    |e| format!("database {}: {e}", db.name())
}

fn add(db: &Database, iterations: u32, args: AddUserArgs) -> Outcome {
    let roles = roles::role_list(&args.roles).map_err(|e| match e {
        RoleError::TooMany(n) => format!("--role: {}", roles::too_many(n)),
        RoleError::Malformed { why, .. } => format!("--role: {why}"),
    })?;
    let email = args.email;
    if db
        .read(|s| s.find_user_by_email(&email))
        .map_err(failed(db))?
        .is_some()
    {
        return Err(format!("a user with the email {email} already exists").into());
    }
    if let Some(org) = &args.org {
        if db.read(|s| s.org_name(org)).map_err(failed(db))?.is_none() {
            return Err(format!("there is no org \"{org}\" (orgs are made by a seed file)").into());
        }
    }
    if let Some(hash) = &args.password_hash {
        password::check_importable(hash)
            .map_err(|why| format!("the --password-hash given for {email} {why}"))?;
    }
    let password_hash = match args.password_stdin {
        true => Some(hash_stdin_password(iterations)?),
        false => args.password_hash,
    };
    let user = User {
        id: new_id(),
        email,
        name: args.name,
        org_id: args.org,
        password_hash,
        status: args.status,
        created_at: now(),
        roles,
    };
    let created = AuditEvent::new("user.created", CLI, now(), json!({})).user(&user.id);
    db.transaction(|s| {
        s.insert_user(&user, now())?;
        s.append_event(&created)
    })
    .map_err(failed(db))?;
    say(format_args!("created user {} {}", user.id, user.email))
}

fn set_password(db: &Database, iterations: u32, email: &str) -> Outcome {
    let user = find(db, email)?;
    let phc = hash_stdin_password(iterations)?;
    let now = now();
    // Whoever held the old password, a link or a session is shut out.
    let set = AuditEvent::new("password.set", CLI, now, json!({})).user(&user.id);
    let ended = db
        .transaction(|s| {
            s.set_password_hash(&user.id, &phc, now)?;
            s.remove_user_links(&user.id)?;
            s.append_event(&set)?;
            let by = (CLI, &Origin::default());
            revoke_user_sessions_noted(s, &user.id, None, now, "password", by)
        })
        .map_err(failed(db))?;
    say(format_args!(
        "password set for {email} ({ended} sessions ended)"
    ))
}

fn set_status(db: &Database, email: &str, status: Status) -> Outcome {
    let user = find(db, email)?;
    // A deleted user's link stays on record, refused as USER_NOT_FOUND
    // (SPEC §2), until the account comes back: then it is gone too.
    let shut_out =
        status == Status::Banned || (user.status == Status::Deleted && status != Status::Deleted);
    let event = status_event(status, now()).user(&user.id);
    db.transaction(|s| {
        s.set_user_status(&user.id, status, now())?;
        s.append_event(&event)?;
        match shut_out {
            true => s.remove_user_links(&user.id),
            false => Ok(()),
        }
    })
    .map_err(failed(db))?;
    say(format_args!("{email} is now {status}"))
}

/// `user roles`: the change in one transaction, refused whole when the user
/// would hold too many; prints the roles held after it.
fn change_roles(db: &Database, email: &str, add: &[String], remove: &[String]) -> Outcome {
    let user = find(db, email)?;
    let held = match add.is_empty() && remove.is_empty() {
        true => user.roles,
        false => db.transaction(|s| {
            let held = s.change_user_roles(&user.id, add, remove, now())?;
            if held.len() > roles::MAX_ROLES {
                return Err(format!(
                    "{email} would hold {}; nothing was changed",
                    roles::too_many(held.len())
                ));
            }
            if !same_roles(&held, &user.roles) {
                let detail = json!({"fields": ["roles"]});
                s.append_event(
                    &AuditEvent::new("user.updated", CLI, now(), detail).user(&user.id),
                )?;
            }
            Ok(held)
        })?,
    };
    match held.is_empty() {
        true => say(format_args!("{email}: no roles")),
        false => say(format_args!("{email}: {}", held.join(", "))),
    }
}

fn same_roles(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

fn list(db: &Database, json: bool) -> Outcome {
    let users = db.read(|s| s.list_users()).map_err(failed(db))?;
    match json {
        true => print_json(&users),
        false => print_table(&users),
    }
}

/// `user.deleted` for a deletion, else `user.updated` naming the field.
fn status_event(status: Status, now: u64) -> AuditEvent {
    match status {
        Status::Deleted => AuditEvent::new("user.deleted", CLI, now, json!({})),
        _ => AuditEvent::new(
            "user.updated",
            CLI,
            now,
            json!({"fields": ["status"], "status": status.as_str()}),
        ),
    }
}

/// Any email's count can be cleared; the event names the user when there is one.
fn unlock(db: &Database, email: &str) -> Outcome {
    let user = db
        .read(|s| s.find_user_by_email(email))
        .map_err(failed(db))?;
    let cleared = db
        .transaction(|s| {
            let cleared = s.clear_failures(&email_key(email))?;
            let mut event =
                AuditEvent::new("user.unlocked", CLI, now(), json!({"cleared": cleared}));
            match &user {
                Some(user) => event.user_id = Some(user.id.clone()),
                None => event.detail["email"] = json!(email),
            }
            s.append_event(&event)?;
            Ok::<_, StoreError>(cleared)
        })
        .map_err(failed(db))?;
    say(format_args!(
        "{email} unlocked ({cleared} failed logins cleared)"
    ))
}

fn link(db: &Database, email: &str, ttl: u64, public_url: &str) -> Outcome {
    let user = find(db, email)?;
    if user.status == Status::Deleted {
        return Err(format!("the user {email} is deleted: no link is made for them").into());
    }
    let (token, digest) =
        password::link::new_token().map_err(|e| format!("no random bytes for a link: {e}"))?;
    let now = now();
    // Printed first: a link that could not be written out replaces nothing.
    say(format_args!("{public_url}/#set-password={token}"))?;
    let expires_at = now.saturating_add(ttl);
    let detail = json!({"expiresAt": expires_at, "sent": false});
    let created = AuditEvent::new("link.created", CLI, now, detail).user(&user.id);
    db.transaction(|s| {
        s.replace_link(&user.id, &digest, expires_at, now)?;
        s.append_event(&created)
    })
    .map_err(|e| format!("the link above was not saved: {}", failed(db)(e)))?;
    Ok(())
}

fn find(db: &Database, email: &str) -> Result<User, String> {
    db.read(|s| s.find_user_by_email(email))
        .map_err(failed(db))?
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

fn print_json(list: &[User]) -> Outcome {
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
    say(serde_json::Value::Array(rows))
}

fn print_table(list: &[User]) -> Outcome {
    say(format_args!(
        "{:<32}  {:<30}  {:<20}  {:<12}  {:<8}  {:<8}  ROLES",
        "ID", "EMAIL", "NAME", "ORG", "STATUS", "PASSWORD"
    ))?;
    for u in list {
        let has_password = if u.password_hash.is_some() {
            "yes"
        } else {
            "no"
        };
        let roles = match u.roles.is_empty() {
            true => "-".to_string(),
            false => u.roles.join(","),
        };
        say(format_args!(
            "{:<32}  {:<30}  {:<20}  {:<12}  {:<8}  {has_password:<8}  {roles}",
            u.id,
            u.email,
            u.name,
            u.org_id.as_deref().unwrap_or("-"),
            u.status,
        ))?;
    }
    Ok(())
}
