-- Step 10 (on SQLite: a trigram index, migrations/010_users_by_email_bytes.sql):
-- the admin API's users list goes by email in byte order (COLLATE "C",
-- SQLite's order), which the UNIQUE index on email (the database's collation)
-- cannot give: without this index every page sorted the whole table.
CREATE INDEX users_by_email_bytes ON users (email COLLATE "C");

-- The admin API's search for a substring of email or name: trigram indexes
-- (pg_trgm, an extension that a database's owner may create since PostgreSQL
-- 13) that `LIKE '%…%'` uses. Where it cannot be created (a role that does not
-- own the database, a server without it), the search still works, reading
-- every user instead. fastupdate off: a new user goes into the index at once,
-- not into a pending list that every search reads through until a vacuum.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX users_email_trigrams ON users USING gin (email gin_trgm_ops)
        WITH (fastupdate = off);
    CREATE INDEX users_name_trigrams ON users USING gin (lower(name) gin_trgm_ops)
        WITH (fastupdate = off);
EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file
    OR undefined_object THEN
    RAISE NOTICE 'no trigram indexes (%): the users search reads every user', SQLERRM;
END $$;
