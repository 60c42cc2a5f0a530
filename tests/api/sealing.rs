//! `--master-key-file`: signing keys sealed at rest, a plain database sealed in
//! place, and a start without the file or with another refused.

use std::path::{Path, PathBuf};

use authlite::settings::Settings;
use authlite::tokens::{Sealer, KEY_PAIRS};

use crate::helpers::*;

fn key_file(dir: &Path, name: &str, byte: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, [byte; 32]).unwrap();
    path
}

fn sealed_settings(file: &Path) -> Settings {
    Settings {
        master_key_file: Some(file.to_path_buf()),
        ..test_settings()
    }
}

/// The database file and its log, as a thief with a backup would read them.
fn file_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The stored key pairs, as the table holds them.
fn stored_pairs(db: &Path) -> Vec<Vec<u8>> {
    stored_keys(db).into_iter().map(|(_, pair)| pair).collect()
}

/// The stored (kid, key pair) rows, as the table holds them.
fn stored_keys(db: &Path) -> Vec<(String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT kid, key_pair FROM signing_keys ORDER BY created_at")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The secret halves of the key pairs (the Ed25519 seed).
fn secrets(pairs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    pairs.iter().map(|p| p[..32].to_vec()).collect()
}

fn start_error(db: &Path, settings: Settings) -> String {
    let pool = authlite::store::Database::sqlite(db).unwrap();
    match authlite::state::AppState::new(pool, settings) {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn with_a_master_key_the_database_bytes_hold_no_private_key_and_no_token() {
    let keys = tempfile::tempdir().unwrap();
    let file = key_file(keys.path(), "authlite.key", 7);
    let mut app = spawn_app_with(sealed_settings(&file));
    if app.sqlite_only("reads the SQLite file's bytes") {
        return;
    }
    let first = app.login_ok(ADA, ADA_PASSWORD);
    // The answer kept for the reuse grace holds a live pair: it is sealed too.
    let tokens = app.refresh_ok(&first.refresh);
    app.me(&tokens.access).assert_success();
    app.stop();

    let sealer = Sealer::from_file(&file).unwrap();
    let keys = stored_keys(&app.db_path);
    assert_eq!(keys.len(), 1);
    let pairs: Vec<Vec<u8>> = keys.iter().map(|(_, pair)| pair.clone()).collect();
    let opened: Vec<Vec<u8>> = keys
        .iter()
        .map(|(kid, p)| sealer.open(KEY_PAIRS, kid, p).expect("opens with the key"))
        .collect();
    assert_ne!(opened, pairs, "the key pair is stored as it is");
    let bytes = file_bytes(&app.db_path);
    for secret in secrets(&opened) {
        assert!(
            !contains(&bytes, &secret),
            "a private key is in the database file"
        );
    }
    for token in [&first.access, &tokens.access, &tokens.refresh] {
        assert!(
            !contains(&bytes, token.as_bytes()),
            "a token is in the database file"
        );
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !contains(&bytes, signature.as_bytes()),
            "a signature is in the database file"
        );
    }
}

#[test]
fn a_plain_database_is_sealed_in_place_and_its_old_tokens_still_verify() {
    let keys = tempfile::tempdir().unwrap();
    let file = key_file(keys.path(), "authlite.key", 7);
    let mut plain = spawn_app();
    if plain.sqlite_only("reads the SQLite file's bytes") {
        return;
    }
    let old = plain.login_ok(ADA, ADA_PASSWORD);
    // Its answer is kept, plain, for the reuse grace.
    let mid = plain.refresh_ok(&old.refresh);
    plain.stop();
    let plain_secrets = secrets(&stored_pairs(&plain.db_path));
    assert!(contains(&file_bytes(&plain.db_path), &plain_secrets[0]));

    let mut sealed = plain.spawn_on_same_db(sealed_settings(&file));
    sealed.me(&old.access).assert_success();
    let next = sealed.refresh_ok(&mid.refresh);
    assert_eq!(next.kid(), old.kid());
    sealed.stop();

    let bytes = file_bytes(&plain.db_path);
    for token in [&mid.access, &mid.refresh] {
        assert!(
            !contains(&bytes, token.as_bytes()),
            "a plain grace answer is still in the file"
        );
    }
    for secret in &plain_secrets {
        assert!(
            !contains(&bytes, secret),
            "the plain key is still in the file"
        );
    }
    // Once sealed, a start without the file or with another one is refused.
    let without = start_error(&plain.db_path, test_settings());
    assert!(without.contains("--master-key-file"), "{without}");
    let other = key_file(keys.path(), "other.key", 8);
    let another = start_error(&plain.db_path, sealed_settings(&other));
    assert!(another.contains("not the one"), "{another}");
    for message in [&without, &another] {
        assert!(!message.contains('\n'), "not one sentence: {message}");
    }
    assert_eq!(
        stored_pairs(&plain.db_path).len(),
        1,
        "a refused start wrote a key"
    );
    let again = plain.spawn_on_same_db(sealed_settings(&file));
    again.me(&next.access).assert_success();
}
