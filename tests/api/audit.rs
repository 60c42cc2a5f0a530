//! The audit log as a user meets it: every event type that exists today, with
//! its user, actor, client address, user agent and detail, read back through
//! the store (the admin endpoint that lists them is another slice's).

use authlite::settings::Settings;
use authlite::store::{AuditQuery, Database};
use serde_json::{json, Value};

use crate::helpers::*;

const UA: &str = "audit-test/1.0";
const LOCAL: &str = "127.0.0.1";

/// The events of `kind`, newest first, as SPEC §8 shows them, without `id`
/// and `at` (checked here to be times of this test).
pub fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    let db = Database::open(&app.db, Default::default()).expect("open the database");
    let query = AuditQuery {
        kind: Some(kind.into()),
        limit: 1000,
        ..AuditQuery::default()
    };
    let found = db.read(|s| s.list_events(&query)).expect("list events");
    found
        .iter()
        .map(|e| {
            assert!(e.at.abs_diff(now() as u64) < 60, "{e:?}");
            let mut shown = serde_json::to_value(e).expect("an event as JSON");
            let fields = shown.as_object_mut().expect("an object");
            fields.remove("id");
            fields.remove("at");
            shown
        })
        .collect()
}

pub fn user_id(app: &TestApp, email: &str) -> String {
    let db = Database::open(&app.db, Default::default()).expect("open the database");
    db.read(|s| s.find_user_by_email(email))
        .expect("read the user")
        .expect("the user")
        .id
}

fn event(kind: &str, user: Option<&str>, actor: &str, ua: Option<&str>, detail: Value) -> Value {
    let ip = match actor {
        "cli" => None,
        _ => Some(LOCAL),
    };
    json!({"type": kind, "userId": user, "actor": actor, "ip": ip, "userAgent": ua, "detail": detail})
}

fn with_ua<'a>(req: Req<'a>) -> Req<'a> {
    req.header("user-agent", UA)
}

#[test]
fn a_login_records_its_user_session_address_and_user_agent() {
    let app = spawn_app();
    let ada = Tokens::from_resp(&app.login_with(ADA, ADA_PASSWORD, &[("user-agent", UA)]));
    let id = user_id(&app, ADA);
    let detail = json!({"method": "password", "amr": ["pwd"], "sid": ada.sid()});
    let actor = format!("user:{id}");
    assert_eq!(
        events(&app, "login.succeeded"),
        [event(
            "login.succeeded",
            Some(&id),
            &actor,
            Some(UA),
            detail
        )]
    );
}

#[test]
fn each_refused_login_records_the_email_and_its_true_code() {
    let app = spawn_app_with(Settings {
        conceal_accounts: true,
        ..test_settings()
    });
    let attempts = [
        (ADA, "wrong password", "INVALID_PASSWORD", true),
        (UNKNOWN, "whatever", "USER_NOT_FOUND", false),
        (DELETED, DELETED_PASSWORD, "USER_NOT_FOUND", false),
        (INVITED, "whatever", "NO_PASSWORD_SET", true),
        (SLEEPY, SLEEPY_PASSWORD, "USER_INACTIVE", true),
    ];
    let mut expected = Vec::new();
    for (email, password, code, known) in attempts {
        assert_eq!(
            app.login_with(email, password, &[("user-agent", UA)])
                .status,
            401
        );
        let user = known.then(|| user_id(&app, email));
        let detail = json!({"email": email, "code": code});
        expected.insert(
            0,
            event("login.failed", user.as_deref(), "system", Some(UA), detail),
        );
    }
    assert_eq!(events(&app, "login.failed"), expected);
}

#[test]
fn a_lockout_is_recorded_once_however_many_attempts_it_refuses() {
    let app = spawn_app_with(Settings {
        max_failures: 2,
        max_failures_per_ip: 4,
        ..test_settings()
    });
    let login =
        |email: &str, password: &str| app.login_with(email, password, &[("user-agent", UA)]);
    for _ in 0..2 {
        login(ADA, "wrong").assert_error(401, "INVALID_PASSWORD");
    }
    for _ in 0..5 {
        login(ADA, ADA_PASSWORD).assert_error(429, "TOO_MANY_ATTEMPTS");
    }
    let locked = |user: Option<&str>, email: &str| {
        event(
            "login.locked",
            user,
            "system",
            Some(UA),
            json!({ "email": email }),
        )
    };
    let ada = locked(Some(&user_id(&app, ADA)), ADA);
    assert_eq!(events(&app, "login.locked"), std::slice::from_ref(&ada));
    // The address locks too: a flood over many emails from it is one more event.
    for _ in 0..2 {
        login(BOB, "wrong").assert_error(401, "INVALID_PASSWORD");
    }
    for n in 0..5 {
        let email = format!("flood{n}@acme.test");
        login(&email, "x").assert_error(429, "TOO_MANY_ATTEMPTS");
    }
    let flood = locked(None, "flood0@acme.test");
    assert_eq!(events(&app, "login.locked"), [flood, ada]);
}

#[test]
fn logout_logout_everywhere_and_session_delete_record_each_session_ended() {
    let app = spawn_app();
    let id = user_id(&app, ADA);
    let actor = format!("user:{id}");
    let [one, two, three, four] = [(); 4].map(|_| app.login_ok(ADA, ADA_PASSWORD));
    app.send(with_ua(
        Req::new("POST", "/user/logout").bearer(&one.access),
    ))
    .assert_success();
    let deleted = format!("/user/sessions/{}", two.sid());
    app.send(with_ua(Req::new("DELETE", &deleted).bearer(&three.access)))
        .assert_success();
    let all = Req::new("POST", "/user/logout").bearer(&four.access);
    app.send(with_ua(all.json(&json!({"all": true}))))
        .assert_success();
    let ended = |sid: String, reason| {
        let detail = json!({"sid": sid, "reason": reason});
        event("session.revoked", Some(&id), &actor, Some(UA), detail)
    };
    let mut expected = vec![ended(two.sid(), "revoked"), ended(one.sid(), "logout")];
    let mut everywhere = vec![ended(three.sid(), "logout"), ended(four.sid(), "logout")];
    let mut got = events(&app, "session.revoked");
    let mut last_two: Vec<Value> = got.drain(..2).collect();
    let by_sid = |v: &Value| v["detail"]["sid"].as_str().unwrap_or_default().to_string();
    last_two.sort_by_key(by_sid);
    everywhere.sort_by_key(by_sid);
    assert_eq!((last_two, got), (everywhere, expected.split_off(0)));
}

#[test]
fn a_password_change_records_itself_and_every_other_session_it_ends() {
    let app = spawn_app();
    let id = user_id(&app, ADA);
    let actor = format!("user:{id}");
    let (other, this) = (
        app.login_ok(ADA, ADA_PASSWORD),
        app.login_ok(ADA, ADA_PASSWORD),
    );
    let change = Req::new("POST", "/user/password").bearer(&this.access);
    let body = json!({"currentPassword": ADA_PASSWORD, "newPassword": "a much newer pass phrase"});
    app.send(with_ua(change.json(&body))).assert_success();
    assert_eq!(
        events(&app, "password.changed"),
        [event(
            "password.changed",
            Some(&id),
            &actor,
            Some(UA),
            json!({})
        )]
    );
    let detail = json!({"sid": other.sid(), "reason": "password"});
    assert_eq!(
        events(&app, "session.revoked"),
        [event(
            "session.revoked",
            Some(&id),
            &actor,
            Some(UA),
            detail
        )]
    );
}

#[test]
fn a_link_and_the_reset_it_makes_are_recorded() {
    let app = spawn_app();
    let id = user_id(&app, ADA);
    let session = app.login_ok(ADA, ADA_PASSWORD);
    let token = app.link_token(ADA, &["--ttl", "600"]);
    let links = events(&app, "link.created");
    let expires_at = links[0]["detail"]["expiresAt"].as_u64().expect("expiresAt");
    assert!(expires_at.abs_diff(now() as u64 + 600) <= 2, "{links:?}");
    let detail = json!({"expiresAt": expires_at, "sent": false});
    assert_eq!(
        links,
        [event("link.created", Some(&id), "cli", None, detail)]
    );
    let reset = Req::new("POST", "/user/password/reset");
    let body = json!({"token": token, "newPassword": "a much newer pass phrase"});
    app.send(with_ua(reset.json(&body))).assert_success();
    let actor = format!("user:{id}");
    assert_eq!(
        events(&app, "password.reset"),
        [event(
            "password.reset",
            Some(&id),
            &actor,
            Some(UA),
            json!({})
        )]
    );
    let detail = json!({"sid": session.sid(), "reason": "password"});
    assert_eq!(
        events(&app, "session.revoked"),
        [event(
            "session.revoked",
            Some(&id),
            &actor,
            Some(UA),
            detail
        )]
    );
}

#[test]
fn a_reused_refresh_token_records_the_session_it_ends_and_a_refresh_records_nothing() {
    let app = spawn_app_with(Settings {
        reuse_grace: 0,
        ..test_settings()
    });
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let before = app.row_counts();
    app.refresh_ok(&first.refresh);
    assert_eq!(app.row_counts(), before, "a refresh is not an event");
    past_a_grace_of_zero();
    let reuse = Req::new("POST", "/user/refresh").json(&json!({"refreshToken": first.refresh}));
    app.send(with_ua(reuse)).assert_error(401, "TOKEN_REUSED");
    let id = user_id(&app, ADA);
    let detail = json!({"sid": first.sid()});
    assert_eq!(
        events(&app, "session.reused"),
        [event(
            "session.reused",
            Some(&id),
            "system",
            Some(UA),
            detail
        )]
    );
    assert_eq!(events(&app, "session.revoked"), Vec::<Value>::new());
}

#[test]
fn a_refresh_after_a_ban_records_the_session_it_ends() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    app.cli(&["user", "set-status", ADA, "banned"]);
    let refresh = Req::new("POST", "/user/refresh").json(&json!({"refreshToken": ada.refresh}));
    app.send(with_ua(refresh))
        .assert_error(401, "USER_INACTIVE");
    let id = user_id(&app, ADA);
    let detail = json!({"sid": ada.sid(), "reason": "status"});
    assert_eq!(
        events(&app, "session.revoked"),
        [event(
            "session.revoked",
            Some(&id),
            "system",
            Some(UA),
            detail
        )]
    );
}
