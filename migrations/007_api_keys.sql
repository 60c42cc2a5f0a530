-- Step 7: API keys (SPEC section 8), for an app's backend that manages users.
-- Only the SHA-256 digest of a key is kept; scopes are separated by spaces.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    digest       BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
