-- Version 5: the audit log (SPEC §8).
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
