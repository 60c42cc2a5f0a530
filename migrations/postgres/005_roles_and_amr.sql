-- Step 5, as migrations/005_roles_and_amr.sql: users' roles, a row per role so
-- that the users holding one are found through an index, and how each session
-- was signed in (its access tokens' `amr`, values separated by spaces). Every
-- session before this step signed in with a password.
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_by_role ON user_roles(role, user_id);

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
