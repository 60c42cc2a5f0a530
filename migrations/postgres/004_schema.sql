-- authlite on PostgreSQL, schema version 4: brings an empty database to what
-- SQLite's schema.sql is at version 4, so that "schema version N" means the
-- same on both engines. Later steps are files NNN_*.sql beside this one, one
-- transaction each (src/store/postgres/migrate.rs). Times are Unix seconds
-- (spent_at_ms: milliseconds), BLOBs are BYTEA, and where SQLite code uses
-- rowid a BIGSERIAL column stands in.

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
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    -- EdDSA: the Ed25519 secret and public key, 64 bytes; ES256: the P-256
    -- secret scalar, 32 bytes. Sealed (see meta.master_key_check) when the
    -- database has a master key.
    key_pair      BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT,                -- when it stopped signing; NULL: current
    algorithm     TEXT NOT NULL DEFAULT 'EdDSA' CHECK (algorithm IN ('EdDSA', 'ES256')),
    distrusted_at BIGINT,                -- `keys retire`: its tokens are refused from then on
    -- Grows with every key made: orders keys made within one second, and is
    -- part of the fingerprint that tells running instances the keys changed.
    generation    BIGSERIAL NOT NULL
);
-- At most one current key, whatever two instances do at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;

-- Small named values. 'master_key_check': a known text sealed with the master
-- key, so that another key file is told apart before anything is written.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

-- A session is also its refresh record: only its newest refresh token can be
-- spent, so rows grow with sessions, never with refreshes.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,        -- expiry of its newest refresh token
    revoked_at   BIGINT,
    user_agent   TEXT,
    ip           TEXT,
    refresh_jti  TEXT NOT NULL,          -- the newest refresh token's jti
    refresh_hash BYTEA NOT NULL,         -- its SHA-256 as issued: it vouches for it
    -- The token spent last, when (milliseconds: a grace of 0 means any reuse),
    -- and the answer it got, replayed to a racing second use within the reuse
    -- grace and cleared after it. Sealed with the master key if any.
    spent_jti    TEXT,
    spent_at_ms  BIGINT,
    grace_answer BYTEA
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_with_grace_answer ON sessions(spent_at_ms) WHERE grace_answer IS NOT NULL;

-- One row per failed login, under the key 'email:<address>' or 'ip:<address>'.
CREATE TABLE login_failures (
    id  BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures(key, at);
CREATE INDEX login_failures_by_time ON login_failures(at);

-- Set-password links (`authlite user link`): at most one per user, a newer one
-- replacing the older. Only the SHA-256 digest of a token is kept.
CREATE TABLE password_links (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
