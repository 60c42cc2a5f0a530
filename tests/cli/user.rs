//! `authlite user`: add, set-password, set-status, list and unlock.

use std::path::Path;
use std::process::Output;

use crate::helpers::*;
use crate::state::*;

#[test]
fn user_add_creates_a_user_without_a_password_by_default() {
    let (_dir, db) = seeded();
    succeeds(
        &db,
        &user_add("new@acme.test", "New Person", &["--org", "acme"]),
    );
    let list = users(&db);
    assert_eq!(list.len(), 6);
    assert_eq!(field(&list, "new@acme.test", "name"), "New Person");
    assert_eq!(field(&list, "new@acme.test", "orgId"), "acme");
    assert_eq!(field(&list, "new@acme.test", "status"), "active");
    assert_eq!(password_hash(&db, "new@acme.test"), None);
}

#[test]
fn user_add_without_an_org_creates_the_user() {
    let (_dir, db) = temp();
    succeeds(&db, &user_add("solo@example.test", "Solo", &[]));
    assert_eq!(field(&users(&db), "solo@example.test", "name"), "Solo");
}

#[test]
fn user_add_with_password_stdin_stores_a_pbkdf2_hash_of_that_password() {
    let (_dir, db) = temp();
    add_with_password(command(&db), "pw@example.test", "Pw", "s3cret passphrase");
    assert_password_of(&db, "pw@example.test", "s3cret passphrase", 1000);
}

/// Spec-silent: `echo pw | authlite …` is how people type it, so one trailing
/// newline is taken as the end of the line, not part of the password.
#[test]
fn a_trailing_newline_on_stdin_is_not_part_of_the_password() {
    let (_dir, db) = temp();
    add_with_password(command(&db), "nl@example.test", "Nl", "piped password\n");
    assert_password_of(&db, "nl@example.test", "piped password", 1000);
}

#[test]
fn user_add_with_a_status_creates_the_user_in_that_status() {
    let (_dir, db) = temp();
    succeeds(
        &db,
        &user_add("b@example.test", "B", &["--status", "banned"]),
    );
    assert_eq!(field(&users(&db), "b@example.test", "status"), "banned");
}

#[test]
fn user_add_trims_the_email_and_refuses_a_duplicate_in_another_case() {
    let (_dir, db) = temp();
    succeeds(&db, &user_add("  ada@acme.test ", "Ada", &[]));
    let list = users(&db);
    let stored = list[0]["email"].as_str().expect("an email");
    assert!(stored.eq_ignore_ascii_case(ADA), "stored {stored:?}");

    let out = authlite(&db, &user_add("Ada@Acme.test", "Ada 2", &[]));
    assert_fails_naming(&out, &["Ada@Acme.test"]);
    assert_user_count(&db, 1);
}

#[test]
fn user_add_refuses_an_email_that_is_not_an_email() {
    let (_dir, db) = temp();
    let out = authlite(&db, &user_add("not-an-email", "X", &[]));
    assert_refused(&out);
    assert!(stderr(&out).contains("not-an-email"), "{}", stderr(&out));
    assert_user_count(&db, 0);
}

#[test]
fn user_add_with_an_unknown_org_fails_naming_the_org() {
    let (_dir, db) = temp();
    let out = authlite(
        &db,
        &user_add("x@example.test", "X", &["--org", "ghost-org"]),
    );
    assert_fails_naming(&out, &["ghost-org"]);
    assert_user_count(&db, 0);
}

/// `user set-password EMAIL --password-stdin` with `password` on stdin.
fn set_password(db: &Path, email: &str, password: &str) -> Output {
    authlite_stdin(
        db,
        &["user", "set-password", email, "--password-stdin"],
        password,
    )
}

#[test]
fn user_set_password_sets_and_replaces_the_password() {
    let (_dir, db) = seeded();
    assert_exit(&set_password(&db, "invited@acme.test", "first password"), 0);
    assert_password_of(&db, "invited@acme.test", "first password", 1000);

    assert_exit(&set_password(&db, "ADA@acme.test", "second password"), 0);
    assert_password_of(&db, ADA, "second password", 1000);
}

#[test]
fn user_set_status_accepts_each_of_the_four_statuses() {
    let (_dir, db) = seeded();
    for status in ["inactive", "banned", "active", "deleted"] {
        succeeds(&db, &["user", "set-status", "Grace@Acme.test", status]);
        let list = users(&db);
        match user(&list, "grace@acme.test") {
            Some(u) => assert_eq!(u["status"], status, "{u}"),
            // A listing may leave deleted users out.
            None => assert_eq!(status, "deleted", "grace vanished from the list"),
        }
    }
}

#[test]
fn user_commands_on_an_unknown_email_fail_naming_the_email() {
    let (_dir, db) = seeded();
    let out = set_password(&db, "nobody@acme.test", "whatever");
    assert_fails_naming(&out, &["nobody@acme.test"]);
    let out = authlite(&db, &["user", "set-status", "nobody@acme.test", "banned"]);
    assert_fails_naming(&out, &["nobody@acme.test"]);
    assert_user_count(&db, 5);
}

#[test]
fn user_list_never_shows_a_password_or_a_hash() {
    let (_dir, db) = seeded();
    let text = succeeds(&db, &["user", "list"]);
    let json = succeeds(&db, &["user", "list", "--json"]);
    for shown in [&text, &json] {
        assert!(shown.contains(ADA), "the list does not show ada:\n{shown}");
        for secret in ["$pbkdf2", "pbkdf2", ADA_PASSWORD, "banned password"] {
            assert!(
                !shown.contains(secret),
                "the list shows {secret:?}:\n{shown}"
            );
        }
    }
    assert_user_count(&db, 5);
}

#[test]
fn user_unlock_exits_0() {
    let (_dir, db) = seeded();
    succeeds(&db, &["user", "unlock", ADA]);
}
