//! What only PostgreSQL has, against a real server (see `testing.rs`): the
//! schema made once by racing instances, TLS, bad targets, connections the
//! server ends. Each test makes its own database. What every engine does is
//! in `store/contract.rs`.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::testing;
use super::{Db, SCHEMA_VERSION};
use crate::store::{Status, StoreError, User};

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
        roles: vec![],
    }
}

fn schema_rows(db: &Db) -> (i64, i64) {
    let mut conn = db.client();
    let row = conn
        .raw()
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
fn tls_is_used_as_sslmode_says() {
    let Some(database) = testing::database("sslmode") else {
        return;
    };
    let ssl_in_use = |mode: &str| {
        let db = Db::open(&format!("{}?sslmode={mode}", database.url)).unwrap();
        let mut conn = db.client();
        let row = conn
            .raw()
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

#[test]
fn opening_and_dropping_inside_an_async_runtime_works() {
    let Some(database) = testing::database("inside a runtime") else {
        return;
    };
    // As the HTTP tests and `serve` do: open inside an actix system, use the
    // store from a blocking thread, drop it inside the system again.
    let url = database.url.clone();
    actix_web::rt::System::new().block_on(async move {
        let db = Arc::new(Db::open(&url).unwrap());
        let used = db.clone();
        actix_web::rt::task::spawn_blocking(move || used.read(|s| s.list_users()).unwrap())
            .await
            .unwrap();
        drop(db);
    });
}
