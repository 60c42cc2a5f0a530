//! OIDC clients, waiting requests, codes and grants: every method with the
//! exact values it must give back, and the race of two redemptions of a code.

use super::races::at_once;
use super::{on_every_engine, refresh, rotation, session, spent, user};
use crate::store::{AuthCode, Client, Grant, OidcRequest, Rotation, Spent, AUTHORIZE};

fn client(id: &str, public: bool) -> Client {
    Client {
        id: id.into(),
        name: format!("Tool {id}"),
        public,
        redirect_uris: vec![
            "https://a.test/cb".into(),
            "http://127.0.0.1:9/cb?x=1".into(),
        ],
        post_logout_uris: vec!["https://a.test/bye".into()],
        roles: vec!["ops".into(), "staff".into()],
        created_at: 5,
    }
}

fn request(id: &str, client_id: &str, expires_at: u64) -> OidcRequest {
    OidcRequest {
        id: id.into(),
        kind: AUTHORIZE.into(),
        client_id: client_id.into(),
        redirect_uri: "https://a.test/cb".into(),
        scope: "openid email".into(),
        state: Some("s".into()),
        nonce: None,
        code_challenge: Some("c".repeat(43)),
        prompt: Some("login".into()),
        created_at: 10,
        expires_at,
    }
}

fn code(client_id: &str, expires_at: u64) -> AuthCode {
    AuthCode {
        client_id: client_id.into(),
        user_id: "ada".into(),
        redirect_uri: "https://a.test/cb".into(),
        scope: "openid".into(),
        nonce: Some("n".into()),
        code_challenge: None,
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        auth_time: 9,
        expires_at,
        used_at: None,
        sid: None,
    }
}

#[test]
fn clients_are_stored_listed_given_new_secrets_and_removed() {
    on_every_engine("oidc clients", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_client(&client("b", false), Some(&[1; 32]))?;
                s.insert_client(&client("a", true), None)?;
                assert!(s.insert_client(&client("c", true), Some(&[1; 32])).is_err());
                let found = s.find_client("b")?.unwrap();
                assert_eq!(found.client, client("b", false));
                assert_eq!(found.secret_digest, Some(vec![1; 32]));
                assert_eq!(s.find_client("a")?.unwrap().secret_digest, None);
                assert!(s.find_client("zz")?.is_none());
                let ids: Vec<String> = s.list_clients()?.into_iter().map(|c| c.id).collect();
                assert_eq!(ids, ["a", "b"]);
                assert!(s.set_client_secret("b", &[2; 32])?);
                assert!(
                    !s.set_client_secret("a", &[2; 32])?,
                    "a public client has none"
                );
                assert_eq!(
                    s.find_client("b")?.unwrap().secret_digest,
                    Some(vec![2; 32])
                );
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn requests_codes_and_grants_round_trip_and_go_with_their_client() {
    on_every_engine("oidc rows", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_client(&client("t", true), None)?;
                s.insert_oidc_request(&request("r1", "t", 100))?;
                assert_eq!(s.find_oidc_request("r1")?, Some(request("r1", "t", 100)));
                assert!(s.take_oidc_request("r1")?);
                assert!(!s.take_oidc_request("r1")?, "once");
                assert!(s.find_oidc_request("r1")?.is_none());

                s.insert_code(&[3; 32], &code("t", 100))?;
                assert_eq!(s.find_code(&[3; 32])?, Some(code("t", 100)));
                assert!(s.spend_code(&[3; 32], 50, "sid-1")?);
                assert!(!s.spend_code(&[3; 32], 51, "sid-2")?, "once");
                let spent = s.find_code(&[3; 32])?.unwrap();
                assert_eq!(
                    (spent.used_at, spent.sid.as_deref()),
                    (Some(50), Some("sid-1"))
                );

                s.create_session(&session("sid-1", "ada", 10_000), &refresh("j1", 10_000))?;
                let grant = Grant {
                    sid: "sid-1".into(),
                    client_id: "t".into(),
                    scope: "openid offline_access".into(),
                    auth_time: 9,
                };
                s.insert_grant(&grant)?;
                assert_eq!(s.find_grant("sid-1")?, Some(grant));
                s.insert_oidc_request(&request("r2", "t", 100))?;

                assert!(s.remove_client("t", 77)?);
                assert!(!s.remove_client("t", 78)?);
                assert_eq!(s.find_session("sid-1")?.unwrap().revoked_at, Some(77));
                assert!(s.find_grant("sid-1")?.is_none());
                assert!(s.find_code(&[3; 32])?.is_none());
                assert!(s.find_oidc_request("r2")?.is_none());
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn pruning_takes_requests_and_codes_expired_before_the_time_given() {
    on_every_engine("oidc prune", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_client(&client("t", true), None)?;
                s.insert_oidc_request(&request("old", "t", 100))?;
                s.insert_oidc_request(&request("new", "t", 300))?;
                s.insert_code(&[1; 32], &code("t", 100))?;
                s.insert_code(&[2; 32], &code("t", 300))?;
                assert_eq!(s.prune_oidc(200)?, 1);
                assert!(s.find_oidc_request("old")?.is_none());
                assert!(s.find_oidc_request("new")?.is_some());
                assert!(s.find_code(&[1; 32])?.is_none());
                assert!(s.find_code(&[2; 32])?.is_some());
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn of_eight_racing_redemptions_of_one_code_exactly_one_spends_it() {
    on_every_engine("oidc code race", |engine| {
        let db = &engine.db;
        db.transaction(|s| {
            s.insert_user(&user("ada"), 1)?;
            s.insert_client(&client("t", true), None)?;
            s.insert_code(&[9; 32], &code("t", 100))
        })
        .unwrap();
        let spent = at_once(db, 8, |db, i| {
            db.transaction(|s| s.spend_code(&[9; 32], 60, &format!("sid-{i}")))
                .unwrap()
        });
        assert_eq!(spent.iter().filter(|t| **t).count(), 1, "{spent:?}");
        let winner = spent.iter().position(|t| *t).unwrap();
        let stored = db.read(|s| s.find_code(&[9; 32])).unwrap().unwrap();
        assert_eq!(stored.sid, Some(format!("sid-{winner}")));
    });
}

#[test]
fn a_clients_token_is_spent_only_as_a_clients_and_a_first_party_one_only_as_its_own() {
    on_every_engine("rotation by kind of session", |engine| {
        engine
            .db
            .transaction(|s| {
                let ada = user("ada");
                s.insert_user(&ada, 1)?;
                s.insert_client(&client("t", true), None)?;
                for sid in ["client-1", "client-2", "own-1", "own-2"] {
                    s.create_session(&session(sid, "ada", 10_000), &refresh("j1", 10_000))?;
                }
                for sid in ["client-1", "client-2"] {
                    s.insert_grant(&Grant {
                        sid: sid.into(),
                        client_id: "t".into(),
                        scope: "openid offline_access".into(),
                        auth_time: 9,
                    })?;
                }
                let as_kind = |sid, for_client| Spent {
                    for_client,
                    ..spent(sid, "j1", &ada)
                };
                let next = refresh("j2", 20_000);
                assert!(!s.rotate_refresh(&as_kind("client-1", false), &next, 5, b"a")?);
                assert!(!s.rotate_refresh(&as_kind("own-1", true), &next, 5, b"a")?);
                assert_eq!(s.find_refresh("client-1")?.unwrap().refresh_jti, "j1");
                assert_eq!(s.find_refresh("own-1")?.unwrap().refresh_jti, "j1");
                assert!(s.rotate_refresh(&as_kind("client-1", true), &next, 5, b"a")?);
                assert!(s.rotate_refresh(&as_kind("own-1", false), &next, 5, b"a")?);

                let batch = [
                    Rotation {
                        for_client: false,
                        ..rotation("client-2", "j1", "j2", &ada, b"a")
                    },
                    Rotation {
                        for_client: true,
                        ..rotation("own-2", "j1", "j2", &ada, b"a")
                    },
                ];
                let outcomes: Vec<bool> = s
                    .rotate_refreshes(&batch)
                    .into_iter()
                    .collect::<Result<_, _>>()?;
                assert_eq!(outcomes, [false, false]);
                let batch = batch.map(|r| Rotation {
                    for_client: !r.for_client,
                    ..r
                });
                let outcomes: Vec<bool> = s
                    .rotate_refreshes(&batch)
                    .into_iter()
                    .collect::<Result<_, _>>()?;
                assert_eq!(outcomes, [true, true]);
                assert_eq!(s.find_refresh("client-2")?.unwrap().refresh_jti, "j2");
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
    });
}
