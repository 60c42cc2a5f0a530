//! Reading a request: its JSON body (bounded), its bearer token, and the client address.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use actix_web::http::header;
use actix_web::rt::time::timeout;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use ipnet::IpNet;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::{too_large, unsupported_media_type, MAX_BODY};
use crate::error::{ApiError, ErrorCode};
use crate::store::Origin;
use crate::tokens::TokenError;

/// How long the whole body may take to arrive (SPEC §2).
pub const BODY_WAIT: Duration = Duration::from_secs(10);

/// Reads the body, at most MAX_BODY bytes within BODY_WAIT; a body that is not JSON is refused.
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    if let Some(essence) = media_type(req) {
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(unsupported_media_type());
        }
    }
    read_limited(req, payload).await
}

/// The Content-Type's media type, lower case, if the request has one.
fn media_type(req: &HttpRequest) -> Option<String> {
    let content_type = req.headers().get(header::CONTENT_TYPE)?;
    let essence = content_type.to_str().unwrap_or_default().split(';').next();
    Some(essence.unwrap_or_default().trim().to_ascii_lowercase())
}

/// A form body (`application/x-www-form-urlencoded`, as OAuth's token
/// endpoint takes) as its pairs, read as `read_body` reads; Err(None) when
/// the body is not such a form.
pub(crate) async fn form_body(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, Option<ApiError>> {
    if media_type(req).as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(None);
    }
    let body = read_limited(req, payload).await.map_err(Some)?;
    serde_urlencoded::from_bytes(&body).map_err(|_| None)
}

async fn read_limited(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let read = async move {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|_| ApiError::invalid_request("The request body could not be read."))?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    // A client that trickles its body holds a connection, never longer than this.
    timeout(BODY_WAIT, read).await.map_err(|_| {
        ApiError::with_message(
            ErrorCode::RequestTimeout,
            format!(
                "The request body did not arrive within {} seconds.",
                BODY_WAIT.as_secs()
            ),
        )
    })?
}

/// Reads a JSON body into `T`. The message never quotes the body: it may hold a password.
pub(crate) async fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ApiError> {
    let body = read_body(req, payload).await?;
    parse_json(&body)
}

/// Like `json_body`, but an empty body (or `null`) is `None`.
pub(crate) async fn optional_json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Option<T>, ApiError> {
    let body = read_body(req, payload).await?;
    if body.trim_ascii().is_empty() || body.trim_ascii() == b"null" {
        return Ok(None);
    }
    parse_json(&body).map(Some)
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // serde would read an array into a struct's fields in order: only an object is a request.
    let is_object = body.trim_ascii_start().first() == Some(&b'{');
    if !is_object && serde_json::from_slice::<IgnoredAny>(body).is_ok() {
        return Err(ApiError::invalid_request(
            "The request body must be a JSON object.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        let message = match e.classify() {
            Category::Data => describe_data_error(&e.to_string()),
            Category::Eof if body.is_empty() => {
                "The request body is empty; JSON is expected.".into()
            }
            _ => format!(
                "The request body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            ),
        };
        ApiError::invalid_request(message)
    })
}

/// serde's message without any value it quotes: "missing field `email`" stays,
/// "invalid type: string \"hunter2\", expected a boolean" loses the string.
fn describe_data_error(raw: &str) -> String {
    let raw = raw.split(" at line ").next().unwrap_or(raw);
    if raw.starts_with("missing field") {
        return format!("{}.", capitalise(raw));
    }
    match raw.split_once(", expected ") {
        Some((_, expected)) => format!("A field has the wrong type: expected {expected}."),
        None => "The request body does not have the expected fields.".into(),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The bearer token, or 401 MISSING_TOKEN.
/// A count of seconds as JSON Schema's `integer` allows it: a whole number,
/// written `4428` or `4428.0`. serde's `u64` refuses the second, which the
/// OpenAPI document (3.1) calls valid.
pub(crate) fn whole_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let number: Option<serde_json::Number> = serde::Deserialize::deserialize(deserializer)?;
    let Some(number) = number else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(f))
            .map(|f| f as u64)
    });
    whole
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("expected a whole number of seconds"))
}

pub(crate) fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    optional_bearer(req)?.ok_or_else(|| ApiError::new(ErrorCode::MissingToken))
}

/// The bearer token if the request has an Authorization header.
pub(crate) fn optional_bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::new(ErrorCode::InvalidToken))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::MissingToken));
    }
    Ok(Some(token.trim().to_string()))
}

pub(crate) fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Invalid => ApiError::new(ErrorCode::InvalidToken),
        TokenError::Expired => ApiError::new(ErrorCode::TokenExpired),
    }
}

/// Where the request came from, for the audit log.
pub(crate) fn origin(req: &HttpRequest, trusted: &[IpNet]) -> Origin {
    Origin {
        ip: client_ip(req, trusted).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect()),
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the
/// right-most X-Forwarded-For entry that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_forwarded(entry) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[derive(serde::Deserialize)]
    struct Ttl {
        #[serde(default, deserialize_with = "super::whole_seconds")]
        ttl: Option<u64>,
    }

    #[test]
    fn whole_seconds_take_an_integer_written_either_way_and_nothing_else() {
        let read = |json: &str| serde_json::from_str::<Ttl>(json).map(|t| t.ttl).ok();
        assert_eq!(read(r#"{"ttl": 4428}"#), Some(Some(4428)));
        assert_eq!(read(r#"{"ttl": 4428.0}"#), Some(Some(4428)));
        assert_eq!(read(r#"{}"#), Some(None));
        assert_eq!(read(r#"{"ttl": null}"#), Some(None));
        assert_eq!(read(r#"{"ttl": 1.5}"#), None);
        assert_eq!(read(r#"{"ttl": -1}"#), None);
        assert_eq!(read(r#"{"ttl": "60"}"#), None);
        assert_eq!(read(r#"{"ttl": 1e300}"#), None);
    }

    fn trusted() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap()]
    }

    fn request(peer: &str, forwarded: &[&str]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for value in forwarded {
            req = req.append_header(("X-Forwarded-For", *value));
        }
        req.to_http_request()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let req = request("203.0.113.9:5000", &["1.2.3.4"]);
        assert_eq!(client_ip(&req, &trusted()), "203.0.113.9".parse().ok());
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let req = request("10.0.0.1:5000", &["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(client_ip(&req, &trusted()), "198.51.100.7".parse().ok());
    }

    #[test]
    fn a_garbled_entry_stops_the_walk() {
        let req = request("10.0.0.1:5000", &["6.6.6.6, nonsense"]);
        assert_eq!(client_ip(&req, &trusted()), "10.0.0.1".parse().ok());
    }

    #[test]
    fn serde_messages_lose_the_values_they_quote() {
        let m = describe_data_error(
            "invalid type: string \"hunter2\", expected a boolean at line 1 column 9",
        );
        assert_eq!(m, "A field has the wrong type: expected a boolean.");
        let m = describe_data_error("missing field `email` at line 1 column 2");
        assert_eq!(m, "Missing field `email`.");
    }
}
