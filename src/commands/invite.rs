//! `authlite user invite`: the user (made without a password if new), a
//! set-password link and its message, in one transaction; then the message
//! is sent at once. One that cannot be sent now stays in the outbox, where a
//! running server's sender retries it.

use serde_json::json;

use super::{say, Outcome};
use crate::cli::{Globals, InviteArgs};
use crate::clock::now;
use crate::ids::new_id;
use crate::mail::sender::{Outcome as Sent, Sender};
use crate::mail::transport::Delivery;
use crate::mail::{self, LinkMail};
use crate::password::link;
use crate::roles::{self, RoleError};
use crate::store::audit::CLI;
use crate::store::{AuditEvent, Database, Status, StoreError, User};
use crate::tokens::Sealer;

pub fn invite(globals: &Globals, db: &Database, args: InviteArgs) -> Outcome {
    let settings = args.mail.settings().ok_or(
        "email is off: give --smtp-url with --mail-from, or --mail-dir (SPEC §12)".to_string(),
    )?;
    let delivery = Delivery::new(&settings)?;
    let sealer = Sealer::from_option(globals.master_key_file.as_deref())?;
    let roles = roles::role_list(&args.roles).map_err(|e| match e {
        RoleError::TooMany(n) => format!("--role: {}", roles::too_many(n)),
        RoleError::Malformed { why, .. } => format!("--role: {why}"),
    })?;
    let failed = |e: StoreError| format!("database {}: {e}", db.name());
    if let Some(org) = &args.org {
        if db.read(|s| s.org_name(org)).map_err(failed)?.is_none() {
            return Err(format!("there is no org \"{org}\" (orgs are made by a seed file)").into());
        }
    }
    let (token, digest) =
        link::new_token().map_err(|e| format!("no random bytes for a link: {e}"))?;
    let now = now();
    let expires_at = now.saturating_add(args.ttl);
    let email = args.email.clone();
    let (user, created, id) = db
        .transaction(|s| {
            let (user, created) = match s.find_user_by_email(&email)? {
                Some(user) if user.status == Status::Deleted => return Ok(Err(())),
                Some(user) => (user, false),
                None => {
                    let user = User {
                        id: new_id(),
                        email: email.clone(),
                        name: args.name.clone(),
                        org_id: args.org.clone(),
                        password_hash: None,
                        status: Status::Active,
                        created_at: now,
                        roles: roles.clone(),
                    };
                    s.insert_user(&user, now)?;
                    s.append_event(
                        &AuditEvent::new("user.created", CLI, now, json!({})).user(&user.id),
                    )?;
                    (user, true)
                }
            };
            s.replace_link(&user.id, &digest, expires_at, now)?;
            let link = LinkMail {
                kind: "invite",
                product: &args.issuer,
                base: &args.public_url,
                user_id: &user.id,
                email: &user.email,
                token: &token,
                valid_for: args.ttl,
            };
            let id = mail::queue_link(s, &sealer, &link, now)?;
            let detail = json!({"expiresAt": expires_at, "sent": true, "messageId": id});
            s.append_event(&AuditEvent::new("link.created", CLI, now, detail).user(&user.id))?;
            Ok(Ok((user, created, id)))
        })
        .map_err(failed)?
        .map_err(|()| format!("the user {email} is deleted: no invitation is sent to them"))?;
    let made = match created {
        true => format!("created user {} {}", user.id, user.email),
        false => format!("user {} {} exists", user.id, user.email),
    };
    let sender = Sender {
        db,
        sealer: &sealer,
        delivery: &delivery,
        metrics: None,
    };
    let outcome = sender.send_one(&id).map_err(failed)?;
    match outcome {
        Some(Sent::Sent) => say(format_args!("{made}; invitation {id} sent")),
        Some(Sent::GivenUp) => Err(format!(
            "{made}, but the mail server refused invitation {id} for good (see the log)"
        )
        .into()),
        _ => say(format_args!(
            "{made}; invitation {id} queued: the mail server did not take it now, and a running server will retry it"
        )),
    }
}
