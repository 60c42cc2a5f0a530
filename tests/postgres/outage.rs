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

    for (n, instance) in instances.iter().enumerate() {
        within(
            stopped,
            Duration::from_secs(5),
            &format!("instance {n}: /healthz 503"),
            || {
                let health = instance.get("/healthz");
                assert!(health.took <= ANSWER_WITHIN, "{health}");
                assert!(matches!(health.status, 200 | 503), "{health}");
                (health.status == 503).then_some(())
            },
        );
        assert_busy(&instance.login(ADA, ADA_PASSWORD));
        assert_busy(&instance.login(GRACE, "a wrong guess"));
        assert_busy(&instance.refresh(&before.refresh));
        assert_busy(&instance.sessions(&before.access));
        assert_busy(&instance.logout_all(&before.access));
        // /user/me may be answered from what the instance already verified,
        // but never with a 500 or a hang.
        let me = instance.me(&before.access);
        assert!(me.took <= ANSWER_WITHIN, "{me}");
        if me.status != 200 {
            assert_busy(&me);
        }
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
