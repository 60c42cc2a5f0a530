//! `authlite client …`: OpenID Connect clients (SPEC §13).

use serde_json::json;

use super::{note, open, say, Outcome};
use crate::cli::ClientCommand;
use crate::cli::Globals;
use crate::clock::now;
use crate::oidc::clients::{make, new_secret, NewClient};
use crate::store::audit::CLI;
use crate::store::{AuditEvent, Client, Database, StoreError};

pub fn client(globals: &Globals, command: ClientCommand) -> Outcome {
    let db = open(globals)?;
    match command {
        ClientCommand::Add {
            name,
            redirect_uris,
            public,
            roles,
            post_logout_uris,
        } => {
            let new = NewClient {
                name: &name,
                redirect_uris: &redirect_uris,
                public,
                roles: &roles,
                post_logout_uris: &post_logout_uris,
            };
            add(&db, &new)
        }
        ClientCommand::List { json } => list(&db, json),
        ClientCommand::Remove { id } => remove(&db, &id),
        ClientCommand::RotateSecret { id } => rotate_secret(&db, &id),
    }
}

fn failed(db: &Database) -> impl Fn(StoreError) -> String + '_ {
    |e| format!("database {}: {e}", db.name())
}

/// Prints `client_id` (and `client_secret`, shown this once) as `NAME=VALUE`
/// lines, so that `eval` or a settings file takes them as they are.
fn add(db: &Database, new: &NewClient) -> Outcome {
    let now = now();
    let made = make(new, now)?;
    let event = AuditEvent::new(
        "client.created",
        CLI,
        now,
        json!({ "clientId": made.client.id }),
    );
    db.transaction(|s| {
        s.insert_client(&made.client, made.digest.as_deref())?;
        s.append_event(&event)
    })
    .map_err(failed(db))?;
    say(format_args!("client_id={}", made.client.id))?;
    if let Some(secret) = &made.secret {
        say(format_args!("client_secret={secret}"))?;
    }
    note(format_args!(
        "created {} client {} ({}); {}",
        if made.client.public {
            "public"
        } else {
            "confidential"
        },
        made.client.id,
        made.client.name,
        match made.secret {
            Some(_) => "the secret is shown this once",
            None => "it has no secret and must use PKCE",
        }
    ))
}

fn list(db: &Database, json: bool) -> Outcome {
    let clients = db.read(|s| s.list_clients()).map_err(failed(db))?;
    match json {
        true => say(serde_json::Value::Array(clients.iter().map(view).collect())),
        false => {
            say(format_args!(
                "{:<32}  {:<20}  {:<12}  {:<20}  REDIRECT URIS",
                "ID", "NAME", "TYPE", "ROLES"
            ))?;
            for c in &clients {
                say(format_args!(
                    "{:<32}  {:<20}  {:<12}  {:<20}  {}",
                    c.id,
                    c.name,
                    if c.public { "public" } else { "confidential" },
                    if c.roles.is_empty() {
                        "-".to_string()
                    } else {
                        c.roles.join(",")
                    },
                    c.redirect_uris.join(" "),
                ))?;
            }
            Ok(())
        }
    }
}

fn view(c: &Client) -> serde_json::Value {
    json!({
        "id": c.id, "name": c.name, "redirectUris": c.redirect_uris, "public": c.public,
        "roles": c.roles, "postLogoutUris": c.post_logout_uris, "createdAt": c.created_at,
    })
}

fn remove(db: &Database, id: &str) -> Outcome {
    let now = now();
    let event = AuditEvent::new("client.removed", CLI, now, json!({ "clientId": id }));
    let gone = db
        .transaction(|s| {
            let gone = s.remove_client(id, now)?;
            if gone {
                s.append_event(&event)?;
            }
            Ok::<_, StoreError>(gone)
        })
        .map_err(failed(db))?;
    match gone {
        true => say(format_args!(
            "client {id} removed: its codes are void and the sessions it made are revoked"
        )),
        false => Err(format!("there is no client with the id {id}").into()),
    }
}

/// A new secret replaces the old one at once; printed as `add` prints it.
fn rotate_secret(db: &Database, id: &str) -> Outcome {
    let found = db.read(|s| s.find_client(id)).map_err(failed(db))?;
    match found {
        None => return Err(format!("there is no client with the id {id}").into()),
        Some(c) if c.client.public => {
            return Err(format!("client {id} is public: it has no secret to rotate").into())
        }
        Some(_) => {}
    }
    let (secret, digest) = new_secret()?;
    db.transaction(|s| s.set_client_secret(id, &digest))
        .map_err(failed(db))?;
    say(format_args!("client_secret={secret}"))?;
    note(format_args!(
        "client {id} has a new secret; the old one no longer works"
    ))
}
