//! Opening a PostgreSQL database: an unreachable one or a wrong password fails
//! within 5 s with one sentence (never showing the password), TLS with
//! `sslmode=require`, `postgresql://` URLs and `AUTHLITE_DB`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::helpers::{assert_fails_naming, run, stderr, stdout};

const SECRET: &str = "not-the-password-x7";

/// Refused within 5 s, exit 1, one sentence, the password nowhere.
#[track_caller]
fn assert_refused_quickly(db: &str, args: &[&str]) {
    let started = Instant::now();
    let out = cli(db, args);
    let took = started.elapsed();
    assert!(
        took <= Duration::from_secs(5),
        "{args:?} on {db} took {took:?}"
    );
    assert_fails_naming(&out, &[]);
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains(SECRET), "the password is shown: {text}");
    }
}

#[test]
fn an_unreachable_database_fails_within_5_seconds_with_one_sentence() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // Nothing listens there; and an address where packets go unanswered.
    for url in [
        format!("postgres://authlite:{SECRET}@127.0.0.1:{port}/authlite"),
        format!("postgresql://authlite:{SECRET}@192.0.2.1:5432/authlite"),
    ] {
        for args in [
            &["keys", "list"][..],
            &["user", "list"],
            &["serve", "--bind", "127.0.0.1:0"],
        ] {
            assert_refused_quickly(&url, args);
        }
    }
}

#[test]
fn a_wrong_password_fails_with_one_sentence_that_does_not_show_it() {
    let Some(admin) = admin_url() else { return };
    let (scheme, rest) = admin.split_once("://").expect("a URL");
    let (_, host) = rest.rsplit_once('@').unwrap_or(("", rest));
    let wrong = format!("{scheme}://authlite:{SECRET}@{host}");
    assert_refused_quickly(&wrong, &["user", "list"]);
    assert_refused_quickly(&wrong, &["serve", "--bind", "127.0.0.1:0"]);
}

#[test]
fn a_postgresql_url_and_authlite_db_name_the_database_as_db_does() {
    let Some(db) = Database::create() else { return };
    let url = db.url.replacen("postgres://", "postgresql://", 1);
    let kids = listed_kids(&url);
    assert_eq!(kids.len(), 1, "{kids:?}");

    let mut cmd = crate::helpers::bare_command();
    cmd.env("AUTHLITE_DB", &db.url).args(["keys", "list"]);
    let out = run(cmd, None);
    crate::helpers::assert_exit(&out, 0);
    assert!(stdout(&out).contains(&kids[0]), "{}", stdout(&out));
}

#[test]
fn sslmode_require_talks_tls_to_the_database() {
    let Some(db) = Database::create() else { return };
    if db.query("SHOW ssl").trim() != "on" {
        skip(&format!(
            "the server of {ADMIN_VAR} has ssl off: no TLS test"
        ));
        return;
    }
    let url = with_param(&db.url, "sslmode=require");
    cli_ok(&url, &["seed", crate::helpers::DEMO_SEED]);
    let instance = serve(&url, &[]);
    instance.login_ok(ADA, ADA_PASSWORD);

    let encrypted = db.query(&format!(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE datname = '{}' AND ssl AND pid <> pg_backend_pid()",
        db.name
    ));
    let plain = db.query(&format!(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE datname = '{}' AND NOT ssl AND pid <> pg_backend_pid()",
        db.name
    ));
    assert!(
        encrypted.trim().parse::<u32>().unwrap_or(0) > 0,
        "no TLS connection from the instance ({encrypted:?} encrypted, {plain:?} plain)"
    );
}
