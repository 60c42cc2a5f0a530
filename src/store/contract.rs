//! The contract every engine passes: one test body per behaviour, run on a
//! fresh SQLite file always and on a fresh PostgreSQL database whenever
//! `AUTHLITE_TEST_POSTGRES` is set (mandatory in `.ci/run`; see
//! `postgres/testing.rs`). A new table's methods join `areas.rs`, and any
//! race its writes must win joins `races.rs`.

use std::sync::Arc;

use super::postgres::testing::{self, TestDatabase};
use super::{Database, NewRefresh, Rotation, Session, Spent, Status, User};

mod api_keys;
mod areas;
mod audit;
mod directory;
mod mail;
mod mfa;
mod oidc;
mod passkeys;
mod races;
mod roles;
mod search;

/// One engine, opened on a database of its own for one test.
struct Engine {
    name: &'static str,
    /// The file's path or the database's URL, to open it again.
    target: String,
    db: Arc<Database>,
    kept: Kept,
}

/// What must live as long as the test: the temporary folder or database.
enum Kept {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] TestDatabase),
}

impl Engine {
    /// Sets the stored schema version under the store, as a newer authlite would.
    fn set_schema_version(&self, version: i64) {
        match self.kept {
            Kept::Folder(_) => {
                let conn = rusqlite::Connection::open(&self.target).unwrap();
                conn.pragma_update(None, "user_version", version).unwrap();
            }
            Kept::Postgres(_) => testing::run(
                &self.target,
                &format!("UPDATE schema_version SET version = {version}"),
            ),
        }
    }
}

/// Runs `body` on every engine there is, saying which before each (the
/// harness shows it when the body fails).
fn on_every_engine(test: &str, body: impl Fn(&Engine)) {
    for engine in engines(test) {
        eprintln!("contract test {test} on {}", engine.name);
        body(&engine);
    }
}

fn engines(test: &str) -> Vec<Engine> {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("contract.sqlite");
    let mut engines = vec![Engine {
        name: "SQLite",
        target: path.display().to_string(),
        db: Arc::new(Database::sqlite(&path).unwrap()),
        kept: Kept::Folder(folder),
    }];
    if let Some(database) = testing::database(test) {
        engines.push(Engine {
            name: "PostgreSQL",
            target: database.url.clone(),
            db: Arc::new(Database::open(&database.url, Default::default()).unwrap()),
            kept: Kept::Postgres(database),
        });
    }
    engines
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        email: format!("{id}@acme.test"),
        name: id.to_uppercase(),
        org_id: None,
        password_hash: Some("$pbkdf2-sha256$x".into()),
        status: Status::Active,
        created_at: 0,
        roles: vec![],
    }
}

fn session(id: &str, user_id: &str, expires_at: u64) -> Session {
    Session {
        id: id.into(),
        user_id: user_id.into(),
        created_at: 10,
        last_used_at: 10,
        expires_at,
        revoked_at: None,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
        amr: vec!["pwd".into()],
    }
}

fn refresh(jti: &str, expires_at: u64) -> NewRefresh<'_> {
    NewRefresh {
        jti,
        hash: &[7; 32],
        expires_at,
    }
}

/// The `amr` of a password sign-in, as `session` makes it.
static PASSWORD_AMR: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| vec!["pwd".into()]);

/// The spending of `jti` in session `sid` as a refresh made for `user` sends it.
fn spent<'a>(sid: &'a str, jti: &'a str, user: &'a User) -> Spent<'a> {
    Spent {
        sid,
        jti,
        hash: &[7; 32],
        user,
        amr: &PASSWORD_AMR,
        for_client: false,
    }
}

/// The owned form of spending `jti` in session `sid` for `user`, with `next`
/// in its place and `answer` as the grace answer.
fn rotation(sid: &str, jti: &str, next: &str, user: &User, answer: &[u8]) -> Rotation {
    Rotation {
        sid: sid.into(),
        jti: jti.into(),
        hash: vec![7; 32],
        user: user.clone(),
        amr: PASSWORD_AMR.clone(),
        for_client: false,
        next_jti: next.into(),
        next_hash: vec![7; 32],
        expires_at: 900,
        now_ms: 7_000,
        grace_answer: answer.to_vec(),
    }
}
