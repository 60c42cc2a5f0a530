//! Failed-login counts are shared by the instances and exact under concurrency.

use authlite::settings::DEFAULT_PBKDF2_ITERATIONS;

use crate::harness::*;
use crate::helpers::DEMO_SEED;

const GUESSES: usize = 24;
const MAX: usize = 5;

/// Three instances at the real hash cost (the seed's hashes too), so that the
/// guesses overlap on the hashing threads of every instance.
fn three_at_real_cost(args: &[&str]) -> Option<(Database, Vec<Instance>)> {
    let db = Database::create()?;
    let cost = DEFAULT_PBKDF2_ITERATIONS.to_string();
    let mut seed = command(&db.url, &cost);
    seed.args(["seed", DEMO_SEED]);
    crate::helpers::assert_exit(&crate::helpers::run(seed, None), 0);
    let instances = start_together(
        (0..3)
            .map(|_| serve_command(&db.url, &cost, args))
            .collect(),
    );
    Some((db, instances))
}

/// Sends login `i` to instance `i % 3`, all at the same moment.
fn guesses_spread(instances: &[Instance], emails: &[String]) -> Vec<Resp> {
    let targets = (0..emails.len()).map(|i| &instances[i % 3]).collect();
    all_at_once(targets, |instance, i| {
        instance.login(&emails[i], "a wrong guess")
    })
}

#[track_caller]
fn assert_exactly_max_checked(answers: &[Resp], refused: &str) {
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    let checked: Vec<&Resp> = answers.iter().filter(|r| r.status == 401).collect();
    let locked: Vec<&Resp> = answers.iter().filter(|r| r.status == 429).collect();
    assert_eq!(checked.len(), MAX, "{statuses:?}");
    assert_eq!(locked.len(), GUESSES - MAX, "{statuses:?}");
    for answer in checked {
        answer.assert_error(401, refused);
    }
    for answer in locked {
        answer.assert_error(429, "TOO_MANY_ATTEMPTS");
        assert!(answer.retry_after.is_some(), "no Retry-After: {answer}");
    }
}

#[test]
fn wrong_passwords_on_one_email_raced_over_three_instances_get_exactly_max_failures_checked() {
    let Some((_db, instances)) = three_at_real_cost(&["--max-failures", "5"]) else {
        return;
    };
    let emails = vec![ADA.to_string(); GUESSES];

    let answers = guesses_spread(&instances, &emails);

    assert_exactly_max_checked(&answers, "INVALID_PASSWORD");
    for instance in &instances {
        let locked = instance.login(ADA, ADA_PASSWORD);
        locked.assert_error(429, "TOO_MANY_ATTEMPTS");
        assert!(locked.retry_after.is_some(), "{locked}");
    }
    // Another account is not locked by them.
    instances[0].login(GRACE, GRACE_PASSWORD).assert_ok();
}

#[test]
fn guesses_from_one_address_raced_over_three_instances_get_exactly_the_per_address_limit() {
    let Some((_db, instances)) = three_at_real_cost(&["--max-failures-per-ip", "5"]) else {
        return;
    };
    let emails: Vec<String> = (0..GUESSES)
        .map(|i| format!("sprayed{i}@acme.test"))
        .collect();

    let answers = guesses_spread(&instances, &emails);

    assert_exactly_max_checked(&answers, "USER_NOT_FOUND");
    for instance in &instances {
        instance
            .login(ADA, ADA_PASSWORD)
            .assert_error(429, "TOO_MANY_ATTEMPTS");
    }
}

#[test]
fn failures_counted_on_different_instances_add_up_to_one_lockout() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 3, &["--max-failures", "3"]);
    // One failure counted by each instance locks the account on all of them.
    lock_from_every_instance(&instances, ADA, ADA_PASSWORD);
}
