//! `authlite keys`: listing the signing keys and rotating to a new one.

use crate::helpers::*;
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
