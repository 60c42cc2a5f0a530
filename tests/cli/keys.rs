//! `authlite keys`: listing the signing keys and rotating to a new one.

use crate::helpers::*;
use crate::helpers::{assert_exit, assert_fails_naming, assert_usage_error, authlite, command};
use crate::state::temp;

/// The lines of `keys list` that describe a key: a header, if any, carries no digit.
fn key_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "\"',;=()[]{}".contains(c))
        .map(|t| t.trim_matches(|c: char| c == ':' || c == '.'))
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn keys_list_shows_one_key_and_rotate_adds_a_new_current_one() {
    let (_dir, db) = temp();
    let first = succeeds(&db, &["keys", "list"]);
    let before = key_lines(&first);
    assert_eq!(before.len(), 1, "one key after the first open:\n{first}");

    let rotated = succeeds(&db, &["keys", "rotate"]);
    let listed = succeeds(&db, &["keys", "list"]);
    let after = key_lines(&listed);
    assert_eq!(after.len(), 2, "two keys after a rotation:\n{listed}");

    // The new kid: printed by `rotate`, listed now, and not listed before.
    let old_tokens = tokens(&before[0]);
    let new_kid = tokens(&rotated)
        .into_iter()
        .filter(|t| t.len() >= 4 && !old_tokens.contains(t))
        .filter(|t| after.iter().any(|l| tokens(l).contains(t)))
        .max_by_key(|t| t.len())
        .unwrap_or_else(|| {
            panic!("`keys rotate` printed no kid that `keys list` shows:\n{rotated}\n---\n{listed}")
        })
        .to_owned();
    let new_line = after
        .iter()
        .find(|l| tokens(l).contains(&new_kid.as_str()))
        .expect("the new kid's line");
    let old_line = after
        .iter()
        .find(|l| !tokens(l).contains(&new_kid.as_str()))
        .expect("the old kid's line");
    let marked = |l: &str| l.to_ascii_lowercase().contains("current") || l.contains('*');
    assert!(
        marked(new_line),
        "the new key is not marked current:\n{listed}"
    );
    assert!(
        !marked(old_line) || old_line.contains("not current"),
        "the old key is still marked current:\n{listed}"
    );
}

/// The `keys list` lines, as (kid, algorithm, the rest) per key.
fn listed(db: &std::path::Path) -> Vec<(String, String, String)> {
    key_lines(&succeeds(db, &["keys", "list"]))
        .iter()
        .map(|line| {
            let mut parts = line.split_whitespace();
            let kid = parts.next().unwrap_or_default().to_owned();
            let algorithm = parts.next().unwrap_or_default().to_owned();
            (kid, algorithm, parts.collect::<Vec<_>>().join(" "))
        })
        .collect()
}

fn current(keys: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    keys.iter().filter(|k| k.2.ends_with("current")).collect()
}

#[test]
fn keys_list_shows_each_keys_algorithm_and_rotate_takes_one() {
    let (_dir, db) = temp();
    assert_eq!(listed(&db)[0].1, "EdDSA", "the default algorithm");
    succeeds(&db, &["keys", "rotate", "--algorithm", "ES256"]);
    let keys = listed(&db);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0].1, "EdDSA", "{keys:?}");
    assert_eq!(keys[1].1, "ES256", "{keys:?}");
    assert_eq!(current(&keys), [&keys[1]]);

    succeeds(&db, &["keys", "rotate", "--algorithm", "RS256"]);
    let keys = listed(&db);
    assert_eq!(keys[2].1, "RS256", "{keys:?}");
    assert_eq!(current(&keys), [&keys[2]]);

    let out = authlite(&db, &["keys", "rotate", "--algorithm", "HS256"]);
    assert_usage_error(&out, "keys rotate --algorithm HS256");
}

#[test]
fn keys_retire_distrusts_a_key_and_an_unknown_kid_is_one_sentence() {
    let (_dir, db) = temp();
    let first = listed(&db).remove(0).0;
    let printed = succeeds(&db, &["keys", "retire", &first, "--algorithm", "ES256"]);
    assert!(printed.contains(&first), "{printed}");
    let keys = listed(&db);
    assert_eq!(
        keys.len(),
        2,
        "retiring the current key makes another: {keys:?}"
    );
    assert!(keys[0].2.contains("distrusted"), "{keys:?}");
    assert_eq!(current(&keys), [&keys[1]]);
    assert_eq!(keys[1].1, "ES256");

    let out = authlite(&db, &["keys", "retire", "no-such-kid"]);
    assert_fails_naming(&out, &["no-such-kid"]);
    assert_eq!(listed(&db), keys, "a refused retire changed the keys");
}

#[test]
fn two_processes_rotating_or_opening_a_new_database_at_once_leave_one_current_key() {
    for round in 0..4 {
        let (_dir, db) = temp();
        // The schema, but no key yet: the two commands race to make the first one.
        succeeds(&db, &["user", "list"]);
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let mut cmd = command(&db);
                cmd.args(["keys", "list"]);
                cmd.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in racers {
            assert!(child.wait().unwrap().success(), "round {round}");
        }
        let keys = listed(&db);
        assert_eq!(keys.len(), 1, "round {round}: {keys:?}");

        let rotations = 5;
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for _ in 0..rotations {
                        let out = authlite(&db, &["keys", "rotate"]);
                        assert_exit(&out, 0);
                    }
                })
            })
            .collect();
        for racer in racers {
            racer.join().unwrap();
        }
        let keys = listed(&db);
        assert_eq!(keys.len(), 1 + 2 * rotations, "round {round}: {keys:?}");
        assert_eq!(current(&keys).len(), 1, "round {round}: {keys:?}");
        assert_eq!(
            current(&keys)[0],
            keys.last().unwrap(),
            "the newest is current"
        );
    }
}

#[test]
fn a_sealed_database_refuses_every_key_command_without_its_master_key_file() {
    let (dir, db) = temp();
    let file = dir.path().join("authlite.key");
    let other = dir.path().join("other.key");
    let short = dir.path().join("short.key");
    std::fs::write(&file, [1u8; 32]).unwrap();
    std::fs::write(&other, [2u8; 32]).unwrap();
    std::fs::write(&short, [3u8; 31]).unwrap();
    let key = file.to_str().unwrap();
    succeeds(&db, &["--master-key-file", key, "keys", "rotate"]);
    let before = listed(&db);
    let bytes = std::fs::read(&db).unwrap();

    let short_out = authlite(
        &db,
        &["--master-key-file", short.to_str().unwrap(), "keys", "list"],
    );
    assert_fails_naming(&short_out, &["short.key", "32"]);
    for (file_args, what) in [
        (vec![], "--master-key-file"),
        (
            vec!["--master-key-file", other.to_str().unwrap()],
            "master key file",
        ),
    ] {
        for command in [
            vec!["serve", "--bind", "127.0.0.1:0"],
            vec!["keys", "rotate"],
            vec!["keys", "retire", &before[0].0],
        ] {
            let mut args = file_args.clone();
            args.extend(command.iter().copied());
            let out = authlite(&db, &args);
            assert_fails_naming(&out, &[what]);
        }
    }
    let wrong = authlite(
        &db,
        &["--master-key-file", other.to_str().unwrap(), "user", "list"],
    );
    assert_fails_naming(&wrong, &["master key file"]);
    assert_eq!(listed(&db), before, "a refused command changed the keys");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "a refused command wrote to the file"
    );
}
