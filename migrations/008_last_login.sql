-- Step 8: when each user last signed in (the admin API's lastLoginAt).
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
