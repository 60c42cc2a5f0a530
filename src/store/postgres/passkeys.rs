//! Passkeys and the ceremonies begun for them. A ceremony is taken by one
//! DELETE … RETURNING: of instances taking it at once, the first to delete
//! the row gets it, the others find nothing once it commits.

use postgres::Row;

use super::values::{bytes, count, int, opt_time, text, time};
use super::PgStore;
use crate::store::{
    Ceremony, CeremonyKind, PasskeyUse, Passkeys, Result, StoreError, StoredPasskey, PRUNE_CHUNK,
};

/// The columns of a passkey, as `passkey` reads them (statements are `'static`).
macro_rules! columns {
    () => {
        "id, user_id, credential_id, name, credential, sign_count, \
         backup_eligible, backup_state, created_at, last_used_at"
    };
}

fn passkey(row: &Row) -> Result<StoredPasskey> {
    let sign_count: i64 = row.try_get(5)?;
    Ok(StoredPasskey {
        id: text(row, 0)?,
        user_id: text(row, 1)?,
        credential_id: bytes(row, 2)?,
        name: text(row, 3)?,
        credential: text(row, 4)?,
        sign_count: u32::try_from(sign_count)
            .map_err(|_| StoreError::Failed(format!("a sign count of {sign_count}")))?,
        backup_eligible: row.try_get(6)?,
        backup_state: row.try_get(7)?,
        created_at: time(row, 8)?,
        last_used_at: opt_time(row, 9)?,
    })
}

impl Passkeys for PgStore<'_> {
    fn add_passkey(&mut self, p: &StoredPasskey) -> Result<bool> {
        let added = self.0.execute(
            concat!(
                "INSERT INTO passkeys (",
                columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (credential_id) DO NOTHING"
            ),
            &[
                &p.id,
                &p.user_id,
                &p.credential_id,
                &p.name,
                &p.credential,
                &i64::from(p.sign_count),
                &p.backup_eligible,
                &p.backup_state,
                &int(p.created_at),
                &p.last_used_at.map(int),
            ],
        )?;
        Ok(added == 1)
    }

    fn list_passkeys(&mut self, user_id: &str) -> Result<Vec<StoredPasskey>> {
        let rows = self.0.query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
            ),
            &[&user_id],
        )?;
        rows.iter().map(passkey).collect()
    }

    fn find_passkey_by_credential(
        &mut self,
        credential_id: &[u8],
    ) -> Result<Option<StoredPasskey>> {
        let row = self.0.query_opt(
            concat!(
                "SELECT ",
                columns!(),
                " FROM passkeys WHERE credential_id = $1"
            ),
            &[&credential_id],
        )?;
        row.as_ref().map(passkey).transpose()
    }

    fn remove_passkey(&mut self, user_id: &str, id: &str) -> Result<bool> {
        let gone = self.0.execute(
            "DELETE FROM passkeys WHERE user_id = $1 AND id = $2",
            &[&user_id, &id],
        )?;
        Ok(gone == 1)
    }

    fn remove_passkeys(&mut self, user_id: &str) -> Result<usize> {
        let gone = self
            .0
            .execute("DELETE FROM passkeys WHERE user_id = $1", &[&user_id])?;
        Ok(count(gone))
    }

    fn count_passkeys(&mut self, user_id: &str) -> Result<u32> {
        let row = self.0.query_one(
            "SELECT count(*) FROM passkeys WHERE user_id = $1",
            &[&user_id],
        )?;
        let n: i64 = row.try_get(0)?;
        u32::try_from(n).map_err(|_| StoreError::Failed(format!("{n} passkeys")))
    }

    fn use_passkey(&mut self, id: &str, used: &PasskeyUse) -> Result<()> {
        self.0.execute(
            "UPDATE passkeys SET credential = $2, sign_count = $3, backup_eligible = $4,
                 backup_state = $5, last_used_at = $6
             WHERE id = $1",
            &[
                &id,
                &used.credential,
                &i64::from(used.sign_count),
                &used.backup_eligible,
                &used.backup_state,
                &int(used.at),
            ],
        )?;
        Ok(())
    }

    fn create_ceremony(&mut self, c: &Ceremony) -> Result<()> {
        self.0.execute(
            "INSERT INTO passkey_ceremonies (digest, kind, user_id, state, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &c.digest,
                &c.kind.as_str(),
                &c.user_id,
                &c.state,
                &int(c.expires_at),
            ],
        )?;
        Ok(())
    }

    fn take_ceremony(
        &mut self,
        digest: &[u8],
        kind: CeremonyKind,
        user_id: Option<&str>,
    ) -> Result<Option<Ceremony>> {
        let row = self.0.query_opt(
            "DELETE FROM passkey_ceremonies
             WHERE digest = $1 AND kind = $2 AND user_id IS NOT DISTINCT FROM $3
             RETURNING state, expires_at",
            &[&digest, &kind.as_str(), &user_id],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Ceremony {
            digest: digest.to_vec(),
            kind,
            user_id: user_id.map(str::to_string),
            state: text(&row, 0)?,
            expires_at: time(&row, 1)?,
        }))
    }

    fn prune_ceremonies(&mut self, before: u64) -> Result<usize> {
        let gone = self.0.execute(
            "DELETE FROM passkey_ceremonies WHERE digest IN
             (SELECT digest FROM passkey_ceremonies WHERE expires_at < $1 LIMIT $2
              FOR UPDATE SKIP LOCKED)",
            &[&int(before), &i64::from(PRUNE_CHUNK)],
        )?;
        Ok(count(gone))
    }
}
