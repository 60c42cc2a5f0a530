//! TOTP secrets, recovery codes, used steps and mfaTokens. Each write is one
//! statement on the rows of one user or token, which READ COMMITTED makes
//! atomic; a step is taken once through its primary key, whichever instance
//! inserts first.

use super::values::{bytes, count, int, text, time};
use super::PgStore;
use crate::store::{Mfa, MfaState, MfaToken, Result, StoreError, StoredTotp, PRUNE_CHUNK};

impl Mfa for PgStore<'_> {
    fn find_totp(&mut self, user_id: &str) -> Result<Option<StoredTotp>> {
        let row = self.0.query_opt(
            "SELECT secret, enabled_at IS NOT NULL FROM mfa_totp WHERE user_id = $1",
            &[&user_id],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(StoredTotp {
            secret: bytes(&row, 0)?,
            enabled: row.try_get(1)?,
        }))
    }

    fn begin_totp(&mut self, user_id: &str, secret: &[u8], now: u64) -> Result<bool> {
        let changed = self.0.execute(
            "INSERT INTO mfa_totp (user_id, secret, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET
                 secret = excluded.secret, created_at = excluded.created_at
             WHERE mfa_totp.enabled_at IS NULL",
            &[&user_id, &secret, &int(now)],
        )?;
        Ok(changed == 1)
    }

    fn enable_totp(&mut self, user_id: &str, now: u64) -> Result<bool> {
        let changed = self.0.execute(
            "UPDATE mfa_totp SET enabled_at = $2 WHERE user_id = $1 AND enabled_at IS NULL",
            &[&user_id, &int(now)],
        )?;
        Ok(changed == 1)
    }

    fn remove_mfa(&mut self, user_id: &str) -> Result<bool> {
        let row = self.0.query_one(
            "WITH totp AS (DELETE FROM mfa_totp WHERE user_id = $1 RETURNING enabled_at),
                  codes AS (DELETE FROM mfa_recovery_codes WHERE user_id = $1 RETURNING 1)
             SELECT EXISTS (SELECT 1 FROM totp WHERE enabled_at IS NOT NULL),
                    (SELECT count(*) FROM codes)",
            &[&user_id],
        )?;
        Ok(row.try_get(0)?)
    }

    fn replace_recovery_codes(&mut self, user_id: &str, digests: &[Vec<u8>]) -> Result<()> {
        self.0.execute(
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1",
            &[&user_id],
        )?;
        self.0.execute(
            "INSERT INTO mfa_recovery_codes (user_id, digest) SELECT $1, unnest($2::bytea[])",
            &[&user_id, &digests],
        )?;
        Ok(())
    }

    fn spend_recovery_code(&mut self, user_id: &str, digest: &[u8]) -> Result<bool> {
        let gone = self.0.execute(
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1 AND digest = $2",
            &[&user_id, &digest],
        )?;
        Ok(gone == 1)
    }

    /// Of instances inserting one step at once, the key lets one in; the
    /// others wait for it to commit and then insert nothing.
    fn use_totp_step(&mut self, user_id: &str, step: u64) -> Result<bool> {
        let added = self.0.execute(
            "INSERT INTO mfa_used_steps (user_id, step) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&user_id, &int(step)],
        )?;
        Ok(added == 1)
    }

    fn mfa_summary(&mut self, user_id: &str) -> Result<MfaState> {
        let row = self.0.query_one(
            "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND enabled_at IS NOT NULL),
                    (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1),
                    (SELECT count(*) FROM passkeys WHERE user_id = $1)",
            &[&user_id],
        )?;
        let left: i64 = row.try_get(1)?;
        let passkeys: i64 = row.try_get(2)?;
        Ok(MfaState {
            totp: row.try_get(0)?,
            recovery_codes_left: u32::try_from(left)
                .map_err(|_| StoreError::Failed(format!("{left} recovery codes")))?,
            passkeys: u32::try_from(passkeys)
                .map_err(|_| StoreError::Failed(format!("{passkeys} passkeys")))?,
        })
    }

    fn create_mfa_token(&mut self, digest: &[u8], user_id: &str, expires_at: u64) -> Result<()> {
        self.0.execute(
            "INSERT INTO mfa_tokens (digest, user_id, expires_at) VALUES ($1, $2, $3)",
            &[&digest, &user_id, &int(expires_at)],
        )?;
        Ok(())
    }

    fn find_mfa_token(&mut self, digest: &[u8]) -> Result<Option<MfaToken>> {
        let row = self.0.query_opt(
            "SELECT user_id, expires_at FROM mfa_tokens WHERE digest = $1",
            &[&digest],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(MfaToken {
            user_id: text(&row, 0)?,
            expires_at: time(&row, 1)?,
        }))
    }

    /// Of two racing spends, the second finds the row gone once the first commits.
    fn spend_mfa_token(&mut self, digest: &[u8]) -> Result<bool> {
        let gone = self
            .0
            .execute("DELETE FROM mfa_tokens WHERE digest = $1", &[&digest])?;
        Ok(gone == 1)
    }

    fn prune_mfa(&mut self, step_before: u64, expired_before: u64) -> Result<usize> {
        let steps = self.0.execute(
            "DELETE FROM mfa_used_steps WHERE (user_id, step) IN
             (SELECT user_id, step FROM mfa_used_steps WHERE step < $1 LIMIT $2
              FOR UPDATE SKIP LOCKED)",
            &[&int(step_before), &i64::from(PRUNE_CHUNK)],
        )?;
        let tokens = self.0.execute(
            "DELETE FROM mfa_tokens WHERE digest IN
             (SELECT digest FROM mfa_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[&int(expired_before), &i64::from(PRUNE_CHUNK)],
        )?;
        Ok(count(steps).max(count(tokens)))
    }

    fn list_totp_secrets(&mut self) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = self
            .0
            .query("SELECT user_id, secret FROM mfa_totp ORDER BY user_id", &[])?;
        rows.iter()
            .map(|row| Ok((text(row, 0)?, bytes(row, 1)?)))
            .collect()
    }

    fn set_totp_secret(&mut self, user_id: &str, secret: &[u8]) -> Result<()> {
        self.0.execute(
            "UPDATE mfa_totp SET secret = $2 WHERE user_id = $1",
            &[&user_id, &secret],
        )?;
        Ok(())
    }
}
