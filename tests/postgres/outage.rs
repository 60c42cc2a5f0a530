//! The database goes away and comes back: the instances answer 503 in the
//! meantime, and serve again without a restart, with nothing committed lost.

use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::harness::*;
use crate::helpers::{assert_exit, DEMO_SEED};

/// How long one request may take while the database is away.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// An answer while the database is away: 503 `SERVER_BUSY` within 5 s.
#[track_caller]
fn assert_busy(resp: &Resp) {
    // Shown when the test fails: how long each answer took.
    eprintln!(
        "during the outage: {} {} in {:?}",
        resp.what, resp.status, resp.took
    );
    assert!(
        resp.took <= ANSWER_WITHIN,
        "too slow during the outage: {resp}"
    );
    resp.assert_error(503, "SERVER_BUSY");
}

#[test]
fn while_the_database_is_down_requests_get_503_and_once_it_is_back_the_same_processes_serve_again()
{
    let Some(cluster) = Cluster::start_new() else {
        return;
    };
    let url = cluster.url();
    cli_ok(&url, &["seed", DEMO_SEED]);
    let instances = serve_many(&url, 2, &[]);
    let before = instances[0].login_ok(ADA, ADA_PASSWORD);
    let before = instances[1].refresh(&before.refresh).pair();
    let add = [
        "user",
        "add",
        "--email",
        "late@acme.test",
        "--name",
        "Late",
        "--password-stdin",
    ];
    assert_exit(&cli_stdin(&url, &add, "late password"), 0);
    for instance in &instances {
        instance.get("/healthz").assert_status(200);
    }

    cluster.stop();
    let stopped = Instant::now();

    // Each instance polled from its own thread: /healthz says 503 soon.
    std::thread::scope(|s| {
        for (n, instance) in instances.iter().enumerate() {
            s.spawn(move || {
                within(
                    stopped,
                    ANSWER_WITHIN,
                    &format!("instance {n}: /healthz 503"),
                    || {
                        let health = instance.get("/healthz");
                        assert!(health.took <= ANSWER_WITHIN, "{health}");
                        assert!(matches!(health.status, 200 | 503), "{health}");
                        (health.status == 503).then_some(())
                    },
                )
            });
        }
    });
    // Every request that needs the database, on both instances at once: each
    // waits for the database on its own, and none may wait long.
    let targets = instances.iter().flat_map(|i| [i; 6]).collect();
    let answers = all_at_once(targets, |instance, n| match n % 6 {
        0 => instance.login(ADA, ADA_PASSWORD),
        1 => instance.login(GRACE, "a wrong guess"),
        2 => instance.refresh(&before.refresh),
        3 => instance.sessions(&before.access),
        4 => instance.logout_all(&before.access),
        _ => instance.me(&before.access),
    });
    for answer in &answers {
        // /user/me may be answered from what the instance already verified,
        // but never with a 500 or a hang.
        if answer.what == "GET /user/me" && answer.status == 200 {
            assert!(answer.took <= ANSWER_WITHIN, "{answer}");
            continue;
        }
        assert_busy(answer);
    }

    cluster.start();
    let restarted = Instant::now();

    for (n, instance) in instances.iter().enumerate() {
        within(
            restarted,
            Duration::from_secs(10),
            &format!("instance {n}: /healthz 200 again"),
            || (instance.get("/healthz").status == 200).then_some(()),
        );
    }
    // Nothing committed before the outage was lost, and nothing refused during it was done.
    let next = instances[0].refresh(&before.refresh).pair();
    assert_eq!(next.sid(), before.sid());
    instances[1].me(&next.access).assert_ok();
    let listed = instances[1].sessions(&next.access);
    listed.assert_ok();
    assert!(listed.text.contains(&before.sid()), "{listed}");
    for instance in &instances {
        instance.login_ok(ADA, ADA_PASSWORD);
        instance.login_ok("late@acme.test", "late password");
    }
}
