-- Step 12, as migrations/012_outbox.sql: email (SPEC §12). The outbox: every message is a row written in
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
    message    BYTEA,
    state      TEXT NOT NULL,          -- queued, sent or failed
    attempts   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    next_at    BIGINT NOT NULL,
    sent_at    BIGINT,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_at) WHERE state = 'queued';
CREATE INDEX mail_outbox_by_time ON mail_outbox(created_at);
CREATE INDEX mail_outbox_by_user ON mail_outbox(user_id) WHERE user_id IS NOT NULL;
-- One message per purpose and address per 60 s: the SHA-256 digest of
-- "purpose:address" (no address in clear), and when its last message went.
CREATE TABLE mail_throttle (
    digest  BYTEA PRIMARY KEY,
    last_at BIGINT NOT NULL
);
-- Sign-ups waiting for their confirmation link: the password's hash and the
-- SHA-256 digest of the token, never either in clear. One per address.
CREATE TABLE registrations (
    email         TEXT PRIMARY KEY,
    token_hash    BYTEA NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX registrations_by_expiry ON registrations(expires_at);
