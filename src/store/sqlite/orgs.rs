//! Organisations: an id and a display name.

use rusqlite::{params, Connection, OptionalExtension};

/// The org's name, or None if there is no org with that id.
pub fn name_of(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT name FROM orgs WHERE id = ?1", [id], |row| {
        row.get(0)
    })
    .optional()
}

pub fn upsert(conn: &Connection, id: &str, name: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO orgs (id, name) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        params![id, name],
    )?;
    Ok(())
}
