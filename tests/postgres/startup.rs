//! Instances started at the same moment on an empty database.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::*;
use crate::helpers::DEMO_SEED;

#[test]
fn three_instances_started_at_once_on_an_empty_database_make_one_schema_one_key_and_one_jwks() {
    let Some(db) = Database::create() else { return };
    let commands = (0..3)
        .map(|_| serve_command(&db.url, ITERATIONS, &["--seed", DEMO_SEED]))
        .collect();

    let instances = start_together(commands);

    let kids = listed_kids(&db.url);
    assert_eq!(kids.len(), 1, "exactly one signing key: {kids:?}");
    let documents: Vec<Value> = instances.iter().map(Instance::jwks).collect();
    assert_eq!(crate::harness::kids(&documents[0]), kids);
    for document in &documents[1..] {
        assert_eq!(document, &documents[0], "every instance serves one JWKS");
    }

    // One schema: every table once, whatever schema it was made in.
    let tables = db.query(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    );
    let tables: Vec<&str> = tables.lines().collect();
    let names: BTreeSet<&str> = tables
        .iter()
        .filter_map(|t| t.split_once('.').map(|(_, name)| name))
        .collect();
    assert!(names.contains("users"), "no users table: {tables:?}");
    assert_eq!(names.len(), tables.len(), "a table made twice: {tables:?}");

    // The seed, applied by all three at once, made each user once.
    let users: Value =
        serde_json::from_str(&cli_ok(&db.url, &["user", "list", "--json"])).expect("JSON");
    let emails: Vec<&str> = users
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails.len(), 5, "{users}");
    assert_eq!(emails.iter().collect::<BTreeSet<_>>().len(), 5, "{users}");

    // A token of one instance is good on every one.
    let pair = instances[1].login_ok(ADA, ADA_PASSWORD);
    assert_eq!(pair.kid(), kids[0]);
    for instance in &instances {
        instance.me(&pair.access).assert_ok();
    }
    let next = instances[2].refresh(&pair.refresh).pair();
    instances[0].me(&next.access).assert_ok();

    // One started later finds everything made and adds nothing.
    let late = serve(&db.url, &[]);
    assert_eq!(late.jwks(), documents[0]);
    assert_eq!(listed_kids(&db.url), kids);
}

/// `orgs: N created, …; users: M created, …` of a seed summary.
fn created(summary: &str) -> (u32, u32) {
    let count = |part: &str| {
        part.split_once(':')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("not a seed summary: {summary:?}"))
    };
    let (orgs, users) = summary
        .split_once(';')
        .unwrap_or_else(|| panic!("not a seed summary: {summary:?}"));
    (count(orgs), count(users))
}

#[test]
fn one_seed_file_applied_by_three_processes_at_once_creates_each_org_and_user_once() {
    for round in 0..4 {
        let Some(db) = Database::create() else { return };
        listed_kids(&db.url); // the schema made first: only the seeds race
        let barrier = std::sync::Barrier::new(3);
        let outputs: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        cli_ok(&db.url, &["seed", DEMO_SEED])
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a seed"))
                .collect()
        });
        let (orgs, users) = outputs
            .iter()
            .map(|out| created(out.trim()))
            .fold((0, 0), |(o, u), (more_o, more_u)| (o + more_o, u + more_u));
        assert_eq!(
            (orgs, users),
            (1, 5),
            "round {round}: the three summaries claim {orgs} orgs and {users} users created:\n{}",
            outputs.join("")
        );
        let listed = cli_ok(&db.url, &["user", "list", "--json"]);
        let listed: Value = serde_json::from_str(&listed).expect("JSON");
        assert_eq!(listed.as_array().map(Vec::len), Some(5), "{listed}");
    }
}
