//! What `serve` was told: token lifetimes, limits, and where the page lives.

use std::path::PathBuf;

use ipnet::IpNet;

use crate::tokens::Algorithm;

pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;

#[derive(Clone, Debug)]
pub struct Settings {
    pub pbkdf2_iterations: u32,
    pub access_ttl: u64,
    pub refresh_ttl: u64,
    pub issuer: String,
    pub reuse_grace: u64,
    pub max_failures: u32,
    pub lockout: u64,
    pub max_failures_per_ip: u32,
    pub conceal_accounts: bool,
    pub trusted_proxies: Vec<IpNet>,
    /// IPv6 client addresses are counted per network of this prefix length.
    pub ipv6_prefix: u8,
    pub static_dir: Option<PathBuf>,
    /// The server's address as clients see it; `None`: the address a request came to.
    pub public_url: Option<String>,
    /// Carried by every token as `aud` and required of every token read.
    pub audience: Option<String>,
    /// The algorithm of a signing key this server makes (the first one).
    pub algorithm: Algorithm,
    /// The file the master key that seals stored secrets is read from.
    pub master_key_file: Option<PathBuf>,
    /// The shortest new password accepted over HTTP, in characters.
    pub min_password_length: usize,
    /// Audit events older than this many days are pruned.
    pub audit_retention: u64,
    /// Where messages go (SPEC §12); `None`: email is off.
    pub email: Option<crate::mail::EmailSettings>,
    /// How long an emailed forgot-password link works, in seconds.
    pub forgot_ttl: u64,
    /// Sign-up (`--registration open`), and the domains it is open to (empty: any).
    pub registration_open: bool,
    pub registration_domains: Vec<String>,
    /// The WebAuthn relying party id; `None`: the host of `public_url`.
    pub rp_id: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
            access_ttl: 3600,
            refresh_ttl: 2_592_000,
            issuer: "authlite".to_string(),
            reuse_grace: 10,
            max_failures: 5,
            lockout: 900,
            max_failures_per_ip: 50,
            conceal_accounts: false,
            trusted_proxies: Vec::new(),
            ipv6_prefix: 64,
            static_dir: None,
            public_url: None,
            audience: None,
            algorithm: Algorithm::EdDSA,
            master_key_file: None,
            min_password_length: 8,
            audit_retention: 90,
            email: None,
            forgot_ttl: 3600,
            registration_open: false,
            registration_domains: Vec::new(),
            rp_id: None,
        }
    }
}
