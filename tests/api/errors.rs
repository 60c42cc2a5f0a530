//! Whatever a client sends, the answer is never a 5xx, and every 4xx carries
//! the spec's error shape. Bounded property tests against one live server each.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

use crate::helpers::*;

const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/user/login"),
    ("POST", "/user/refresh"),
    ("POST", "/user/logout"),
    ("GET", "/user/me"),
    ("GET", "/user/sessions"),
    ("DELETE", "/user/sessions/some-sid"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
];

const POSTS: &[&str] = &["/user/login", "/user/refresh", "/user/logout"];

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: 64,
        max_shrink_iters: 32,
        failure_persistence: None,
        ..Config::default()
    })
}

fn check(resp: &Resp, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        resp.status < 500,
        "{what}: got {} {}",
        resp.status,
        resp.text
    );
    if (400..500).contains(&resp.status) {
        if let Err(e) = resp.error_shape() {
            return Err(TestCaseError::fail(format!("{what}: {e}")));
        }
    }
    Ok(())
}

fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    if let Err(e) = runner().run(&strategy, test) {
        panic!("{e}");
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        ".{0,40}".prop_map(Value::String),
        "[a-z.]{0,10}@[a-z]{0,10}(\\.test)?".prop_map(Value::String),
        Just(json!(ADA)),
        Just(json!(ADA_PASSWORD)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Set(String, Value),
    Remove(String),
    Replace(Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    let key = prop_oneof![
        Just("email".to_string()),
        Just("password".to_string()),
        Just("refreshToken".to_string()),
        Just("all".to_string()),
        "[a-zA-Z_]{0,10}",
    ];
    prop_oneof![
        4 => (key.clone(), json_value()).prop_map(|(k, v)| Edit::Set(k, v)),
        2 => key.prop_map(Edit::Remove),
        1 => json_value().prop_map(Edit::Replace),
    ]
}

#[derive(Debug, Clone)]
enum ByteEdit {
    Keep,
    Truncate(usize),
    Insert(usize, u8),
    Overwrite(usize, u8),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        3 => Just(ByteEdit::Keep),
        1 => any::<usize>().prop_map(ByteEdit::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Overwrite(i, b)),
    ]
}

fn apply_bytes(mut bytes: Vec<u8>, edit: &ByteEdit) -> Vec<u8> {
    let len = bytes.len().max(1);
    match *edit {
        ByteEdit::Keep => {}
        ByteEdit::Truncate(i) => bytes.truncate(i % len),
        ByteEdit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        ByteEdit::Overwrite(i, b) => {
            if !bytes.is_empty() {
                bytes[i % len] = b;
            }
        }
    }
    bytes
}

/// Bytes allowed in a header value: visible ASCII, space, tab and obs-text.
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![8 => 0x20u8..=0x7e, 1 => 0x80u8..=0xff, 1 => Just(b'\t')],
        0..max,
    )
}

#[test]
fn random_bytes_at_every_endpoint_never_cause_a_5xx() {
    let app = spawn_app();
    let content_types = prop_oneof![
        Just(Some("application/json".to_string())),
        Just(None),
        Just(Some("application/json; charset=utf-8".to_string())),
        Just(Some("text/plain".to_string())),
        "[ -~]{0,40}".prop_map(Some),
    ];
    let strategy = (
        0..ENDPOINTS.len(),
        content_types,
        prop::collection::vec(any::<u8>(), 0..400),
    );

    run(strategy, |(endpoint, content_type, body)| {
        let (method, path) = ENDPOINTS[endpoint];
        let mut req = Req::new(method, path).bytes(&body);
        if let Some(ct) = &content_type {
            req = req.header("Content-Type", ct);
        }
        check(&app.send(req), &format!("{method} {path} {content_type:?}"))
    });
}

#[test]
fn mutated_json_bodies_never_cause_a_5xx() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let bases = [
        json!({ "email": ADA, "password": ADA_PASSWORD }),
        json!({ "refreshToken": tokens.refresh }),
        json!({ "refreshToken": tokens.refresh, "all": true }),
    ];
    let strategy = (
        0..bases.len(),
        0..POSTS.len(),
        prop::collection::vec(edit(), 0..4),
        byte_edit(),
    );

    run(strategy, |(base, post, edits, bytes)| {
        let mut body = bases[base].clone();
        for e in &edits {
            match (e, body.as_object_mut()) {
                (Edit::Set(k, v), Some(obj)) => {
                    obj.insert(k.clone(), v.clone());
                }
                (Edit::Remove(k), Some(obj)) => {
                    obj.remove(k);
                }
                (Edit::Replace(v), _) => body = v.clone(),
                _ => {}
            }
        }
        let bytes = apply_bytes(body.to_string().into_bytes(), &bytes);
        let path = POSTS[post];
        let resp = app.send(Req::new("POST", path).raw("application/json", &bytes));
        check(
            &resp,
            &format!("POST {path} {:?}", String::from_utf8_lossy(&bytes)),
        )
    });
}

#[test]
fn random_authorization_headers_never_cause_a_5xx() {
    let app = spawn_app();
    let auth = prop_oneof![
        header_bytes(200),
        header_bytes(200).prop_map(|b| [b"Bearer ".to_vec(), b].concat()),
        "(Bearer|bearer|Basic|BEARER)( |  |\t)?[A-Za-z0-9._=-]{0,120}".prop_map(String::into_bytes),
    ];
    let targets = prop_oneof![
        Just(("GET", "/user/me".to_string())),
        Just(("GET", "/user/sessions".to_string())),
        "[A-Za-z0-9._~-]{1,40}".prop_map(|sid| ("DELETE", format!("/user/sessions/{sid}"))),
        Just(("POST", "/user/logout".to_string())),
    ];

    run((auth, targets), |(auth, (method, path))| {
        let req = Req::new(method, &path).header("Authorization", &auth);
        check(
            &app.send(req),
            &format!(
                "{method} {path} Authorization {:?}",
                String::from_utf8_lossy(&auth)
            ),
        )
    });
}

#[derive(Debug, Clone)]
enum TokenEdit {
    SetChar(usize, char),
    Delete(usize),
    Insert(usize, char),
    Truncate(usize),
    SwapSegments(usize, usize),
    ReplaceSegment(usize, Value),
    Append(String),
}

fn token_edit() -> impl Strategy<Value = TokenEdit> {
    let ch = prop_oneof![
        8 => prop::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9'].into()),
        2 => prop::sample::select(vec!['-', '_', '.', '=', '+', '/', ' ', '%']),
    ];
    prop_oneof![
        3 => (any::<usize>(), ch.clone()).prop_map(|(i, c)| TokenEdit::SetChar(i, c)),
        1 => any::<usize>().prop_map(TokenEdit::Delete),
        1 => (any::<usize>(), ch).prop_map(|(i, c)| TokenEdit::Insert(i, c)),
        1 => any::<usize>().prop_map(TokenEdit::Truncate),
        1 => (0..3usize, 0..3usize).prop_map(|(a, b)| TokenEdit::SwapSegments(a, b)),
        2 => (0..3usize, json_value()).prop_map(|(i, v)| TokenEdit::ReplaceSegment(i, v)),
        1 => "[A-Za-z0-9._-]{0,20}".prop_map(TokenEdit::Append),
    ]
}

fn apply_token_edit(token: &str, edit: &TokenEdit) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let len = chars.len().max(1);
    match edit {
        TokenEdit::SetChar(i, c) => {
            if !chars.is_empty() {
                chars[i % len] = *c;
            }
        }
        TokenEdit::Delete(i) => {
            if !chars.is_empty() {
                chars.remove(i % len);
            }
        }
        TokenEdit::Insert(i, c) => chars.insert(i % (chars.len() + 1), *c),
        TokenEdit::Truncate(i) => chars.truncate(i % len),
        TokenEdit::SwapSegments(a, b) => {
            let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
            if *a < parts.len() && *b < parts.len() {
                parts.swap(*a, *b);
            }
            return parts.join(".");
        }
        TokenEdit::ReplaceSegment(i, v) => {
            let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
            if *i < parts.len() {
                parts[*i] = b64url_encode(v.to_string().as_bytes());
            }
            return parts.join(".");
        }
        TokenEdit::Append(s) => return format!("{token}{s}"),
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_real_tokens_never_cause_a_5xx() {
    let app = spawn_app();
    let tokens = app.login_ok(ADA, ADA_PASSWORD);
    let delete_path = format!("/user/sessions/{}", tokens.sid());
    let strategy = (
        any::<bool>(),
        prop::collection::vec(token_edit(), 1..3),
        0..5usize,
    );

    run(strategy, |(use_access, edits, target)| {
        let original = if use_access {
            &tokens.access
        } else {
            &tokens.refresh
        };
        let token = edits
            .iter()
            .fold(original.clone(), |t, e| apply_token_edit(&t, e));
        let req = match target {
            0 => Req::new("GET", "/user/me").bearer(&token),
            1 => Req::new("GET", "/user/sessions").bearer(&token),
            2 => Req::new("DELETE", &delete_path).bearer(&token),
            3 => Req::new("POST", "/user/logout").json(&json!({ "refreshToken": token })),
            _ => Req::new("POST", "/user/refresh").json(&json!({ "refreshToken": token })),
        };
        check(&app.send(req), &format!("target {target} token {token:?}"))
    });
}

#[test]
fn random_paths_and_methods_never_cause_a_5xx() {
    let app = spawn_app();
    let segment = prop_oneof![
        3 => "[A-Za-z0-9._~-]{0,20}",
        1 => "(%[0-9A-F]{2}){1,6}",
        1 => Just("..".to_string()),
    ];
    let strategy = (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH"]),
        prop::sample::select(vec![
            "/",
            "/user/",
            "/user/sessions/",
            "/.well-known/",
            "/static/",
        ]),
        prop::collection::vec(segment, 0..3),
    );

    run(strategy, |(method, prefix, segments)| {
        let path = format!("{prefix}{}", segments.join("/"));
        let req = Req::new(method, &path);
        let req = if method == "GET" || method == "DELETE" {
            req
        } else {
            req.json(&json!({}))
        };
        check(&app.send(req), &format!("{method} {path}"))
    });
}

#[test]
fn an_authorization_header_that_is_not_text_is_a_401_not_a_crash() {
    let app = spawn_app();

    for path in ["/user/me", "/user/sessions"] {
        let resp =
            app.send(Req::new("GET", path).header("Authorization", b"Bearer \xff\xfe\x80abc"));
        assert_eq!(resp.status, 401, "{path}: {}", resp.text);
        let code = resp.error_shape().expect("error shape");
        assert!(
            code == "INVALID_TOKEN" || code == "MISSING_TOKEN",
            "{path}: {code}"
        );
    }
}

#[test]
fn random_forwarded_for_headers_behind_a_trusted_proxy_never_cause_a_5xx() {
    let app = spawn_app_with(authlite::settings::Settings {
        trusted_proxies: vec![
            "127.0.0.1/32".parse().expect("CIDR"),
            "::1/128".parse().expect("CIDR"),
        ],
        ..test_settings()
    });
    let entry = prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
        Just("127.0.0.1".to_string()),
        "[ -+\\--~]{0,30}",
    ];
    let strategy = (prop::collection::vec(entry, 0..5), any::<bool>());

    run(strategy, |(entries, good_password)| {
        let forwarded = entries.join(", ");
        let password = if good_password { ADA_PASSWORD } else { "wrong" };
        let resp = app.login_with(ADA, password, &[("X-Forwarded-For", &forwarded)]);
        check(&resp, &format!("X-Forwarded-For {forwarded:?}"))
    });
}
