-- Step 8, as migrations/008_last_login.sql: when each user last signed in.
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
