//! `keys rotate`, `keys retire`, `user set-status` and `user unlock`, run by
//! the CLI, reach every running instance within 1 s.

use std::time::Instant;

use crate::harness::*;

/// Polls every instance with `check` until each has given `Some` once,
/// within 1 s of `since`.
#[track_caller]
fn on_every_instance(
    instances: &[Instance],
    since: Instant,
    what: &str,
    check: impl Fn(usize, &Instance) -> bool,
) {
    let mut done = vec![false; instances.len()];
    within(since, ONE_SECOND, what, || {
        for (i, instance) in instances.iter().enumerate() {
            if !done[i] {
                done[i] = check(i, instance);
            }
        }
        done.iter().all(|d| *d).then_some(())
    });
}

#[test]
fn keys_rotate_and_retire_by_the_cli_reach_every_instance_within_a_second() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 3, &[]);
    let old = instances[0].login_ok(ADA, ADA_PASSWORD);
    let old_kid = old.kid();
    // Verified once everywhere, so that each instance may hold it in a cache.
    for instance in &instances {
        instance.me(&old.access).assert_ok();
    }

    cli_ok(&db.url, &["keys", "rotate"]);
    let rotated = Instant::now();
    let kids = listed_kids(&db.url);
    let new_kid = kids
        .iter()
        .find(|k| **k != old_kid)
        .unwrap_or_else(|| panic!("no new key listed: {kids:?}"))
        .clone();
    on_every_instance(&instances, rotated, "the new key in the JWKS", |_, i| {
        i.jwks_kids().contains(&new_kid)
    });
    on_every_instance(&instances, rotated, "signing with the new key", |_, i| {
        i.login_ok(ADA, ADA_PASSWORD).kid() == new_kid
    });
    for instance in &instances {
        assert!(
            instance.jwks_kids().contains(&old_kid),
            "rotated out too soon"
        );
        instance.me(&old.access).assert_ok();
    }

    cli_ok(&db.url, &["keys", "retire", &old_kid]);
    let retired = Instant::now();
    on_every_instance(
        &instances,
        retired,
        "the retired key's token refused",
        |_, i| {
            let me = i.me(&old.access);
            if me.status == 200 {
                return false;
            }
            me.assert_error(401, "INVALID_TOKEN");
            true
        },
    );
    on_every_instance(
        &instances,
        retired,
        "the retired key out of the JWKS",
        |_, i| !i.jwks_kids().contains(&old_kid),
    );
    for instance in &instances {
        instance
            .refresh(&old.refresh)
            .assert_error(401, "INVALID_TOKEN");
        assert_eq!(instance.jwks_kids(), vec![new_kid.clone()]);
    }
}

#[test]
fn retiring_the_current_key_by_the_cli_moves_every_instance_to_the_new_one_within_a_second() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 3, &[]);
    let old = instances[1].login_ok(ADA, ADA_PASSWORD);

    cli_ok(&db.url, &["keys", "retire", &old.kid()]);
    let retired = Instant::now();

    on_every_instance(&instances, retired, "signing with a new key", |_, i| {
        let fresh = i.login_ok(ADA, ADA_PASSWORD);
        fresh.kid() != old.kid() && i.me(&old.access).status == 401
    });
    for instance in &instances {
        instance.me(&old.access).assert_error(401, "INVALID_TOKEN");
        assert!(!instance.jwks_kids().contains(&old.kid()));
    }
}

#[test]
fn user_set_status_by_the_cli_reaches_every_instance_within_a_second() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 3, &[]);
    let pairs: Vec<Pair> = instances
        .iter()
        .map(|i| i.login_ok(ADA, ADA_PASSWORD))
        .collect();
    for (instance, pair) in instances.iter().zip(&pairs) {
        instance.me(&pair.access).assert_ok();
    }

    cli_ok(&db.url, &["user", "set-status", ADA, "inactive"]);
    let changed = Instant::now();

    on_every_instance(&instances, changed, "/user/me: USER_INACTIVE", |n, i| {
        let me = i.me(&pairs[n].access);
        if me.status == 200 {
            return false;
        }
        me.assert_error(401, "USER_INACTIVE");
        true
    });
    on_every_instance(&instances, changed, "login: USER_INACTIVE", |_, i| {
        let login = i.login(ADA, ADA_PASSWORD);
        if login.status == 200 {
            return false;
        }
        login.assert_error(401, "USER_INACTIVE");
        true
    });
    for (n, instance) in instances.iter().enumerate() {
        let other = &pairs[(n + 1) % pairs.len()];
        instance
            .refresh(&other.refresh)
            .assert_error(401, "USER_INACTIVE");
    }

    cli_ok(&db.url, &["user", "set-status", ADA, "active"]);
    let back = Instant::now();
    on_every_instance(&instances, back, "login again once active", |_, i| {
        let login = i.login(ADA, ADA_PASSWORD);
        if login.status == 401 {
            login.assert_error(401, "USER_INACTIVE");
            return false;
        }
        login.assert_ok();
        true
    });
}

#[test]
fn user_unlock_by_the_cli_reaches_every_instance_within_a_second() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 3, &["--max-failures", "3"]);
    // Once per instance: lock the account from all three, unlock it by the
    // CLI, and see that very instance let the account in (the first login
    // that succeeds clears the count for everyone, so one at a time).
    for (n, target) in instances.iter().enumerate() {
        lock_from_every_instance(&instances, ADA, ADA_PASSWORD);

        cli_ok(&db.url, &["user", "unlock", ADA]);
        let unlocked = Instant::now();

        within(
            unlocked,
            ONE_SECOND,
            &format!("instance {n} lets Ada in"),
            || {
                let login = target.login(ADA, ADA_PASSWORD);
                if login.status == 429 {
                    login.assert_error(429, "TOO_MANY_ATTEMPTS");
                    return None;
                }
                Some(login.pair())
            },
        );
    }
}
