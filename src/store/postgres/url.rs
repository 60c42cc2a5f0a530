//! From a `postgres://` URL to what a connection needs: the URL's own
//! settings, TLS as `sslmode` says (see `tls.rs`), and the timeouts that keep
//! a request from hanging.

use std::path::PathBuf;
use std::time::Duration;

use postgres::Config;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::tls;

/// How long one connection attempt may take to reach the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Sent data the server has not acknowledged within this ends the connection
/// (a database host that vanished mid-request).
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(5);
/// Server-side limits on every pooled connection, so that nothing waits for
/// long on a lock or a slow statement: such a wait ends as SQLSTATE 57014 and
/// the request gets 503 instead of hanging. A transaction left idle by a stuck
/// process is ended by the server too, letting go of its row locks.
const SESSION_OPTIONS: &str =
    "-c statement_timeout=5000 -c idle_in_transaction_session_timeout=30000";

/// Whether `target` names a PostgreSQL database rather than an SQLite file.
pub fn is_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// What a URL says, ready to connect with.
#[derive(Clone)]
pub struct Target {
    pub config: Config,
    pub tls: MakeRustlsConnect,
    /// The URL without its password, as messages name the database.
    pub name: String,
}

/// Reads a `postgres://` URL. `sslmode` may be `disable`, `prefer` (the
/// default), `require`, `verify-ca` or `verify-full` (the last two with the
/// roots in `sslrootcert`, by default `~/.postgresql/root.crt`, as libpq).
/// Errors never hold the password.
pub fn parse(url: &str) -> std::result::Result<Target, String> {
    let name = without_password(url);
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    // sslmode and sslrootcert are read here (the client library knows neither
    // verify-* nor sslrootcert); everything else goes to it as given.
    let mut sslmode = String::from("prefer");
    let mut rootcert = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => sslmode = percent_decode(value),
            "sslrootcert" => rootcert = Some(PathBuf::from(percent_decode(value))),
            _ => rest.push(pair),
        }
    }
    let passed = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let mut config: Config = passed
        .parse()
        .map_err(|e| format!("{name} is not a usable PostgreSQL URL: {e}"))?;
    let tls =
        tls::for_sslmode(&sslmode, rootcert, &mut config).map_err(|e| format!("{name}: {e}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("authlite");
    }
    let options = match config.get_options() {
        Some(own) if !own.is_empty() => format!("{own} {SESSION_OPTIONS}"),
        _ => SESSION_OPTIONS.to_string(),
    };
    config.options(&options);
    Ok(Target {
        config,
        tls: MakeRustlsConnect::new(tls),
        name,
    })
}

/// The URL as messages show it: no password, neither in the user part nor as
/// a `password=` parameter.
pub fn without_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    let mut shown = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.starts_with("password="))
            .collect();
        if !kept.is_empty() {
            shown.push('?');
            shown.push_str(&kept.join("&"));
        }
    }
    shown
}

/// `%XX` escapes as a URL carries them; anything malformed stays as it is.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        for (url, shown) in [
            (
                "postgres://ada:s3cret@db.example:5432/auth?sslmode=require",
                "postgres://ada@db.example:5432/auth?sslmode=require",
            ),
            ("postgresql://ada@db/auth", "postgresql://ada@db/auth"),
            ("postgres://db/auth?password=s3cret", "postgres://db/auth"),
            (
                "postgres://db/auth?sslmode=disable&password=s3cret",
                "postgres://db/auth?sslmode=disable",
            ),
            ("postgres://a:p@ss@db/x", "postgres://a@db/x"),
        ] {
            assert_eq!(without_password(url), shown);
        }
    }

    #[test]
    fn a_bad_url_is_one_sentence_without_its_password() {
        for url in [
            "postgres://ada:s3cret@db/auth?sslmode=sometimes",
            "postgres://ada:s3cret@db/auth?nonsense=1",
            "postgres://ada:s3cret@db:notaport/auth",
        ] {
            let err = parse(url).err().unwrap();
            assert!(!err.contains("s3cret"), "{err}");
            assert!(err.contains("postgres://ada@db"), "{err}");
        }
    }

    #[test]
    fn verify_modes_need_readable_roots() {
        let err = parse("postgres://db/x?sslmode=verify-full&sslrootcert=/nonexistent/root.crt")
            .err()
            .unwrap();
        assert!(err.contains("/nonexistent/root.crt"), "{err}");
    }

    #[test]
    fn escapes_in_values_are_read() {
        assert_eq!(percent_decode("%2Fetc%2Froot.crt"), "/etc/root.crt");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
