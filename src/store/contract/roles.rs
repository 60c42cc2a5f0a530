//! Roles on users and the `amr` of sessions, with the exact values each
//! method must give back, and a database from before them migrated.

use super::{engines, on_every_engine, refresh, session, spent, user, Engine, Kept};
use crate::store::postgres::testing::{self, TestDatabase};
use crate::store::{Database, Spent, StoreError};

fn roles(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| r.to_string()).collect()
}

#[test]
fn every_query_that_gives_a_user_gives_their_roles_sorted() {
    on_every_engine("roles read back", |engine| {
        engine
            .db
            .transaction(|s| {
                let mut ada = user("ada");
                ada.roles = roles(&["admin", "billing:read", "ops.on-call"]);
                s.insert_user(&ada, 1)?;
                s.insert_user(&user("bob"), 2)?;
                s.create_session(&session("s1", "ada", 500), &refresh("j1", 500))?;
                let want = roles(&["admin", "billing:read", "ops.on-call"]);

                assert_eq!(s.find_user_by_email("ada@acme.test")?.unwrap().roles, want);
                assert_eq!(s.find_user_by_id("ada")?.unwrap().roles, want);
                assert_eq!(s.find_user_by_session("s1")?.unwrap().0.roles, want);
                assert_eq!(s.find_refresh("s1")?.unwrap().user.roles, want);
                let listed: Vec<_> = s.list_users()?.into_iter().map(|u| u.roles).collect();
                assert_eq!(listed, [want, vec![]]);
                assert_eq!(
                    s.find_user_by_id("bob")?.unwrap().roles,
                    Vec::<String>::new()
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn roles_are_replaced_whole_or_added_and_removed_one_by_one() {
    on_every_engine("roles changed", |engine| {
        engine
            .db
            .transaction(|s| {
                let mut ada = user("ada");
                ada.roles = roles(&["ops"]);
                s.insert_user(&ada, 1)?;
                s.insert_user(&user("bob"), 1)?;

                s.set_user_roles("ada", &roles(&["admin", "support"]), 2)?;
                assert_eq!(
                    s.find_user_by_id("ada")?.unwrap().roles,
                    ["admin", "support"]
                );
                let held = s.change_user_roles("ada", &roles(&["audit", "admin"]), &[], 3)?;
                assert_eq!(held, ["admin", "audit", "support"]);
                let held = s.change_user_roles(
                    "ada",
                    &roles(&["zeta", "gone"]),
                    &roles(&["support", "gone", "never-held"]),
                    4,
                )?;
                assert_eq!(held, ["admin", "audit", "zeta"]);
                s.set_user_roles("ada", &[], 5)?;
                assert_eq!(
                    s.change_user_roles("ada", &[], &[], 6)?,
                    Vec::<String>::new()
                );
                // Another user's roles are their own.
                assert_eq!(
                    s.find_user_by_id("bob")?.unwrap().roles,
                    Vec::<String>::new()
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_session_keeps_the_amr_it_was_signed_in_with() {
    on_every_engine("session amr", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.create_session(&session("s1", "ada", 500), &refresh("j1", 500))?;
                let mut second = session("s2", "ada", 500);
                second.amr = roles(&["pwd", "otp", "mfa"]);
                s.create_session(&second, &refresh("j2", 500))?;

                assert_eq!(s.find_session("s1")?.unwrap().amr, ["pwd"]);
                assert_eq!(s.find_session("s2")?.unwrap().amr, ["pwd", "otp", "mfa"]);
                assert_eq!(s.find_refresh("s2")?.unwrap().amr, ["pwd", "otp", "mfa"]);
                let ada = s.find_user_by_id("ada")?.unwrap();
                let amr = roles(&["pwd", "otp", "mfa"]);
                let spent = Spent {
                    amr: &amr,
                    ..spent("s2", "j2", &ada)
                };
                assert!(s.rotate_refresh(&spent, &refresh("j3", 600), 5_000, b"answer")?);
                assert_eq!(s.find_refresh("s2")?.unwrap().amr, ["pwd", "otp", "mfa"]);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

/// SQLite: the first release's file (tests/fixtures/v1.sqlite). PostgreSQL:
/// a database at schema version 4 with a user and a session in it (kept
/// alive by the second value).
fn database_from_before_roles(engine: &Engine) -> (Database, Option<TestDatabase>) {
    match &engine.kept {
        Kept::Folder(_) => {
            let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1.sqlite");
            let path = std::path::Path::new(&engine.target).with_file_name("v1.sqlite");
            std::fs::copy(fixture, &path).unwrap();
            (Database::sqlite(&path).unwrap(), None)
        }
        Kept::Postgres(_) => {
            let fresh = testing::database("before roles").unwrap();
            let version_4 = include_str!("../../../migrations/postgres/004_schema.sql");
            testing::run(
                &fresh.url,
                &format!(
                    "{version_4}
                     CREATE TABLE schema_version (version BIGINT NOT NULL);
                     INSERT INTO schema_version VALUES (4);
                     INSERT INTO users (id, email, name, created_at, updated_at)
                         VALUES ('ada', 'ada@acme.test', 'Ada', 1, 1);
                     INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at,
                                           refresh_jti, refresh_hash)
                         VALUES ('s1', 'ada', 1, 1, 4102444800, 'j1', '\\x00');"
                ),
            );
            let db = Database::open(&fresh.url, Default::default()).unwrap();
            (db, Some(fresh))
        }
    }
}

#[test]
fn a_database_from_before_roles_gives_its_users_none_and_its_sessions_pwd() {
    for engine in engines("migrated roles") {
        eprintln!("contract test migrated roles on {}", engine.name);
        let (db, _kept) = database_from_before_roles(&engine);
        db.read(|s| {
            let users = s.list_users()?;
            assert!(!users.is_empty());
            let mut sessions = 0;
            for u in users {
                assert_eq!(u.roles, Vec::<String>::new(), "{}", u.email);
                for live in s.list_live_sessions(&u.id, 0)? {
                    assert_eq!(live.amr, ["pwd"], "{}", live.id);
                    assert_eq!(s.find_refresh(&live.id)?.unwrap().amr, ["pwd"]);
                    sessions += 1;
                }
            }
            assert!(sessions > 0);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    }
}
