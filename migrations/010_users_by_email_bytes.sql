-- Step 10, as migrations/postgres/010_users_by_email_bytes.sql: nothing to do
-- on SQLite, whose UNIQUE index on email is already in byte order (it keeps
-- the step number the same on both engines).
SELECT 1;
