//! A refresh token is spent everywhere at once.

use std::time::Duration;

use crate::harness::*;

const ROUNDS: usize = 25;

#[test]
fn a_refresh_token_raced_to_two_instances_gets_one_pair_and_its_reuse_after_the_grace_revokes_the_session_everywhere(
) {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 2, &["--reuse-grace", "1"]);
    let mut pair = instances[0].login_ok(ADA, ADA_PASSWORD);
    let mut spent = Vec::new();

    for round in 0..ROUNDS {
        let answers = all_at_once(instances.iter().collect(), |instance, _| {
            instance.refresh(&pair.refresh)
        });
        let (a, b) = (answers[0].pair(), answers[1].pair());
        assert_eq!(
            a, b,
            "round {round}: the two instances answered different pairs"
        );
        assert_ne!(
            a.refresh, pair.refresh,
            "round {round}: no new refresh token"
        );
        assert_eq!(a.sid(), pair.sid(), "round {round}: another session");
        spent.push(std::mem::replace(&mut pair, a).refresh);
    }
    for instance in &instances {
        instance.me(&pair.access).assert_ok();
    }

    // Past the grace, a spent token is a stolen one: the session ends everywhere.
    std::thread::sleep(Duration::from_millis(1500));
    let last_spent = spent.last().expect("a spent token");
    instances[0]
        .refresh(last_spent)
        .assert_error(401, "TOKEN_REUSED");
    assert_revoked_everywhere(&instances, &pair);
}

#[test]
fn a_refresh_token_spent_on_one_instance_is_refused_as_reused_by_another_after_the_grace() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 2, &["--reuse-grace", "1"]);
    let first = instances[0].login_ok(ADA, ADA_PASSWORD);
    let next = instances[0].refresh(&first.refresh).pair();
    // Within the grace, the other instance answers the very same pair.
    assert_eq!(instances[1].refresh(&first.refresh).pair(), next);

    std::thread::sleep(Duration::from_millis(1500));
    instances[1]
        .refresh(&first.refresh)
        .assert_error(401, "TOKEN_REUSED");
    assert_revoked_everywhere(&instances, &next);
}

#[test]
fn refreshes_that_come_together_on_one_instance_each_get_their_own_pair() {
    let Some(db) = Database::seeded() else { return };
    let instance = serve(&db.url, &[]);
    let mut pairs: Vec<_> = (0..12)
        .map(|_| instance.login_ok(ADA, ADA_PASSWORD))
        .collect();
    for round in 0..5 {
        // Twelve sessions, and the first one's token three more times.
        let answers = all_at_once(vec![&instance; 15], |instance, i| {
            instance.refresh(&pairs[i.saturating_sub(3)].refresh)
        });
        let answers: Vec<_> = answers.iter().map(|a| a.pair()).collect();
        for racer in &answers[1..4] {
            assert_eq!(racer, &answers[0], "round {round}: one token, two pairs");
        }
        for (i, answer) in answers[3..].iter().enumerate() {
            assert_eq!(
                answer.sid(),
                pairs[i].sid(),
                "round {round}: another session"
            );
            assert_ne!(
                answer.refresh, pairs[i].refresh,
                "round {round}: no new token"
            );
            instance.me(&answer.access).assert_ok();
        }
        pairs = answers[3..].to_vec();
    }
}
