//! Organisations: an id and a display name.

use super::conn::Conn;
use super::{text, KEY_LOCK};
use crate::store::Result;

/// The org's name, or None if there is no org with that id.
pub fn name_of(conn: &mut Conn, id: &str) -> Result<Option<String>> {
    match conn.query_opt("SELECT name FROM orgs WHERE id = $1", &[&id])? {
        Some(row) => Ok(Some(text(&row, 0)?)),
        None => Ok(None),
    }
}

pub fn upsert(conn: &mut Conn, id: &str, name: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO orgs (id, name) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        &[&id, &name],
    )?;
    Ok(())
}

/// Until the transaction ends, no other one applies a seed (each takes this
/// lock first), so that of seeds racing, one counts an org or user created.
pub fn lock_seeding(conn: &mut Conn) -> Result<()> {
    conn.query_one("SELECT pg_advisory_xact_lock($1, 1)", &[&KEY_LOCK])?;
    Ok(())
}
