//! `authlite seed`: applying a seed file, its summary, dry runs, and bad files.

use std::path::PathBuf;

use tempfile::TempDir;

use crate::helpers::*;
use crate::state::*;
use crate::summary::{assert_seed_counts, seed_counts, tally};

/// The demo seed with `from` replaced by `to`, written to `dir/name`.
fn demo_seed_with(dir: &TempDir, name: &str, from: &str, to: &str) -> PathBuf {
    write(dir, name, &demo_seed().replace(from, to))
}

/// The demo seed with ada renamed, which updates one user and keeps the rest.
fn renamed_seed(dir: &TempDir) -> PathBuf {
    demo_seed_with(dir, "renamed.json", "Ada Lovelace", "Augusta Ada King")
}

#[test]
fn seeding_the_demo_file_creates_every_org_and_user_in_its_state() {
    let (_dir, db) = temp();
    let out = authlite(&db, &["seed", DEMO_SEED]);
    assert_seed_counts(&out, tally(1, 0, 0), tally(5, 0, 0));

    let list = users(&db);
    assert_eq!(list.len(), 5, "{list:?}");
    assert_eq!(field(&list, ADA, "name"), "Ada Lovelace");
    assert_eq!(field(&list, ADA, "orgId"), "acme");
    assert_eq!(field(&list, "grace@acme.test", "name"), "Grace Hopper");
    for (email, status) in [
        (ADA, "active"),
        ("grace@acme.test", "active"),
        ("invited@acme.test", "active"),
        ("inactive@acme.test", "inactive"),
        ("banned@acme.test", "banned"),
    ] {
        assert_eq!(field(&list, email, "status"), status, "{email}");
    }

    assert_password_of(&db, ADA, ADA_PASSWORD, 1000);
    assert_eq!(password_hash(&db, "invited@acme.test"), None);
    assert!(password_hash(&db, "banned@acme.test").is_some());
}

#[test]
fn seeding_the_same_file_twice_changes_nothing_the_second_time() {
    let (_dir, db) = seeded();
    let before = users(&db);
    let ada_hash = password_hash(&db, ADA);
    let grace_hash = password_hash(&db, "grace@acme.test");

    let out = authlite(&db, &["seed", DEMO_SEED]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 0, 5));

    assert_eq!(users(&db), before);
    // A password that still verifies is not re-hashed (a new salt would show).
    assert_eq!(password_hash(&db, ADA), ada_hash);
    assert_eq!(password_hash(&db, "grace@acme.test"), grace_hash);
}

#[test]
fn seed_dash_reads_the_file_from_stdin() {
    let (_dir, db) = temp();
    let out = authlite_stdin(&db, &["seed", "-"], &demo_seed());
    assert_seed_counts(&out, tally(1, 0, 0), tally(5, 0, 0));
    assert_user_count(&db, 5);
}

#[test]
fn a_dry_run_reports_what_would_change_and_changes_nothing() {
    let (dir, db) = temp();
    let out = authlite(&db, &["seed", DEMO_SEED, "--dry-run"]);
    assert_seed_counts(&out, tally(1, 0, 0), tally(5, 0, 0));
    assert_user_count(&db, 0);

    succeeds(&db, &["seed", DEMO_SEED]);
    let before = users(&db);
    let out = authlite(&db, &["seed", s(&renamed_seed(&dir)), "--dry-run"]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 1, 4));
    assert_eq!(users(&db), before);
}

#[test]
fn changing_a_name_in_the_file_reports_one_user_updated() {
    let (dir, db) = seeded();
    let out = authlite(&db, &["seed", s(&renamed_seed(&dir))]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 1, 4));
    assert_eq!(field(&users(&db), ADA, "name"), "Augusta Ada King");
}

#[test]
fn changing_a_password_in_the_file_re_hashes_only_that_user() {
    let (dir, db) = seeded();
    let ada_hash = password_hash(&db, ADA);
    let changed = demo_seed_with(
        &dir,
        "changed.json",
        "cobol compiler nanosecond wire",
        "a new password",
    );
    let out = authlite(&db, &["seed", s(&changed)]);
    assert_seed_counts(&out, tally(0, 0, 1), tally(0, 1, 4));
    assert_password_of(&db, "grace@acme.test", "a new password", 1000);
    assert_eq!(password_hash(&db, ADA), ada_hash);
}

#[test]
fn seed_matches_users_by_email_in_any_case() {
    let (dir, db) = seeded();
    let shouting = demo_seed_with(
        &dir,
        "shouting.json",
        "\"ada@acme.test\"",
        "\" ADA@ACME.TEST \"",
    );
    let text = succeeds(&db, &["seed", s(&shouting)]);
    assert_eq!(seed_counts(&text).users.created, 0, "{text}");
    assert_user_count(&db, 5);
}

/// A seed file whose third user (line 6) is broken in `third`.
fn seed_with_third_user(third: &str) -> String {
    format!(
        r#"{{
  "orgs": [{{ "id": "acme", "name": "Acme Inc" }}],
  "users": [
    {{ "email": "a@acme.test", "name": "A", "orgId": "acme", "password": "pw a" }},
    {{ "email": "b@acme.test", "name": "B", "orgId": "acme" }},
    {third},
    {{ "email": "d@acme.test", "name": "D", "orgId": "acme", "password": "pw d" }},
    {{ "email": "e@acme.test", "name": "E", "orgId": "acme" }}
  ]
}}
"#
    )
}

#[test]
fn a_bad_seed_file_names_the_file_and_the_problem_and_applies_nothing() {
    // (file name, third user, words of which stderr must contain at least one)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "not-an-email.json",
            r#"{ "email": "not-an-email", "name": "C", "orgId": "acme" }"#,
            &["email", "not-an-email"],
        ),
        (
            "unknown-org.json",
            r#"{ "email": "c@acme.test", "name": "C", "orgId": "nope" }"#,
            &["nope"],
        ),
        (
            "typo.json",
            r#"{ "email": "c@acme.test", "name": "C", "orgId": "acme", "pasword": "x" }"#,
            &["pasword"],
        ),
        (
            "bad-status.json",
            r#"{ "email": "c@acme.test", "name": "C", "orgId": "acme", "status": "suspended" }"#,
            &["status", "suspended"],
        ),
        (
            "malformed.json",
            r#"{ "email": "c@acme.test" "name": "C", "orgId": "acme" }"#,
            &["line 6"],
        ),
    ];
    for (name, third, words) in cases {
        let (dir, db) = temp();
        let file = write(&dir, name, &seed_with_third_user(third));
        let out = authlite(&db, &["seed", s(&file)]);
        assert_fails_naming(&out, &[name]);
        let err = stderr(&out);
        assert!(
            words.iter().any(|w| err.contains(w)),
            "{name}: stderr names none of {words:?}:\n{err}"
        );
        assert!(
            err.contains("users[2]") || err.contains("line 6"),
            "{name}: stderr points at neither `users[2]` nor `line 6`:\n{err}"
        );
        let list = users(&db);
        assert!(list.is_empty(), "{name} applied users: {list:?}");
        // The org in the same file was not applied either.
        let out = authlite(&db, &user_add("z@acme.test", "Z", &["--org", "acme"]));
        assert_fails_naming(&out, &["acme"]);
    }
}
