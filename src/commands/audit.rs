//! `authlite audit`: the audit log, newest first.

use super::{open, say, Outcome};
use crate::cli::{AuditArgs, Globals};
use crate::store::{AuditEvent, AuditQuery};

pub fn audit(globals: &Globals, args: AuditArgs) -> Outcome {
    let db = open(globals)?;
    let failed = |e| format!("database {}: {e}", db.name());
    let user_id = match &args.user {
        Some(email) => Some(
            db.read(|s| s.find_user_by_email(email))
                .map_err(failed)?
                .ok_or_else(|| format!("there is no user with the email {email}"))?
                .id,
        ),
        None => None,
    };
    let query = AuditQuery {
        user_id,
        kind: args.kind,
        since: args.since,
        limit: args.limit,
        ..AuditQuery::default()
    };
    let events = db.read(|s| s.list_events(&query)).map_err(failed)?;
    match args.json {
        true => say(serde_json::to_string(&events).map_err(|e| e.to_string())?),
        false => print_table(&events),
    }
}

fn print_table(events: &[AuditEvent]) -> Outcome {
    say(format_args!(
        "{:<10}  {:<22}  {:<32}  {:<38}  {:<15}  DETAIL",
        "AT", "TYPE", "USER", "ACTOR", "IP"
    ))?;
    for e in events {
        say(format_args!(
            "{:<10}  {:<22}  {:<32}  {:<38}  {:<15}  {}",
            e.at,
            e.kind,
            e.user_id.as_deref().unwrap_or("-"),
            e.actor,
            e.ip.as_deref().unwrap_or("-"),
            e.detail,
        ))?;
    }
    Ok(())
}
