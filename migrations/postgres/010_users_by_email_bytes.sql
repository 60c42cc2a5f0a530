-- Step 10: the admin API's users list goes by email in byte order (COLLATE "C",
-- SQLite's order), which the UNIQUE index on email (the database's collation)
-- cannot give: without this index every page sorted the whole table.
CREATE INDEX users_by_email_bytes ON users (email COLLATE "C");
