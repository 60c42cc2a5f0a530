//! Every CLI command works against PostgreSQL, with the same output as on
//! SQLite: one script of commands runs on both, and the transcripts, with
//! what is random (ids, kids, link tokens, times) named by role, must match.

use std::path::Path;

use serde_json::{json, Value};

use crate::harness::*;
use crate::helpers::{run, stderr, stdout};

/// One command of the script and how it ended.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn seed_file(dir: &Path, name: &str, seed: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, seed.to_string()).expect("write a seed file");
    path.display().to_string()
}

fn seed(bob_name: &str) -> Value {
    json!({
        "orgs": [{ "id": "acme", "name": "Acme Inc" }, { "id": "globex", "name": "Globex" }],
        "users": [
            { "id": "ada-id", "email": ADA, "name": "Ada Lovelace", "orgId": "acme",
              "password": ADA_PASSWORD },
            { "email": "bob@globex.test", "name": bob_name, "orgId": "globex", "password": "bob pass" },
            { "email": "invited@acme.test", "name": "Invited", "orgId": "acme" },
            { "email": "gone@acme.test", "name": "Gone", "orgId": "acme", "password": "x",
              "status": "banned" }
        ]
    })
}

struct Script<'a> {
    db: &'a str,
    steps: Vec<Step>,
}

impl Script<'_> {
    fn run(&mut self, args: &[&str], input: Option<&str>) -> String {
        let mut cmd = command(self.db, ITERATIONS);
        cmd.args(args);
        let out = run(cmd, input);
        crate::helpers::assert_no_panic(&stderr(&out));
        let printed = stdout(&out);
        self.steps.push(Step {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: out.status.code(),
            stdout: printed.clone(),
            stderr: stderr(&out),
        });
        printed
    }
}

/// The kids of a `keys list` output, and the current one.
fn kids_of(listing: &str) -> (Vec<String>, String) {
    let rows: Vec<&str> = listing.lines().skip(1).collect();
    let kid = |row: &str| {
        row.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let current = rows
        .iter()
        .find(|row| row.trim_end().ends_with("current"))
        .map(|row| kid(row))
        .unwrap_or_default();
    (rows.iter().map(|row| kid(row)).collect(), current)
}

/// Runs the script on `db`; `files` holds its seed files.
fn transcript(db: &str, files: &Path, imported_hash: &str) -> Vec<Step> {
    let first = seed_file(files, "seed.json", &seed("Bob"));
    let second = seed("Bob Builder");
    let mut bad = seed("Bob");
    bad["users"][1]["passwordHash"] = json!(imported_hash);
    let bad = seed_file(files, "bad.json", &bad);
    let mut s = Script {
        db,
        steps: Vec::new(),
    };

    s.run(&["seed", "--dry-run", &first], None);
    s.run(&["seed", &first], None);
    s.run(&["seed", &first], None);
    s.run(&["seed", "--dry-run", "-"], Some(&second.to_string()));
    s.run(&["seed", "-"], Some(&second.to_string()));
    s.run(&["seed", &bad], None);
    s.run(&["user", "list"], None);

    let add = |email: &'static str, name: &'static str| -> Vec<&'static str> {
        vec!["user", "add", "--email", email, "--name", name]
    };
    s.run(
        &[&add("new@acme.test", "New Person")[..], &["--org", "acme"]].concat(),
        None,
    );
    s.run(
        &[
            &add("pw@globex.test", "Pw")[..],
            &["--org", "globex", "--password-stdin"],
        ]
        .concat(),
        Some("a password\n"),
    );
    s.run(
        &[
            &add("imp@acme.test", "Imp")[..],
            &["--password-hash", imported_hash],
        ]
        .concat(),
        None,
    );
    s.run(&add(" NEW@acme.test ", "Duplicate"), None);
    s.run(
        &[&add("x@acme.test", "X")[..], &["--org", "nope"]].concat(),
        None,
    );
    s.run(
        &[&add("x@acme.test", "X")[..], &["--password-hash", "plain"]].concat(),
        None,
    );
    s.run(
        &[&add("x@acme.test", "X")[..], &["--status", "banned"]].concat(),
        None,
    );
    s.run(
        &["user", "set-password", ADA, "--password-stdin"],
        Some("another password"),
    );
    s.run(
        &[
            "user",
            "set-password",
            "nobody@acme.test",
            "--password-stdin",
        ],
        Some("pw"),
    );
    s.run(&["user", "set-status", "BOB@globex.test", "inactive"], None);
    s.run(&["user", "set-status", "x@acme.test", "deleted"], None);
    s.run(&["user", "set-status", "nobody@acme.test", "active"], None);
    s.run(&["user", "unlock", ADA], None);
    s.run(&["user", "unlock", "nobody@acme.test"], None);
    let link = [
        "user",
        "link",
        "invited@acme.test",
        "--ttl",
        "60",
        "--public-url",
        "https://auth.example.test",
    ];
    s.run(&link, None);
    s.run(&link, None);
    s.run(&["user", "link", "x@acme.test"], None);
    s.run(&["user", "list"], None);
    s.run(&["user", "list", "--json"], None);

    let (kids, _) = kids_of(&s.run(&["keys", "list"], None));
    s.run(&["keys", "rotate"], None);
    s.run(&["keys", "rotate", "--algorithm", "ES256"], None);
    let (_, current) = kids_of(&s.run(&["keys", "list"], None));
    s.run(&["keys", "retire", &kids[0]], None);
    s.run(&["keys", "retire", &kids[0]], None);
    s.run(&["keys", "retire", &current], None);
    s.run(&["keys", "retire", "no-such-kid"], None);
    s.run(&["keys", "list"], None);

    // A master key seals the keys in place; from then on every command that
    // signs needs that very file.
    let key = files.join("authlite.key").display().to_string();
    let other = files.join("other.key").display().to_string();
    s.run(&["keys", "rotate", "--master-key-file", &key], None);
    s.run(&["keys", "rotate"], None);
    s.run(&["keys", "rotate", "--master-key-file", &other], None);
    s.run(&["keys", "list"], None);
    s.run(&["user", "list", "--json"], None);
    s.steps
}

/// Names what is random by its role: user ids by email, kids by the order
/// they first appear, link tokens, times; the database by `<db>`. Listings
/// are sorted, as rows made in one second may come in either order.
fn normalized(steps: &[Step], db: &str) -> Vec<Step> {
    let mut names: Vec<(String, String)> = Vec::new();
    for step in steps {
        for line in step.stdout.lines() {
            // "created user ID EMAIL" and the rows of `user list`.
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["created", "user", id, email] = words[..] {
                names.push((id.to_string(), format!("<id of {email}>")));
            }
        }
        if step.args[..] == ["user", "list", "--json"] {
            let users: Value = serde_json::from_str(&step.stdout).unwrap_or(Value::Null);
            for user in users.as_array().into_iter().flatten() {
                if let (Some(id), Some(email)) = (user["id"].as_str(), user["email"].as_str()) {
                    names.push((id.to_string(), format!("<id of {email}>")));
                }
            }
        }
    }
    let mut kids: Vec<String> = Vec::new();
    for step in steps {
        let text = format!("{}\n{}", step.args.join(" "), step.stdout);
        for word in text.split_whitespace() {
            let word =
                word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
            let is_kid = step.args.first().map(String::as_str) == Some("keys")
                && word.len() >= 8
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && word.chars().any(|c| c.is_ascii_digit())
                && !word.chars().all(|c| c.is_ascii_digit())
                && !names.iter().any(|(id, _)| id == word);
            if is_kid && !kids.iter().any(|k| k == word) {
                kids.push(word.to_string());
            }
        }
    }
    for (n, kid) in kids.iter().enumerate() {
        names.push((kid.clone(), format!("<kid {n}>")));
    }
    names.sort_by_key(|(random, _)| std::cmp::Reverse(random.len()));
    let clean = |text: &str| -> String {
        let mut text = text.replace(db, "<db>");
        for (random, name) in &names {
            text = text.replace(random.as_str(), name);
        }
        let text = text
            .lines()
            .map(|line| match line.split_once("#set-password=") {
                Some((before, _)) => format!("{before}#set-password=<token>"),
                None => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        without_times(&text)
    };
    steps
        .iter()
        .map(|step| {
            let listing = step.args[..2] == ["user", "list"] || step.args[..2] == ["keys", "list"];
            let printed = match (listing, step.args.len() == 3) {
                (true, true) => clean(&sorted_json(&step.stdout)),
                (true, false) => sorted_rows(&clean(&step.stdout)),
                (false, _) => clean(&step.stdout),
            };
            Step {
                args: step.args.iter().map(|a| clean(a)).collect(),
                code: step.code,
                stdout: printed,
                stderr: clean(&without_log_times(&step.stderr)),
            }
        })
        .collect()
}

/// Every run of 10 digits (a Unix time) becomes `<time>`.
fn without_times(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        match digits.len() {
            10 => out.push_str("<time>"),
            _ => out.push_str(&digits),
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// Log lines start with `[2026-12-01T13:00:29Z LEVEL target]`: the time goes.
fn without_log_times(text: &str) -> String {
    text.lines()
        .map(|line| match (line.starts_with('['), line.split_once(' ')) {
            (true, Some((_, rest))) => format!("[<time> {rest}"),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A JSON listing with its rows by email.
fn sorted_json(listing: &str) -> String {
    let mut rows: Vec<Value> = serde_json::from_str(listing).unwrap_or_default();
    rows.sort_by_key(|row| row["email"].as_str().unwrap_or_default().to_string());
    serde_json::to_string_pretty(&rows).unwrap_or_default()
}

/// A table with its rows (placeholders first: by email, by kid) after the header.
fn sorted_rows(listing: &str) -> String {
    let mut lines = listing.lines();
    let header = lines.next().unwrap_or_default();
    let mut rows: Vec<&str> = lines.collect();
    rows.sort();
    std::iter::once(header)
        .chain(rows)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_cli_command_answers_on_postgresql_as_it_does_on_sqlite() {
    let Some(db) = Database::create() else { return };
    let files = tempfile::tempdir().expect("a temp dir");
    let sqlite = files.path().join("authlite.db").display().to_string();
    let imported = bcrypt::hash("imported pass", 4).expect("bcrypt hashes");

    std::fs::write(files.path().join("authlite.key"), [7u8; 32]).expect("a master key");
    std::fs::write(files.path().join("other.key"), [8u8; 32]).expect("another key");
    let on_sqlite = normalized(&transcript(&sqlite, files.path(), &imported), &sqlite);
    let on_postgres = normalized(&transcript(&db.url, files.path(), &imported), &db.url);

    assert_eq!(on_sqlite.len(), on_postgres.len());
    for (lite, pg) in on_sqlite.iter().zip(&on_postgres) {
        assert_eq!(
            pg,
            lite,
            "`authlite {}` differs on PostgreSQL (left) from SQLite (right)",
            lite.args.join(" ")
        );
    }
    // The script did what it says, on both.
    let codes: Vec<Option<i32>> = on_postgres.iter().map(|s| s.code).collect();
    assert!(
        codes.iter().filter(|c| **c == Some(0)).count() >= 25,
        "{codes:?}"
    );
    assert!(
        codes.iter().filter(|c| **c == Some(1)).count() >= 7,
        "{codes:?}"
    );

    // What the commands changed is there for a server: the new password logs in.
    let key = files.path().join("authlite.key").display().to_string();
    let instance = serve(&db.url, &["--master-key-file", &key]);
    instance.login_ok(ADA, "another password");
    instance.login_ok("pw@globex.test", "a password");
    instance.login_ok("imp@acme.test", "imported pass");
    instance
        .login("bob@globex.test", "bob pass")
        .assert_error(401, "USER_INACTIVE");
    instance
        .login("x@acme.test", "whatever")
        .assert_error(401, "USER_NOT_FOUND");
}

#[test]
fn serve_with_a_bad_seed_on_a_new_database_writes_no_key_no_org_and_no_user() {
    let Some(db) = Database::create() else { return };
    let files = tempfile::tempdir().expect("a temp dir");
    let key = files.path().join("authlite.key");
    std::fs::write(&key, [7u8; 32]).expect("a master key");
    let unknown_org = json!({
        "orgs": [{ "id": "acme", "name": "Acme Inc" }],
        "users": [
            { "email": ADA, "name": "Ada", "orgId": "acme" },
            { "email": "bob@acme.test", "name": "Bob", "orgId": "nowhere" }
        ]
    });
    let file = seed_file(files.path(), "unknown-org.json", &unknown_org);
    for master_key in [None, Some(key.display().to_string())] {
        let mut args = vec![];
        if let Some(key) = &master_key {
            args.extend(["--master-key-file", key.as_str()]);
        }
        args.extend(["serve", "--bind", "127.0.0.1:0", "--seed", &file]);
        let out = cli(&db.url, &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one sentence:\n{err}");
        assert!(err.contains("unknown-org.json") && err.contains("users[1].orgId"));
        for table in ["signing_keys", "meta", "orgs", "users"] {
            let rows = db.query(&format!("SELECT count(*) FROM {table}"));
            assert_eq!(rows.trim(), "0", "{table}, master key: {master_key:?}");
        }
    }
}
