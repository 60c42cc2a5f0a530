-- Step 9: the second factor (SPEC §10): TOTP and recovery codes.
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
