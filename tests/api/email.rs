//! Email (SPEC §12) through `--mail-dir`: forgot-password, invitations, the
//! admin's emailed link, /features, and what the outbox keeps at rest. Each
//! flow follows the emailed link to its end: set the password, then sign in.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use authlite::mail::{EmailSettings, Transport};
use authlite::settings::Settings;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::support::mailbox::{read_dir, wait_for_mail, Mail};

pub const FROM: &str = "Acme Login <login@acme.test>";
const WAIT: Duration = Duration::from_secs(10);
const NEW_PASSWORD: &str = "a brand new pass phrase";

/// Email into `dir`, sign-up open, links under a public URL of its own.
pub fn mail_settings(dir: &Path) -> Settings {
    Settings {
        email: Some(EmailSettings {
            transport: Transport::Dir(dir.to_path_buf()),
            from: FROM.into(),
        }),
        registration_open: true,
        public_url: Some("https://login.acme.test".into()),
        issuer: "Acme Login".into(),
        ..test_settings()
    }
}

pub fn forgot(app: &TestApp, email: &str) -> Resp {
    app.post_json("/user/password/forgot", &json!({ "email": email }))
}

/// Rows of the outbox as stored: (id, state, message bytes if any).
pub fn outbox(app: &TestApp) -> Vec<(String, String, Option<Vec<u8>>)> {
    let sql = "SELECT id, state, message FROM mail_outbox ORDER BY id";
    if app.db.starts_with("postgres") {
        let mut client = postgres::Client::connect(&app.db, postgres::NoTls).expect("connect");
        let rows = client.query(sql, &[]).expect("read the outbox");
        return rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    }
    let conn = rusqlite::Connection::open(&app.db).expect("open");
    let mut stmt = conn.prepare(sql).expect("read the outbox");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("read the outbox");
    rows.map(|r| r.expect("a row")).collect()
}

/// The audit events of `kind`, newest first, as an admin reads them.
pub fn events(app: &TestApp, admin: &str, kind: &str) -> Vec<Value> {
    let resp = app.admin("GET", &format!("/admin/audit?type={kind}"), admin, None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[track_caller]
fn assert_well_formed(mail: &Mail, to: &str, marker: &str) {
    assert_eq!(mail.to, to);
    assert_eq!(mail.from, "\"Acme Login\" <login@acme.test>");
    let token = mail.token(marker);
    let link = format!("https://login.acme.test/{marker}{token}");
    assert!(mail.text.contains(&link), "{}", mail.text);
    assert!(
        mail.html.contains(&format!("href=\"{link}\"")),
        "{}",
        mail.html
    );
    assert!(mail.text.contains("Acme Login"), "{}", mail.text);
    let mode = std::fs::metadata(&mail.file)
        .expect("the file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{}", mail.file.display());
    for secret in [ADA_PASSWORD, BOB_PASSWORD, NEW_PASSWORD] {
        assert!(!mail.raw.contains(secret), "a password in {}", mail.raw);
    }
}

#[test]
fn features_say_what_is_on() {
    let app = spawn_app();
    let off = app.get("/features");
    assert_eq!(off.status, 200);
    assert_eq!(
        off.json(),
        json!({"success": true, "email": false, "registration": "closed", "passkeys": true, "oidc": false})
    );
    let dir = tempfile::tempdir().unwrap();
    let on = spawn_app_with(Settings {
        issuer: "https://login.acme.test".into(),
        ..mail_settings(dir.path())
    });
    assert_eq!(
        on.get("/features").json(),
        json!({"success": true, "email": true, "registration": "open", "passkeys": true, "oidc": true})
    );
}

#[test]
fn a_forgotten_password_is_reset_through_the_emailed_link() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let resp = forgot(&app, " Ada@Acme.test ");
    assert_eq!((resp.status, resp.json()), (200, json!({"success": true})));
    let mail = wait_for_mail(dir.path(), 1, WAIT).remove(0);
    assert_eq!(mail.subject, "Reset your Acme Login password");
    assert!(mail.text.contains("within 1 hour"), "{}", mail.text);
    assert_well_formed(&mail, ADA, "#set-password=");
    app.reset_password(&mail.token("#set-password="), NEW_PASSWORD)
        .assert_success();
    app.login(ADA, ADA_PASSWORD)
        .assert_error(401, "INVALID_PASSWORD");
    app.login_ok(ADA, NEW_PASSWORD);
    // The link is spent.
    app.reset_password(&mail.token("#set-password="), "yet another pass phrase")
        .assert_error(401, "INVALID_TOKEN");
}

#[test]
fn unknown_inactive_and_repeated_addresses_get_the_same_answer_and_no_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let first = forgot(&app, ADA);
    for email in [UNKNOWN, SLEEPY, BANNED, DELETED, ADA, ADA] {
        let resp = forgot(&app, email);
        assert_eq!(
            (resp.status, resp.text.as_str()),
            (first.status, first.text.as_str()),
            "{email}"
        );
    }
    wait_for_mail(dir.path(), 1, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    let sent = read_dir(dir.path());
    // One message: Ada's first. Her next two came within 60 s.
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, ADA);
}

#[test]
fn forgot_refuses_what_is_not_an_email_and_says_when_email_is_off() {
    let app = spawn_app();
    forgot(&app, ADA).assert_error(501, "EMAIL_DISABLED");
    let dir = tempfile::tempdir().unwrap();
    let on = spawn_app_with(mail_settings(dir.path()));
    forgot(&on, "not an email").assert_error(400, "INVALID_REQUEST");
    on.post_json("/user/password/forgot", &json!({}))
        .assert_error(400, "INVALID_REQUEST");
    on.post_json("/user/password/forgot", &json!({"email": 7}))
        .assert_error(400, "INVALID_REQUEST");
    assert!(outbox(&on).is_empty());
}

/// The fastest of several runs: what the work itself costs.
fn fastest(samples: &[Duration]) -> Duration {
    samples.iter().min().copied().unwrap_or_default()
}

#[test]
fn forgot_takes_the_same_time_for_an_account_and_for_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let admin = app.admin_token();
    let rounds = 9;
    // A fresh account each round: a repeat within 60 s sends nothing.
    let known: Vec<String> = (0..rounds).map(|i| format!("user{i}@acme.test")).collect();
    for email in &known {
        let body = json!({"email": email, "name": "U", "password": "a pass phrase of theirs"});
        assert_eq!(
            app.admin("POST", "/admin/users", &admin, Some(body)).status,
            201
        );
    }
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for (i, email) in known.iter().enumerate() {
        let started = Instant::now();
        assert_eq!(forgot(&app, email).status, 200);
        with.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(forgot(&app, &format!("nobody{i}@acme.test")).status, 200);
        without.push(started.elapsed());
    }
    let (a, b) = (fastest(&with), fastest(&without));
    assert!(
        a.abs_diff(b) < Duration::from_millis(5),
        "an account: {a:?}, nobody: {b:?}"
    );
    wait_for_mail(dir.path(), rounds, WAIT);
}

#[test]
fn an_invited_user_sets_a_password_from_the_email_and_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let admin = app.admin_token();
    let body = json!({"email": "new@acme.test", "name": "New", "orgId": "acme", "invite": true});
    let created = app.admin("POST", "/admin/users", &admin, Some(body));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json()["user"]["hasPassword"], json!(false));
    let mail = wait_for_mail(dir.path(), 1, WAIT).remove(0);
    assert_eq!(mail.subject, "You are invited to Acme Login");
    assert!(mail.text.contains("within 7 days"), "{}", mail.text);
    assert_well_formed(&mail, "new@acme.test", "#set-password=");
    app.reset_password(&mail.token("#set-password="), NEW_PASSWORD)
        .assert_success();
    app.login_ok("new@acme.test", NEW_PASSWORD);
    let links = events(&app, &admin, "link.created");
    assert_eq!(links[0]["detail"]["sent"], json!(true), "{links:?}");
    assert!(links[0]["detail"]["expiresAt"].is_u64());
}

#[test]
fn an_admins_link_is_emailed_instead_of_answered_with_send() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let admin = app.admin_token();
    let bob = app.user_id(&admin, BOB);
    let path = format!("/admin/users/{bob}/link");
    let resp = app.admin(
        "POST",
        &path,
        &admin,
        Some(json!({"send": true, "ttl": 600})),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["url"], Value::Null, "{body}");
    assert!(body.get("url").is_none(), "{body}");
    assert!(body["expiresAt"].is_u64());
    let mail = wait_for_mail(dir.path(), 1, WAIT).remove(0);
    assert_eq!(mail.subject, "Set your Acme Login password");
    assert!(mail.text.contains("within 10 minutes"), "{}", mail.text);
    assert_well_formed(&mail, BOB, "#set-password=");
    app.reset_password(&mail.token("#set-password="), NEW_PASSWORD)
        .assert_success();
    app.login_ok(BOB, NEW_PASSWORD);
    // Without send, the answer carries the link as before.
    let plain = app.admin("POST", &path, &admin, None).json();
    assert!(plain["url"]
        .as_str()
        .unwrap()
        .starts_with("https://login.acme.test/#set-password="));
}

#[test]
fn invitations_and_sent_links_are_refused_with_501_when_email_is_off() {
    let app = spawn_app();
    let admin = app.admin_token();
    let body = json!({"email": "new@acme.test", "name": "New", "invite": true});
    app.admin("POST", "/admin/users", &admin, Some(body))
        .assert_error(501, "EMAIL_DISABLED");
    let bob = app.user_id(&admin, BOB);
    app.admin(
        "POST",
        &format!("/admin/users/{bob}/link"),
        &admin,
        Some(json!({"send": true})),
    )
    .assert_error(501, "EMAIL_DISABLED");
    // Nothing was made.
    let found = app.admin("GET", "/admin/users?query=new@acme.test", &admin, None);
    assert_eq!(found.json()["users"], json!([]));
}

#[test]
fn user_invite_creates_the_user_and_writes_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(mail_settings(dir.path()));
    let mail_dir = dir.path().to_str().unwrap();
    let out = app.cli(&[
        "user",
        "invite",
        "Carol@Acme.test",
        "--name",
        "Carol",
        "--org",
        "acme",
        "--role",
        "editor",
        "--ttl",
        "7200",
        "--mail-dir",
        mail_dir,
        "--public-url",
        "https://login.acme.test",
        "--issuer",
        "Acme Login",
        "--mail-from",
        FROM,
    ]);
    assert!(out.starts_with("created user "), "{out}");
    assert!(out.contains("sent"), "{out}");
    let mail = wait_for_mail(dir.path(), 1, WAIT).remove(0);
    assert!(mail.text.contains("within 2 hours"), "{}", mail.text);
    assert_well_formed(&mail, "carol@acme.test", "#set-password=");
    app.reset_password(&mail.token("#set-password="), NEW_PASSWORD)
        .assert_success();
    let carol = app.login_ok("carol@acme.test", NEW_PASSWORD);
    let me = app.me(&carol.access).json();
    assert_eq!(me["user"]["roles"], json!(["editor"]));
    assert_eq!(me["user"]["orgId"], json!("acme"));
    // Again for the same address: no second user, a new link.
    let again = app.cli(&[
        "user",
        "invite",
        "carol@acme.test",
        "--name",
        "X",
        "--mail-dir",
        mail_dir,
    ]);
    assert!(again.contains("exists"), "{again}");
    assert_eq!(wait_for_mail(dir.path(), 2, WAIT).len(), 2);
}

#[test]
fn queued_messages_hold_their_link_sealed_and_nothing_once_sent() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    let mail_dir = dir.path().join("mail");
    std::fs::create_dir(&mail_dir).unwrap();
    // A mail server nobody answers: the message waits in the outbox.
    let port = crate::support::mailbox::unused_port();
    let mut app = spawn_app_with(Settings {
        email: Some(EmailSettings {
            transport: Transport::Smtp {
                url: format!("smtp://127.0.0.1:{port}"),
                ca_file: None,
            },
            from: FROM.into(),
        }),
        master_key_file: Some(key.clone()),
        ..mail_settings(&mail_dir)
    });
    assert_eq!(forgot(&app, ADA).status, 200);
    let rows = outbox(&app);
    assert_eq!(rows.len(), 1);
    let (_, state, message) = &rows[0];
    assert_eq!(state, "queued");
    let stored = message.as_ref().expect("the message waits");
    let text = String::from_utf8_lossy(stored);
    assert!(!text.contains("set-password"), "{text}");
    assert!(!text.contains("Reset your"), "{text}");
    app.stop();
    // Sent through --mail-dir after a restart: the content is gone.
    let sender = app.spawn_on_same_db(Settings {
        master_key_file: Some(key),
        ..mail_settings(&mail_dir)
    });
    let mail = wait_for_mail(&mail_dir, 1, Duration::from_secs(30)).remove(0);
    assert_well_formed(&mail, ADA, "#set-password=");
    wait_until(|| outbox(&sender)[0].1 == "sent");
    assert_eq!(outbox(&sender)[0].2, None);
}

#[track_caller]
pub fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "not within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}
