//! The audit log: appended, listed newest first with every filter and the
//! cursor, and pruned in chunks.

use serde_json::json;

use super::on_every_engine;
use crate::store::{AuditEvent, AuditQuery, Origin, StoreError, PRUNE_CHUNK};

fn event(kind: &str, user: Option<&str>, at: u64) -> AuditEvent {
    let event = AuditEvent::new(kind, "cli", at, json!({ "n": at }));
    match user {
        Some(id) => event.user(id),
        None => event,
    }
}

fn ats(events: &[AuditEvent]) -> Vec<u64> {
    events.iter().map(|e| e.at).collect()
}

#[test]
fn audit_events_read_back_exactly_as_appended() {
    on_every_engine("audit events", |engine| {
        let written = AuditEvent::new(
            "login.failed",
            "system",
            42,
            json!({"email": "a@b.c", "code": "INVALID_PASSWORD"}),
        )
        .user("ada")
        .origin(&Origin {
            ip: Some("192.0.2.7".into()),
            user_agent: Some("curl/8".into()),
        });
        let id = engine.db.transaction(|s| s.append_event(&written)).unwrap();
        let read = engine
            .db
            .read(|s| {
                s.list_events(&AuditQuery {
                    limit: 10,
                    ..Default::default()
                })
            })
            .unwrap();
        assert_eq!(read, [AuditEvent { id, ..written }]);
    });
}

#[test]
fn audit_events_list_newest_first_by_every_filter_and_page_by_cursor() {
    on_every_engine("audit filters", |engine| {
        engine
            .db
            .transaction(|s| {
                for at in 1..=6 {
                    let user = ["ada", "bob"][(at % 2) as usize];
                    let kind = ["login.succeeded", "session.revoked"][(at % 3 == 0) as usize];
                    s.append_event(&event(kind, Some(user), at * 10))?;
                }
                s.append_event(&event("login.failed", None, 70))?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let list = |q: AuditQuery| engine.db.read(|s| s.list_events(&q)).unwrap();
        let all = AuditQuery {
            limit: 50,
            ..Default::default()
        };
        assert_eq!(ats(&list(all.clone())), [70, 60, 50, 40, 30, 20, 10]);
        let ada = AuditQuery {
            user_id: Some("ada".into()),
            ..all.clone()
        };
        assert_eq!(ats(&list(ada.clone())), [60, 40, 20]);
        let revoked = AuditQuery {
            kind: Some("session.revoked".into()),
            ..all.clone()
        };
        assert_eq!(ats(&list(revoked.clone())), [60, 30]);
        let both = AuditQuery {
            kind: Some("session.revoked".into()),
            ..ada.clone()
        };
        assert_eq!(ats(&list(both)), [60]);
        let window = AuditQuery {
            since: Some(20),
            until: Some(50),
            ..all.clone()
        };
        assert_eq!(ats(&list(window)), [50, 40, 30, 20]);
        let bob_since = AuditQuery {
            user_id: Some("bob".into()),
            since: Some(30),
            ..all.clone()
        };
        assert_eq!(ats(&list(bob_since)), [50, 30]);
        let revoked_until = AuditQuery {
            until: Some(59),
            ..revoked
        };
        assert_eq!(ats(&list(revoked_until)), [30]);

        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let page = list(AuditQuery {
                before: cursor,
                limit: 3,
                ..Default::default()
            });
            let Some(last) = page.last() else { break };
            cursor = Some(last.id);
            pages.push(ats(&page));
            // An event added between pages is newer than every cursor: never on a later page.
            engine
                .db
                .transaction(|s| s.append_event(&event("key.rotated", None, 99)))
                .unwrap();
        }
        assert_eq!(pages, [vec![70, 60, 50], vec![40, 30, 20], vec![10]]);
    });
}

#[test]
fn audit_events_are_pruned_oldest_first_a_chunk_at_a_time() {
    on_every_engine("audit pruning", |engine| {
        let old = u64::from(PRUNE_CHUNK) + 5;
        engine
            .db
            .transaction(|s| {
                for at in 0..old {
                    s.append_event(&event("login.failed", None, at))?;
                }
                s.append_event(&event("login.failed", None, 1000))?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let prune = || engine.db.transaction(|s| s.prune_events(1000)).unwrap();
        assert_eq!(prune(), PRUNE_CHUNK as usize);
        assert_eq!(prune(), 5);
        assert_eq!(prune(), 0);
        let left = engine
            .db
            .read(|s| {
                s.list_events(&AuditQuery {
                    limit: 10,
                    ..Default::default()
                })
            })
            .unwrap();
        assert_eq!(ats(&left), [1000]);
    });
}

#[test]
fn an_erased_users_email_leaves_every_event_and_their_id_stays() {
    on_every_engine("audit forget email", |engine| {
        let failed = |user: Option<&str>, email: &str| {
            let detail = json!({"email": email, "code": "INVALID_PASSWORD"});
            let event = AuditEvent::new("login.failed", "system", 5, detail);
            match user {
                Some(id) => event.user(id),
                None => event,
            }
        };
        let written = [
            failed(Some("ada"), "ada@acme.test"),
            // An address Ada had before, under her id.
            failed(Some("ada"), "old@acme.test"),
            // Her address after a deletion, when the login knew no user.
            failed(None, "ada@acme.test"),
            AuditEvent::new("user.unlocked", "cli", 6, json!({"cleared": 2})).user("ada"),
            failed(Some("bob"), "bob@acme.test"),
            AuditEvent::new(
                "login.locked",
                "system",
                7,
                json!({"email": "Ada@Acme.Test", "seen": ["x", "ada@acme.test"]}),
            ),
        ];
        let changed = engine
            .db
            .transaction(|s| {
                for event in &written {
                    s.append_event(event)?;
                }
                s.forget_email("ada", "ada@acme.test")
            })
            .unwrap();
        assert_eq!(changed, 4);
        let query = AuditQuery {
            limit: 10,
            ..Default::default()
        };
        let read = engine.db.read(|s| s.list_events(&query)).unwrap();
        let shown: Vec<_> = read
            .iter()
            .rev()
            .map(|e| (e.user_id.as_deref(), e.detail.clone()))
            .collect();
        let gone = json!({"email": null, "code": "INVALID_PASSWORD"});
        assert_eq!(
            shown,
            [
                (Some("ada"), gone.clone()),
                (Some("ada"), gone.clone()),
                (None, gone),
                (Some("ada"), json!({"cleared": 2})),
                (
                    Some("bob"),
                    json!({"email": "bob@acme.test", "code": "INVALID_PASSWORD"})
                ),
                (None, json!({"email": null, "seen": ["x", null]})),
            ]
        );
    });
}
