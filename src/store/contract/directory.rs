//! The admin API's reads and writes: users a page at a time, their times,
//! erasing them, and orgs.

use super::{on_every_engine, refresh, session, user};
use crate::store::{Org, Status, StoreError, UserFilter, UserTimes};

fn emails(users: Vec<crate::store::User>) -> Vec<String> {
    users.into_iter().map(|u| u.email).collect()
}

#[test]
fn users_are_found_by_filter_a_page_at_a_time_by_email() {
    on_every_engine("directory search", |engine| {
        engine
            .db
            .transaction(|s| {
                s.upsert_org("acme", "Acme")?;
                for (id, name) in [("cy", "Cy Ünal"), ("ab", "Ab 100%"), ("bo", "Bo")] {
                    let mut u = user(id);
                    u.name = name.into();
                    u.org_id = (id != "bo").then(|| "acme".into());
                    u.roles = if id == "bo" {
                        vec!["admin".into()]
                    } else {
                        vec![]
                    };
                    s.insert_user(&u, 1)?;
                }
                s.set_user_status("cy", Status::Banned, 2)?;
                let all = UserFilter::default();
                assert_eq!(
                    emails(s.search_users(&all, None, 2)?),
                    ["ab@acme.test", "bo@acme.test"]
                );
                assert_eq!(
                    emails(s.search_users(&all, Some("bo@acme.test"), 2)?),
                    ["cy@acme.test"]
                );
                let query = |q: &str| UserFilter {
                    query: Some(q.into()),
                    ..Default::default()
                };
                assert_eq!(
                    emails(s.search_users(&query("b"), None, 9)?),
                    ["ab@acme.test", "bo@acme.test"]
                );
                // % is a plain character, not a wildcard.
                assert_eq!(
                    emails(s.search_users(&query("100%"), None, 9)?),
                    ["ab@acme.test"]
                );
                assert_eq!(
                    emails(s.search_users(&query("_"), None, 9)?),
                    Vec::<String>::new()
                );
                let status = UserFilter {
                    status: Some(Status::Banned),
                    ..Default::default()
                };
                assert_eq!(emails(s.search_users(&status, None, 9)?), ["cy@acme.test"]);
                let org = UserFilter {
                    org_id: Some("acme".into()),
                    ..Default::default()
                };
                assert_eq!(
                    emails(s.search_users(&org, None, 9)?),
                    ["ab@acme.test", "cy@acme.test"]
                );
                let role = UserFilter {
                    role: Some("admin".into()),
                    ..Default::default()
                };
                assert_eq!(emails(s.search_users(&role, None, 9)?), ["bo@acme.test"]);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

/// The page after a cursor is found through the email index (a range, not a
/// filter): it keeps the other filters and SQLite's byte order on both engines,
/// punctuation included (a locale's order would skip it).
#[test]
fn a_page_after_a_cursor_keeps_byte_order_and_the_filters() {
    on_every_engine("directory cursor", |engine| {
        engine
            .db
            .transaction(|s| {
                for id in ["ab", "a_x", "a.y", "a-z", "b.a"] {
                    s.insert_user(&user(id), 1)?;
                }
                let all = UserFilter::default();
                assert_eq!(
                    emails(s.search_users(&all, Some("a-z@acme.test"), 2)?),
                    ["a.y@acme.test", "a_x@acme.test"]
                );
                assert_eq!(
                    emails(s.search_users(&all, Some("a_x@acme.test"), 9)?),
                    ["ab@acme.test", "b.a@acme.test"]
                );
                let y = UserFilter {
                    query: Some("y".into()),
                    ..Default::default()
                };
                assert_eq!(
                    emails(s.search_users(&y, Some("a-z@acme.test"), 9)?),
                    ["a.y@acme.test"]
                );
                assert_eq!(
                    emails(s.search_users(&y, Some("a.y@acme.test"), 9)?),
                    Vec::<String>::new()
                );
                assert_eq!(
                    emails(s.search_users(&all, Some("b.a@acme.test"), 9)?),
                    Vec::<String>::new()
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_user_is_updated_timed_and_erased_with_everything_of_theirs() {
    on_every_engine("directory users", |engine| {
        engine
            .db
            .transaction(|s| {
                s.upsert_org("acme", "Acme")?;
                s.insert_user(&user("ada"), 5)?;
                let times = UserTimes {
                    updated_at: 5,
                    last_login_at: None,
                };
                assert_eq!(s.user_times("ada")?, Some(times));
                assert_eq!(s.user_times("nobody")?, None);
                s.record_login("ada", 9)?;
                assert_eq!(s.user_times("ada")?.unwrap().last_login_at, Some(9));
                let mut ada = s.find_user_by_id("ada")?.unwrap();
                ada.email = "lovelace@acme.test".into();
                ada.org_id = Some("acme".into());
                ada.status = Status::Inactive;
                s.update_user(&ada, 12)?;
                let read = s.find_user_by_id("ada")?.unwrap();
                assert_eq!(read.email, "lovelace@acme.test");
                assert_eq!(
                    (read.org_id.as_deref(), read.status),
                    (Some("acme"), Status::Inactive)
                );
                assert_eq!(s.user_times("ada")?.unwrap().updated_at, 12);

                s.set_user_roles("ada", &["admin".into()], 13)?;
                s.create_session(&session("s1", "ada", 500), &refresh("j1", 500))?;
                s.replace_link("ada", &[1; 32], 500, 13)?;
                assert!(s.erase_user("ada")?);
                assert!(!s.erase_user("ada")?);
                assert!(s.find_user_by_id("ada")?.is_none());
                assert!(s.find_session("s1")?.is_none());
                assert!(s.find_link(&[1; 32])?.is_none());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn orgs_are_listed_with_their_users_added_renamed_and_removed() {
    on_every_engine("directory orgs", |engine| {
        engine
            .db
            .transaction(|s| {
                assert!(s.insert_org("globex", "Globex")?);
                assert!(s.insert_org("acme", "Acme")?);
                assert!(!s.insert_org("acme", "Other")?);
                let mut ada = user("ada");
                ada.org_id = Some("acme".into());
                s.insert_user(&ada, 1)?;
                let mut gone = user("gone");
                gone.org_id = Some("acme".into());
                gone.status = Status::Deleted;
                s.insert_user(&gone, 1)?;
                let org = |id: &str, name: &str, users| Org {
                    id: id.into(),
                    name: name.into(),
                    users,
                };
                assert_eq!(
                    s.list_orgs()?,
                    [org("acme", "Acme", 1), org("globex", "Globex", 0)]
                );
                assert!(s.rename_org("acme", "Acme Inc")?);
                assert!(!s.rename_org("none", "x")?);
                assert_eq!(s.org_name("acme")?.as_deref(), Some("Acme Inc"));
                assert_eq!(s.count_org_members("acme")?, 1);
                s.set_user_status("ada", Status::Deleted, 2)?;
                assert_eq!(s.count_org_members("acme")?, 0);
                assert!(s.delete_org("acme")?);
                assert!(!s.delete_org("acme")?);
                assert_eq!(s.find_user_by_id("gone")?.unwrap().org_id, None);
                assert_eq!(s.list_orgs()?, [org("globex", "Globex", 0)]);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}
