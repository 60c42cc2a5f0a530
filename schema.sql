-- authlite schema, version 1. Applied on open when PRAGMA user_version is 0.
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
    updated_at    INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    key_pair   BLOB NOT NULL,            -- Ed25519 secret key and public key, 64 bytes
    created_at INTEGER NOT NULL,
    retired_at INTEGER                   -- when a newer key became current; NULL: current
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,       -- expiry of its newest refresh token
    revoked_at   INTEGER,
    user_agent   TEXT,
    ip           TEXT
);
CREATE INDEX sessions_by_user ON sessions(user_id);

-- Keyed by time-ordered ids, so a batch of new tokens shares its pages. No
-- foreign key on session_id: nothing looks tokens up by session, and an index
-- for the key's checks would cost a page write per refresh. Pruning deletes a
-- session's tokens (which never outlive it) before the session.
CREATE TABLE refresh_tokens (
    jti           TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    token_hash    BLOB NOT NULL,         -- SHA-256 of the token as issued: it vouches for it
    used_at_ms    INTEGER,               -- first use, in milliseconds: a grace of 0 means any reuse
    -- The JSON answer its first use returned, replayed to a racing second use
    -- within the reuse grace. Ed25519 signing here is randomised, so the pair
    -- cannot be re-made byte for byte.
    rotated_to    TEXT
);

-- One row per failed login, under the key 'email:<address>' or 'ip:<address>'.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures(key, at);

-- Set-password links (`authlite user link`): at most one per user, a newer one
-- replacing the older. Only the SHA-256 digest of a token is kept.
CREATE TABLE password_links (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
