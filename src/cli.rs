//! The command line. Every flag also reads AUTHLITE_<FLAG>; a flag given wins.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use crate::mail::{EmailSettings, Transport};
use crate::password::MIN_ITERATIONS;
use crate::roles::parse_role;
use crate::settings::{Settings, DEFAULT_PBKDF2_ITERATIONS};
use crate::store::audit::EVENT_TYPES;
use crate::store::Synchronous;
use crate::store::{normalize_email, Status};
use crate::tokens::Algorithm;

/// The longest lifetime or lockout window a flag takes: 10 years, in seconds.
pub const MAX_DURATION: u64 = 315_360_000;
/// The longest reuse grace, in seconds.
pub const MAX_REUSE_GRACE: u64 = 300;

#[derive(Parser, Debug)]
#[command(
    name = "authlite",
    version,
    about = "Email and password login with Ed25519 JWTs: one binary, one SQLite file."
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,

    #[command(subcommand)]
    pub command: Command,
}

/// The flags every command takes.
#[derive(Args, Debug)]
pub struct Globals {
    /// An SQLite database file (created with mode 0600 if missing), or a
    /// postgres:// URL for several instances on one PostgreSQL database
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "AUTHLITE_DB",
        default_value = "./authlite.db",
        global = true
    )]
    pub db: String,

    /// PBKDF2 cost of every new password hash
    #[arg(long, env = "AUTHLITE_PBKDF2_ITERATIONS", default_value_t = DEFAULT_PBKDF2_ITERATIONS,
          value_parser = clap::value_parser!(u32).range(i64::from(MIN_ITERATIONS)..), global = true)]
    pub pbkdf2_iterations: u32,

    /// SQLite durability: normal (a power cut may lose the last commits) or full (sync every commit)
    #[arg(
        long,
        env = "AUTHLITE_SYNCHRONOUS",
        default_value = "normal",
        global = true
    )]
    pub synchronous: Synchronous,

    /// A file of at least 32 secret bytes; signing keys and other stored secrets are sealed with it
    #[arg(
        long,
        env = "AUTHLITE_MASTER_KEY_FILE",
        value_name = "PATH",
        global = true
    )]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API and the login page
    Serve(ServeArgs),
    /// Apply a seed file of orgs and users, idempotently
    Seed(SeedArgs),
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage API keys for apps' backends (the admin API)
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Manage OpenID Connect clients (the team's tools that sign in through authlite)
    #[command(subcommand)]
    Client(ClientCommand),
    /// Show the audit log, newest first
    Audit(AuditArgs),
    /// Copy the whole database, as one consistent snapshot, into a new SQLite file or an empty PostgreSQL database
    Copy(CopyArgs),
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// A new SQLite file, or a postgres:// URL of an empty database
    #[arg(long, value_name = "PATH|URL", env = "AUTHLITE_TO", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub to: String,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "AUTHLITE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Apply this seed file before serving
    #[arg(long, env = "AUTHLITE_SEED")]
    pub seed: Option<String>,
    /// Access token lifetime in seconds
    #[arg(long, env = "AUTHLITE_ACCESS_TTL", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub access_ttl: u64,
    /// Refresh token lifetime in seconds
    #[arg(long, env = "AUTHLITE_REFRESH_TTL", default_value_t = 2_592_000, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub refresh_ttl: u64,
    /// The `iss` claim, checked on every token read
    #[arg(long, env = "AUTHLITE_ISSUER", default_value = "authlite")]
    pub issuer: String,
    /// Seconds in which a used refresh token still returns the pair its first use got
    #[arg(long, env = "AUTHLITE_REUSE_GRACE", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=MAX_REUSE_GRACE))]
    pub reuse_grace: u64,
    /// Failed logins per email within --lockout seconds before 429
    #[arg(long, env = "AUTHLITE_MAX_FAILURES", default_value_t = 5)]
    pub max_failures: u32,
    /// The lockout window in seconds
    #[arg(long, env = "AUTHLITE_LOCKOUT", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub lockout: u64,
    /// Failed logins from one client address within the window before 429
    #[arg(long, env = "AUTHLITE_MAX_FAILURES_PER_IP", default_value_t = 50)]
    pub max_failures_per_ip: u32,
    /// Answer INVALID_PASSWORD instead of USER_NOT_FOUND or NO_PASSWORD_SET
    #[arg(long, env = "AUTHLITE_CONCEAL_ACCOUNTS")]
    pub conceal_accounts: bool,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For is believed
    #[arg(long, env = "AUTHLITE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<IpNet>,
    /// IPv6 client addresses are counted per /N network for the per-address limit (IPv4 per address)
    #[arg(long, env = "AUTHLITE_IPV6_PREFIX", default_value_t = 64, value_parser = clap::value_parser!(u8).range(1..=128))]
    pub ipv6_prefix: u8,
    /// Serve the login page from this folder instead of the built-in one
    #[arg(long = "static", env = "AUTHLITE_STATIC", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
    /// The server's address as clients see it (default: http:// + the bind address); the discovery document's jwks_uri is built from it
    #[arg(long, env = "AUTHLITE_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// When set, every token carries it as `aud`, and every token read must carry it
    #[arg(long, env = "AUTHLITE_AUDIENCE", value_parser = parse_audience)]
    pub audience: Option<String>,
    /// The algorithm of a signing key made by this command (the first key)
    #[arg(long, env = "AUTHLITE_ALGORITHM", default_value = "EdDSA")]
    pub algorithm: Algorithm,
    /// The shortest new password accepted over HTTP (password change and set-password links), in characters
    #[arg(long, env = "AUTHLITE_MIN_PASSWORD_LENGTH", default_value_t = 8)]
    pub min_password_length: usize,
    /// Audit events older than this many days are pruned
    #[arg(long, env = "AUTHLITE_AUDIT_RETENTION", value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=36_500))]
    pub audit_retention: u64,
    /// The WebAuthn relying party id of passkeys (default: the host of --public-url)
    #[arg(long, env = "AUTHLITE_RP_ID", value_name = "HOST")]
    pub rp_id: Option<String>,
    /// Write a copy of the database as an SQLite file authlite-YYYYMMDDTHHMMSSZ.db into this folder, at start and every --backup-interval
    #[arg(long, env = "AUTHLITE_BACKUP_DIR", value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Seconds between backups
    #[arg(long, env = "AUTHLITE_BACKUP_INTERVAL", value_name = "SECONDS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub backup_interval: u64,
    /// How many backups to keep (the oldest beyond are removed)
    #[arg(long, env = "AUTHLITE_BACKUP_KEEP", value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub backup_keep: u32,
    #[command(flatten)]
    pub mail: MailArgs,
    /// How long an emailed forgot-password link works, in seconds
    #[arg(long, env = "AUTHLITE_FORGOT_TTL", value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub forgot_ttl: u64,
    /// Sign-up with POST /user/register: open or closed
    #[arg(long, env = "AUTHLITE_REGISTRATION", default_value = "closed", value_parser = ["open", "closed"])]
    pub registration: String,
    /// Domains sign-up is open to (comma-separated); without it, any
    #[arg(long, env = "AUTHLITE_REGISTRATION_DOMAINS", value_name = "LIST", value_delimiter = ',', value_parser = parse_domain)]
    pub registration_domains: Vec<String>,
}

/// Email (SPEC §12), for `serve` and the commands that send.
#[derive(Args, Debug, Clone)]
pub struct MailArgs {
    /// Send email through this SMTP server: smtp://[USER:PASS@]HOST[:PORT] (?tls=required for STARTTLS) or smtps://…
    #[arg(long, env = "AUTHLITE_SMTP_URL", value_name = "URL", value_parser = SmtpUrlParser, requires = "mail_from", conflicts_with = "mail_dir", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// A PEM file of the CA that signed the SMTP server's certificate (a private CA)
    #[arg(
        long,
        env = "AUTHLITE_SMTP_CA_FILE",
        value_name = "PATH",
        requires = "smtp_url"
    )]
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender of every message: "Name <addr>" or an address
    #[arg(long, env = "AUTHLITE_MAIL_FROM", value_name = "ADDR")]
    pub mail_from: Option<String>,
    /// Write each message as an .eml file (mode 0600) into this folder instead of sending it
    #[arg(long, env = "AUTHLITE_MAIL_DIR", value_name = "DIR")]
    pub mail_dir: Option<PathBuf>,
}

impl MailArgs {
    /// `None` when email is off.
    pub fn settings(&self) -> Option<EmailSettings> {
        let transport = match (&self.smtp_url, &self.mail_dir) {
            (Some(url), _) => Transport::Smtp {
                url: url.clone(),
                ca_file: self.smtp_ca_file.clone(),
            },
            (None, Some(dir)) => Transport::Dir(dir.clone()),
            (None, None) => return None,
        };
        let from = self
            .mail_from
            .clone()
            .unwrap_or_else(|| crate::mail::DEFAULT_FROM.to_string());
        Some(EmailSettings { transport, from })
    }
}

impl ServeArgs {
    pub fn settings(&self, pbkdf2_iterations: u32) -> Settings {
        Settings {
            pbkdf2_iterations,
            access_ttl: self.access_ttl,
            refresh_ttl: self.refresh_ttl,
            issuer: self.issuer.clone(),
            reuse_grace: self.reuse_grace,
            max_failures: self.max_failures,
            lockout: self.lockout,
            max_failures_per_ip: self.max_failures_per_ip,
            conceal_accounts: self.conceal_accounts,
            ipv6_prefix: self.ipv6_prefix,
            trusted_proxies: self.trusted_proxies.clone(),
            static_dir: self.static_dir.clone(),
            public_url: Some(
                self.public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", self.bind)),
            ),
            audience: self.audience.clone(),
            algorithm: self.algorithm,
            master_key_file: None,
            min_password_length: self.min_password_length,
            audit_retention: self.audit_retention,
            email: self.mail.settings(),
            forgot_ttl: self.forgot_ttl,
            registration_open: self.registration == "open",
            registration_domains: self.registration_domains.clone(),
            rp_id: self.rp_id.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// The seed file, or - for standard input
    pub file: String,
    /// Report what would change, changing nothing
    #[arg(long, env = "AUTHLITE_DRY_RUN")]
    pub dry_run: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create one user (without --password-stdin the user has no password)
    Add(AddUserArgs),
    /// Add or remove a user's roles (removals after additions) and print the roles held
    Roles {
        #[arg(value_parser = parse_email)]
        email: String,
        /// A role to give (repeatable; the variable takes a comma-separated list)
        #[arg(long, value_name = "ROLE", env = "AUTHLITE_ADD", value_delimiter = ',', value_parser = parse_role)]
        add: Vec<String>,
        /// A role to take away (repeatable; the variable takes a comma-separated list)
        #[arg(long, value_name = "ROLE", env = "AUTHLITE_REMOVE", value_delimiter = ',', value_parser = parse_role)]
        remove: Vec<String>,
    },
    /// Set or replace a user's password, read from standard input
    SetPassword {
        #[arg(value_parser = parse_email)]
        email: String,
        #[arg(long, env = "AUTHLITE_PASSWORD_STDIN", required = true)]
        password_stdin: bool,
    },
    /// Set a user's status: active, inactive, banned or deleted
    SetStatus {
        #[arg(value_parser = parse_email)]
        email: String,
        #[arg(value_parser = parse_status)]
        status: Status,
    },
    /// List users (never their hashes)
    List {
        /// Print JSON instead of a table
        #[arg(long, env = "AUTHLITE_JSON")]
        json: bool,
    },
    /// Clear an account's failed-login count
    Unlock {
        #[arg(value_parser = parse_email)]
        email: String,
    },
    /// Print a one-time link that sets the user's password (a newer link replaces older ones)
    Link {
        #[arg(value_parser = parse_email)]
        email: String,
        /// Seconds the link stays valid
        #[arg(long, env = "AUTHLITE_TTL", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
        ttl: u64,
        /// The server's address as its users see it; the link starts with it
        #[arg(long, env = "AUTHLITE_PUBLIC_URL", default_value = "http://127.0.0.1:8080", value_parser = parse_public_url)]
        public_url: String,
    },
    /// Email an invitation: the user is created without a password if needed, and sent a set-password link
    Invite(InviteArgs),
}

#[derive(Args, Debug)]
pub struct InviteArgs {
    #[arg(value_parser = parse_email)]
    pub email: String,
    /// The new user's name (an existing user keeps theirs)
    #[arg(long, env = "AUTHLITE_NAME")]
    pub name: String,
    /// The org id the new user belongs to
    #[arg(long, env = "AUTHLITE_ORG")]
    pub org: Option<String>,
    /// A role the new user holds (repeatable; the variable takes a comma-separated list)
    #[arg(long = "role", value_name = "ROLE", env = "AUTHLITE_ROLE", value_delimiter = ',', value_parser = parse_role)]
    pub roles: Vec<String>,
    /// Seconds the link stays valid
    #[arg(long, env = "AUTHLITE_TTL", default_value_t = crate::mail::INVITE_TTL, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub ttl: u64,
    /// The server's address as its users see it; the link starts with it
    #[arg(long, env = "AUTHLITE_PUBLIC_URL", default_value = "http://127.0.0.1:8080", value_parser = parse_public_url)]
    pub public_url: String,
    /// The product's name in the message (as serve's --issuer)
    #[arg(long, env = "AUTHLITE_ISSUER", default_value = "authlite")]
    pub issuer: String,
    #[command(flatten)]
    pub mail: MailArgs,
}

#[derive(Args, Debug)]
pub struct AddUserArgs {
    #[arg(long, env = "AUTHLITE_EMAIL", value_parser = parse_email)]
    pub email: String,
    #[arg(long, env = "AUTHLITE_NAME")]
    pub name: String,
    /// The org id the user belongs to
    #[arg(long, env = "AUTHLITE_ORG")]
    pub org: Option<String>,
    /// Read the password from standard input
    #[arg(long, env = "AUTHLITE_PASSWORD_STDIN")]
    pub password_stdin: bool,
    /// Import a hash made elsewhere: bcrypt, Argon2, scrypt or PBKDF2 PHC, or Django's pbkdf2_sha256
    #[arg(
        long,
        env = "AUTHLITE_PASSWORD_HASH",
        value_name = "HASH",
        conflicts_with = "password_stdin"
    )]
    pub password_hash: Option<String>,
    #[arg(long, env = "AUTHLITE_STATUS", default_value = "active", value_parser = parse_status)]
    pub status: Status,
    /// A role the user holds (repeatable; the variable takes a comma-separated list)
    #[arg(long = "role", value_name = "ROLE", env = "AUTHLITE_ROLE", value_delimiter = ',', value_parser = parse_role)]
    pub roles: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only the events of the user with this email
    #[arg(long, env = "AUTHLITE_USER", value_name = "EMAIL", value_parser = parse_email)]
    pub user: Option<String>,
    /// Only events of this type (e.g. login.failed)
    #[arg(long = "type", env = "AUTHLITE_TYPE", value_name = "TYPE", value_parser = parse_event_type)]
    pub kind: Option<String>,
    /// Only events at or after this Unix time, in seconds
    #[arg(long, env = "AUTHLITE_SINCE", value_name = "UNIX_SECONDS")]
    pub since: Option<u64>,
    /// How many events at most
    #[arg(long, env = "AUTHLITE_LIMIT", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub limit: u32,
    /// Print JSON instead of a table
    #[arg(long, env = "AUTHLITE_JSON")]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add a new signing key and make it current
    Rotate {
        /// The new key's algorithm
        #[arg(long, env = "AUTHLITE_ALGORITHM", default_value = "EdDSA")]
        algorithm: Algorithm,
    },
    /// Show the signing keys: kid, algorithm, created, retired, whether it still verifies
    List {
        /// Access token lifetime the servers use, in seconds (how long a retired key verifies)
        #[arg(long, env = "AUTHLITE_ACCESS_TTL", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
        access_ttl: u64,
        /// Refresh token lifetime the servers use, in seconds
        #[arg(long, env = "AUTHLITE_REFRESH_TTL", default_value_t = 2_592_000, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
        refresh_ttl: u64,
    },
    /// Distrust a key now: it leaves the JWKS and every token it signed is refused
    Retire {
        /// The key's id, as `keys list` shows it
        kid: String,
        /// The algorithm of the key made current when KID is the current one
        #[arg(long, env = "AUTHLITE_ALGORITHM", default_value = "EdDSA")]
        algorithm: Algorithm,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApikeyCommand {
    /// Make a key: the key alone on standard output (shown this once), its id on standard error
    Create {
        /// What the key is for
        #[arg(long, env = "AUTHLITE_NAME", value_parser = crate::api_keys::check_name)]
        name: String,
        /// users:read, users:write, audit:read or clients:write (repeatable; the variable takes a comma-separated list)
        #[arg(long = "scope", value_name = "SCOPE", env = "AUTHLITE_SCOPE", value_delimiter = ',', required = true, value_parser = crate::api_keys::check_scope)]
        scopes: Vec<String>,
        /// Seconds the key stays valid; without it, until revoked
        #[arg(long, env = "AUTHLITE_TTL", value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
        ttl: Option<u64>,
    },
    /// List the keys: id, name, scopes, created, expires, last used, revoked (never the key)
    List {
        /// Print JSON instead of a table
        #[arg(long, env = "AUTHLITE_JSON")]
        json: bool,
    },
    /// Revoke a key: running servers refuse it within a second
    Revoke {
        /// The key's id, as `apikey list` shows it
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Register a client: prints client_id and, for a confidential client, client_secret (shown this once)
    Add {
        /// What the client is (shown in lists)
        #[arg(long, env = "AUTHLITE_NAME")]
        name: String,
        /// An address the client may be sent back to, matched exactly (repeatable)
        #[arg(
            long = "redirect-uri",
            value_name = "URI",
            env = "AUTHLITE_REDIRECT_URI",
            required = true
        )]
        redirect_uris: Vec<String>,
        /// A public client (a single-page or native app): no secret, PKCE required
        #[arg(long, env = "AUTHLITE_PUBLIC")]
        public: bool,
        /// Only users holding one of these roles may sign in to it (repeatable)
        #[arg(long = "role", value_name = "R", env = "AUTHLITE_ROLE", value_delimiter = ',', value_parser = crate::roles::parse_role)]
        roles: Vec<String>,
        /// Where /oauth/logout may send the browser back to (repeatable)
        #[arg(
            long = "post-logout-uri",
            value_name = "URI",
            env = "AUTHLITE_POST_LOGOUT_URI"
        )]
        post_logout_uris: Vec<String>,
    },
    /// List the clients (never a secret)
    List {
        /// Print JSON instead of a table
        #[arg(long, env = "AUTHLITE_JSON")]
        json: bool,
    },
    /// Remove a client: its codes stop working and the sessions it made are revoked
    Remove {
        /// The client_id, as `client list` shows it
        id: String,
    },
    /// Give a confidential client a new secret (printed once); the old one stops working
    RotateSecret {
        /// The client_id, as `client list` shows it
        id: String,
    },
}

fn parse_email(raw: &str) -> Result<String, String> {
    normalize_email(raw).map_err(|why| format!("\"{raw}\" {why}"))
}

fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{raw}\" does not start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!("\"{raw}\" is not a URL of this server"));
    }
    Ok(url.to_string())
}

/// `--smtp-url`'s parser. Its refusal names the URL with the password hidden:
/// clap's own error for a `value_parser` function would repeat the value whole.
#[derive(Clone)]
struct SmtpUrlParser;

impl clap::builder::TypedValueParser for SmtpUrlParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let refuse = |why: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '--smtp-url <URL>': {why}\n"),
            )
            .with_cmd(cmd)
        };
        let raw = value
            .to_str()
            .ok_or_else(|| refuse("the URL is not UTF-8".into()))?;
        parse_smtp_url(raw).map_err(refuse)
    }
}

fn parse_smtp_url(raw: &str) -> Result<String, String> {
    let shown = crate::mail::transport::shown_url(raw);
    let url = url::Url::parse(raw).map_err(|e| format!("{shown} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(format!("{shown} does not start with smtp:// or smtps://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown} names no host"));
    }
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_string());
    match tls.as_deref() {
        None | Some("required" | "opportunistic") => Ok(raw.to_string()),
        Some(other) => Err(format!(
            "{shown}: tls={other} is not one of required or opportunistic"
        )),
    }
}

fn parse_domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().trim_start_matches('@').to_lowercase();
    let fine = !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@');
    match fine {
        true => Ok(domain),
        false => Err(format!("\"{raw}\" is not a domain")),
    }
}

fn parse_audience(raw: &str) -> Result<String, String> {
    match raw.trim() {
        "" => Err("the audience is empty".into()),
        aud => Ok(aud.to_string()),
    }
}

fn parse_event_type(raw: &str) -> Result<String, String> {
    match EVENT_TYPES.contains(&raw) {
        true => Ok(raw.to_string()),
        false => Err(format!(
            "\"{raw}\" is not an audit event type (one of: {})",
            EVENT_TYPES.join(", ")
        )),
    }
}

fn parse_status(raw: &str) -> Result<Status, String> {
    raw.parse()
}

fn parse_net(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("\"{raw}\" is not an address or CIDR range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        assert_eq!(parse_net("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_net("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert!(parse_net("proxy.local").is_err());
    }

    #[test]
    fn a_public_url_loses_its_trailing_slash() {
        assert_eq!(
            parse_public_url("https://auth.example.com/").unwrap(),
            "https://auth.example.com"
        );
        assert_eq!(
            parse_public_url("http://127.0.0.1:8080/base").unwrap(),
            "http://127.0.0.1:8080/base"
        );
        assert!(parse_public_url("auth.example.com").is_err());
        assert!(parse_public_url("https://").is_err());
    }
}
