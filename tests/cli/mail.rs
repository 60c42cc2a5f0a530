//! Email from the outside (SPEC §12): the real binary, a real SMTP server on
//! loopback (aiosmtpd), a restart between the request and the delivery, a
//! refusal that is given up and logged, and the mail flags' usage errors.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;
use crate::server::*;
use crate::state::{s, temp};
use crate::support::mailbox::{smtp_available, unused_port, Sink, Tls};

fn serve_mailing(db: &std::path::Path, url: &str) -> Server {
    serve_demo(
        db,
        &["--smtp-url", url, "--mail-from", "Acme <login@acme.test>"],
    )
}

fn forgot(server: &Server, email: &str) -> u16 {
    let (status, _, body) = post(
        &http_agent(),
        &server.url("/user/password/forgot"),
        json!({ "email": email }),
    );
    assert_eq!(body, json!({"success": true}));
    status
}

#[test]
fn a_message_queued_before_a_restart_is_delivered_once_after_it() {
    if !smtp_available() {
        return;
    }
    let (_dir, db) = temp();
    let port = unused_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let mut first = serve_mailing(&db, &url);
    assert_eq!(forgot(&first, ADA), 200);
    // The first attempt finds nobody listening.
    std::thread::sleep(Duration::from_millis(1500));
    let err = assert_clean_stop(&mut first);
    assert!(err.contains("not sent (attempt 1)"), "{err}");
    assert!(!err.contains("set-password"), "a link in the log: {err}");
    let sink = Sink::start(Tls::Plain, None, port);
    let mut second = serve_mailing(&db, &url);
    let mail = sink.wait_for(1, Duration::from_secs(40)).remove(0);
    assert_eq!(mail.to, ADA);
    assert!(mail.text.contains("#set-password="), "{}", mail.text);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(sink.received().len(), 1, "delivered once");
    let err = assert_clean_stop(&mut second);
    assert!(err.contains("(forgot) sent to ada@acme.test"), "{err}");
}

#[test]
fn a_refused_message_is_given_up_with_a_log_line() {
    if !smtp_available() {
        return;
    }
    let (_dir, db) = temp();
    let sink = Sink::start(Tls::Plain, None, 0);
    sink.answer("5xx");
    let mut server = serve_mailing(&db, &format!("smtp://127.0.0.1:{}", sink.port));
    assert_eq!(forgot(&server, ADA), 200);
    std::thread::sleep(Duration::from_millis(1500));
    let err = assert_clean_stop(&mut server);
    let line = err
        .lines()
        .find(|l| l.contains("given up after 1 attempts"))
        .unwrap_or_else(|| panic!("no give-up line: {err}"));
    assert!(line.contains("ERROR") && line.contains("550"), "{line}");
    assert!(!err.contains("set-password"), "a link in the log: {err}");
    assert!(sink.received().is_empty());
}

#[test]
fn mail_flags_are_checked_before_serving() {
    let (dir, db) = temp();
    let out = authlite(&db, &["serve", "--smtp-url", "smtp://127.0.0.1:25"]);
    assert_usage_error(&out, "--smtp-url without --mail-from");
    assert!(stderr(&out).contains("--mail-from"), "{}", stderr(&out));
    let out = authlite(
        &db,
        &[
            "serve",
            "--smtp-url",
            "http://u:secret@mail.test",
            "--mail-from",
            "a@b.c",
        ],
    );
    assert_usage_error(&out, "an http:// SMTP URL");
    assert!(stderr(&out).contains("smtp://"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("secret"),
        "the password: {}",
        stderr(&out)
    );
    let out = authlite(
        &db,
        &[
            "serve",
            "--smtp-url",
            "smtp://h?tls=maybe",
            "--mail-from",
            "a@b.c",
        ],
    );
    assert_usage_error(&out, "tls=maybe");
    let missing = dir.path().join("nowhere");
    let out = authlite(&db, &["serve", "--mail-dir", s(&missing)]);
    assert_fails_naming(&out, &["--mail-dir"]);
    let out = authlite(
        &db,
        &[
            "serve",
            "--mail-dir",
            s(dir.path()),
            "--mail-from",
            "not an address",
        ],
    );
    assert_fails_naming(&out, &["--mail-from"]);
    let out = authlite(&db, &["user", "invite", "x@acme.test", "--name", "X"]);
    assert_fails_naming(&out, &["--mail-dir"]);
}
