//! The temp database file each test runs on, and reading what a command
//! left in it.

use std::path::{Path, PathBuf};

use pbkdf2::password_hash::PasswordVerifier;
use pbkdf2::phc::PasswordHash;
use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::{succeeds, DEMO_SEED};

pub fn temp() -> (TempDir, PathBuf) {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("authlite.db");
    (dir, db)
}

/// A temp database seeded with `examples/demo-seed.json`.
pub fn seeded() -> (TempDir, PathBuf) {
    let (dir, db) = temp();
    succeeds(&db, &["seed", DEMO_SEED]);
    (dir, db)
}

/// `user list --json`, parsed.
pub fn users(db: &Path) -> Vec<Value> {
    let text = succeeds(db, &["user", "list", "--json"]);
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("`user list --json` is not JSON ({e}):\n{text}"));
    value
        .as_array()
        .unwrap_or_else(|| panic!("`user list --json` is not an array:\n{text}"))
        .clone()
}

#[track_caller]
pub fn assert_user_count(db: &Path, count: usize) {
    let list = users(db);
    assert_eq!(list.len(), count, "{list:?}");
}

pub fn user<'a>(list: &'a [Value], email: &str) -> Option<&'a Value> {
    list.iter().find(|u| {
        u["email"]
            .as_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

#[track_caller]
pub fn field(list: &[Value], email: &str, name: &str) -> String {
    let u = user(list, email).unwrap_or_else(|| panic!("{email} is not in {list:?}"));
    u[name]
        .as_str()
        .unwrap_or_else(|| panic!("{email} has no string field {name:?}: {u}"))
        .to_owned()
}

/// `users.password_hash` (SPEC section 4) read straight from the file; `None` = no password.
pub fn password_hash(db: &Path, email: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(db).expect("open the database file");
    conn.query_row(
        "SELECT password_hash FROM users WHERE email = ?1 COLLATE NOCASE",
        [email],
        |row| row.get::<_, Option<String>>(0),
    )
    .unwrap_or_else(|e| panic!("no users row for {email}: {e}"))
}

/// The stored hash is PBKDF2-SHA256 at `iterations` and verifies `password`.
#[track_caller]
pub fn assert_password(hash: &str, password: &str, iterations: u32) {
    assert!(
        hash.starts_with(&format!("$pbkdf2-sha256$i={iterations},")),
        "expected a PBKDF2-SHA256 PHC string at {iterations} iterations, got {hash}"
    );
    let parsed = PasswordHash::new(hash).expect("a PHC string");
    pbkdf2::Pbkdf2::default()
        .verify_password(password.as_bytes(), &parsed)
        .unwrap_or_else(|_| panic!("{hash} does not verify {password:?}"));
}

/// [`assert_password`] on the hash stored for `email`, which must exist.
#[track_caller]
pub fn assert_password_of(db: &Path, email: &str, password: &str, iterations: u32) {
    let hash = password_hash(db, email).unwrap_or_else(|| panic!("{email} has no password"));
    assert_password(&hash, password, iterations);
}

pub fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

pub fn demo_seed() -> String {
    std::fs::read_to_string(DEMO_SEED).expect("examples/demo-seed.json")
}

pub fn s(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}
