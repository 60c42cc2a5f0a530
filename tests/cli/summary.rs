//! Reading the created / updated / unchanged counts out of a seed summary.

use std::process::Output;

use crate::helpers::{assert_exit, stdout};

/// Created / updated / unchanged, as a seed summary reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedCounts {
    pub orgs: Tally,
    pub users: Tally,
}

pub fn tally(created: u32, updated: u32, unchanged: u32) -> Tally {
    Tally {
        created,
        updated,
        unchanged,
    }
}

/// Reads the counts out of a seed summary written in words, whatever their
/// order: "orgs: 1 created, 0 updated; users: 5 created" or "created 1 org
/// and 5 users" or "1 user would be created". The spec fixes the numbers,
/// not the sentence.
pub fn seed_counts(text: &str) -> SeedCounts {
    let mut counts = SeedCounts::default();
    for clause in text.split(['\n', ';']) {
        let words: Vec<String> = clause
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let mut entity_so_far = None;
        for (i, word) in words.iter().enumerate() {
            if let Some(entity) = entity_of(word) {
                entity_so_far = Some(entity);
            }
            let Ok(n) = word.parse::<u32>() else { continue };
            let next_is_entity = words.get(i + 1).and_then(|w| entity_of(w));
            let (entity, after) = match next_is_entity {
                Some(entity) => (Some(entity), i + 2),
                None => (entity_so_far, i + 1),
            };
            let action = words
                .iter()
                .skip(after)
                .take(3)
                .take_while(|w| w.parse::<u32>().is_err())
                .find_map(|w| action_of(w))
                .or_else(|| i.checked_sub(1).and_then(|p| action_of(&words[p])));
            let (Some(entity), Some(action)) = (entity, action) else {
                continue;
            };
            let tally = if entity == "org" {
                &mut counts.orgs
            } else {
                &mut counts.users
            };
            match action {
                "created" => tally.created += n,
                "updated" => tally.updated += n,
                _ => tally.unchanged += n,
            }
        }
    }
    counts
}

fn entity_of(word: &str) -> Option<&'static str> {
    if word.starts_with("org") {
        Some("org")
    } else if word.starts_with("user") {
        Some("user")
    } else {
        None
    }
}

fn action_of(word: &str) -> Option<&'static str> {
    match word {
        "created" | "create" | "creates" | "new" | "added" | "add" | "inserted" => Some("created"),
        "updated" | "update" | "updates" | "changed" | "modified" => Some("updated"),
        "unchanged" | "same" | "skipped" | "kept" => Some("unchanged"),
        _ => None,
    }
}

#[track_caller]
pub fn assert_seed_counts(out: &Output, orgs: Tally, users: Tally) {
    assert_exit(out, 0);
    let text = stdout(out);
    assert_eq!(
        seed_counts(&text),
        SeedCounts { orgs, users },
        "seed summary was:\n{text}"
    );
}
