//! TLS as libpq's `sslmode` defines it, through rustls: `disable`, `prefer`
//! (the default), `require`, `verify-ca` and `verify-full`.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::Config;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Sets `config`'s mode for `sslmode` and gives the TLS settings to connect
/// with; `verify-*` check the server against the roots in `rootcert` (by
/// default `~/.postgresql/root.crt`, as libpq).
pub fn for_sslmode(
    sslmode: &str,
    rootcert: Option<PathBuf>,
    config: &mut Config,
) -> Result<ClientConfig, String> {
    let verifier: Arc<dyn ServerCertVerifier> = match sslmode {
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
            let roots = load_roots(rootcert)?;
            let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider())
                .build()
                .map_err(|e| format!("cannot use sslrootcert: {e}"))?;
            if sslmode == "verify-ca" {
                Arc::new(ChainOnly(verifier))
            } else {
                verifier
            }
        }
        other => {
            return Err(format!(
                "sslmode \"{other}\" is not supported \
                 (disable, prefer, require, verify-ca or verify-full)"
            ))
        }
    };
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_roots(path: Option<PathBuf>) -> std::result::Result<Arc<RootCertStore>, String> {
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
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
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
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
