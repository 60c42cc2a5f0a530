//! What must hold when several writers race (threads here; processes and
//! instances in tests/postgres), and the whole-database behaviours: pruning
//! in chunks, rollback, a newer schema refused.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use super::{on_every_engine, refresh, rotation, session, spent, user};
use crate::store::{Database, Limit, Store, StoreError, PRUNE_CHUNK};

/// Runs `work(i)` on `n` threads released at once; their answers in order.
/// The pool holds `n` connections first: making one takes long enough that
/// racers would otherwise start one after another.
pub(super) fn at_once<T: Send + 'static>(
    db: &Arc<Database>,
    n: usize,
    work: impl Fn(&Database, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let warm = |db: &Database, _| {
        db.read(|_| {
            thread::sleep(Duration::from_millis(200));
            Ok::<_, StoreError>(())
        })
    };
    for warmed in released_together(db, n, warm) {
        warmed.unwrap();
    }
    released_together(db, n, work)
}

fn released_together<T: Send + 'static>(
    db: &Arc<Database>,
    n: usize,
    work: impl Fn(&Database, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let start = Arc::new(Barrier::new(n));
    let work = Arc::new(work);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (db, start, work) = (db.clone(), start.clone(), work.clone());
            thread::spawn(move || {
                start.wait();
                work(&db, i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn of_two_racing_uses_of_one_refresh_token_exactly_one_wins() {
    on_every_engine("rotate race", |engine| {
        let db = &engine.db;
        db.transaction(|s| {
            s.insert_user(&user("ada"), 1)?;
            s.create_session(&session("s1", "ada", 1000), &refresh("j0", 1000))
        })
        .unwrap();

        // The first holds the row, uncommitted, while the second tries: the
        // second must wait and then find the token spent.
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let first = {
            let db = db.clone();
            thread::spawn(move || {
                db.transaction(|s| {
                    let won = s.rotate_refresh(
                        &spent("s1", "j0", &user("ada")),
                        &refresh("j1", 2000),
                        5_000,
                        b"first",
                    )?;
                    held_tx.send(()).unwrap();
                    thread::sleep(Duration::from_millis(300));
                    Ok::<_, StoreError>(won)
                })
                .unwrap()
            })
        };
        held_rx.recv().unwrap();
        let second = db
            .transaction(|s| {
                s.rotate_refresh(
                    &spent("s1", "j0", &user("ada")),
                    &refresh("j2", 2000),
                    5_001,
                    b"second",
                )
            })
            .unwrap();
        assert!(first.join().unwrap());
        assert!(!second);
        let record = db.read(|s| s.find_refresh("s1")).unwrap().unwrap();
        assert_eq!(record.refresh_jti, "j1");
        assert_eq!(record.spent_jti.as_deref(), Some("j0"));
        assert_eq!(record.grace_answer.as_deref(), Some(&b"first"[..]));

        // And free for all: of eight at once, one wins.
        let won = at_once(db, 8, |db, i| {
            let jti = format!("k{i}");
            db.transaction(|s| {
                s.rotate_refresh(
                    &spent("s1", "j1", &user("ada")),
                    &refresh(&jti, 3000),
                    6_000,
                    b"x",
                )
            })
            .unwrap()
        });
        assert_eq!(won.iter().filter(|&&won| won).count(), 1, "{won:?}");
    });
}

#[test]
fn refreshes_written_at_once_each_get_their_own_outcome() {
    on_every_engine("refreshes at once", |engine| {
        let db = &engine.db;
        db.transaction(|s| {
            s.insert_user(&user("ada"), 1)?;
            for i in 0..12 {
                let sid = format!("s{i}");
                s.create_session(&session(&sid, "ada", 1000), &refresh("j0", 1000))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
        // Sessions 0-11 each by one request, and session 0's token by four
        // more: of the five uses of that token, one wins.
        let sid_of = |i: usize| i.saturating_sub(4);
        let won = at_once(db, 16, move |db, i| {
            let sid = format!("s{}", sid_of(i));
            let next = format!("n{i}");
            let rotation = rotation(&sid, "j0", &next, &user("ada"), next.as_bytes());
            db.read(|store| db.rotate_refresh(store, rotation)).unwrap()
        });
        let on_first: Vec<usize> = (0..16).filter(|&i| sid_of(i) == 0).collect();
        assert_eq!(on_first.len(), 5);
        let winners: Vec<usize> = on_first.iter().copied().filter(|&i| won[i]).collect();
        assert_eq!(winners.len(), 1, "{won:?}");
        for i in (0..16).filter(|&i| sid_of(i) != 0) {
            assert!(won[i], "request {i}: {won:?}");
        }
        for (i, &won) in won.iter().enumerate() {
            let record = db
                .read(|s| s.find_refresh(&format!("s{}", sid_of(i))))
                .unwrap()
                .unwrap();
            if won {
                assert_eq!(record.refresh_jti, format!("n{i}"));
                assert_eq!(record.grace_answer, Some(format!("n{i}").into_bytes()));
            }
        }
    });
}

#[test]
fn eight_concurrent_failures_against_a_limit_of_three_reserve_three() {
    on_every_engine("reserve race", |engine| {
        let results = at_once(&engine.db, 8, |db, _| {
            db.transaction(|s| {
                let limits = [
                    Limit {
                        key: "email:ada@acme.test",
                        max: 3,
                    },
                    Limit {
                        key: "ip:127.0.0.1",
                        max: 50,
                    },
                ];
                let reserved = s.reserve_failures(&limits, 900, 1_000)?;
                // Hold the transaction open: without the key lock, the
                // others would count before this one's rows are committed.
                thread::sleep(Duration::from_millis(50));
                Ok::<_, StoreError>(reserved)
            })
            .unwrap()
        });
        let reserved = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(reserved, 3, "{results:?}");
        assert!(results
            .iter()
            .all(|r| r.as_ref().err().is_none_or(|&until| until == 1_900)));
        let (email, ip) = engine
            .db
            .read(|s| {
                Ok::<_, StoreError>((
                    s.locked_until("email:ada@acme.test", 3, 900, 1_000)?,
                    s.locked_until("ip:127.0.0.1", 3, 900, 1_000)?,
                ))
            })
            .unwrap();
        assert_eq!(email, Some(1_900));
        assert_eq!(ip, Some(1_900));
    });
}

#[test]
fn racing_first_starts_make_one_current_key() {
    on_every_engine("first key race", |engine| {
        let currents = at_once(&engine.db, 6, |db, i| {
            db.change_keys(false, |s| {
                if s.current_kid()?.is_none() {
                    thread::sleep(Duration::from_millis(20));
                    let byte = u8::try_from(i).unwrap();
                    s.make_key_current(&format!("kid{i}"), "EdDSA", &[byte; 64], 100)?;
                }
                s.current_kid()
            })
            .unwrap()
            .unwrap()
        });
        // Every start succeeded (the lock, not the unique index, did it), and
        // all of them saw the one key.
        assert!(
            currents.iter().all(|kid| kid == &currents[0]),
            "{currents:?}"
        );
        assert_eq!(engine.db.read(|s| s.list_keys()).unwrap().len(), 1);
    });
}

#[test]
fn racing_seeds_create_a_user_once() {
    on_every_engine("seed race", |engine| {
        let created = at_once(&engine.db, 4, |db, _| {
            db.seeding(|s| {
                if s.find_user_by_email("ada@acme.test")?.is_some() {
                    return Ok::<_, StoreError>(false);
                }
                // Long enough for every other seed to have read by now.
                thread::sleep(Duration::from_millis(150));
                s.insert_user(&user("ada"), 1)?;
                Ok(true)
            })
            .unwrap()
        });
        assert_eq!(created.iter().filter(|&&c| c).count(), 1, "{created:?}");
    });
}

#[test]
fn pruning_goes_in_chunks() {
    on_every_engine("pruning", |engine| {
        let db = &engine.db;
        let extra = 3;
        let n = PRUNE_CHUNK as usize + extra;
        db.transaction(|s| {
            s.insert_user(&user("ada"), 1)?;
            for i in 0..n {
                let (sid, jti) = (format!("s{i}"), format!("j{i}"));
                s.create_session(&session(&sid, "ada", 100), &refresh(&jti, 100))?;
                s.rotate_refresh(
                    &spent(&sid, &jti, &user("ada")),
                    &refresh("n", 100),
                    1_000,
                    b"answer",
                )?;
                s.record_failure("email:ada@acme.test", 5)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
        for store_prune in [
            |s: &mut dyn Store| s.clear_grace_answers(2_000),
            |s: &mut dyn Store| s.prune_expired_sessions(100),
            |s: &mut dyn Store| s.prune_failures(1_000, 900),
        ] {
            assert_eq!(db.transaction(store_prune).unwrap(), PRUNE_CHUNK as usize);
            assert_eq!(db.transaction(store_prune).unwrap(), extra);
            assert_eq!(db.transaction(store_prune).unwrap(), 0);
        }
    });
}

#[test]
fn an_error_rolls_the_transaction_back_and_a_duplicate_is_failed_not_unavailable() {
    on_every_engine("rollback", |engine| {
        let db = &engine.db;
        let err = db
            .transaction(|s| {
                s.insert_user(&user("ada"), 1)?;
                s.insert_user(&user("ada"), 1)
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
        assert!(db.read(|s| s.find_user_by_id("ada")).unwrap().is_none());
        // The connection went back clean: the next transaction is its own.
        db.transaction(|s| s.insert_user(&user("ada"), 1)).unwrap();
        assert!(db.read(|s| s.find_user_by_id("ada")).unwrap().is_some());
        assert!(db.can_write().is_ok());
    });
}

#[test]
fn a_newer_schema_is_refused() {
    on_every_engine("newer schema", |engine| {
        engine.set_schema_version(99);
        let err = Database::open(&engine.target, Default::default())
            .err()
            .unwrap();
        assert!(err.contains("schema version 99 is newer"), "{err}");
    });
}

#[test]
fn of_two_racing_role_changes_that_together_pass_the_limit_one_is_refused() {
    on_every_engine("roles race", |engine| {
        let db = &engine.db;
        let mut ada = user("ada");
        ada.roles = (0..31).map(|i| format!("r{i:02}")).collect();
        db.transaction(|s| s.insert_user(&ada, 1)).unwrap();

        // Each adds one role and, as `user roles` does, rolls back past 32;
        // each holds its change a while, so that the other comes meanwhile.
        let outcomes = at_once(db, 2, |db, i| {
            db.transaction(|s| {
                let held = s.change_user_roles("ada", &[format!("new{i}")], &[], 2)?;
                thread::sleep(Duration::from_millis(300));
                match held.len() > 32 {
                    true => Err(StoreError::Failed("over the limit".into())),
                    false => Ok(held.len()),
                }
            })
        });
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "{outcomes:?}");
        let held = db
            .read(|s| s.find_user_by_id("ada"))
            .unwrap()
            .unwrap()
            .roles;
        assert_eq!(held.len(), 32);
    });
}
