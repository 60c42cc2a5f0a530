-- Step 13: the OpenID Connect provider (SPEC §13).
-- Relying parties: a confidential client's secret only as its SHA-256 digest
-- (NULL for a public client); the lists as JSON arrays of strings.
CREATE TABLE oidc_clients (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    secret_digest    BLOB,
    redirect_uris    TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL,
    roles            TEXT NOT NULL,
    created_at       INTEGER NOT NULL
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
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX oidc_requests_by_expiry ON oidc_requests(expires_at);
-- Authorization codes, only as SHA-256 digests; used_at and sid are set by
-- the one redemption that wins, so that a second use can revoke that session.
CREATE TABLE oidc_codes (
    digest         BLOB PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    amr            TEXT NOT NULL,
    auth_time      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    sid            TEXT
);
CREATE INDEX oidc_codes_by_expiry ON oidc_codes(expires_at);
-- The sessions a client's code made: which client, what scope, when the user
-- signed in (the refresh grant and the ID tokens need them).
CREATE TABLE oidc_grants (
    sid       TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES oidc_clients(id) ON DELETE CASCADE,
    scope     TEXT NOT NULL,
    auth_time INTEGER NOT NULL
);
CREATE INDEX oidc_grants_by_client ON oidc_grants(client_id);
-- RS256 signing keys (SPEC §3): the algorithm's check takes them. SQLite
-- cannot change a check in place: the table is made again, rows (and their
-- rowids, which order the keys) as they were.
CREATE TABLE signing_keys_new (
    kid           TEXT PRIMARY KEY,
    key_pair      BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER,
    algorithm     TEXT NOT NULL DEFAULT 'EdDSA' CHECK (algorithm IN ('EdDSA', 'ES256', 'RS256')),
    distrusted_at INTEGER
);
INSERT INTO signing_keys_new (rowid, kid, key_pair, created_at, retired_at, algorithm, distrusted_at)
    SELECT rowid, kid, key_pair, created_at, retired_at, algorithm, distrusted_at FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (retired_at IS NULL)
    WHERE retired_at IS NULL;
