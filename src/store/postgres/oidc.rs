//! OIDC clients, waiting authorizations, codes and the sessions codes made.
//! A code is spent by one conditional UPDATE, which READ COMMITTED makes
//! atomic: of racing redemptions on any instances, one changes the row.

use postgres::Row;

use super::values::{count, int, opt_bytes, opt_text, opt_time, text, time};
use super::PgStore;
use crate::store::oidc::{list_from_text, list_to_text};
use crate::store::sessions::{amr_from_text, amr_to_text};
use crate::store::{
    AuthCode, Client, Grant, Oidc, OidcRequest, Result, StoreError, StoredClient, PRUNE_CHUNK,
};

fn stored_client(row: &Row) -> Result<StoredClient> {
    let secret_digest = opt_bytes(row, 2)?;
    Ok(StoredClient {
        client: Client {
            id: text(row, 0)?,
            name: text(row, 1)?,
            public: secret_digest.is_none(),
            redirect_uris: list_from_text(&text(row, 3)?)?,
            post_logout_uris: list_from_text(&text(row, 4)?)?,
            roles: list_from_text(&text(row, 5)?)?,
            created_at: time(row, 6)?,
        },
        secret_digest,
    })
}

fn request(row: &Row) -> Result<OidcRequest> {
    Ok(OidcRequest {
        id: text(row, 0)?,
        kind: text(row, 1)?,
        client_id: text(row, 2)?,
        redirect_uri: text(row, 3)?,
        scope: text(row, 4)?,
        state: opt_text(row, 5)?,
        nonce: opt_text(row, 6)?,
        code_challenge: opt_text(row, 7)?,
        prompt: opt_text(row, 8)?,
        created_at: time(row, 9)?,
        expires_at: time(row, 10)?,
    })
}

fn code(row: &Row) -> Result<AuthCode> {
    Ok(AuthCode {
        client_id: text(row, 0)?,
        user_id: text(row, 1)?,
        redirect_uri: text(row, 2)?,
        scope: text(row, 3)?,
        nonce: opt_text(row, 4)?,
        code_challenge: opt_text(row, 5)?,
        amr: amr_from_text(&text(row, 6)?),
        auth_time: time(row, 7)?,
        expires_at: time(row, 8)?,
        used_at: opt_time(row, 9)?,
        sid: opt_text(row, 10)?,
    })
}

impl Oidc for PgStore<'_> {
    fn insert_client(&mut self, client: &Client, secret_digest: Option<&[u8]>) -> Result<()> {
        if client.public != secret_digest.is_none() {
            return Err(StoreError::Failed(
                "a public client has no secret, a confidential one has one".into(),
            ));
        }
        self.0.execute(
            "INSERT INTO oidc_clients (id, name, secret_digest, redirect_uris, post_logout_uris,
                 roles, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &client.id,
                &client.name,
                &secret_digest,
                &list_to_text(&client.redirect_uris),
                &list_to_text(&client.post_logout_uris),
                &list_to_text(&client.roles),
                &int(client.created_at),
            ],
        )?;
        Ok(())
    }

    fn list_clients(&mut self) -> Result<Vec<Client>> {
        let rows = self.0.query(
            "SELECT id, name, secret_digest, redirect_uris, post_logout_uris, roles, created_at
             FROM oidc_clients ORDER BY created_at, id",
            &[],
        )?;
        rows.iter()
            .map(|row| stored_client(row).map(|s| s.client))
            .collect()
    }

    fn find_client(&mut self, id: &str) -> Result<Option<StoredClient>> {
        let row = self.0.query_opt(
            "SELECT id, name, secret_digest, redirect_uris, post_logout_uris, roles, created_at
             FROM oidc_clients WHERE id = $1",
            &[&id],
        )?;
        row.as_ref().map(stored_client).transpose()
    }

    fn set_client_secret(&mut self, id: &str, digest: &[u8]) -> Result<bool> {
        let changed = self.0.execute(
            "UPDATE oidc_clients SET secret_digest = $2 WHERE id = $1 AND secret_digest IS NOT NULL",
            &[&id, &digest],
        )?;
        Ok(changed == 1)
    }

    fn remove_client(&mut self, id: &str, now: u64) -> Result<bool> {
        self.0.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE revoked_at IS NULL
             AND id IN (SELECT sid FROM oidc_grants WHERE client_id = $1)",
            &[&id, &int(now)],
        )?;
        let gone = self
            .0
            .execute("DELETE FROM oidc_clients WHERE id = $1", &[&id])?;
        Ok(gone == 1)
    }

    fn insert_oidc_request(&mut self, r: &OidcRequest) -> Result<()> {
        self.0.execute(
            "INSERT INTO oidc_requests (id, kind, client_id, redirect_uri, scope, state,
                 nonce, code_challenge, prompt, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &r.id,
                &r.kind,
                &r.client_id,
                &r.redirect_uri,
                &r.scope,
                &r.state,
                &r.nonce,
                &r.code_challenge,
                &r.prompt,
                &int(r.created_at),
                &int(r.expires_at),
            ],
        )?;
        Ok(())
    }

    fn find_oidc_request(&mut self, id: &str) -> Result<Option<OidcRequest>> {
        let row = self.0.query_opt(
            "SELECT id, kind, client_id, redirect_uri, scope, state, nonce, code_challenge,
                    prompt, created_at, expires_at FROM oidc_requests WHERE id = $1",
            &[&id],
        )?;
        row.as_ref().map(request).transpose()
    }

    fn take_oidc_request(&mut self, id: &str) -> Result<bool> {
        let gone = self
            .0
            .execute("DELETE FROM oidc_requests WHERE id = $1", &[&id])?;
        Ok(gone == 1)
    }

    fn insert_code(&mut self, digest: &[u8], c: &AuthCode) -> Result<()> {
        self.0.execute(
            "INSERT INTO oidc_codes (digest, client_id, user_id, redirect_uri, scope, nonce,
                 code_challenge, amr, auth_time, expires_at, used_at, sid)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &digest,
                &c.client_id,
                &c.user_id,
                &c.redirect_uri,
                &c.scope,
                &c.nonce,
                &c.code_challenge,
                &amr_to_text(&c.amr),
                &int(c.auth_time),
                &int(c.expires_at),
                &c.used_at.map(int),
                &c.sid,
            ],
        )?;
        Ok(())
    }

    fn find_code(&mut self, digest: &[u8]) -> Result<Option<AuthCode>> {
        let row = self.0.query_opt(
            "SELECT client_id, user_id, redirect_uri, scope, nonce, code_challenge, amr,
                    auth_time, expires_at, used_at, sid FROM oidc_codes WHERE digest = $1",
            &[&digest],
        )?;
        row.as_ref().map(code).transpose()
    }

    fn spend_code(&mut self, digest: &[u8], now: u64, sid: &str) -> Result<bool> {
        let changed = self.0.execute(
            "UPDATE oidc_codes SET used_at = $2, sid = $3 WHERE digest = $1 AND used_at IS NULL",
            &[&digest, &int(now), &sid],
        )?;
        Ok(changed == 1)
    }

    fn insert_grant(&mut self, g: &Grant) -> Result<()> {
        self.0.execute(
            "INSERT INTO oidc_grants (sid, client_id, scope, auth_time) VALUES ($1, $2, $3, $4)",
            &[&g.sid, &g.client_id, &g.scope, &int(g.auth_time)],
        )?;
        Ok(())
    }

    fn find_grant(&mut self, sid: &str) -> Result<Option<Grant>> {
        let row = self.0.query_opt(
            "SELECT sid, client_id, scope, auth_time FROM oidc_grants WHERE sid = $1",
            &[&sid],
        )?;
        row.map(|row| {
            Ok(Grant {
                sid: text(&row, 0)?,
                client_id: text(&row, 1)?,
                scope: text(&row, 2)?,
                auth_time: time(&row, 3)?,
            })
        })
        .transpose()
    }

    fn prune_oidc(&mut self, expired_before: u64) -> Result<usize> {
        let chunk = i64::from(PRUNE_CHUNK);
        let requests = self.0.execute(
            "DELETE FROM oidc_requests WHERE id IN
             (SELECT id FROM oidc_requests WHERE expires_at < $1 LIMIT $2)",
            &[&int(expired_before), &chunk],
        )?;
        let codes = self.0.execute(
            "DELETE FROM oidc_codes WHERE digest IN
             (SELECT digest FROM oidc_codes WHERE expires_at < $1 LIMIT $2)",
            &[&int(expired_before), &chunk],
        )?;
        Ok(count(requests).max(count(codes)))
    }
}
