//! Against a real server (see `testing.rs`): each test makes its own database.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::testing;
use super::{Db, SCHEMA_VERSION};
use crate::store::{Limit, NewRefresh, Session, Status, Store, StoreError, User, PRUNE_CHUNK};

/// A database of its own and the engine opened on it, or None (skipped).
fn open(test: &str) -> Option<(testing::TestDatabase, Db)> {
    let database = testing::database(test)?;
    let db = Db::open(&database.url).unwrap();
    Some((database, db))
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        email: format!("{id}@acme.test"),
        name: id.to_uppercase(),
        org_id: None,
        password_hash: Some("$pbkdf2-sha256$x".into()),
        status: Status::Active,
        created_at: 0,
    }
}

fn session(id: &str, user_id: &str, expires_at: u64) -> Session {
    Session {
        id: id.into(),
        user_id: user_id.into(),
        created_at: 10,
        last_used_at: 10,
        expires_at,
        revoked_at: None,
        user_agent: Some("test".into()),
        ip: Some("127.0.0.1".into()),
    }
}

fn refresh(jti: &str, expires_at: u64) -> NewRefresh<'_> {
    NewRefresh {
        jti,
        hash: &[7; 32],
        expires_at,
    }
}

fn schema_rows(db: &Db) -> (i64, i64) {
    let mut conn = db.client();
    let row = conn
        .client
        .query_one(
            "SELECT (SELECT count(*) FROM schema_version), (SELECT max(version) FROM schema_version)",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn four_instances_opening_an_empty_database_at_once_make_one_schema() {
    let Some(database) = testing::database("migrations race") else {
        return;
    };
    let start = Arc::new(Barrier::new(4));
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let (url, start) = (database.url.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                Db::open(&url)
            })
        })
        .collect();
    let dbs: Vec<Db> = opened
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert_eq!(schema_rows(&dbs[0]), (1, SCHEMA_VERSION));
    assert_eq!(SCHEMA_VERSION, crate::store::sqlite::SCHEMA_VERSION);
    // Opening again changes nothing.
    drop(Db::open(&database.url).unwrap());
    assert_eq!(schema_rows(&dbs[0]), (1, SCHEMA_VERSION));
}

#[test]
fn a_newer_schema_is_refused() {
    let Some((database, db)) = open("newer schema") else {
        return;
    };
    db.client()
        .client
        .batch_execute("UPDATE schema_version SET version = 99")
        .unwrap();
    let err = Db::open(&database.url).err().unwrap();
    assert!(err.contains("schema version 99 is newer"), "{err}");
}

#[test]
fn tls_is_used_as_sslmode_says() {
    let Some(database) = testing::database("sslmode") else {
        return;
    };
    let ssl_in_use = |mode: &str| {
        let db = Db::open(&format!("{}?sslmode={mode}", database.url)).unwrap();
        let mut conn = db.client();
        let row = conn
            .client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap();
        row.get::<_, bool>(0)
    };
    assert!(ssl_in_use("require"));
    assert!(ssl_in_use("prefer"));
    assert!(!ssl_in_use("disable"));
}

#[test]
fn a_wrong_password_or_a_dead_port_fails_quickly_without_the_password() {
    let Some(database) = testing::database("bad targets") else {
        return;
    };
    // Something that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let wrong = database
        .url
        .replacen("://authlite:authlite@", "://authlite:not-the-pw-4711@", 1);
    let targets = [
        wrong,
        "postgres://authlite:not-the-pw-4711@127.0.0.1:1/x".to_string(),
        format!("postgres://authlite:not-the-pw-4711@127.0.0.1:{silent_port}/x"),
        "postgres://authlite:not-the-pw-4711@127.0.0.1:notaport/x".to_string(),
    ];
    for url in targets {
        let began = Instant::now();
        let err = Db::open(&url).err().unwrap();
        assert!(began.elapsed() < Duration::from_secs(5), "{url}: {err}");
        assert!(!err.contains("not-the-pw-4711"), "{err}");
        assert!(err.contains("authlite@127.0.0.1"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

#[test]
fn of_two_racing_uses_of_one_refresh_token_exactly_one_wins() {
    let Some((_database, db)) = open("rotate race") else {
        return;
    };
    let db = Arc::new(db);
    db.transaction(|s| {
        s.insert_user(&user("ada"), 1)?;
        s.create_session(&session("s1", "ada", 1000), &refresh("j0", 1000))
    })
    .unwrap();

    // The first holds the row, uncommitted, while the second tries: the
    // second must wait and then find the token spent.
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let first = {
        let db = db.clone();
        thread::spawn(move || {
            db.transaction(|s| {
                let won = s.rotate_refresh("s1", "j0", &refresh("j1", 2000), 5_000, b"first")?;
                held_tx.send(()).unwrap();
                thread::sleep(Duration::from_millis(300));
                Ok::<_, StoreError>(won)
            })
            .unwrap()
        })
    };
    held_rx.recv().unwrap();
    let second = db
        .transaction(|s| s.rotate_refresh("s1", "j0", &refresh("j2", 2000), 5_001, b"second"))
        .unwrap();
    assert!(first.join().unwrap());
    assert!(!second);
    let record = db.read(|s| s.find_refresh("s1")).unwrap().unwrap();
    assert_eq!(record.refresh_jti, "j1");
    assert_eq!(record.spent_jti.as_deref(), Some("j0"));
    assert_eq!(record.grace_answer.as_deref(), Some(&b"first"[..]));

    // And free for all: of eight at once, one wins.
    let start = Arc::new(Barrier::new(8));
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                let jti = format!("k{i}");
                start.wait();
                db.transaction(|s| s.rotate_refresh("s1", "j1", &refresh(&jti, 3000), 6_000, b"x"))
                    .unwrap()
            })
        })
        .collect();
    let winners = racers
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|&won| won)
        .count();
    assert_eq!(winners, 1);
}

#[test]
fn eight_concurrent_failures_against_a_limit_of_three_reserve_three() {
    let Some((_database, db)) = open("reserve race") else {
        return;
    };
    let db = Arc::new(db);
    let start = Arc::new(Barrier::new(8));
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                db.transaction(|s| {
                    let limits = [
                        Limit {
                            key: "email:ada@acme.test",
                            max: 3,
                        },
                        Limit {
                            key: "ip:127.0.0.1",
                            max: 50,
                        },
                    ];
                    let reserved = s.reserve_failures(&limits, 900, 1_000)?;
                    // Hold the transaction open: without the key lock, the
                    // others would count before this one's rows are committed.
                    thread::sleep(Duration::from_millis(50));
                    Ok::<_, StoreError>(reserved)
                })
                .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = attempts.into_iter().map(|t| t.join().unwrap()).collect();
    let reserved = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(reserved, 3, "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.as_ref().err().is_none_or(|&until| until == 1_900)));
    let (email_rows, ip_rows) = db
        .read(|s| {
            Ok::<_, StoreError>((
                s.locked_until("email:ada@acme.test", 3, 900, 1_000)?,
                s.locked_until("ip:127.0.0.1", 3, 900, 1_000)?,
            ))
        })
        .unwrap();
    assert_eq!(email_rows, Some(1_900));
    assert_eq!(ip_rows, Some(1_900));
}

#[test]
fn racing_first_starts_make_one_current_key() {
    let Some((_database, db)) = open("first key race") else {
        return;
    };
    let db = Arc::new(db);
    let start = Arc::new(Barrier::new(6));
    let starts: Vec<_> = (0..6)
        .map(|i| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                db.transaction(|s| {
                    s.lock_signing_keys()?;
                    if s.current_kid()?.is_none() {
                        thread::sleep(Duration::from_millis(20));
                        s.make_key_current(&format!("kid{i}"), "EdDSA", &[i; 64], 100)?;
                    }
                    s.current_kid()
                })
            })
        })
        .collect();
    let currents: Vec<String> = starts
        .into_iter()
        .map(|t| t.join().unwrap().unwrap().unwrap())
        .collect();
    // Every start succeeded (the lock, not the unique index, did it), and
    // all of them saw the one key.
    assert!(
        currents.iter().all(|kid| kid == &currents[0]),
        "{currents:?}"
    );
    let keys = db.read(|s| s.list_keys()).unwrap();
    assert_eq!(keys.len(), 1);
}

#[test]
fn pruning_goes_in_chunks() {
    let Some((_database, db)) = open("pruning") else {
        return;
    };
    let extra = 3;
    let n = PRUNE_CHUNK as usize + extra;
    db.transaction(|s| {
        s.insert_user(&user("ada"), 1)?;
        for i in 0..n {
            let jti = format!("j{i}");
            s.create_session(&session(&format!("s{i}"), "ada", 100), &refresh(&jti, 100))?;
            s.record_failure("email:ada@acme.test", 5)?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    for store_prune in [
        |s: &mut dyn Store| s.prune_expired_sessions(100),
        |s: &mut dyn Store| s.prune_failures(1_000, 900),
    ] {
        assert_eq!(db.transaction(store_prune).unwrap(), PRUNE_CHUNK as usize);
        assert_eq!(db.transaction(store_prune).unwrap(), extra);
        assert_eq!(db.transaction(store_prune).unwrap(), 0);
    }
}

#[test]
fn every_store_method_does_what_sqlite_does() {
    let Some((_database, db)) = open("store round trip") else {
        return;
    };
    db.transaction(|s| {
        s.upsert_org("acme", "Acme")?;
        s.upsert_org("acme", "Acme Inc")?;
        assert_eq!(s.org_name("acme")?.as_deref(), Some("Acme Inc"));
        assert_eq!(s.org_name("none")?, None);

        let mut ada = user("ada");
        ada.org_id = Some("acme".into());
        s.insert_user(&ada, 5)?;
        s.insert_user(&user("bob"), 6)?;
        let found = s.find_user_by_email("ada@acme.test")?.unwrap();
        assert_eq!(found.org_id.as_deref(), Some("acme"));
        assert!(s.find_user_by_id("nobody")?.is_none());
        ada.name = "Ada L".into();
        ada.status = Status::Banned;
        s.update_user_profile(&ada, 7)?;
        s.set_password_hash("ada", "$new", 8)?;
        s.set_user_status("bob", Status::Inactive, 8)?;
        let ada = s.find_user_by_id("ada")?.unwrap();
        assert_eq!((ada.name.as_str(), ada.status), ("Ada L", Status::Banned));
        assert_eq!(ada.password_hash.as_deref(), Some("$new"));
        assert_eq!(s.list_users()?.len(), 2);

        s.create_session(&session("s1", "ada", 500), &refresh("j1", 500))?;
        s.create_session(&session("s2", "ada", 500), &refresh("j2", 500))?;
        s.create_session(&session("s3", "ada", 50), &refresh("j3", 50))?;
        assert_eq!(s.count_live_sessions(100)?, 2);
        assert_eq!(s.list_live_sessions("ada", 100)?.len(), 2);
        let (owner, revoked) = s.find_user_by_session("s1")?.unwrap();
        assert_eq!((owner.id.as_str(), revoked), ("ada", false));
        assert!(s.revoke_session("s1", 101)?);
        assert!(!s.revoke_session("s1", 102)?);
        assert!(s.find_user_by_session("s1")?.unwrap().1);
        assert_eq!(s.find_session("s1")?.unwrap().revoked_at, Some(101));
        assert_eq!(s.revoke_user_sessions("ada", Some("s2"), 103)?, 1);
        assert_eq!(s.revoke_user_sessions("ada", None, 104)?, 1);

        s.create_session(&session("s4", "ada", 500), &refresh("j4", 500))?;
        assert!(s.rotate_refresh("s4", "j4", &refresh("j5", 900), 7_000, b"answer")?);
        assert!(!s.rotate_refresh("s4", "j4", &refresh("j6", 900), 8_000, b"again")?);
        let record = s.find_refresh("s4")?.unwrap();
        assert_eq!(record.refresh_jti, "j5");
        assert_eq!(record.refresh_hash, vec![7; 32]);
        assert_eq!(record.spent_at_ms, Some(7_000));
        assert_eq!(s.find_session("s4")?.unwrap().last_used_at, 7);
        assert_eq!(s.clear_grace_answers(5_000)?, 0);
        assert_eq!(s.clear_grace_answers(9_000)?, 1);
        assert!(s.find_refresh("s4")?.unwrap().grace_answer.is_none());
        assert!(s.rotate_refresh("s4", "j5", &refresh("j6", 900), 9_000, b"again")?);
        assert_eq!(s.forget_grace_answers()?, 1);

        let row = s.record_failure("ip:1.2.3.4", 100)?;
        s.record_failure("ip:1.2.3.4", 101)?;
        assert_eq!(s.locked_until("ip:1.2.3.4", 2, 60, 102)?, Some(160));
        s.release_failures(&[row])?;
        assert_eq!(s.locked_until("ip:1.2.3.4", 2, 60, 102)?, None);
        assert_eq!(s.clear_failures("ip:1.2.3.4")?, 1);

        assert_eq!(s.key_generation()?, (0, 0, 0));
        s.make_key_current("k1", "EdDSA", &[1; 64], 10)?;
        s.make_key_current("k2", "ES256", &[2; 32], 10)?;
        assert_eq!(s.current_kid()?.as_deref(), Some("k2"));
        let keys = s.list_keys()?;
        assert_eq!(keys[0].kid, "k1");
        assert_eq!(keys[0].retired_at, Some(10));
        assert!(s.distrust_key("k1", 20)?);
        assert!(!s.distrust_key("nope", 20)?);
        s.set_key_pair("k2", &[3; 32])?;
        assert_eq!(s.list_keys()?[1].key_pair, vec![3; 32]);
        let (count, _, distrusted) = s.key_generation()?;
        assert_eq!((count, distrusted), (2, 1));
        assert_eq!(s.meta("m")?, None);
        s.set_meta("m", b"1")?;
        s.set_meta("m", b"2")?;
        assert_eq!(s.meta("m")?.as_deref(), Some(&b"2"[..]));

        s.replace_link("ada", &[1; 32], 500, 10)?;
        s.replace_link("ada", &[2; 32], 600, 11)?;
        assert!(s.find_link(&[1; 32])?.is_none());
        assert_eq!(s.find_link(&[2; 32])?.unwrap().expires_at, 600);
        assert!(s.spend_link(&[2; 32])?);
        assert!(!s.spend_link(&[2; 32])?);
        s.replace_link("bob", &[3; 32], 500, 10)?;
        s.remove_user_links("bob")?;
        assert!(s.find_link(&[3; 32])?.is_none());
        Ok::<_, StoreError>(())
    })
    .unwrap();
}

#[test]
fn an_error_rolls_the_transaction_back_and_a_duplicate_is_failed_not_unavailable() {
    let Some((_database, db)) = open("rollback") else {
        return;
    };
    let err = db
        .transaction(|s| {
            s.insert_user(&user("ada"), 1)?;
            s.insert_user(&user("ada"), 1)
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    assert!(db.read(|s| s.find_user_by_id("ada")).unwrap().is_none());
    // The connection went back clean: the next transaction is its own.
    db.transaction(|s| s.insert_user(&user("ada"), 1)).unwrap();
    assert!(db.read(|s| s.find_user_by_id("ada")).unwrap().is_some());
    assert!(db.can_write().is_ok());
}

#[test]
fn a_connection_the_server_closed_is_replaced_not_used() {
    let Some((database, db)) = open("killed connections") else {
        return;
    };
    db.read(|s| s.list_users()).unwrap();
    // What a restart does to every connection: the server ends them.
    database.admin(&terminate(database.name()));
    for _ in 0..5 {
        db.read(|s| s.list_users()).unwrap();
        db.transaction(|s| s.upsert_org("o", "O")).unwrap();
    }
}

fn terminate(name: &str) -> String {
    format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
}

#[test]
fn while_the_database_is_gone_calls_are_unavailable_and_then_serve_again() {
    let Some((database, db)) = open("outage") else {
        return;
    };
    db.transaction(|s| s.insert_user(&user("ada"), 1)).unwrap();
    assert!(db.can_write().is_ok());
    // No connection stays and none is let in: as a stopped server.
    let name = database.name().to_string();
    database.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
    database.admin(&terminate(&name));
    thread::sleep(Duration::from_millis(1_100));

    let timed = |call: &dyn Fn() -> Result<(), StoreError>| {
        let began = Instant::now();
        let answer = call();
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{:?}",
            began.elapsed()
        );
        assert!(
            matches!(answer, Err(StoreError::Unavailable(_))),
            "{answer:?}"
        );
        answer
    };
    let _ = timed(&|| db.read(|s| s.find_user_by_id("ada")).map(drop));
    let _ = timed(&|| db.transaction(|s| s.set_user_status("ada", Status::Banned, 2)));
    let probe = timed(&|| db.can_write());
    let message = probe.unwrap_err().to_string();
    assert!(!message.contains("authlite:authlite"), "{message}");

    database.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    thread::sleep(Duration::from_millis(1_100));
    assert!(db.can_write().is_ok());
    db.transaction(|s| s.set_user_status("ada", Status::Banned, 2))
        .unwrap();
    let ada = db.read(|s| s.find_user_by_id("ada")).unwrap().unwrap();
    assert_eq!(ada.status, Status::Banned);
}
