-- Step 13, as migrations/013_oidc.sql: the OpenID Connect provider (SPEC §13).
-- Relying parties: a confidential client's secret only as its SHA-256 digest
-- (NULL for a public client); the lists as JSON arrays of strings.
CREATE TABLE oidc_clients (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    secret_digest    BYTEA,
    redirect_uris    TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL,
    roles            TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
-- Authorizations (and logouts) waiting for the login page: checked by
-- /oauth/authorize, finished by the page on any instance.
CREATE TABLE oidc_requests (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    client_id      TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    state          TEXT,
    nonce          TEXT,
    code_challenge TEXT,
    prompt         TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oidc_requests_by_expiry ON oidc_requests(expires_at);
-- Authorization codes, only as SHA-256 digests; used_at and sid are set by
-- the one redemption that wins, so that a second use can revoke that session.
CREATE TABLE oidc_codes (
    digest         BYTEA PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    amr            TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    sid            TEXT
);
CREATE INDEX oidc_codes_by_expiry ON oidc_codes(expires_at);
-- The sessions a client's code made: which client, what scope, when the user
-- signed in (the refresh grant and the ID tokens need them).
CREATE TABLE oidc_grants (
    sid       TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    scope     TEXT NOT NULL,
    auth_time BIGINT NOT NULL
);
CREATE INDEX oidc_grants_by_client ON oidc_grants(client_id);
-- RS256 signing keys (SPEC §3): the algorithm's check takes them.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_algorithm_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_algorithm_check
    CHECK (algorithm IN ('EdDSA', 'ES256', 'RS256'));
