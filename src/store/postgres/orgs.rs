//! Organisations: an id and a display name.

use super::connect::Conn;
use super::text;
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
