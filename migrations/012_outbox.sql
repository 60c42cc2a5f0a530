-- Step 12: email (SPEC §12). The outbox: every message is a row written in
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
