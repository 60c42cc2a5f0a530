//! Micro-benchmarks of what a request costs, part by part: `cargo bench --bench parts`.
//!
//! Together they split the load test's figures: the hash, the signature, the
//! SQLite transaction, and what the framework adds around them.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use actix_web::http::header::ContentType;
use actix_web::test::{self, TestRequest};
use actix_web::{web, App};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use serde::Deserialize;

use authlite::clock::{now, now_ms};
use authlite::ids::new_id;
use authlite::password;
use authlite::settings::Settings;
use authlite::state::AppState;
use authlite::store::{Database, NewRefresh, Session, Spent, StoreError};
use authlite::tokens::{AccessClaims, Claims, Keys, ACCESS, AMR_PASSWORD};

const EMAIL: &str = "ada@acme.test";
const PASSWORD: &str = "correct horse battery staple";

fn seeded_pool(dir: &Path, iterations: u32) -> Database {
    let pool = Database::sqlite(&dir.join("bench.db")).expect("open the database");
    let seed = format!(
        r#"{{"orgs":[{{"id":"acme","name":"Acme"}}],
            "users":[{{"email":"{EMAIL}","name":"Ada","orgId":"acme","password":"{PASSWORD}"}}]}}"#
    );
    authlite::seed::apply(&pool, &seed, "bench seed", iterations, false).expect("seed");
    pool
}

fn password_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("password verify");
    // One verification at 600,000 iterations is ~0.1 s: time each one alone.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for iterations in [600_000, 1_000] {
        let phc = password::hash(PASSWORD, iterations).expect("a hash");
        group.bench_function(format!("{iterations} iterations"), |b| {
            b.iter(|| assert!(password::verify(black_box(PASSWORD), &phc)))
        });
    }
    group.finish();
}

fn access_claims() -> Claims<AccessClaims> {
    let now = now();
    Claims {
        iss: "authlite".into(),
        sub: new_id(),
        iat: now,
        exp: now + 3600,
        jti: new_id(),
        custom: AccessClaims {
            sid: new_id(),
            typ: ACCESS.into(),
            email: EMAIL.into(),
            name: "Ada Lovelace".into(),
            org_id: Some("acme".into()),
            roles: vec![],
            amr: vec![AMR_PASSWORD.into()],
            client_id: None,
            scope: None,
        },
    }
}

fn access_token(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = Database::sqlite(&dir.path().join("keys.db")).expect("open the database");
    let keys = Keys::load(&db, 3600).expect("keys");
    let ring = db
        .read(|store| Ok::<_, StoreError>(keys.ring(store)))
        .expect("a ring");
    let mut group = c.benchmark_group("access token");
    group.bench_function("sign", |b| {
        b.iter(|| ring.sign(access_claims()).expect("signed"))
    });
    let token = ring.sign(access_claims()).expect("signed");
    group.bench_function("verify", |b| {
        b.iter(|| {
            ring.verify_access(black_box(&token), "authlite")
                .expect("valid")
        })
    });
    group.finish();
}

/// The SQL of one rotation, as the refresh handler runs it, without signing or HTTP.
fn refresh_transaction(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = seeded_pool(dir.path(), password::MIN_ITERATIONS);
    let user = db
        .read(|store| store.find_user_by_email(EMAIL))
        .expect("query")
        .expect("the user");
    let session = Session {
        id: new_id(),
        user_id: user.id,
        created_at: now(),
        last_used_at: now(),
        expires_at: now() + 3600,
        revoked_at: None,
        user_agent: None,
        ip: None,
        amr: vec![AMR_PASSWORD.into()],
    };
    let mut jti = new_id();
    let first = NewRefresh {
        jti: &jti,
        hash: &[0; 32],
        expires_at: now() + 3600,
    };
    db.transaction(|store| store.create_session(&session, &first))
        .expect("a session");
    // The stored answer is a token pair of about this size.
    let answer = vec![b'x'; 1100];
    c.bench_function("refresh transaction (SQL only)", |b| {
        b.iter(|| {
            let next_jti = new_id();
            let spent = db
                .transaction(|store| {
                    let record = store.find_refresh(&session.id)?.expect("session");
                    assert_eq!(record.refresh_jti, jti);
                    let next = NewRefresh {
                        jti: &next_jti,
                        hash: &[0; 32],
                        expires_at: now() + 3600,
                    };
                    let spent = Spent {
                        sid: &session.id,
                        jti: &jti,
                        hash: &[0; 32],
                        user: &record.user,
                        amr: &record.amr,
                        for_client: false,
                    };
                    store.rotate_refresh(&spent, &next, now_ms(), &answer)
                })
                .expect("rotate");
            assert!(spent);
            jti = next_jti;
        })
    });
}

fn json_request(uri: &str, body: String) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(ContentType::json())
        .set_payload(body)
}

/// The part of a login or refresh answer the next request needs; an error body fails to parse.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pair {
    access_token: String,
    refresh_token: String,
}

#[derive(Deserialize)]
struct Me {
    #[allow(dead_code)]
    user: serde_json::Value,
}

/// Login, refresh and /user/me through the real handlers and routes, in-process
/// (no sockets), at 1,000 iterations so that the hash hardly counts.
fn handlers(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let pool = seeded_pool(dir.path(), password::MIN_ITERATIONS);
    let settings = Settings {
        pbkdf2_iterations: password::MIN_ITERATIONS,
        ..Settings::default()
    };
    let state = AppState::new(pool, settings).expect("app state");
    let rt = actix_web::rt::System::new();
    let app = rt.block_on(test::init_service(
        App::new()
            .app_data(web::Data::new(state))
            .configure(authlite::app::configure),
    ));
    let login_body = format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}"}}"#);
    let login = || json_request("/user/login", login_body.clone()).to_request();

    let mut group = c.benchmark_group("handler");
    group.bench_function("login at 1000 iterations", |b| {
        b.iter(|| -> Pair { rt.block_on(test::call_and_read_body_json(&app, login())) })
    });
    let pair: Pair = rt.block_on(test::call_and_read_body_json(&app, login()));
    let mut refresh_token = pair.refresh_token;
    group.bench_function("refresh (rotation)", |b| {
        b.iter(|| {
            let body = format!(r#"{{"refreshToken":"{refresh_token}"}}"#);
            let req = json_request("/user/refresh", body).to_request();
            let answer: Pair = rt.block_on(test::call_and_read_body_json(&app, req));
            refresh_token = answer.refresh_token;
        })
    });
    let bearer = format!("Bearer {}", pair.access_token);
    group.bench_function("me", |b| {
        b.iter(|| {
            let req = TestRequest::get()
                .uri("/user/me")
                .insert_header(("Authorization", bearer.as_str()))
                .to_request();
            let me: Me = rt.block_on(test::call_and_read_body_json(&app, req));
            me
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = parts;
    config = config();
    targets = password_verify, access_token, refresh_transaction, handlers
}
criterion_main!(parts);
