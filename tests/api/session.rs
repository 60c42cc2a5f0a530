use std::time::Duration;

use authlite::settings::Settings;
use serde_json::{json, Value};

use crate::helpers::*;

// ---- GET /user/me

#[test]
fn me_returns_the_user_of_the_access_token() {
    let app = spawn_app();
    let tokens = app.login_ok(BOB, BOB_PASSWORD);

    let resp = app.me(&tokens.access);

    resp.assert_success();
    let user = &resp.json()["user"];
    for key in ["id", "email", "name", "orgId"] {
        assert_eq!(user[key], tokens.user[key], "{key}: {}", resp.text);
    }
    assert_eq!(user["email"], json!(BOB));
    assert_eq!(user["name"], json!("Bøb Büilder"));
}

#[test]
fn me_without_a_token_is_missing_token() {
    let app = spawn_app();

    app.get("/user/me").assert_error(401, "MISSING_TOKEN");
}

#[test]
fn me_with_garbage_or_a_refresh_token_is_invalid_token() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    app.me("garbage").assert_error(401, "INVALID_TOKEN");
    app.me("a.b.c").assert_error(401, "INVALID_TOKEN");
    app.me(&tokens.refresh).assert_error(401, "INVALID_TOKEN");
    let forged = sign_with_foreign_key(&jwt_header(&tokens.access), &claims(&tokens.access));
    app.me(&forged).assert_error(401, "INVALID_TOKEN");
}

#[test]
fn me_with_an_expired_access_token_is_token_expired() {
    let app = spawn_app_with(Settings {
        access_ttl: 1,
        ..test_settings()
    });
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    assert_eq!(
        tokens.expires_at - claims(&tokens.access)["iat"].as_i64().expect("iat"),
        1
    );
    sleep_past(tokens.expires_at);

    app.me(&tokens.access).assert_error(401, "TOKEN_EXPIRED");
    // The session itself is fine: the refresh token still gets a new pair.
    let fresh = app.refresh_ok(&tokens.refresh);
    app.me(&fresh.access).assert_success();
}

#[test]
fn me_after_the_user_is_deactivated_is_user_inactive() {
    let app = spawn_app();

    for status in ["inactive", "banned", "deleted"] {
        let tokens = app.login_ok(ADA, ADA_PASSWORD);
        app.cli(&["user", "set-status", ADA, status]);

        app.me(&tokens.access).assert_error(401, "USER_INACTIVE");

        app.cli(&["user", "set-status", ADA, "active"]);
    }
}

// ---- POST /user/logout

#[test]
fn logout_with_the_access_token_ends_that_session_only() {
    let app = spawn_app();
    let ended = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);

    let resp = app.logout_bearer(&ended.access);

    assert_eq!(
        (resp.status, resp.json()),
        (200, json!({ "success": true }))
    );
    app.refresh(&ended.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&ended.access).assert_error(401, "TOKEN_REVOKED");
    app.me(&other.access).assert_success();
    app.refresh_ok(&other.refresh);
}

#[test]
fn logout_with_the_refresh_token_ends_that_session_only() {
    let app = spawn_app();
    let ended = app.login_ok(ADA, ADA_PASSWORD);
    let other = app.login_ok(ADA, ADA_PASSWORD);

    let resp = app.logout_refresh(&ended.refresh);

    assert_eq!(
        (resp.status, resp.json()),
        (200, json!({ "success": true }))
    );
    app.refresh(&ended.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&ended.access).assert_error(401, "TOKEN_REVOKED");
    app.refresh_ok(&other.refresh);
}

#[test]
fn logout_all_ends_every_session_of_the_user_and_no_one_elses() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let second = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);

    let resp = app.logout_all(&first.access);

    assert_eq!(
        (resp.status, resp.json()),
        (200, json!({ "success": true }))
    );
    app.refresh(&first.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.refresh(&second.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&second.access).assert_error(401, "TOKEN_REVOKED");
    app.me(&bob.access).assert_success();
    app.refresh_ok(&bob.refresh);
}

#[test]
fn logout_without_any_token_is_missing_token() {
    let app = spawn_app();

    app.post_json("/user/logout", &json!({}))
        .assert_error(401, "MISSING_TOKEN");
    app.post_json("/user/logout", &json!({ "all": true }))
        .assert_error(401, "MISSING_TOKEN");
}

#[test]
fn a_malformed_logout_body_is_invalid_request() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    for body in ["{", "[]", "{\"refreshToken\": 5}", "{\"all\": \"yes\"}"] {
        let resp = app.send(Req::new("POST", "/user/logout").raw("application/json", body));
        assert_eq!(
            (resp.status, resp.error_shape()),
            (400, Ok("INVALID_REQUEST".to_string())),
            "body {body:?} got {}",
            resp.text
        );
    }
    app.refresh_ok(&tokens.refresh);
}

#[test]
fn logging_out_a_session_twice_is_token_revoked_the_second_time() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    app.logout_refresh(&tokens.refresh).assert_success();
    app.logout_refresh(&tokens.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.logout_bearer(&tokens.access)
        .assert_error(401, "TOKEN_REVOKED");
}

// ---- GET /user/sessions and DELETE /user/sessions/{sid}

fn sessions_of(app: &TestApp, access: &str) -> Value {
    let resp = app.sessions(access);
    resp.assert_success();
    let list = resp.json();
    assert!(list["sessions"].is_array(), "{list}");
    list
}

#[test]
fn the_session_list_shows_each_live_session_with_the_current_one_marked() {
    let app = spawn_app();
    let before = now();
    let one =
        Tokens::from_resp(&app.login_with(ADA, ADA_PASSWORD, &[("User-Agent", "Tab One/1.0")]));
    let two =
        Tokens::from_resp(&app.login_with(ADA, ADA_PASSWORD, &[("User-Agent", "Tab Two/2.0")]));

    let list = sessions_of(&app, &one.access);

    let sessions = list["sessions"].as_array().expect("array");
    assert_eq!(sessions.len(), 2, "{list}");
    let current: Vec<&Value> = sessions
        .iter()
        .filter(|s| s["current"] == json!(true))
        .collect();
    assert_eq!(current.len(), 1, "{list}");
    assert_eq!(current[0]["sid"], json!(one.sid()));
    for (tokens, agent) in [(&one, "Tab One/1.0"), (&two, "Tab Two/2.0")] {
        let s = session_by_sid(&list, &tokens.sid()).expect("session listed");
        assert_eq!(s["userAgent"], json!(agent), "{s}");
        assert_eq!(s["ip"], json!("127.0.0.1"), "{s}");
        assert_eq!(s["current"], json!(tokens.sid() == one.sid()), "{s}");
        let created = s["createdAt"].as_i64().expect("createdAt in seconds");
        let used = s["lastUsedAt"].as_i64().expect("lastUsedAt in seconds");
        assert!((before - 1..=now() + 1).contains(&created), "{s}");
        assert!(created <= used && used <= now() + 1, "{s}");
        assert_eq!(s["expiresAt"], claims(&tokens.refresh)["exp"], "{s}");
    }
}

#[test]
fn the_session_list_leaves_out_ended_sessions_and_other_users() {
    let app = spawn_app();
    let kept = app.login_ok(ADA, ADA_PASSWORD);
    let ended = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    app.logout_bearer(&ended.access).assert_success();

    let list = sessions_of(&app, &kept.access);

    let sids: Vec<&Value> = list["sessions"]
        .as_array()
        .expect("array")
        .iter()
        .map(|s| &s["sid"])
        .collect();
    assert_eq!(sids, [&json!(kept.sid())], "{list}");
    let bobs = sessions_of(&app, &bob.access);
    assert_eq!(
        bobs["sessions"].as_array().expect("array").len(),
        1,
        "{bobs}"
    );
    assert!(session_by_sid(&bobs, &bob.sid()).is_some());
}

#[test]
fn a_refresh_moves_the_sessions_last_used_at_and_expires_at() {
    let app = spawn_app();
    let first = app.login_ok(ADA, ADA_PASSWORD);
    let before = session_by_sid(&sessions_of(&app, &first.access), &first.sid()).expect("listed");
    // The times are in seconds: a refresh in the next one is a later use.
    next_second();

    let second = app.refresh_ok(&first.refresh);

    let after = session_by_sid(&sessions_of(&app, &second.access), &first.sid()).expect("listed");
    assert_eq!(after["createdAt"], before["createdAt"]);
    assert!(
        after["lastUsedAt"].as_i64() > before["lastUsedAt"].as_i64(),
        "{before} then {after}"
    );
    assert!(
        after["expiresAt"].as_i64() > before["expiresAt"].as_i64(),
        "{before} then {after}"
    );
    assert_eq!(after["expiresAt"], claims(&second.refresh)["exp"]);
}

#[test]
fn deleting_a_session_revokes_its_tokens() {
    let app = spawn_app();
    let mine = app.login_ok(ADA, ADA_PASSWORD);
    let lost_phone = app.login_ok(ADA, ADA_PASSWORD);

    let resp = app.delete_session(&mine.access, &lost_phone.sid());

    assert_eq!(
        (resp.status, resp.json()),
        (200, json!({ "success": true }))
    );
    app.refresh(&lost_phone.refresh)
        .assert_error(401, "TOKEN_REVOKED");
    app.me(&lost_phone.access)
        .assert_error(401, "TOKEN_REVOKED");
    let list = sessions_of(&app, &mine.access);
    assert!(session_by_sid(&list, &lost_phone.sid()).is_none(), "{list}");
    app.refresh_ok(&mine.refresh);
}

#[test]
fn deleting_the_current_session_logs_it_out() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);

    app.delete_session(&tokens.access, &tokens.sid())
        .assert_success();

    app.me(&tokens.access).assert_error(401, "TOKEN_REVOKED");
}

#[test]
fn deleting_a_session_that_is_not_one_of_the_users_live_sessions_is_session_not_found() {
    let app = spawn_app();
    let ada = app.login_ok(ADA, ADA_PASSWORD);
    let ended = app.login_ok(ADA, ADA_PASSWORD);
    let bob = app.login_ok(BOB, BOB_PASSWORD);
    app.logout_bearer(&ended.access).assert_success();

    app.delete_session(&ada.access, "no-such-session")
        .assert_error(404, "SESSION_NOT_FOUND");
    app.delete_session(&ada.access, &bob.sid())
        .assert_error(404, "SESSION_NOT_FOUND");
    app.delete_session(&ada.access, &ended.sid())
        .assert_error(404, "SESSION_NOT_FOUND");

    app.refresh_ok(&bob.refresh);
}

#[test]
fn the_session_endpoints_refuse_missing_invalid_and_revoked_tokens() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let sid = tokens.sid();

    app.get("/user/sessions").assert_error(401, "MISSING_TOKEN");
    app.send(Req::new("DELETE", &format!("/user/sessions/{sid}")))
        .assert_error(401, "MISSING_TOKEN");
    app.sessions(&tokens.refresh)
        .assert_error(401, "INVALID_TOKEN");
    app.delete_session(&tokens.refresh, &sid)
        .assert_error(401, "INVALID_TOKEN");

    app.logout_bearer(&tokens.access).assert_success();
    app.sessions(&tokens.access)
        .assert_error(401, "TOKEN_REVOKED");
    app.delete_session(&tokens.access, &sid)
        .assert_error(401, "TOKEN_REVOKED");
}

// ---- /user/me between writes (the server keeps what it read of a session for 500 ms)

/// Asks /user/me from another thread without pause until told to stop.
fn asking_me(
    app: &TestApp,
    access: &str,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (stop, stopped) = std::sync::mpsc::channel();
    let (agent, address, access) = (new_agent(), app.address.clone(), access.to_string());
    let thread = std::thread::spawn(move || {
        while stopped.try_recv().is_err() {
            send_with(
                &agent,
                &address,
                Req::new("GET", "/user/me").bearer(&access),
            );
        }
    });
    (stop, thread)
}

/// Ends the first session, maybe from the second one.
type EndSession = fn(&TestApp, &Tokens, &Tokens);

#[test]
fn every_way_of_ending_a_session_is_seen_by_me_at_once_even_while_it_is_asked_without_pause() {
    let ends: [(&str, EndSession); 5] = [
        ("logout", |app, t, _| {
            app.logout_bearer(&t.access).assert_success()
        }),
        ("logout everywhere", |app, _, other| {
            app.logout_all(&other.access).assert_success()
        }),
        ("delete from another session", |app, t, other| {
            app.delete_session(&other.access, &t.sid()).assert_success()
        }),
        ("password change in another session", |app, _, other| {
            app.change_password(&other.access, ADA_PASSWORD, "a brand new pass phrase")
                .assert_success()
        }),
        ("refresh token reuse", |app, t, _| {
            app.refresh_ok(&t.refresh);
            past_a_grace_of_zero();
            app.refresh(&t.refresh).assert_error(401, "TOKEN_REUSED");
        }),
    ];
    for (how, end) in ends {
        let settings = Settings {
            reuse_grace: 0,
            ..test_settings()
        };
        let app = if how == "refresh token reuse" {
            spawn_app_with(settings)
        } else {
            spawn_app()
        };
        let tokens = app.login_ok(ADA, ADA_PASSWORD);
        let other = app.login_ok(ADA, ADA_PASSWORD);
        app.me(&tokens.access).assert_success();
        let (stop, asker) = asking_me(&app, &tokens.access);
        end(&app, &tokens, &other);
        let me = app.me(&tokens.access);
        let _ = stop.send(());
        asker.join().unwrap();
        assert_eq!(
            (me.status, me.error_shape().ok().as_deref()),
            (401, Some("TOKEN_REVOKED")),
            "after {how}: {}",
            me.text
        );
    }
}

#[test]
fn a_status_set_by_another_process_reaches_me_within_a_second() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    app.me(&tokens.access).assert_success();
    app.cli(&["user", "set-status", ADA, "banned"]);
    let set = std::time::Instant::now();
    loop {
        let me = app.me(&tokens.access);
        if me.status == 401 {
            me.assert_error(401, "USER_INACTIVE");
            break;
        }
        me.assert_success();
        assert!(
            set.elapsed() < Duration::from_secs(1),
            "still active after a second"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
