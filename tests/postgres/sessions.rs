//! The sessions list is the same from every instance, and so is a revocation.

use serde_json::{json, Value};

use crate::harness::*;

/// The `sessions` array the instance answers for `access`, which must be 200.
#[track_caller]
fn listed(instance: &Instance, access: &str) -> Value {
    let resp = instance.sessions(access);
    resp.assert_ok();
    resp.body["sessions"].clone()
}

fn sids(list: &Value) -> Vec<String> {
    let mut sids: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("sessions is not an array: {list}"))
        .iter()
        .map(|s| s["sid"].as_str().unwrap_or_default().to_string())
        .collect();
    sids.sort();
    sids
}

/// The same list from every instance; returns it.
#[track_caller]
fn same_everywhere(instances: &[Instance], access: &str) -> Value {
    let first = listed(&instances[0], access);
    for (n, instance) in instances.iter().enumerate().skip(1) {
        assert_eq!(
            listed(instance, access),
            first,
            "instance {n} lists otherwise"
        );
    }
    first
}

#[test]
fn the_sessions_list_is_the_same_from_every_instance_and_a_revocation_on_one_is_seen_by_all() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 3, &[]);
    let pairs: Vec<Pair> = instances
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let agent = format!("tab {n}");
            i.login_with(ADA, ADA_PASSWORD, &[("User-Agent", &agent)])
                .pair()
        })
        .collect();
    let mut all: Vec<String> = pairs.iter().map(Pair::sid).collect();
    all.sort();

    for pair in &pairs {
        let list = same_everywhere(&instances, &pair.access);
        assert_eq!(sids(&list), all, "{list}");
        for session in list.as_array().expect("an array") {
            let current = session["sid"] == json!(pair.sid());
            assert_eq!(session["current"], json!(current), "{list}");
        }
        let agents: Vec<&str> = list
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|s| s["userAgent"].as_str())
            .collect();
        for n in 0..3 {
            assert!(agents.contains(&format!("tab {n}").as_str()), "{list}");
        }
    }

    // A refresh on one instance shows on all.
    let refreshed = instances[0].refresh(&pairs[2].refresh).pair();
    same_everywhere(&instances, &refreshed.access);

    // Revoked on one instance: gone from every list, refused everywhere.
    let gone = pairs[2].sid();
    instances[0]
        .delete_session(&pairs[0].access, &gone)
        .assert_ok();
    let list = same_everywhere(&instances, &pairs[1].access);
    assert_eq!(sids(&list).len(), 2, "{list}");
    assert!(!sids(&list).contains(&gone), "{list}");
    assert_revoked_everywhere(&instances, &refreshed);
    instances[1]
        .delete_session(&pairs[1].access, &gone)
        .assert_error(404, "SESSION_NOT_FOUND");

    // Signed out everywhere from one instance.
    instances[2].logout_all(&pairs[1].access).assert_ok();
    assert_revoked_everywhere(&instances, &pairs[0]);
    for instance in &instances {
        instance
            .sessions(&pairs[1].access)
            .assert_error(401, "TOKEN_REVOKED");
    }
}
