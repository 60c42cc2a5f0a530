//! Sign-up (SPEC §12): `POST /user/register` answers the same whether or not
//! the address has an account; the emailed link confirms it, and the
//! confirmation signs the new user in.

use std::time::Duration;

use authlite::settings::Settings;
use serde_json::{json, Value};

use crate::email::{events, mail_settings, outbox};
use crate::helpers::*;
use crate::support::mailbox::{read_dir, wait_for_mail};

const WAIT: Duration = Duration::from_secs(10);
const GRACE: &str = "grace@acme.test";
const GRACE_PASSWORD: &str = "cobol compiler nanosecond wire";

fn register(app: &TestApp, email: &str, password: &str) -> Resp {
    let body = json!({"email": email, "password": password, "name": "Grace Hopper"});
    app.post_json("/user/register", &body)
}

fn confirm(app: &TestApp, token: &str) -> Resp {
    app.post_json("/user/register/confirm", &json!({ "token": token }))
}

#[test]
fn a_new_address_is_confirmed_by_its_link_and_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let resp = register(&app, " Grace@Acme.test", GRACE_PASSWORD);
    assert_eq!((resp.status, resp.json()), (202, json!({"success": true})));
    let mail = wait_for_mail(dir.path(), 1, WAIT).remove(0);
    assert_eq!(mail.to, GRACE);
    assert_eq!(mail.subject, "Confirm your new account on Acme Login");
    assert!(mail.text.contains("within 1 day"), "{}", mail.text);
    assert!(!mail.raw.contains(GRACE_PASSWORD));
    let token = mail.token("#confirm=");
    assert!(mail
        .html
        .contains(&format!("https://login.acme.test/#confirm={token}")));
    // Nothing is made before the confirmation.
    app.login(GRACE, GRACE_PASSWORD)
        .assert_error(401, "USER_NOT_FOUND");
    let signed_in = confirm(&app, &token);
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(signed_in.header("cache-control"), Some("no-store"));
    let body = signed_in.json();
    assert_eq!(
        body["user"],
        json!({"id": body["user"]["id"], "email": GRACE, "name": "Grace Hopper", "orgId": null, "roles": []})
    );
    let me = app.me(body["accessToken"].as_str().unwrap());
    assert_eq!(me.status, 200, "{}", me.text);
    // No org: the login answer's user carries orgId null.
    assert_eq!(app.login(GRACE, GRACE_PASSWORD).status, 200);
    confirm(&app, &token).assert_error(401, "INVALID_TOKEN");
    let admin = app.admin_token();
    let logins = events(&app, &admin, "login.succeeded");
    let by_registration = logins
        .iter()
        .find(|e| e["detail"]["method"] == "registration")
        .unwrap_or_else(|| panic!("{logins:?}"));
    assert_eq!(by_registration["detail"]["amr"], json!(["pwd"]));
    assert_eq!(by_registration["userId"], body["user"]["id"]);
    let completed = events(&app, &admin, "registration.completed");
    assert_eq!(completed[0]["detail"]["email"], json!(GRACE));
    let requested = events(&app, &admin, "registration.requested");
    assert_eq!(requested[0]["detail"]["email"], json!(GRACE));
}

#[test]
fn an_address_with_an_account_gets_the_same_answer_and_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let new = register(&app, GRACE, GRACE_PASSWORD);
    let taken = register(&app, ADA, GRACE_PASSWORD);
    assert_eq!((new.status, &new.text), (taken.status, &taken.text));
    let sent = wait_for_mail(dir.path(), 2, WAIT);
    let note = sent.iter().find(|m| m.to == ADA).expect("a note to Ada");
    assert_eq!(note.subject, "You already have an account on Acme Login");
    assert!(
        note.text.contains("https://login.acme.test/"),
        "{}",
        note.text
    );
    assert!(!note.text.contains("#confirm="), "{}", note.text);
    // Ada's password is as it was.
    app.login_ok(ADA, ADA_PASSWORD);
    // One message per address per 60 s, answered alike.
    for email in [GRACE, ADA] {
        assert_eq!(register(&app, email, GRACE_PASSWORD).status, 202);
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(read_dir(dir.path()).len(), 2);
}

#[test]
fn sign_up_refuses_closed_registration_other_domains_weak_passwords_and_bad_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let closed = spawn_app_with(Settings {
        registration_open: false,
        ..mail_settings(dir.path())
    });
    register(&closed, GRACE, GRACE_PASSWORD).assert_error(403, "REGISTRATION_CLOSED");
    let off = spawn_app_with(Settings {
        registration_open: true,
        ..test_settings()
    });
    register(&off, GRACE, GRACE_PASSWORD).assert_error(501, "EMAIL_DISABLED");
    let app = spawn_app_with(Settings {
        registration_domains: vec!["acme.test".into()],
        ..mail_settings(dir.path())
    });
    register(&app, "eve@evil.test", GRACE_PASSWORD).assert_error(403, "REGISTRATION_CLOSED");
    register(&app, GRACE, "short").assert_error(400, "WEAK_PASSWORD");
    register(&app, GRACE, "password").assert_error(400, "WEAK_PASSWORD");
    register(&app, "not an email", GRACE_PASSWORD).assert_error(400, "INVALID_REQUEST");
    let nameless = json!({"email": GRACE, "password": GRACE_PASSWORD, "name": ""});
    app.post_json("/user/register", &nameless)
        .assert_error(400, "INVALID_REQUEST");
    let no_password = json!({"email": GRACE, "name": "G"});
    app.post_json("/user/register", &no_password)
        .assert_error(400, "INVALID_REQUEST");
    assert!(outbox(&app).is_empty());
    assert!(read_dir(dir.path()).is_empty());
}

#[test]
fn a_confirmation_is_refused_when_unknown_or_when_the_address_got_an_account_since() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    confirm(&app, "no-such-token").assert_error(401, "INVALID_TOKEN");
    app.post_json("/user/register/confirm", &json!({}))
        .assert_error(400, "INVALID_REQUEST");
    assert_eq!(register(&app, GRACE, GRACE_PASSWORD).status, 202);
    let token = wait_for_mail(dir.path(), 1, WAIT)[0].token("#confirm=");
    let admin = app.admin_token();
    let body = json!({"email": GRACE, "name": "Another Grace"});
    assert_eq!(
        app.admin("POST", "/admin/users", &admin, Some(body)).status,
        201
    );
    confirm(&app, &token).assert_error(409, "EMAIL_TAKEN");
    let listed = app.admin("GET", &format!("/admin/users?query={GRACE}"), &admin, None);
    let users: Vec<Value> = listed.json()["users"].as_array().cloned().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["name"], json!("Another Grace"));
}

#[test]
fn two_confirmations_of_one_link_at_once_make_one_account() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    assert_eq!(register(&app, GRACE, GRACE_PASSWORD).status, 202);
    let token = wait_for_mail(dir.path(), 1, WAIT)[0].token("#confirm=");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let racing: Vec<_> = (0..4)
            .map(|_| s.spawn(|| confirm(&app, &token).status))
            .collect();
        racing.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![200, 401, 401, 401], "{statuses:?}");
}

#[test]
fn pending_sign_ups_keep_only_the_hash_and_the_tokens_digest() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    assert_eq!(register(&app, GRACE, GRACE_PASSWORD).status, 202);
    let token = wait_for_mail(dir.path(), 1, WAIT)[0].token("#confirm=");
    if app.sqlite_only("reads the pending sign-up in the SQLite file") {
        return;
    }
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let (hash, digest): (String, Vec<u8>) = conn
        .query_row(
            "SELECT password_hash, token_hash FROM registrations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(hash.starts_with("$pbkdf2-sha256$"), "{hash}");
    assert!(!hash.contains(GRACE_PASSWORD));
    assert_eq!(digest, authlite::password::link::digest(&token));
    let file = std::fs::read(&app.db_path).unwrap();
    let text = String::from_utf8_lossy(&file);
    assert!(!text.contains(GRACE_PASSWORD));
}
