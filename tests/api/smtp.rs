//! Email through a real SMTP server on loopback (aiosmtpd, `tests/smtp/sink.py`):
//! STARTTLS with AUTH and a private CA, TLS from the start, a server that is
//! down when the request comes and up later, one that answers 4xx for a while
//! (retried), and one that answers 5xx (given up, visible to admins).
//! Skipped with a banner without aiosmtpd, unless AUTHLITE_REQUIRE_SMTP is set.

use std::time::Duration;

use authlite::mail::{EmailSettings, Transport};
use authlite::settings::Settings;
use serde_json::json;

use crate::email::{events, forgot, mail_settings, outbox, wait_until};
use crate::helpers::*;
use crate::support::mailbox::{smtp_available, unused_port, Sink, Tls};

/// The first retry comes 10 s after a failure, found by a poll within 5 s.
const RETRIED_WITHIN: Duration = Duration::from_secs(40);

fn smtp_settings(url: String, ca_file: Option<std::path::PathBuf>) -> Settings {
    let unused = std::env::temp_dir();
    Settings {
        email: Some(EmailSettings {
            transport: Transport::Smtp { url, ca_file },
            from: "Acme Login <login@acme.test>".into(),
        }),
        ..mail_settings(&unused)
    }
}

fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app.get("/metrics").text;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn a_message_goes_through_starttls_with_auth_to_a_server_of_a_private_ca() {
    if !smtp_available() {
        return;
    }
    let sink = Sink::start(Tls::Starttls, Some("authlite:s3cret pass"), 0);
    let url = format!(
        "smtp://authlite:s3cret%20pass@localhost:{}?tls=required",
        sink.port
    );
    let app = spawn_app_with(smtp_settings(url, Some(sink.ca.clone())));
    assert_eq!(forgot(&app, ADA).status, 200);
    let mail = sink.wait_for(1, Duration::from_secs(15)).remove(0);
    let meta = mail.meta.clone().expect("the sink's notes");
    assert_eq!(meta["tls"], json!(true));
    assert_eq!(meta["auth"], json!("authlite"));
    assert_eq!(meta["rcpt_tos"], json!([ADA]));
    assert_eq!(meta["mail_from"], json!("login@acme.test"));
    assert_eq!(mail.subject, "Reset your Acme Login password");
    assert!(!mail.raw.contains("s3cret"));
    app.reset_password(&mail.token("#set-password="), "a brand new pass phrase")
        .assert_success();
    app.login_ok(ADA, "a brand new pass phrase");
    wait_until(|| metric(&app, "authlite_mail_sent_total") == 1);
}

#[test]
fn a_message_goes_through_tls_from_the_start() {
    if !smtp_available() {
        return;
    }
    let sink = Sink::start(Tls::Implicit, Some("authlite:pw"), 0);
    let url = format!("smtps://authlite:pw@localhost:{}", sink.port);
    let app = spawn_app_with(smtp_settings(url, Some(sink.ca.clone())));
    assert_eq!(forgot(&app, BOB).status, 200);
    let mail = sink.wait_for(1, Duration::from_secs(15)).remove(0);
    assert_eq!(mail.meta.unwrap()["tls"], json!(true));
    assert_eq!(mail.to, BOB);
}

#[test]
fn a_server_that_is_down_at_the_request_gets_the_message_once_it_is_up() {
    if !smtp_available() {
        return;
    }
    let port = unused_port();
    let app = spawn_app_with(smtp_settings(format!("smtp://127.0.0.1:{port}"), None));
    let started = std::time::Instant::now();
    assert_eq!(forgot(&app, ADA).status, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    wait_until(|| metric(&app, "authlite_mail_retries_total") >= 1);
    let sink = Sink::start(Tls::Plain, None, port);
    let mail = sink.wait_for(1, RETRIED_WITHIN).remove(0);
    assert_eq!(mail.to, ADA);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(sink.received().len(), 1, "delivered once");
}

#[test]
fn a_4xx_answer_is_retried_until_the_server_takes_it() {
    if !smtp_available() {
        return;
    }
    let sink = Sink::start(Tls::Plain, None, 0);
    sink.answer("4xx");
    let app = spawn_app_with(smtp_settings(
        format!("smtp://127.0.0.1:{}", sink.port),
        None,
    ));
    assert_eq!(forgot(&app, ADA).status, 200);
    wait_until(|| metric(&app, "authlite_mail_retries_total") >= 1);
    assert!(sink.received().is_empty());
    assert_eq!(outbox(&app)[0].1, "queued");
    sink.answer("ok");
    let mail = sink.wait_for(1, RETRIED_WITHIN).remove(0);
    assert_eq!(mail.to, ADA);
    wait_until(|| outbox(&app)[0].1 == "sent");
}

#[test]
fn a_5xx_answer_is_given_up_at_once_and_shown_to_admins() {
    if !smtp_available() {
        return;
    }
    let sink = Sink::start(Tls::Plain, None, 0);
    sink.answer("5xx");
    let app = spawn_app_with(smtp_settings(
        format!("smtp://127.0.0.1:{}", sink.port),
        None,
    ));
    let admin = app.admin_token();
    assert_eq!(forgot(&app, ADA).status, 200);
    wait_until(|| outbox(&app)[0].1 == "failed");
    assert_eq!(outbox(&app)[0].2, None, "the link is dropped");
    let failed = events(&app, &admin, "mail.failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let detail = &failed[0]["detail"];
    assert_eq!(detail["kind"], json!("forgot"));
    assert_eq!(detail["attempts"], json!(1));
    assert!(
        detail["reason"].as_str().unwrap().contains("550"),
        "{detail}"
    );
    assert!(!detail.to_string().contains("set-password"));
    assert_eq!(metric(&app, "authlite_mail_failed_total"), 1);
    assert_eq!(metric(&app, "authlite_mail_retries_total"), 0);
    assert!(sink.received().is_empty());
}

/// Moves every queued message's first try 24 h and a second back, and makes it due.
fn age_the_outbox(app: &TestApp) {
    let sql = "UPDATE mail_outbox SET created_at = created_at - 86401, next_at = 0 WHERE state = 'queued'";
    if app.db.starts_with("postgres") {
        let mut client = postgres::Client::connect(&app.db, postgres::NoTls).expect("connect");
        assert_eq!(client.execute(sql, &[]).expect("age the outbox"), 1);
        return;
    }
    let conn = rusqlite::Connection::open(&app.db).expect("open");
    assert_eq!(conn.execute(sql, []).expect("age the outbox"), 1);
}

#[test]
fn a_message_still_undelivered_after_24_hours_is_given_up_and_shown_to_admins() {
    if !smtp_available() {
        return;
    }
    let port = unused_port();
    let app = spawn_app_with(smtp_settings(format!("smtp://127.0.0.1:{port}"), None));
    let admin = app.admin_token();
    assert_eq!(forgot(&app, ADA).status, 200);
    wait_until(|| metric(&app, "authlite_mail_retries_total") >= 1);
    assert_eq!(outbox(&app)[0].1, "queued");
    age_the_outbox(&app);
    wait_until(|| outbox(&app)[0].1 == "failed");
    assert_eq!(outbox(&app)[0].2, None, "the link is dropped");
    let failed = events(&app, &admin, "mail.failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["detail"]["attempts"], json!(2));
    assert_eq!(metric(&app, "authlite_mail_failed_total"), 1);
    assert_eq!(metric(&app, "authlite_mail_retries_total"), 1);
}
