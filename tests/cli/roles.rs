//! Roles from the command line (SPEC section 8): `user add --role`, `user
//! roles`, `user list`, and seed files that set or leave them.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::*;
use crate::state::*;
use crate::summary::{assert_seed_counts, tally};

const RULE: &str = "is not a role: a role is a lowercase letter followed by at most 63 \
                    lowercase letters, digits, '_', '.', ':' or '-'";

#[track_caller]
fn roles_of(db: &Path, email: &str) -> Value {
    let list = users(db);
    let u = user(&list, email).unwrap_or_else(|| panic!("{email} is not in {list:?}"));
    u["roles"].clone()
}

/// `user roles EMAIL ARGS…`, which must succeed; its one line of output.
#[track_caller]
fn user_roles(db: &Path, email: &str, args: &[&str]) -> String {
    let mut all = vec!["user", "roles", email];
    all.extend_from_slice(args);
    succeeds(db, &all).trim_end().to_string()
}

fn many_roles(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("r{i:02}")).collect()
}

#[test]
fn user_add_keeps_each_role_once_sorted_and_user_list_shows_them() {
    let (_dir, db) = temp();
    let args = user_add(
        "ops@acme.test",
        "Ops",
        &["--role", "ops", "--role", "admin"],
    );
    let mut args = args;
    args.extend(["--role", "ops"]);
    succeeds(&db, &args);
    succeeds(&db, &user_add("plain@acme.test", "Plain", &[]));

    assert_eq!(roles_of(&db, "ops@acme.test"), json!(["admin", "ops"]));
    assert_eq!(roles_of(&db, "plain@acme.test"), json!([]));
    let table = succeeds(&db, &["user", "list"]);
    let header = table.lines().next().unwrap_or_default();
    assert!(header.trim_end().ends_with("PASSWORD  ROLES"), "{table}");
    let row = |email: &str| {
        let line = table
            .lines()
            .find(|l| l.contains(email))
            .unwrap_or_default();
        line.split_whitespace()
            .last()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(row("ops@acme.test"), "admin,ops", "{table}");
    assert_eq!(row("plain@acme.test"), "-", "{table}");
}

#[test]
fn user_add_reads_its_roles_from_authlite_role_as_a_list() {
    let (_dir, db) = temp();
    let mut cmd = command(&db);
    cmd.env("AUTHLITE_ROLE", "support,admin");
    cmd.args(user_add("env@acme.test", "Env", &[]));
    assert_exit(&run(cmd, None), 0);
    assert_eq!(roles_of(&db, "env@acme.test"), json!(["admin", "support"]));
}

#[test]
fn user_roles_adds_then_removes_and_prints_the_roles_held() {
    let (_dir, db) = seeded();
    assert_eq!(user_roles(&db, ADA, &[]), "ada@acme.test: no roles");
    assert_eq!(
        user_roles(
            &db,
            ADA,
            &["--add", "ops", "--add", "admin", "--add", "ops"]
        ),
        "ada@acme.test: admin, ops"
    );
    assert_eq!(
        user_roles(
            &db,
            "Ada@Acme.test",
            &["--remove", "ops", "--add", "billing:read"]
        ),
        "ada@acme.test: admin, billing:read"
    );
    // Adding a role held and removing one not held change nothing.
    assert_eq!(
        user_roles(&db, ADA, &["--add", "admin", "--remove", "never"]),
        "ada@acme.test: admin, billing:read"
    );
    assert_eq!(
        user_roles(&db, ADA, &[]),
        "ada@acme.test: admin, billing:read"
    );
    assert_eq!(roles_of(&db, ADA), json!(["admin", "billing:read"]));
    assert_eq!(roles_of(&db, "grace@acme.test"), json!([]));
    assert_eq!(
        user_roles(&db, ADA, &["--remove", "admin", "--remove", "billing:read"]),
        "ada@acme.test: no roles"
    );
}

#[test]
fn a_malformed_role_is_a_usage_error_that_names_it_and_changes_nothing() {
    let (_dir, db) = seeded();
    for (args, role) in [
        (
            user_add("new@acme.test", "New", &["--role", "Admin"]),
            "\"Admin\"",
        ),
        (
            vec!["user", "roles", ADA, "--add", "on call"],
            "\"on call\"",
        ),
        (
            vec!["user", "roles", ADA, "--add", "ok", "--remove", "9lives"],
            "\"9lives\"",
        ),
        (vec!["user", "roles", ADA, "--add", ""], "\"\""),
    ] {
        let out = authlite(&db, &args);
        assert_usage_error(&out, &args.join(" "));
        let err = stderr(&out);
        assert!(err.contains(&format!("{role} {RULE}")), "{err}");
    }
    assert_user_count(&db, 5);
    assert_eq!(roles_of(&db, ADA), json!([]));
}

#[test]
fn a_change_past_32_roles_is_refused_whole_and_the_roles_stay() {
    let (_dir, db) = seeded();
    let roles = many_roles(32);
    let mut args = vec!["user", "roles", ADA];
    for role in &roles {
        args.extend(["--add", role.as_str()]);
    }
    succeeds(&db, &args);

    let out = authlite(
        &db,
        &[
            "user", "roles", ADA, "--add", "one-more", "--remove", "never",
        ],
    );
    assert_fails_naming(
        &out,
        &[ADA, "33 roles", "at most 32", "nothing was changed"],
    );
    assert_eq!(roles_of(&db, ADA), json!(roles));

    // Removing one makes room, in the same command.
    let out = user_roles(&db, ADA, &["--add", "one-more", "--remove", "r00"]);
    assert!(
        out.starts_with("ada@acme.test: one-more, r01, r02"),
        "{out}"
    );
}

#[test]
fn user_add_with_more_than_32_roles_is_refused_naming_the_flag() {
    let (_dir, db) = temp();
    let roles = many_roles(33);
    let mut args = user_add("many@acme.test", "Many", &[]);
    for role in &roles {
        args.extend(["--role", role.as_str()]);
    }
    let out = authlite(&db, &args);
    assert_fails_naming(&out, &["--role", "33 roles", "at most 32"]);
    assert_user_count(&db, 0);
}

#[test]
fn user_roles_of_an_unknown_email_fails_naming_it() {
    let (_dir, db) = seeded();
    let out = authlite(
        &db,
        &["user", "roles", "nobody@acme.test", "--add", "admin"],
    );
    assert_fails_naming(&out, &["nobody@acme.test"]);
}

#[test]
fn help_names_the_role_flags_and_their_variables() {
    let (_dir, db) = temp();
    for (command, vars) in [
        (
            vec!["user", "add", "--help"],
            vec!["--role", "AUTHLITE_ROLE"],
        ),
        (
            vec!["user", "roles", "--help"],
            vec!["--add", "--remove", "AUTHLITE_ADD", "AUTHLITE_REMOVE"],
        ),
    ] {
        let text = succeeds(&db, &command);
        for var in vars {
            assert!(
                text.contains(var),
                "{command:?} does not name {var}:\n{text}"
            );
        }
    }
}

// ---------------------------------------------------------------- seed files

fn seed_file(roles: Option<Value>) -> String {
    let mut ada = json!({ "email": ADA, "name": "Ada", "password": ADA_PASSWORD });
    if let Some(roles) = roles {
        ada["roles"] = roles;
    }
    json!({ "users": [{ "email": "grace@acme.test", "name": "Grace" }, ada] }).to_string()
}

#[track_caller]
fn seed(
    db: &Path,
    dir: &tempfile::TempDir,
    roles: Option<Value>,
    extra: &[&str],
) -> std::process::Output {
    let path = write(dir, "roles.json", &seed_file(roles));
    let mut args = vec!["seed", s(&path)];
    args.extend_from_slice(extra);
    authlite(db, &args)
}

#[test]
fn a_seed_that_lists_roles_sets_them_and_one_that_leaves_them_out_keeps_them() {
    let (dir, db) = temp();
    let out = seed(&db, &dir, Some(json!(["ops", "admin", "ops"])), &[]);
    assert_seed_counts(&out, tally(0, 0, 0), tally(2, 0, 0));
    assert_eq!(roles_of(&db, ADA), json!(["admin", "ops"]));
    assert_eq!(roles_of(&db, "grace@acme.test"), json!([]));

    // The same roles in another order: nothing to do.
    let out = seed(&db, &dir, Some(json!(["admin", "ops"])), &[]);
    assert_seed_counts(&out, tally(0, 0, 0), tally(0, 0, 2));
    // No "roles": they stay as they are.
    let out = seed(&db, &dir, None, &[]);
    assert_seed_counts(&out, tally(0, 0, 0), tally(0, 0, 2));
    assert_eq!(roles_of(&db, ADA), json!(["admin", "ops"]));

    let out = seed(&db, &dir, Some(json!(["support"])), &[]);
    assert_seed_counts(&out, tally(0, 0, 0), tally(0, 1, 1));
    assert_eq!(roles_of(&db, ADA), json!(["support"]));
    let out = seed(&db, &dir, Some(json!([])), &[]);
    assert_seed_counts(&out, tally(0, 0, 0), tally(0, 1, 1));
    assert_eq!(roles_of(&db, ADA), json!([]));
}

#[test]
fn a_dry_run_counts_a_change_of_roles_as_an_update_and_changes_nothing() {
    let (dir, db) = temp();
    assert_exit(&seed(&db, &dir, Some(json!(["ops"])), &[]), 0);

    let out = seed(&db, &dir, Some(json!(["ops", "admin"])), &["--dry-run"]);
    assert_seed_counts(&out, tally(0, 0, 0), tally(0, 1, 1));
    assert_eq!(roles_of(&db, ADA), json!(["ops"]));
}

#[test]
fn a_bad_role_in_a_seed_names_the_file_the_user_and_the_role_and_applies_nothing() {
    let (dir, db) = temp();
    let out = seed(&db, &dir, Some(json!(["admin", "Ops"])), &[]);
    let path = dir.path().join("roles.json");
    assert_fails_naming(&out, &[]);
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "authlite: {}: users[1].roles[1] (ada@acme.test): \"Ops\" {RULE}",
            path.display()
        )
    );
    assert_user_count(&db, 0);

    let out = seed(&db, &dir, Some(json!(many_roles(33))), &[]);
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "authlite: {}: users[1].roles (ada@acme.test): 33 roles: a user holds at most 32",
            path.display()
        )
    );
    let out = seed(&db, &dir, Some(json!("admin")), &[]);
    assert_fails_naming(&out, &["roles.json", "line"]);
    assert_user_count(&db, 0);
}
