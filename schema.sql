-- authlite schema, version 13: what a new database gets. An older database is
-- brought here by the steps in migrations/, one transaction each.
-- Times are Unix seconds.

CREATE TABLE orgs (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,  -- trimmed and lower-cased
    name          TEXT NOT NULL,
    org_id        TEXT REFERENCES orgs(id),
    password_hash TEXT,                  -- PHC string; NULL: no password set
    status        TEXT NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'inactive', 'banned', 'deleted')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER                -- NULL: never signed in
);

-- A user's roles, a row each (SPEC section 8), so that the users holding a
-- role are found through an index.
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;
CREATE INDEX user_roles_by_role ON user_roles(role, user_id);

-- The admin API's search for a substring of email or name (SPEC section 8): a
-- trigram index that reads its text from `users` (external content: no second
-- copy of an email), kept in step by triggers. The users' rowids are its keys
-- (`users` has indexes, so VACUUM keeps them). secure-delete: an erased user's
-- trigrams leave the index at once, not at a later merge.
CREATE VIRTUAL TABLE users_search USING fts5(
    email, name, content = 'users', columnsize = 0, tokenize = 'trigram'
);
INSERT INTO users_search (users_search, rank) VALUES ('secure-delete', 1);
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, name ON users
WHEN old.email IS NOT new.email OR old.name IS NOT new.name BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
        VALUES ('delete', old.rowid, old.email, old.name);
    INSERT INTO users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
        VALUES ('delete', old.rowid, old.email, old.name);
END;

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    -- EdDSA: the Ed25519 secret and public key, 64 bytes; ES256: the P-256
    -- secret scalar, 32 bytes; RS256: a 2048-bit RSA key, PKCS#1 DER. Sealed (see meta.master_key_check) when the
    -- database has a master key.
    key_pair      BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER,               -- when it stopped signing; NULL: current
    algorithm     TEXT NOT NULL DEFAULT 'EdDSA' CHECK (algorithm IN ('EdDSA', 'ES256', 'RS256')),
    distrusted_at INTEGER                -- `keys retire`: its tokens are refused from then on
);
-- At most one current key, whatever two processes do at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (retired_at IS NULL)
    WHERE retired_at IS NULL;

-- Small named values. 'master_key_check': a known text sealed with the master
-- key, so that another key file is told apart before anything is written.
-- 'healthz': the time of the last write probe of /healthz.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- A session is also its refresh record: only its newest refresh token can be
-- spent, so rows grow with sessions, never with refreshes.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,       -- expiry of its newest refresh token
    revoked_at   INTEGER,
    user_agent   TEXT,
    ip           TEXT,
    refresh_jti  TEXT NOT NULL,          -- the newest refresh token's jti
    refresh_hash BLOB NOT NULL,          -- its SHA-256 as issued: it vouches for it
    -- The token spent last, when (milliseconds: a grace of 0 means any reuse),
    -- and the answer it got, replayed to a racing second use within the reuse
    -- grace and cleared after it. Ed25519 signing here is randomised, so the
    -- pair cannot be made again byte for byte. Sealed with the master key if any.
    spent_jti    TEXT,
    spent_at_ms  INTEGER,
    grace_answer BLOB,
    amr          TEXT NOT NULL DEFAULT 'pwd' -- how it signed in: RFC 8176 values, space-separated
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_with_grace_answer ON sessions(spent_at_ms) WHERE grace_answer IS NOT NULL;

-- One row per failed login, under the key 'email:<address>' or 'ip:<address>'.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures(key, at);
CREATE INDEX login_failures_by_time ON login_failures(at);

-- Set-password links (`authlite user link`): at most one per user, a newer one
-- replacing the older. Only the SHA-256 digest of a token is kept.
CREATE TABLE password_links (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- API keys (SPEC section 8): only the SHA-256 digest of a key is kept;
-- scopes are separated by spaces.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    digest       BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- Security events (SPEC §8), written in the transaction of the change they
-- record; never a password, hash, token, code or key. Pruned after
-- --audit-retention days.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,   -- in the order of commit: the list's cursor
    at         INTEGER NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT,                  -- no foreign key: events outlive their user
    actor      TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT NOT NULL          -- a JSON object
);
CREATE INDEX audit_events_by_user ON audit_events(user_id) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_by_type ON audit_events(type);
CREATE INDEX audit_events_by_time ON audit_events(at);

-- The second factor (SPEC §10): TOTP and recovery codes.
-- A user's TOTP secret: waiting for its first code (enabled_at NULL; a newer
-- enrolment replaces it) or on. Sealed with the master key, bound to the user.
CREATE TABLE mfa_totp (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    enabled_at INTEGER
);
-- Recovery codes: only their SHA-256 digests; a row is deleted as it is used.
CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest  BLOB NOT NULL,
    PRIMARY KEY (user_id, digest)
) WITHOUT ROWID;
-- The 30-second steps whose code each user has used: the key lets a code in
-- once per account and step, whoever races.
CREATE TABLE mfa_used_steps (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    step    INTEGER NOT NULL,
    PRIMARY KEY (user_id, step)
) WITHOUT ROWID;
-- Sign-ins waiting for their second factor: the SHA-256 digest of the
-- mfaToken, spent by success.
CREATE TABLE mfa_tokens (
    digest     BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX mfa_tokens_by_user ON mfa_tokens(user_id);
CREATE INDEX mfa_tokens_by_expiry ON mfa_tokens(expires_at);

-- Passkeys (step 11).
-- A user's WebAuthn credentials. `credential` is the relying party's record of
-- it (public key, sign counter, backup flags) as JSON; the counter and flags
-- are also kept in columns of their own so that they can be read and queried.
-- Public keys are not secrets: nothing here is sealed.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id   BLOB NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    credential      TEXT NOT NULL,
    sign_count      INTEGER NOT NULL,
    backup_eligible BOOLEAN NOT NULL,
    backup_state    BOOLEAN NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_by_user ON passkeys(user_id);
-- Registrations and sign-ins begun and not yet finished: the SHA-256 digest of
-- the ceremonyId, the relying party's state (its challenge) as JSON, and for a
-- registration the user. A finish deletes the row it reads (once, 300 s).
CREATE TABLE passkey_ceremonies (
    digest     BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_by_user ON passkey_ceremonies(user_id);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies(expires_at);

-- Email (SPEC §12). The outbox: every message is a row written in
-- the transaction of what caused it, until a sender delivers it or gives up.
-- `message` holds the subject and both parts, sealed with the master key
-- (bound to the row's id) when there is one; it is emptied (NULL) once the
-- message is sent or given up, so a link stays in the database no longer than
-- it waits. `next_at` is when it is due, or while a sender holds it, when
-- that sender's claim lapses.
CREATE TABLE mail_outbox (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    message    BLOB,
    state      TEXT NOT NULL,          -- queued, sent or failed
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    sent_at    INTEGER,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_at) WHERE state = 'queued';
CREATE INDEX mail_outbox_by_time ON mail_outbox(created_at);
CREATE INDEX mail_outbox_by_user ON mail_outbox(user_id) WHERE user_id IS NOT NULL;
-- One message per purpose and address per 60 s: the SHA-256 digest of
-- "purpose:address" (no address in clear), and when its last message went.
CREATE TABLE mail_throttle (
    digest  BLOB PRIMARY KEY,
    last_at INTEGER NOT NULL
);
-- Sign-ups waiting for their confirmation link: the password's hash and the
-- SHA-256 digest of the token, never either in clear. One per address.
CREATE TABLE registrations (
    email         TEXT PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX registrations_by_expiry ON registrations(expires_at);

-- The OpenID Connect provider (SPEC §13), step 13.
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
