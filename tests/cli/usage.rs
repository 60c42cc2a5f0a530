//! Help, usage errors and their exit status, the database file, and the
//! environment variables that stand in for global flags.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::helpers::*;
use crate::server::assert_not_listening;
use crate::state::{assert_password_of, password_hash, seeded, temp};

/// `authlite COMMAND --help`, which must succeed; returns the help text.
fn help(db: &Path, command: &[&str]) -> String {
    let mut args = command.to_vec();
    args.push("--help");
    succeeds(db, &args)
}

#[test]
fn help_works_on_every_command_and_subcommand() {
    let (_dir, db) = temp();
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["seed"],
        &["user"],
        &["user", "add"],
        &["user", "set-password"],
        &["user", "set-status"],
        &["user", "list"],
        &["user", "unlock"],
        &["keys"],
        &["keys", "rotate"],
        &["keys", "list"],
    ];
    for command in commands {
        let text = help(&db, command);
        assert!(
            text.contains("Usage"),
            "`authlite {} --help` printed no usage:\n{text}",
            command.join(" ")
        );
    }
}

/// Help text is where a user learns the variables; clap prints `[env: …]` for
/// every flag that reads one.
fn assert_help_names_env(command: &[&str], vars: &[&str]) {
    let (_dir, db) = temp();
    let text = help(&db, command);
    let missing: Vec<&&str> = vars.iter().filter(|v| !text.contains(*v)).collect();
    assert!(
        missing.is_empty(),
        "`authlite {} --help` does not mention {missing:?}:\n{text}",
        command.join(" ")
    );
}

#[test]
fn help_names_the_environment_variable_of_every_global_and_serve_flag() {
    assert_help_names_env(&[], &["AUTHLITE_DB", "AUTHLITE_PBKDF2_ITERATIONS"]);
    assert_help_names_env(
        &["serve"],
        &[
            "AUTHLITE_BIND",
            "AUTHLITE_SEED",
            "AUTHLITE_ACCESS_TTL",
            "AUTHLITE_REFRESH_TTL",
            "AUTHLITE_ISSUER",
            "AUTHLITE_REUSE_GRACE",
            "AUTHLITE_MAX_FAILURES",
            "AUTHLITE_LOCKOUT",
            "AUTHLITE_MAX_FAILURES_PER_IP",
            "AUTHLITE_CONCEAL_ACCOUNTS",
            "AUTHLITE_TRUSTED_PROXIES",
            "AUTHLITE_STATIC",
        ],
    );
}

/// SPEC: "Every flag also reads an environment variable", read to the letter.
#[test]
fn help_names_the_environment_variable_of_every_other_flag() {
    assert_help_names_env(&["seed"], &["AUTHLITE_DRY_RUN"]);
    assert_help_names_env(
        &["user", "add"],
        &[
            "AUTHLITE_EMAIL",
            "AUTHLITE_NAME",
            "AUTHLITE_ORG",
            "AUTHLITE_PASSWORD_STDIN",
            "AUTHLITE_STATUS",
        ],
    );
    assert_help_names_env(&["user", "set-password"], &["AUTHLITE_PASSWORD_STDIN"]);
    assert_help_names_env(&["user", "list"], &["AUTHLITE_JSON"]);
}

#[test]
fn usage_errors_exit_2_with_a_message_and_no_panic() {
    let (_dir, db) = temp();
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["user", "list", "--bogus"],
        &["--bogus", "user", "list"],
        &["user"],
        &["user", "add", "--name", "No Email"],
        &["user", "add", "--email", "x@acme.test"],
        &["user", "add", "--email"],
        &["user", "set-status", ADA],
        &["user", "set-status"],
        &["user", "set-status", ADA, "suspended"],
        &user_add("x@acme.test", "X", &["--status", "suspended"]),
        &["user", "set-password"],
        &["user", "unlock"],
        &["seed"],
        &["keys"],
        &["keys", "shred"],
        &["serve", "--access-ttl", "soon"],
        &["serve", "--max-failures", "-1"],
        &["serve", "--trusted-proxies", "proxy.local"],
    ];
    for args in cases {
        let out = authlite(&db, args);
        assert_usage_error(&out, &format!("authlite {}", args.join(" ")));
    }

    let mut cmd = command(&db);
    cmd.env("AUTHLITE_ACCESS_TTL", "soon").arg("serve");
    let out = run(cmd, None);
    assert_usage_error(&out, "AUTHLITE_ACCESS_TTL=soon authlite serve");
    assert!(stderr(&out).contains("soon"), "{}", stderr(&out));
}

/// SPEC §1: lifetimes and --lockout from 1 s to 10 years, --reuse-grace 0 to 300 s.
#[test]
fn a_duration_outside_its_range_is_a_usage_error_naming_the_flag() {
    let (_dir, db) = temp();
    let too_long = "315360001";
    let wraps = "18446744073709551615";
    let cases: &[(&[&str], &str)] = &[
        (&["serve", "--lockout", wraps], "--lockout"),
        (&["serve", "--lockout", too_long], "--lockout"),
        (&["serve", "--lockout", "0"], "--lockout"),
        (&["serve", "--access-ttl", too_long], "--access-ttl"),
        (&["serve", "--access-ttl", "0"], "--access-ttl"),
        (&["serve", "--refresh-ttl", wraps], "--refresh-ttl"),
        (&["serve", "--refresh-ttl", "0"], "--refresh-ttl"),
        (&["serve", "--reuse-grace", "301"], "--reuse-grace"),
        (&["serve", "--reuse-grace", wraps], "--reuse-grace"),
        (&["user", "link", ADA, "--ttl", too_long], "--ttl"),
        (&["user", "link", ADA, "--ttl", "0"], "--ttl"),
        (&["keys", "list", "--access-ttl", too_long], "--access-ttl"),
        (&["keys", "list", "--refresh-ttl", wraps], "--refresh-ttl"),
    ];
    for (args, flag) in cases {
        let out = authlite(&db, args);
        let what = format!("authlite {}", args.join(" "));
        assert_usage_error(&out, &what);
        assert!(stderr(&out).contains(flag), "{what}: {}", stderr(&out));
    }

    let mut cmd = command(&db);
    cmd.env("AUTHLITE_LOCKOUT", wraps).arg("serve");
    let out = run(cmd, None);
    assert_usage_error(&out, "AUTHLITE_LOCKOUT=2^64-1 authlite serve");
    assert!(stderr(&out).contains("--lockout"), "{}", stderr(&out));

    let longest = "315360000";
    succeeds(
        &db,
        &[
            "keys",
            "list",
            "--access-ttl",
            longest,
            "--refresh-ttl",
            longest,
        ],
    );
}

#[test]
fn pbkdf2_iterations_of_zero_or_not_a_number_is_a_usage_error() {
    let (_dir, db) = temp();
    for bad in ["0", "many", "1e6", ""] {
        let mut cmd = command_without_cost(&db);
        cmd.args(["--pbkdf2-iterations", bad, "user", "list"]);
        let out = run(cmd, None);
        assert_usage_error(&out, &format!("--pbkdf2-iterations {bad:?}"));

        if !bad.is_empty() {
            let mut cmd = command_without_cost(&db);
            cmd.env("AUTHLITE_PBKDF2_ITERATIONS", bad)
                .args(["user", "list"]);
            let out = run(cmd, None);
            assert_usage_error(&out, &format!("AUTHLITE_PBKDF2_ITERATIONS={bad:?}"));
        }
    }
}

// ================================================================ the database file

#[test]
fn the_database_file_is_created_with_mode_0600() {
    let (_dir, db) = temp();
    assert!(!db.exists());
    succeeds(&db, &["user", "list"]);
    let mode = std::fs::metadata(&db)
        .expect("the database file exists after the first command")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode is {:o}", mode & 0o777);
}

#[test]
fn a_database_in_a_missing_directory_fails_with_one_sentence() {
    let dir = TempDir::new().expect("temp dir");
    let db = dir.path().join("no-such-dir").join("authlite.db");
    let out = authlite(&db, &["user", "list"]);
    assert_fails_naming(&out, &["no-such-dir"]);

    let out = authlite(&db, &["serve", "--bind", "127.0.0.1:0"]);
    assert_fails_naming(&out, &["no-such-dir"]);
    assert_not_listening(&out);
}

// ================================================================ environment variables

/// Runs `cmd user list --json`, which must succeed and show the demo's ada.
#[track_caller]
fn assert_lists_ada(mut cmd: Command) {
    cmd.args(["user", "list", "--json"]);
    let out = run(cmd, None);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(ADA), "{}", stdout(&out));
}

#[test]
fn the_database_path_is_read_from_authlite_db() {
    let (_dir, db) = seeded();
    let cwd = TempDir::new().expect("temp dir");
    let mut cmd = bare_command();
    cmd.current_dir(cwd.path()).env("AUTHLITE_DB", &db);
    assert_lists_ada(cmd);
    assert!(
        !cwd.path().join("authlite.db").exists(),
        "the default path was used"
    );
}

#[test]
fn a_db_flag_wins_over_authlite_db() {
    let (dir, db) = seeded();
    let other = dir.path().join("other.db");
    let mut cmd = command(&db);
    cmd.env("AUTHLITE_DB", &other);
    assert_lists_ada(cmd);
    assert!(!other.exists(), "the environment's path was opened");
}

#[test]
fn the_hash_cost_is_read_from_authlite_pbkdf2_iterations_and_the_flag_wins() {
    let (_dir, db) = temp();
    let mut cmd = command_without_cost(&db);
    cmd.env("AUTHLITE_PBKDF2_ITERATIONS", "2000");
    add_with_password(cmd, "env@example.test", "Env", "env password");
    assert_password_of(&db, "env@example.test", "env password", 2000);

    let mut cmd = command(&db);
    cmd.env("AUTHLITE_PBKDF2_ITERATIONS", "2000");
    add_with_password(cmd, "flag@example.test", "Flag", "flag password");
    assert_password_of(&db, "flag@example.test", "flag password", 1000);
}

#[test]
fn new_hashes_cost_600000_iterations_by_default() {
    let (_dir, db) = temp();
    add_with_password(
        command_without_cost(&db),
        "d@example.test",
        "D",
        "default cost",
    );
    let hash = password_hash(&db, "d@example.test").expect("a password");
    assert!(
        hash.starts_with("$pbkdf2-sha256$i=600000,"),
        "expected the default cost, got {hash}"
    );
}
