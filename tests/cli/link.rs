//! `authlite user link` and importing hashes with `user add --password-hash`
//! and a seed file's `passwordHash`.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::helpers::*;
use crate::state::*;

/// A bcrypt hash of "imported pass" at cost 4, as PocketBase or Supabase store one.
fn bcrypt_hash() -> String {
    bcrypt::hash("imported pass", 4).expect("bcrypt hashes")
}

/// The token of a link printed as `PREFIX/#set-password=TOKEN`, checking the prefix.
#[track_caller]
fn token_of(out: &str, prefix: &str) -> String {
    let line = out.trim();
    let token = line
        .strip_prefix(&format!("{prefix}/#set-password="))
        .unwrap_or_else(|| panic!("expected a link under {prefix}/, got {line:?}"));
    assert_eq!(token.len(), 43, "32 bytes of base64url: {token}");
    assert!(
        token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "{token}"
    );
    token.to_string()
}

/// The digests stored in password_links, one per row, with their user's email.
fn stored_links(db: &Path) -> Vec<(String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(db).expect("open the database file");
    let mut stmt = conn
        .prepare(
            "SELECT u.email, l.token_hash FROM password_links l JOIN users u ON u.id = l.user_id",
        )
        .expect("the password_links table");
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    rows
}

#[test]
fn user_link_prints_a_link_to_the_default_address() {
    let (_dir, db) = seeded();
    token_of(
        &succeeds(&db, &["user", "link", ADA]),
        "http://127.0.0.1:8080",
    );
}

#[test]
fn user_link_takes_the_public_url_from_the_flag_or_the_environment_without_doubling_a_slash() {
    let (_dir, db) = seeded();
    let out = succeeds(
        &db,
        &[
            "user",
            "link",
            ADA,
            "--public-url",
            "https://auth.example.com/",
        ],
    );
    token_of(&out, "https://auth.example.com");

    let mut cmd = command(&db);
    cmd.args(["user", "link", ADA])
        .env("AUTHLITE_PUBLIC_URL", "https://login.example.org/");
    let out = run(cmd, None);
    assert_exit(&out, 0);
    token_of(&stdout(&out), "https://login.example.org");
}

#[test]
fn only_the_digest_of_the_newest_link_is_stored() {
    let (_dir, db) = seeded();
    let first = token_of(
        &succeeds(&db, &["user", "link", ADA]),
        "http://127.0.0.1:8080",
    );
    let second = token_of(
        &succeeds(&db, &["user", "link", " Ada@Acme.test "]),
        "http://127.0.0.1:8080",
    );
    assert_ne!(first, second);
    let links = stored_links(&db);
    assert_eq!(links.len(), 1, "one link per user");
    assert_eq!(links[0].0, ADA);
    assert_eq!(links[0].1, Sha256::digest(second.as_bytes()).to_vec());
    let file = std::fs::read(&db).expect("read the database file");
    let wal = std::fs::read(db.with_extension("db-wal")).unwrap_or_default();
    for bytes in [file, wal] {
        assert!(
            !bytes.windows(second.len()).any(|w| w == second.as_bytes()),
            "the token itself is in the database"
        );
    }
}

#[test]
fn user_link_refuses_an_unknown_or_deleted_user() {
    let (_dir, db) = seeded();
    assert_fails_naming(
        &authlite(&db, &["user", "link", "nobody@acme.test"]),
        &["nobody@acme.test"],
    );
    succeeds(&db, &["user", "set-status", ADA, "deleted"]);
    assert_fails_naming(&authlite(&db, &["user", "link", ADA]), &[ADA, "deleted"]);
    assert!(stored_links(&db).is_empty());
}

#[test]
fn user_link_refuses_a_zero_ttl_and_a_url_that_is_not_one() {
    let (_dir, db) = seeded();
    assert_usage_error(
        &authlite(&db, &["user", "link", ADA, "--ttl", "0"]),
        "--ttl 0",
    );
    assert_usage_error(
        &authlite(
            &db,
            &["user", "link", ADA, "--public-url", "auth.example.com"],
        ),
        "--public-url without a scheme",
    );
}

#[test]
fn user_add_with_a_password_hash_stores_it_as_given() {
    let (_dir, db) = temp();
    let hash = bcrypt_hash();
    succeeds(
        &db,
        &user_add("imp@example.test", "Imp", &["--password-hash", &hash]),
    );
    assert_eq!(password_hash(&db, "imp@example.test"), Some(hash));
}

#[test]
fn user_add_refuses_a_hash_it_cannot_read_naming_the_email_and_creates_nobody() {
    let (_dir, db) = temp();
    for bad in [
        "plain text",
        "$1$md5crypt$xyz",
        "$2b$04$truncated",
        "pbkdf2_sha256$x$salt$hash",
    ] {
        let out = authlite(
            &db,
            &user_add("imp@example.test", "Imp", &["--password-hash", bad]),
        );
        assert_fails_naming(&out, &["imp@example.test", "hash"]);
        assert!(
            !stderr(&out).contains(bad),
            "the hash is quoted: {}",
            stderr(&out)
        );
    }
    assert_user_count(&db, 0);
}

#[test]
fn password_hash_and_password_stdin_exclude_each_other() {
    let (_dir, db) = temp();
    let hash = bcrypt_hash();
    let out = authlite_stdin(
        &db,
        &user_add(
            "imp@example.test",
            "Imp",
            &["--password-hash", &hash, "--password-stdin"],
        ),
        "typed pass",
    );
    assert_usage_error(&out, "--password-hash with --password-stdin");
    assert_user_count(&db, 0);
}

#[test]
fn a_seed_with_a_hash_it_cannot_read_names_the_file_and_user_and_changes_nothing() {
    let (dir, db) = temp();
    let seed = write(
        &dir,
        "import.json",
        r#"{"users": [
            { "email": "ok@example.test", "name": "Ok", "passwordHash": "$2b$04$abcdefghijklmnopqrstuu5bYMXbkbWu8Mqn1SNr3yPQV9pU3iHgS" },
            { "email": "bad@example.test", "name": "Bad", "passwordHash": "{SSHA}abcdef" }
        ]}"#,
    );
    let out = authlite(&db, &["seed", s(&seed)]);
    assert_fails_naming(&out, &["import.json", "users[1]", "bad@example.test"]);
    assert_user_count(&db, 0);
}

#[test]
fn a_link_that_cannot_be_written_out_is_one_sentence_and_replaces_no_link() {
    let (_dir, db) = seeded();
    succeeds(&db, &["user", "link", ADA]);
    let before = stored_links(&db);

    let full = std::fs::File::create("/dev/full").expect("open /dev/full");
    let mut cmd = command(&db);
    cmd.args(["user", "link", ADA])
        .stdin(std::process::Stdio::null())
        .stdout(full);
    let out = cmd.output().expect("run authlite");

    assert_fails_naming(&out, &["standard output", "No space left on device"]);
    assert_eq!(stored_links(&db), before);
}
