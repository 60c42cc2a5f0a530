//! The users search (a substring of email or name) through every path an
//! engine takes: short queries, the trigram index, and a walk in email order
//! for queries that many users match; and the admin view's details of a page.

use super::{on_every_engine, user};
use crate::store::{MfaState, Status, Store, StoreError, User, UserDetails, UserFilter, UserTimes};

fn query(q: &str) -> UserFilter {
    UserFilter {
        query: Some(q.into()),
        ..Default::default()
    }
}

fn found(s: &mut dyn Store, filter: &UserFilter, after: Option<&str>) -> Vec<String> {
    let users = s.search_users(filter, after, 9).unwrap();
    users.into_iter().map(|u| u.id).collect()
}

fn named(id: &str, email: &str, name: &str) -> User {
    User {
        email: email.into(),
        name: name.into(),
        ..user(id)
    }
}

#[test]
fn a_query_is_a_literal_substring_of_email_or_lower_cased_name() {
    on_every_engine("search substring", |engine| {
        engine
            .db
            .transaction(|s| {
                for u in [
                    named("ada", "ada.lovelace@acme.test", "Ada LOVELACE"),
                    named("pct", "p1@acme.test", "Cent 100% Sure"),
                    named("snake", "snake_case@acme.test", "Sna Ke"),
                    named("quote", "q@acme.test", "Say \"Hi\" Now"),
                    named("back", "b@acme.test", "Back\\slash"),
                ] {
                    s.insert_user(&u, 1)?;
                }
                // The middle of an email, of a name (upper case stored).
                assert_eq!(found(s, &query("velac"), None), ["ada"]);
                assert_eq!(found(s, &query("a lovel"), None), ["ada"]);
                // %, _, " and \ are plain characters.
                assert_eq!(found(s, &query("0% s"), None), ["pct"]);
                assert_eq!(found(s, &query("100_"), None), Vec::<String>::new());
                assert_eq!(found(s, &query("e_c"), None), ["snake"]);
                assert_eq!(found(s, &query("a_c"), None), Vec::<String>::new());
                assert_eq!(found(s, &query("\"hi\""), None), ["quote"]);
                assert_eq!(found(s, &query("y \"h"), None), ["quote"]);
                assert_eq!(found(s, &query("k\\s"), None), ["back"]);
                assert_eq!(found(s, &query("%%%"), None), Vec::<String>::new());
                // The query comes lower-cased: an upper-case one finds nothing.
                assert_eq!(found(s, &query("LOVE"), None), Vec::<String>::new());
                // Short queries, with a cursor and filters.
                assert_eq!(found(s, &query("k"), None), ["back", "snake"]);
                assert_eq!(found(s, &query("k"), Some("b@acme.test")), ["snake"]);
                assert_eq!(found(s, &query("%"), None), ["pct"]);
                assert_eq!(found(s, &query("e_"), None), ["snake"]);
                s.set_user_status("snake", Status::Banned, 2)?;
                let banned = UserFilter {
                    status: Some(Status::Banned),
                    ..query("k")
                };
                assert_eq!(found(s, &banned, None), ["snake"]);
                let banned = UserFilter {
                    status: Some(Status::Banned),
                    ..query("ake")
                };
                assert_eq!(found(s, &banned, None), ["snake"]);
                assert_eq!(
                    found(s, &query("acme.test"), Some("p1@acme.test")),
                    ["quote", "snake"]
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_renamed_user_is_found_by_the_new_text_and_an_erased_one_not_at_all() {
    on_every_engine("search changes", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&named("ada", "ada.byron@acme.test", "Ada Byron"), 1)?;
                s.insert_user(&named("bob", "bob.stone@acme.test", "Bob Stone"), 1)?;
                let mut ada = s.find_user_by_id("ada")?.unwrap();
                ada.email = "countess@acme.test".into();
                ada.name = "Augusta King".into();
                s.update_user(&ada, 2)?;
                assert_eq!(found(s, &query("byron"), None), Vec::<String>::new());
                assert_eq!(found(s, &query("countess"), None), ["ada"]);
                assert_eq!(found(s, &query("gusta k"), None), ["ada"]);
                s.set_user_status("ada", Status::Inactive, 3)?;
                assert_eq!(found(s, &query("countess"), None), ["ada"]);
                assert!(s.erase_user("bob")?);
                assert_eq!(found(s, &query("stone"), None), Vec::<String>::new());
                assert_eq!(found(s, &query("bo"), None), Vec::<String>::new());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

/// 5,000 users match `tail` and come after 2,000 that do not: the walk in
/// email order finds no page among the first users and the trigram index
/// finds them all; a query that every user matches is walked to.
#[test]
fn a_query_many_users_match_is_found_in_order_wherever_they_are() {
    on_every_engine("search many", |engine| {
        engine
            .db
            .transaction(|s| {
                for n in 0..7000 {
                    let (id, email) = match n {
                        0..2000 => (format!("a{n}"), format!("a{n:04}@early.org")),
                        _ => (format!("t{n}"), format!("t{n:04}@tail.test")),
                    };
                    s.insert_user(&named(&id, &email, "Common Name"), 1)?;
                }
                let ids = |prefix: &str, from: u32| {
                    (from..from + 9)
                        .map(|n| format!("{prefix}{n}"))
                        .collect::<Vec<_>>()
                };
                assert_eq!(found(s, &query("tail"), None), ids("t", 2000));
                assert_eq!(
                    found(s, &query("tail"), Some("t2008@tail.test")),
                    ids("t", 2009)
                );
                assert_eq!(found(s, &query("early"), None), ids("a", 0));
                assert_eq!(found(s, &query("mon na"), None), ids("a", 0));
                assert_eq!(
                    found(s, &query("mon na"), Some("a1994@early.org")),
                    [
                        "a1995", "a1996", "a1997", "a1998", "a1999", "t2000", "t2001", "t2002",
                        "t2003"
                    ]
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}

#[test]
fn a_page_of_users_has_its_details_read_at_once() {
    on_every_engine("search details", |engine| {
        engine
            .db
            .transaction(|s| {
                s.insert_user(&user("ada"), 5)?;
                s.insert_user(&user("bob"), 6)?;
                s.record_login("ada", 9)?;
                s.begin_totp("ada", b"sealed", 7)?;
                s.enable_totp("ada", 8)?;
                s.replace_recovery_codes("ada", &[vec![1; 32], vec![2; 32]])?;
                for at in [100, 110, 120] {
                    s.record_failure("email:bob@acme.test", at)?;
                }
                let page = [
                    ("ada".to_string(), "email:ada@acme.test".to_string()),
                    ("bob".to_string(), "email:bob@acme.test".to_string()),
                    ("gone".to_string(), "email:gone@acme.test".to_string()),
                ];
                let details = s.user_details(&page, 3, 60, 130)?;
                assert_eq!(details.len(), 2);
                assert_eq!(
                    details["ada"],
                    UserDetails {
                        times: UserTimes {
                            updated_at: 5,
                            last_login_at: Some(9)
                        },
                        mfa: MfaState {
                            totp: true,
                            recovery_codes_left: 2,
                            passkeys: 0,
                        },
                        locked_until: None,
                    }
                );
                // The third newest failure within the window, plus the window.
                assert_eq!(details["bob"].locked_until, Some(160));
                assert_eq!(details["bob"].mfa, MfaState::default());
                assert_eq!(s.user_details(&page, 4, 60, 130)?["bob"].locked_until, None);
                assert_eq!(s.user_details(&page, 0, 60, 130)?["bob"].locked_until, None);
                assert_eq!(s.user_details(&page, 3, 60, 160)?["bob"].locked_until, None);
                assert!(s.user_details(&[], 3, 60, 130)?.is_empty());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    });
}
