-- Step 9, as migrations/009_mfa.sql: the second factor (SPEC §10): TOTP and recovery codes.
-- A user's TOTP secret: waiting for its first code (enabled_at NULL; a newer
-- enrolment replaces it) or on. Sealed with the master key, bound to the user.
CREATE TABLE mfa_totp (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret     BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT
);
-- Recovery codes: only their SHA-256 digests; a row is deleted as it is used.
CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest  BYTEA NOT NULL,
    PRIMARY KEY (user_id, digest)
);
-- The 30-second steps whose code each user has used: the key lets a code in
-- once per account and step, whoever races.
CREATE TABLE mfa_used_steps (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    step    BIGINT NOT NULL,
    PRIMARY KEY (user_id, step)
);
-- Sign-ins waiting for their second factor: the SHA-256 digest of the
-- mfaToken, spent by success.
CREATE TABLE mfa_tokens (
    digest     BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mfa_tokens_by_user ON mfa_tokens(user_id);
CREATE INDEX mfa_tokens_by_expiry ON mfa_tokens(expires_at);
