//! OIDC clients, waiting authorizations, codes and the sessions codes made.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::oidc::{list_from_text, list_to_text};
use crate::store::sessions::{amr_from_text, amr_to_text};
use crate::store::{
    AuthCode, Client, Grant, Oidc, OidcRequest, Result, StoreError, StoredClient, PRUNE_CHUNK,
};

const CLIENT_COLUMNS: &str =
    "id, name, secret_digest, redirect_uris, post_logout_uris, roles, created_at";

fn stored_client(row: &Row) -> rusqlite::Result<(StoredClient, [String; 3])> {
    let digest: Option<Vec<u8>> = row.get(2)?;
    let client = Client {
        id: row.get(0)?,
        name: row.get(1)?,
        public: digest.is_none(),
        redirect_uris: vec![],
        post_logout_uris: vec![],
        roles: vec![],
        created_at: row.get(6)?,
    };
    let lists = [row.get(3)?, row.get(4)?, row.get(5)?];
    Ok((
        StoredClient {
            client,
            secret_digest: digest,
        },
        lists,
    ))
}

fn with_lists(
    (mut stored, [redirects, logouts, roles]): (StoredClient, [String; 3]),
) -> Result<StoredClient> {
    stored.client.redirect_uris = list_from_text(&redirects)?;
    stored.client.post_logout_uris = list_from_text(&logouts)?;
    stored.client.roles = list_from_text(&roles)?;
    Ok(stored)
}

fn request(row: &Row) -> rusqlite::Result<OidcRequest> {
    Ok(OidcRequest {
        id: row.get(0)?,
        kind: row.get(1)?,
        client_id: row.get(2)?,
        redirect_uri: row.get(3)?,
        scope: row.get(4)?,
        state: row.get(5)?,
        nonce: row.get(6)?,
        code_challenge: row.get(7)?,
        prompt: row.get(8)?,
        created_at: row.get(9)?,
        expires_at: row.get(10)?,
    })
}

fn code(row: &Row) -> rusqlite::Result<AuthCode> {
    let amr: String = row.get(6)?;
    Ok(AuthCode {
        client_id: row.get(0)?,
        user_id: row.get(1)?,
        redirect_uri: row.get(2)?,
        scope: row.get(3)?,
        nonce: row.get(4)?,
        code_challenge: row.get(5)?,
        amr: amr_from_text(&amr),
        auth_time: row.get(7)?,
        expires_at: row.get(8)?,
        used_at: row.get(9)?,
        sid: row.get(10)?,
    })
}

impl Oidc for SqliteStore<'_> {
    fn insert_client(&mut self, client: &Client, secret_digest: Option<&[u8]>) -> Result<()> {
        if client.public != secret_digest.is_none() {
            return Err(StoreError::Failed(
                "a public client has no secret, a confidential one has one".into(),
            ));
        }
        self.0
            .prepare_cached(&format!(
                "INSERT INTO oidc_clients ({CLIENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                client.id,
                client.name,
                secret_digest,
                list_to_text(&client.redirect_uris),
                list_to_text(&client.post_logout_uris),
                list_to_text(&client.roles),
                client.created_at
            ])?;
        Ok(())
    }

    fn list_clients(&mut self) -> Result<Vec<Client>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], stored_client)?;
        let mut clients = Vec::new();
        for row in rows {
            clients.push(with_lists(row?)?.client);
        }
        Ok(clients)
    }

    fn find_client(&mut self, id: &str) -> Result<Option<StoredClient>> {
        let mut stmt = self.0.prepare_cached(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE id = ?1"
        ))?;
        let found = stmt.query_row([id], stored_client).optional()?;
        found.map(with_lists).transpose()
    }

    fn set_client_secret(&mut self, id: &str, digest: &[u8]) -> Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "UPDATE oidc_clients SET secret_digest = ?2
                 WHERE id = ?1 AND secret_digest IS NOT NULL",
            )?
            .execute(params![id, digest])?;
        Ok(changed == 1)
    }

    fn remove_client(&mut self, id: &str, now: u64) -> Result<bool> {
        self.0
            .prepare_cached(
                "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL
                 AND id IN (SELECT sid FROM oidc_grants WHERE client_id = ?1)",
            )?
            .execute(params![id, now])?;
        let gone = self
            .0
            .prepare_cached("DELETE FROM oidc_clients WHERE id = ?1")?
            .execute([id])?;
        Ok(gone == 1)
    }

    fn insert_oidc_request(&mut self, r: &OidcRequest) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO oidc_requests (id, kind, client_id, redirect_uri, scope, state,
                     nonce, code_challenge, prompt, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                r.id,
                r.kind,
                r.client_id,
                r.redirect_uri,
                r.scope,
                r.state,
                r.nonce,
                r.code_challenge,
                r.prompt,
                r.created_at,
                r.expires_at
            ])?;
        Ok(())
    }

    fn find_oidc_request(&mut self, id: &str) -> Result<Option<OidcRequest>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, kind, client_id, redirect_uri, scope, state, nonce, code_challenge,
                    prompt, created_at, expires_at FROM oidc_requests WHERE id = ?1",
        )?;
        Ok(stmt.query_row([id], request).optional()?)
    }

    fn take_oidc_request(&mut self, id: &str) -> Result<bool> {
        let gone = self
            .0
            .prepare_cached("DELETE FROM oidc_requests WHERE id = ?1")?
            .execute([id])?;
        Ok(gone == 1)
    }

    fn insert_code(&mut self, digest: &[u8], c: &AuthCode) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO oidc_codes (digest, client_id, user_id, redirect_uri, scope, nonce,
                     code_challenge, amr, auth_time, expires_at, used_at, sid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                digest,
                c.client_id,
                c.user_id,
                c.redirect_uri,
                c.scope,
                c.nonce,
                c.code_challenge,
                amr_to_text(&c.amr),
                c.auth_time,
                c.expires_at,
                c.used_at,
                c.sid
            ])?;
        Ok(())
    }

    fn find_code(&mut self, digest: &[u8]) -> Result<Option<AuthCode>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT client_id, user_id, redirect_uri, scope, nonce, code_challenge, amr,
                    auth_time, expires_at, used_at, sid FROM oidc_codes WHERE digest = ?1",
        )?;
        Ok(stmt.query_row([digest], code).optional()?)
    }

    fn spend_code(&mut self, digest: &[u8], now: u64, sid: &str) -> Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "UPDATE oidc_codes SET used_at = ?2, sid = ?3 WHERE digest = ?1 AND used_at IS NULL",
            )?
            .execute(params![digest, now, sid])?;
        Ok(changed == 1)
    }

    fn insert_grant(&mut self, g: &Grant) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO oidc_grants (sid, client_id, scope, auth_time) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![g.sid, g.client_id, g.scope, g.auth_time])?;
        Ok(())
    }

    fn find_grant(&mut self, sid: &str) -> Result<Option<Grant>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT sid, client_id, scope, auth_time FROM oidc_grants WHERE sid = ?1",
        )?;
        let found = stmt.query_row([sid], |row| {
            Ok(Grant {
                sid: row.get(0)?,
                client_id: row.get(1)?,
                scope: row.get(2)?,
                auth_time: row.get(3)?,
            })
        });
        Ok(found.optional()?)
    }

    fn prune_oidc(&mut self, expired_before: u64) -> Result<usize> {
        let requests = self
            .0
            .prepare_cached(
                "DELETE FROM oidc_requests WHERE id IN
                 (SELECT id FROM oidc_requests WHERE expires_at < ?1 LIMIT ?2)",
            )?
            .execute(params![expired_before, PRUNE_CHUNK])?;
        let codes = self
            .0
            .prepare_cached(
                "DELETE FROM oidc_codes WHERE digest IN
                 (SELECT digest FROM oidc_codes WHERE expires_at < ?1 LIMIT ?2)",
            )?
            .execute(params![expired_before, PRUNE_CHUNK])?;
        Ok(requests.max(codes))
    }
}
