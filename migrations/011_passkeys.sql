-- Step 11: passkeys (SPEC §11).
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
