//! TOTP secrets, recovery codes, used steps and mfaTokens.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::store::{Mfa, MfaState, MfaToken, Result, StoredTotp, PRUNE_CHUNK};

impl Mfa for SqliteStore<'_> {
    fn find_totp(&mut self, user_id: &str) -> Result<Option<StoredTotp>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT secret, enabled_at IS NOT NULL FROM mfa_totp WHERE user_id = ?1",
        )?;
        let found = stmt.query_row([user_id], |row| {
            Ok(StoredTotp {
                secret: row.get(0)?,
                enabled: row.get(1)?,
            })
        });
        Ok(found.optional()?)
    }

    fn begin_totp(&mut self, user_id: &str, secret: &[u8], now: u64) -> Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "INSERT INTO mfa_totp (user_id, secret, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET
                 secret = excluded.secret, created_at = excluded.created_at
             WHERE mfa_totp.enabled_at IS NULL",
            )?
            .execute(params![user_id, secret, now])?;
        Ok(changed == 1)
    }

    fn enable_totp(&mut self, user_id: &str, now: u64) -> Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "UPDATE mfa_totp SET enabled_at = ?2 WHERE user_id = ?1 AND enabled_at IS NULL",
            )?
            .execute(params![user_id, now])?;
        Ok(changed == 1)
    }

    fn remove_mfa(&mut self, user_id: &str) -> Result<bool> {
        let was_on = self
            .0
            .prepare_cached("DELETE FROM mfa_totp WHERE user_id = ?1 AND enabled_at IS NOT NULL")?
            .execute([user_id])?;
        self.0
            .prepare_cached("DELETE FROM mfa_totp WHERE user_id = ?1")?
            .execute([user_id])?;
        self.0
            .prepare_cached("DELETE FROM mfa_recovery_codes WHERE user_id = ?1")?
            .execute([user_id])?;
        Ok(was_on == 1)
    }

    fn replace_recovery_codes(&mut self, user_id: &str, digests: &[Vec<u8>]) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM mfa_recovery_codes WHERE user_id = ?1")?
            .execute([user_id])?;
        let mut insert = self
            .0
            .prepare_cached("INSERT INTO mfa_recovery_codes (user_id, digest) VALUES (?1, ?2)")?;
        for digest in digests {
            insert.execute(params![user_id, digest])?;
        }
        Ok(())
    }

    fn spend_recovery_code(&mut self, user_id: &str, digest: &[u8]) -> Result<bool> {
        let gone = self
            .0
            .prepare_cached("DELETE FROM mfa_recovery_codes WHERE user_id = ?1 AND digest = ?2")?
            .execute(params![user_id, digest])?;
        Ok(gone == 1)
    }

    fn use_totp_step(&mut self, user_id: &str, step: u64) -> Result<bool> {
        let added = self
            .0
            .prepare_cached(
                "INSERT INTO mfa_used_steps (user_id, step) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?
            .execute(params![user_id, step])?;
        Ok(added == 1)
    }

    fn mfa_summary(&mut self, user_id: &str) -> Result<MfaState> {
        let mut stmt = self.0.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = ?1 AND enabled_at IS NOT NULL),
                    (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = ?1),
                    (SELECT count(*) FROM passkeys WHERE user_id = ?1)",
        )?;
        Ok(stmt.query_row([user_id], |row| {
            Ok(MfaState {
                totp: row.get(0)?,
                recovery_codes_left: row.get(1)?,
                passkeys: row.get(2)?,
            })
        })?)
    }

    fn create_mfa_token(&mut self, digest: &[u8], user_id: &str, expires_at: u64) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO mfa_tokens (digest, user_id, expires_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![digest, user_id, expires_at])?;
        Ok(())
    }

    fn find_mfa_token(&mut self, digest: &[u8]) -> Result<Option<MfaToken>> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT user_id, expires_at FROM mfa_tokens WHERE digest = ?1")?;
        let found = stmt.query_row([digest], |row| {
            Ok(MfaToken {
                user_id: row.get(0)?,
                expires_at: row.get(1)?,
            })
        });
        Ok(found.optional()?)
    }

    fn spend_mfa_token(&mut self, digest: &[u8]) -> Result<bool> {
        let gone = self
            .0
            .prepare_cached("DELETE FROM mfa_tokens WHERE digest = ?1")?
            .execute([digest])?;
        Ok(gone == 1)
    }

    fn prune_mfa(&mut self, step_before: u64, expired_before: u64) -> Result<usize> {
        let steps = self
            .0
            .prepare_cached(
                "DELETE FROM mfa_used_steps WHERE (user_id, step) IN
                 (SELECT user_id, step FROM mfa_used_steps WHERE step < ?1 LIMIT ?2)",
            )?
            .execute(params![step_before, PRUNE_CHUNK])?;
        let tokens = self
            .0
            .prepare_cached(
                "DELETE FROM mfa_tokens WHERE digest IN
                 (SELECT digest FROM mfa_tokens WHERE expires_at < ?1 LIMIT ?2)",
            )?
            .execute(params![expired_before, PRUNE_CHUNK])?;
        Ok(steps.max(tokens))
    }

    fn list_totp_secrets(&mut self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut stmt = self
            .0
            .prepare("SELECT user_id, secret FROM mfa_totp ORDER BY user_id")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_totp_secret(&mut self, user_id: &str, secret: &[u8]) -> Result<()> {
        self.0
            .prepare_cached("UPDATE mfa_totp SET secret = ?2 WHERE user_id = ?1")?
            .execute(params![user_id, secret])?;
        Ok(())
    }
}
