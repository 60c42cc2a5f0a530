//! The load generator's HTTP/1.1 clients: a hand-written keep-alive exchange
//! over `TcpStream` (the default, cheapest on two shared cores) or a ureq agent.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use crate::server::PASSWORD;

#[derive(Clone, Copy, PartialEq)]
pub enum ClientKind {
    Raw,
    Ureq,
}

pub fn login(conn: &mut Conn, email: &str) -> Result<Reply, String> {
    let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    checked(conn.send("POST", "/user/login", None, Some(&body)))
}

/// Logs in for a token, waiting out SERVER_BUSY while many clients start at once.
pub fn login_until_ok(conn: &mut Conn, email: &str, field: &str) -> String {
    for _ in 0..120 {
        if let Some(token) = login(conn, email)
            .ok()
            .and_then(|r| json_str(&r.body, field))
        {
            return token;
        }
    }
    panic!("{email} could not log in");
}

/// A 200 reply, or the error's code. A client honours Retry-After (up to 1 s)
/// as a real one would, instead of spinning on SERVER_BUSY.
pub fn checked(reply: io::Result<Reply>) -> Result<Reply, String> {
    let reply = reply.map_err(|e| format!("io: {}", e.kind()))?;
    if reply.status == 200 {
        return Ok(reply);
    }
    if let Some(secs) = reply.retry_after {
        thread::sleep(Duration::from_secs(secs.min(1)));
    }
    Err(json_str(&reply.body, "error_code").unwrap_or_else(|| format!("HTTP {}", reply.status)))
}

/// The string value of `"key":"…"` in a compact JSON body (tokens need no unescaping).
pub fn json_str(body: &str, key: &str) -> Option<String> {
    let start = body.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_string())
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
}

/// One keep-alive connection: a hand-written HTTP/1.1 exchange, or a ureq agent.
pub enum Conn {
    Raw(SocketAddr, Option<BufReader<TcpStream>>),
    Ureq(String, ureq::Agent),
}

impl Conn {
    pub fn new(kind: ClientKind, addr: SocketAddr) -> Conn {
        match kind {
            ClientKind::Raw => Conn::Raw(addr, None),
            ClientKind::Ureq => {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                Conn::Ureq(format!("http://{addr}"), agent)
            }
        }
    }

    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> io::Result<Reply> {
        match self {
            Conn::Raw(addr, stream) => {
                let reused = stream.is_some();
                let mut result = raw_exchange(*addr, stream, method, path, bearer, body);
                if result.is_err() {
                    *stream = None;
                }
                // The server closed an idle keep-alive connection (while the other
                // clients were still logging in): the request was never read, so
                // sending it again on a new connection is safe, even a refresh.
                if reused && matches!(&result, Err(e) if closed(e)) {
                    result = raw_exchange(*addr, stream, method, path, bearer, body);
                    if result.is_err() {
                        *stream = None;
                    }
                }
                result
            }
            Conn::Ureq(base, agent) => ureq_exchange(agent, &format!("{base}{path}"), bearer, body),
        }
    }
}

/// The errors of a connection the server had closed before the request came.
fn closed(e: &io::Error) -> bool {
    use io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
    matches!(e.kind(), UnexpectedEof | ConnectionReset | BrokenPipe)
}

fn raw_exchange(
    addr: SocketAddr,
    stream: &mut Option<BufReader<TcpStream>>,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> io::Result<Reply> {
    if stream.is_none() {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        *stream = Some(BufReader::new(s));
    }
    let reader = stream.as_mut().expect("connected above");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if let Some(token) = bearer {
        request += &format!("Authorization: Bearer {token}\r\n");
    }
    if let Some(body) = body {
        request += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    } else {
        request += "\r\n";
    }
    reader.get_mut().write_all(request.as_bytes())?;
    read_reply(reader)
}

/// Reads one response whose body has a Content-Length (all of authlite's JSON answers do).
fn read_reply(reader: &mut BufReader<TcpStream>) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before the answer",
        ));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("status line"))?;
    let (mut length, mut retry_after) = (None, None);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in the headers"));
        }
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = value.parse().ok();
        }
    }
    let mut body = vec![0; length.ok_or_else(|| bad("no Content-Length"))?];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
    Ok(Reply {
        status,
        body,
        retry_after,
    })
}

fn ureq_exchange(
    agent: &ureq::Agent,
    url: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> io::Result<Reply> {
    let result = match (body, bearer) {
        (Some(body), _) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
        (None, Some(token)) => agent
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call(),
        (None, None) => agent.get(url).call(),
    };
    let mut response = result.map_err(io::Error::other)?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Ok(Reply {
        status: response.status().as_u16(),
        body: response
            .body_mut()
            .read_to_string()
            .map_err(io::Error::other)?,
        retry_after,
    })
}
