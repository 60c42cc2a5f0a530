//! Passkeys and the ceremonies begun for them.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::{
    Ceremony, CeremonyKind, PasskeyUse, Passkeys, Result, StoredPasskey, PRUNE_CHUNK,
};

const COLUMNS: &str = "id, user_id, credential_id, name, credential, sign_count, \
     backup_eligible, backup_state, created_at, last_used_at";

fn passkey(row: &Row) -> rusqlite::Result<StoredPasskey> {
    Ok(StoredPasskey {
        id: row.get(0)?,
        user_id: row.get(1)?,
        credential_id: row.get(2)?,
        name: row.get(3)?,
        credential: row.get(4)?,
        sign_count: row.get(5)?,
        backup_eligible: row.get(6)?,
        backup_state: row.get(7)?,
        created_at: row.get(8)?,
        last_used_at: row.get(9)?,
    })
}

impl Passkeys for SqliteStore<'_> {
    fn add_passkey(&mut self, p: &StoredPasskey) -> Result<bool> {
        let added = self
            .0
            .prepare_cached(&format!(
                "INSERT INTO passkeys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (credential_id) DO NOTHING"
            ))?
            .execute(params![
                p.id,
                p.user_id,
                p.credential_id,
                p.name,
                p.credential,
                p.sign_count,
                p.backup_eligible,
                p.backup_state,
                p.created_at,
                p.last_used_at
            ])?;
        Ok(added == 1)
    }

    fn list_passkeys(&mut self, user_id: &str) -> Result<Vec<StoredPasskey>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE user_id = ?1 ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([user_id], passkey)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn find_passkey_by_credential(
        &mut self,
        credential_id: &[u8],
    ) -> Result<Option<StoredPasskey>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE credential_id = ?1"
        ))?;
        Ok(stmt.query_row([credential_id], passkey).optional()?)
    }

    fn remove_passkey(&mut self, user_id: &str, id: &str) -> Result<bool> {
        let gone = self
            .0
            .prepare_cached("DELETE FROM passkeys WHERE user_id = ?1 AND id = ?2")?
            .execute([user_id, id])?;
        Ok(gone == 1)
    }

    fn remove_passkeys(&mut self, user_id: &str) -> Result<usize> {
        Ok(self
            .0
            .prepare_cached("DELETE FROM passkeys WHERE user_id = ?1")?
            .execute([user_id])?)
    }

    fn count_passkeys(&mut self, user_id: &str) -> Result<u32> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT count(*) FROM passkeys WHERE user_id = ?1")?;
        Ok(stmt.query_row([user_id], |row| row.get(0))?)
    }

    fn use_passkey(&mut self, id: &str, used: &PasskeyUse) -> Result<()> {
        self.0
            .prepare_cached(
                "UPDATE passkeys SET credential = ?2, sign_count = ?3, backup_eligible = ?4,
                     backup_state = ?5, last_used_at = ?6
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                used.credential,
                used.sign_count,
                used.backup_eligible,
                used.backup_state,
                used.at
            ])?;
        Ok(())
    }

    fn create_ceremony(&mut self, c: &Ceremony) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO passkey_ceremonies (digest, kind, user_id, state, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                c.digest,
                c.kind.as_str(),
                c.user_id,
                c.state,
                c.expires_at
            ])?;
        Ok(())
    }

    fn take_ceremony(
        &mut self,
        digest: &[u8],
        kind: CeremonyKind,
        user_id: Option<&str>,
    ) -> Result<Option<Ceremony>> {
        let mut stmt = self.0.prepare_cached(
            "DELETE FROM passkey_ceremonies
             WHERE digest = ?1 AND kind = ?2 AND user_id IS ?3
             RETURNING state, expires_at",
        )?;
        let taken = stmt
            .query_row(params![digest, kind.as_str(), user_id], |row| {
                Ok(Ceremony {
                    digest: digest.to_vec(),
                    kind,
                    user_id: user_id.map(str::to_string),
                    state: row.get(0)?,
                    expires_at: row.get(1)?,
                })
            })
            .optional()?;
        Ok(taken)
    }

    fn prune_ceremonies(&mut self, before: u64) -> Result<usize> {
        Ok(self
            .0
            .prepare_cached(
                "DELETE FROM passkey_ceremonies WHERE digest IN
                 (SELECT digest FROM passkey_ceremonies WHERE expires_at < ?1 LIMIT ?2)",
            )?
            .execute(params![before, PRUNE_CHUNK])?)
    }
}
