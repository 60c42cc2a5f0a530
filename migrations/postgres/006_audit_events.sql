-- Schema version 5: the audit log (SPEC §8), as SQLite's migrations/005.
CREATE TABLE audit_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT,                  -- no foreign key: events outlive their user
    actor      TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT NOT NULL          -- a JSON object
);
CREATE INDEX audit_events_by_user ON audit_events(user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_by_type ON audit_events(type, id);
CREATE INDEX audit_events_by_time ON audit_events(at);
