-- Step 3: signing keys of two algorithms, distrusted keys, one current key at
-- most, and the master key's check value (see schema.sql).
ALTER TABLE signing_keys ADD COLUMN algorithm TEXT NOT NULL DEFAULT 'EdDSA'
    CHECK (algorithm IN ('EdDSA', 'ES256'));
ALTER TABLE signing_keys ADD COLUMN distrusted_at INTEGER;

-- A race before this step could have left two current keys: keep the newest.
UPDATE signing_keys SET retired_at = created_at
 WHERE retired_at IS NULL
   AND rowid <> (SELECT max(rowid) FROM signing_keys WHERE retired_at IS NULL);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (retired_at IS NULL)
    WHERE retired_at IS NULL;

CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
