-- Step 10 (as migrations/postgres/010_users_by_email_bytes.sql, where it is an
-- index in byte order and trigram indexes): the admin API's search for a
-- substring of email or name. The email index is already in byte order here.
-- A trigram index of every user's email and name, whose text it reads from
-- `users` (external content: no second copy of an email), kept in step by the
-- triggers below. secure-delete: an erased user's trigrams leave the index at
-- once rather than lingering in older segments until a merge.
CREATE VIRTUAL TABLE users_search USING fts5(
    email, name, content = 'users', columnsize = 0, tokenize = 'trigram'
);
INSERT INTO users_search (users_search, rank) VALUES ('secure-delete', 1);
INSERT INTO users_search (users_search) VALUES ('rebuild');
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, name ON users
WHEN old.email IS NOT new.email OR old.name IS NOT new.name BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
        VALUES ('delete', old.rowid, old.email, old.name);
    INSERT INTO users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
        VALUES ('delete', old.rowid, old.email, old.name);
END;
