//! The configuration table (docs/configuration.md, linked from the README)
//! must say what `authlite serve --help` says: the same flags, each with its
//! environment variable and default.

use std::collections::BTreeMap;
use std::process::Command;

struct Row {
    env: String,
    default: Option<String>,
}

/// The table between the config markers of docs/configuration.md:
/// flag -> (env, default in backticks or none).
fn documented_table() -> BTreeMap<String, Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let start = text
        .find("<!-- config:start -->")
        .expect("config:start marker");
    let end = text.find("<!-- config:end -->").expect("config:end marker");
    text[start..end]
        .lines()
        .filter(|line| line.starts_with("| `--"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let unquote = |s: &str| s.trim_matches('`').to_string();
            let default = cells[3]
                .strip_prefix('`')
                .map(|s| s.trim_end_matches('`').to_string());
            (
                unquote(cells[1]),
                Row {
                    env: unquote(cells[2]),
                    default,
                },
            )
        })
        .collect()
}

/// `serve --help`: flag -> (env, default as clap prints it).
fn help_table() -> BTreeMap<String, Row> {
    let out = Command::new(env!("CARGO_BIN_EXE_authlite"))
        .args(["serve", "--help"])
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut rows = BTreeMap::new();
    let mut flag: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("--") || trimmed.starts_with("-h, --") {
            let name = trimmed
                .trim_start_matches("-h, ")
                .split_whitespace()
                .next()
                .unwrap();
            flag = Some(name.to_string()).filter(|n| n != "--help");
        }
        let Some(name) = &flag else { continue };
        // "[env: NAME=VALUE]", or "[env: NAME]" for a flag whose value is
        // never shown (the SMTP URL holds a password).
        let env =
            between(line, "[env: ", "]").map(|e| e.split('=').next().unwrap_or("").to_string());
        if let Some(env) = env {
            let default = between(line, "[default: ", "]");
            rows.insert(name.clone(), Row { env, default });
        }
    }
    rows
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let rest = &text[text.find(open)? + open.len()..];
    Some(rest[..rest.find(close)?].to_string())
}

#[test]
fn the_documented_configuration_table_matches_serve_help() {
    let table = documented_table();
    let help = help_table();
    let names = |t: &BTreeMap<String, Row>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&table),
        names(&help),
        "flags in docs/configuration.md vs --help"
    );
    for (flag, row) in &help {
        let documented = &table[flag];
        assert_eq!(documented.env, row.env, "environment variable of {flag}");
        assert_eq!(documented.default, row.default, "default of {flag}");
    }
}
