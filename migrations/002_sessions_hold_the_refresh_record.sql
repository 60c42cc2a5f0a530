-- Version 1 kept a row per refresh token for 30 days; version 2 keeps the newest
-- token of each session, and the one spent before it, on the session row.
-- Tokens issued before the upgrade keep working: the newest of each session
-- stays spendable, the last spent one keeps its grace answer, and any older one
-- is detected as reused, as before.

CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id, used_at_ms);

CREATE TABLE sessions_v2 (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    user_agent   TEXT,
    ip           TEXT,
    refresh_jti  TEXT NOT NULL,
    refresh_hash BLOB NOT NULL,
    spent_jti    TEXT,
    spent_at_ms  INTEGER,
    grace_answer BLOB
);

-- A session whose newest token is gone (expired and pruned) gets an empty jti,
-- which no token matches.
INSERT INTO sessions_v2 (id, user_id, created_at, last_used_at, expires_at, revoked_at,
                         user_agent, ip, refresh_jti, refresh_hash,
                         spent_jti, spent_at_ms, grace_answer)
SELECT s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.revoked_at,
       s.user_agent, s.ip, coalesce(newest.jti, ''), coalesce(newest.token_hash, x''),
       spent.jti, spent.used_at_ms, CAST(spent.rotated_to AS BLOB)
FROM sessions AS s
LEFT JOIN refresh_tokens AS newest ON newest.jti =
    (SELECT jti FROM refresh_tokens
     WHERE session_id = s.id AND used_at_ms IS NULL ORDER BY jti DESC LIMIT 1)
LEFT JOIN refresh_tokens AS spent ON spent.jti =
    (SELECT jti FROM refresh_tokens
     WHERE session_id = s.id AND used_at_ms IS NOT NULL ORDER BY used_at_ms DESC, jti DESC LIMIT 1);

DROP TABLE refresh_tokens;
DROP TABLE sessions;
ALTER TABLE sessions_v2 RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_with_grace_answer ON sessions(spent_at_ms) WHERE grace_answer IS NOT NULL;
CREATE INDEX login_failures_by_time ON login_failures(at);
