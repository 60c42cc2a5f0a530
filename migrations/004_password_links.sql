-- Set-password links (`authlite user link`): at most one per user, a newer one
-- replacing the older. Only the SHA-256 digest of a token is kept.
CREATE TABLE password_links (
    user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
