//! From a `postgres://` URL to connections: the URL's own settings, TLS as
//! libpq's `sslmode` defines it, the timeouts that keep a request from hanging,
//! and the pool's connection manager with a per-connection statement cache.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::types::ToSql;
use postgres::{Client, Config, Row, Statement};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How long one connection attempt may take to reach the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Sent data the server has not acknowledged within this ends the connection
/// (a database host that vanished mid-request).
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a validity check on checkout may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Server-side limits on every pooled connection, so that nothing waits for
/// long on a lock or a slow statement: such a wait ends as SQLSTATE 57014 and
/// the request gets 503 instead of hanging. A transaction left idle by a stuck
/// process is ended by the server too, letting go of its row locks.
const SESSION_OPTIONS: &str =
    "-c statement_timeout=5000 -c idle_in_transaction_session_timeout=30000";

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
pub fn parse(url: &str) -> Result<Target, String> {
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
    let verifier: Arc<dyn ServerCertVerifier> = match sslmode.as_str() {
        "disable" => {
            config.ssl_mode(SslMode::Disable);
            Arc::new(Unverified::new())
        }
        "prefer" => {
            config.ssl_mode(SslMode::Prefer);
            Arc::new(Unverified::new())
        }
        "require" => {
            config.ssl_mode(SslMode::Require);
            Arc::new(Unverified::new())
        }
        "verify-ca" | "verify-full" => {
            config.ssl_mode(SslMode::Require);
            let roots = load_roots(rootcert).map_err(|e| format!("{name}: {e}"))?;
            let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider())
                .build()
                .map_err(|e| format!("{name}: cannot use sslrootcert: {e}"))?;
            if sslmode == "verify-ca" {
                Arc::new(ChainOnly(verifier))
            } else {
                verifier
            }
        }
        other => {
            return Err(format!(
                "{name}: sslmode \"{other}\" is not supported \
                 (disable, prefer, require, verify-ca or verify-full)"
            ))
        }
    };
    let tls = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("{name}: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
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

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_roots(path: Option<PathBuf>) -> Result<Arc<RootCertStore>, String> {
    let path = match path {
        Some(path) => path,
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".postgresql/root.crt"))
            .ok_or("sslmode verify-ca and verify-full need sslrootcert=FILE")?,
    };
    let shown = path.display();
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&path)
        .map_err(|e| format!("cannot read sslrootcert {shown}: {e}"))?
    {
        let cert = cert.map_err(|e| format!("cannot read sslrootcert {shown}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert {shown} holds a bad certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("sslrootcert {shown} holds no certificate"));
    }
    Ok(Arc::new(roots))
}

/// `sslmode` prefer and require: encrypted, the server's certificate taken
/// as it is (what libpq does in these modes). Only the certificate chain is
/// not checked: the handshake's signatures are still verified, by rustls's
/// own provider, so the session keys belong to whoever holds the certificate.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl Unverified {
    fn new() -> Unverified {
        Unverified(provider())
    }
}

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a root of `sslrootcert`, the
/// name in it is not compared with the host. Everything is rustls's own
/// verifier; only its "not valid for this name" answer is let through.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
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

/// One connection and the statements prepared on it, so that a query is one
/// round trip (bind and execute) after its first use on the connection.
pub struct Conn {
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Conn {
    pub fn new(client: Client) -> Conn {
        Conn {
            client,
            statements: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// A statement the server no longer has (or whose plan a schema change
    /// made stale) is prepared again on its next use.
    fn forget_on_stale(&mut self, e: &postgres::Error) {
        use postgres::error::SqlState;
        if matches!(
            e.code(),
            Some(&SqlState::FEATURE_NOT_SUPPORTED | &SqlState::INVALID_SQL_STATEMENT_NAME)
        ) {
            self.statements.clear();
        }
    }

    pub fn query(
        &mut self,
        sql: &'static str,
        params: Params,
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        let rows = self.client.query(&statement, params);
        if let Err(e) = &rows {
            self.forget_on_stale(e);
        }
        rows
    }

    pub fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params,
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        let row = self.client.query_opt(&statement, params);
        if let Err(e) = &row {
            self.forget_on_stale(e);
        }
        row
    }

    pub fn query_one(&mut self, sql: &'static str, params: Params) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        let row = self.client.query_one(&statement, params);
        if let Err(e) = &row {
            self.forget_on_stale(e);
        }
        row
    }

    /// Rows changed.
    pub fn execute(&mut self, sql: &'static str, params: Params) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        let changed = self.client.execute(&statement, params);
        if let Err(e) = &changed {
            self.forget_on_stale(e);
        }
        changed
    }
}

/// The pool's connection manager: connects with the URL's settings and checks
/// a connection (one empty query, at most CHECK_TIMEOUT) before handing it out,
/// so that one a database restart has closed is replaced, not used.
pub struct Manager {
    pub target: Target,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let client = self.target.config.connect(self.target.tls.clone())?;
        Ok(Conn::new(client))
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.is_valid(CHECK_TIMEOUT)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
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
