//! How a message leaves: lettre builds the MIME message and speaks SMTP
//! (plain, STARTTLS with `?tls=required`, or TLS from the start with
//! `smtps://`, through rustls), or it is written as one `.eml` file (mode
//! 0600) into `--mail-dir`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};

use super::{EmailSettings, Rendered, Transport};

/// How long one exchange with the mail server may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a message did not leave this time.
#[derive(Debug)]
pub struct Failure {
    /// A 5xx answer: the server will not take it, so it is not tried again.
    pub permanent: bool,
    /// One line, for the log and the outbox row (no credentials).
    pub reason: String,
}

/// A ready way out, built once from the settings.
#[derive(Clone)]
pub struct Delivery {
    way: Way,
    from: Mailbox,
}

#[derive(Clone)]
enum Way {
    Smtp(Box<SmtpTransport>),
    Dir(PathBuf),
}

impl Delivery {
    /// Checks the settings: one sentence naming the flag when they will not do.
    pub fn new(settings: &EmailSettings) -> Result<Delivery, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("--mail-from \"{}\" is not an address: {e}", settings.from))?;
        let way = match &settings.transport {
            Transport::Smtp { url, ca_file } => Way::Smtp(Box::new(smtp(url, ca_file.as_deref())?)),
            Transport::Dir(dir) => {
                if !dir.is_dir() {
                    return Err(format!("--mail-dir {}: not a directory", dir.display()));
                }
                Way::Dir(dir.clone())
            }
        };
        Ok(Delivery { way, from })
    }

    /// Sends one message; `id` names it (its Message-ID and file name), the
    /// same on every attempt so that a receiver can tell a repeat.
    pub fn send(&self, id: &str, to: &str, message: &Rendered) -> Result<(), Failure> {
        let to: Mailbox = to.parse().map_err(|e| Failure {
            permanent: true,
            reason: format!("the recipient is not an address: {e}"),
        })?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!("<{id}@authlite>")))
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|e| Failure {
                permanent: true,
                reason: format!("the message cannot be built: {e}"),
            })?;
        match &self.way {
            Way::Smtp(transport) => transport.send(&email).map(drop).map_err(|e| Failure {
                permanent: e.is_permanent(),
                reason: one_line(&e.to_string()),
            }),
            Way::Dir(dir) => write_file(dir, id, &email.formatted()).map_err(|e| Failure {
                permanent: false,
                reason: format!("cannot write into {}: {e}", dir.display()),
            }),
        }
    }
}

fn smtp(url: &str, ca_file: Option<&Path>) -> Result<SmtpTransport, String> {
    let shown = shown_url(url);
    let refused = |e: lettre::transport::smtp::Error| format!("--smtp-url {shown}: {e}");
    let mut builder = SmtpTransport::from_url(url).map_err(refused)?;
    if let Some(path) = ca_file {
        let pem = fs::read(path)
            .map_err(|e| format!("--smtp-ca-file {}: cannot read it: {e}", path.display()))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            format!(
                "--smtp-ca-file {}: not a PEM certificate: {e}",
                path.display()
            )
        })?;
        let parsed = url::Url::parse(url).map_err(|e| format!("--smtp-url {shown}: {e}"))?;
        let host = parsed.host_str().unwrap_or_default().to_string();
        let params = TlsParameters::builder(host)
            .add_root_certificate(cert)
            .build_rustls()
            .map_err(refused)?;
        let tls = parsed.query_pairs().find(|(k, _)| k == "tls");
        builder = match (parsed.scheme(), tls.as_ref().map(|(_, v)| v.as_ref())) {
            ("smtps", _) => builder.tls(Tls::Wrapper(params)),
            ("smtp", Some("required")) => builder.tls(Tls::Required(params)),
            ("smtp", Some("opportunistic")) => builder.tls(Tls::Opportunistic(params)),
            _ => {
                return Err(format!(
                "--smtp-ca-file is for TLS: give smtps:// or ?tls=required in --smtp-url ({shown})"
            ))
            }
        };
    }
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

/// The URL without its credentials, for messages.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("");
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// Written whole or not at all: a file of its own renamed into place, 0600.
fn write_file(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    let partial = dir.join(format!(".{id}.eml.partial"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&partial, dir.join(format!("{id}.eml")))
}

fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(300).collect()
}
