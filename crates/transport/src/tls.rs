//! TLS for the encrypted transports, on rustls with one crypto provider, ring, passed
//! explicitly to every configuration (nothing depends on a process-wide default).
//!
//! - [`Identity`]: a certificate chain and its key, from PEM files.
//! - [`ensure_self_signed`]: the embedded default's self-signed certificate, made once
//!   and reused.
//! - [`spki_pin`]: the SPKI pin of RFC 7858 §4.2 (base64 of the SHA-256 of the
//!   certificate's SubjectPublicKeyInfo), as `kdig +tls-pin=` takes it.
//! - [`ServerTls`]: the server configurations of DoT, DoH and DoQ, replaced together on
//!   reload; connections already open keep the configuration they started with.
//! - [`Verify`] and [`client_config`]: how a client checks a server (CA, pin, or the
//!   opportunistic profile of RFC 8310 §5).

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::{Decode, Encode};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme, SupportedProtocolVersion,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// ALPN of DNS over TLS (IANA TLS ALPN registry, "dot").
pub const ALPN_DOT: &[u8] = b"dot";
/// ALPN of DNS over QUIC (RFC 9250 §4.1.1).
pub const ALPN_DOQ: &[u8] = b"doq";
/// ALPN of HTTP/2 (RFC 9113 §3.2), which DoH prefers (RFC 8484 §5.2).
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN of HTTP/1.1.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";
/// ALPN of HTTP/3 (RFC 9114 §3.1).
pub const ALPN_H3: &[u8] = b"h3";

/// The file names of the embedded default's certificate and key in its directory.
pub const SELF_SIGNED_CERT: &str = "cert.pem";
/// See [`SELF_SIGNED_CERT`].
pub const SELF_SIGNED_KEY: &str = "key.pem";

/// The crypto provider every configuration here uses: ring.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())))
}

/// What went wrong setting up TLS.
#[derive(Debug)]
pub enum TlsError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A PEM file holds nothing usable.
    Pem {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A certificate could not be parsed.
    Certificate(String),
    /// A pin is not base64 of 32 bytes.
    Pin(String),
    /// Generating the self-signed certificate failed.
    Generate(String),
    /// rustls refused the configuration (a key that does not match, for instance).
    Rustls(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            TlsError::Pem { path, reason } => write!(f, "{}: {reason}", path.display()),
            TlsError::Certificate(e) => write!(f, "bad certificate: {e}"),
            TlsError::Pin(e) => write!(f, "bad SPKI pin: {e}"),
            TlsError::Generate(e) => write!(f, "cannot generate a certificate: {e}"),
            TlsError::Rustls(e) => write!(f, "TLS configuration refused: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> TlsError {
        TlsError::Rustls(e)
    }
}

/// The lowest TLS version a listener accepts. DoQ is always TLS 1.3 (RFC 9001 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinVersion {
    /// TLS 1.2 and 1.3.
    Tls12,
    /// TLS 1.3 only (RFC 8446), the default.
    #[default]
    Tls13,
}

impl MinVersion {
    /// Parses "1.2" or "1.3".
    pub fn parse(text: &str) -> Result<MinVersion, String> {
        match text {
            "1.2" => Ok(MinVersion::Tls12),
            "1.3" => Ok(MinVersion::Tls13),
            _ => Err(format!(
                "TLS version must be \"1.2\" or \"1.3\", got `{text}`"
            )),
        }
    }

    fn versions(self) -> &'static [&'static SupportedProtocolVersion] {
        static BOTH: [&SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            MinVersion::Tls12 => &BOTH,
            MinVersion::Tls13 => &TLS13_ONLY,
        }
    }
}

/// A certificate chain (end entity first) and its private key.
#[derive(Debug)]
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Identity {
    /// Reads the chain from `cert` and the key (PKCS#8, PKCS#1 or SEC1) from `key`.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Identity, TlsError> {
        let read = |path: &Path| {
            fs::read(path).map_err(|error| TlsError::Io {
                path: path.to_owned(),
                error,
            })
        };
        Identity::from_pem(&read(cert)?, cert, &read(key)?, key)
    }

    /// Parses PEM text; the paths are only for messages.
    pub fn from_pem(
        cert_pem: &[u8],
        cert_path: &Path,
        key_pem: &[u8],
        key_path: &Path,
    ) -> Result<Identity, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                path: cert_path.to_owned(),
                reason: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                path: cert_path.to_owned(),
                reason: "no CERTIFICATE block".to_owned(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
            path: key_path.to_owned(),
            reason: format!("no private key: {e}"),
        })?;
        Ok(Identity { chain, key })
    }

    /// The chain, end entity first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The SPKI pin of the end-entity certificate.
    pub fn pin(&self) -> Result<String, TlsError> {
        let cert = self
            .chain
            .first()
            .ok_or_else(|| TlsError::Certificate("empty chain".to_owned()))?;
        spki_pin(cert)
    }
}

/// SHA-256 of the DER SubjectPublicKeyInfo of a DER certificate (RFC 7858 §4.2).
pub fn spki_sha256(cert: &[u8]) -> Result<[u8; 32], TlsError> {
    let parsed =
        x509_cert::Certificate::from_der(cert).map_err(|e| TlsError::Certificate(e.to_string()))?;
    let spki = parsed
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    Ok(out)
}

/// The SPKI pin of a DER certificate: base64 of [`spki_sha256`], as RFC 7858 §4.2 and
/// `kdig +tls-pin=` write it.
pub fn spki_pin(cert: &[u8]) -> Result<String, TlsError> {
    Ok(STANDARD.encode(spki_sha256(cert)?))
}

/// Decodes a pin written as [`spki_pin`] writes it.
pub fn parse_pin(text: &str) -> Result<[u8; 32], TlsError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| TlsError::Pin(format!("`{text}`: {e}")))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| TlsError::Pin(format!("`{text}` is not 32 bytes")))
}

/// The files of a self-signed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfSigned {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM, mode 0600).
    pub key: PathBuf,
    /// Whether they were made now rather than found.
    pub created: bool,
}

/// The self-signed certificate in `dir` for `names` (IP addresses or DNS names): reused
/// when both files exist, otherwise generated (ECDSA P-256), written with the key file
/// readable by the owner only, and synced before use.
pub fn ensure_self_signed(dir: &Path, names: &[&str]) -> Result<SelfSigned, TlsError> {
    let cert = dir.join(SELF_SIGNED_CERT);
    let key = dir.join(SELF_SIGNED_KEY);
    if cert.exists() && key.exists() {
        return Ok(SelfSigned {
            cert,
            key,
            created: false,
        });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| TlsError::Io { path, error }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let generated =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    write_synced(
        &key,
        generated.signing_key.serialize_pem().as_bytes(),
        0o600,
    )?;
    write_synced(&cert, generated.cert.pem().as_bytes(), 0o644)?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(SelfSigned {
        cert,
        key,
        created: true,
    })
}

/// Writes `data` to a temporary file with `mode`, syncs it, and renames it to `path`.
fn write_synced(path: &Path, data: &[u8], mode: u32) -> Result<(), TlsError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|error| TlsError::Io {
        path: path.to_owned(),
        error,
    })
}

/// A server configuration for TLS over TCP (DoT, DoH) offering `alpn`.
pub fn server_config(
    identity: &Identity,
    min: MinVersion,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(min.versions())?
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The QUIC server crypto of DoQ: TLS 1.3, ALPN `doq`, 0-RTT accepted (RFC 9250 §4.5:
/// the DoQ loop holds back transfers received before the handshake completes).
pub fn quic_server_crypto(identity: &Identity) -> Result<Arc<QuicServerConfig>, TlsError> {
    quic_crypto(identity, ALPN_DOQ, true)
}

/// QUIC server crypto for `alpn`, with 0-RTT if `early_data`.
fn quic_crypto(
    identity: &Identity,
    alpn: &[u8],
    early_data: bool,
) -> Result<Arc<QuicServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
    config.alpn_protocols = vec![alpn.to_vec()];
    // QUIC requires either no early data or the maximum (RFC 9001 §4.6.1).
    if early_data {
        config.max_early_data_size = u32::MAX;
    }
    let quic = QuicServerConfig::try_from(config)
        .map_err(|e| TlsError::Generate(format!("QUIC TLS configuration: {e}")))?;
    Ok(Arc::new(quic))
}

/// The server TLS of the encrypted transports, swapped together on reload.
pub struct ServerTls {
    dot: ArcSwap<ServerConfig>,
    doh: ArcSwap<ServerConfig>,
    doq: ArcSwap<QuicServerConfig>,
    doh3: ArcSwap<QuicServerConfig>,
}

/// One set of the configurations [`ServerTls`] holds.
struct Configs {
    dot: Arc<ServerConfig>,
    doh: Arc<ServerConfig>,
    doq: Arc<QuicServerConfig>,
    doh3: Arc<QuicServerConfig>,
}

impl ServerTls {
    /// Configurations for `identity`, accepting TLS from `min` up.
    pub fn new(identity: &Identity, min: MinVersion) -> Result<ServerTls, TlsError> {
        let c = ServerTls::build(identity, min)?;
        Ok(ServerTls {
            dot: ArcSwap::new(c.dot),
            doh: ArcSwap::new(c.doh),
            doq: ArcSwap::new(c.doq),
            doh3: ArcSwap::new(c.doh3),
        })
    }

    fn build(identity: &Identity, min: MinVersion) -> Result<Configs, TlsError> {
        Ok(Configs {
            dot: server_config(identity, min, &[ALPN_DOT])?,
            doh: server_config(identity, min, &[ALPN_H2, ALPN_HTTP1])?,
            doq: quic_server_crypto(identity)?,
            doh3: quic_crypto(identity, ALPN_H3, false)?,
        })
    }

    /// Replaces them all with configurations for `identity`; on error nothing changes.
    pub fn replace(&self, identity: &Identity, min: MinVersion) -> Result<(), TlsError> {
        let c = ServerTls::build(identity, min)?;
        self.dot.store(c.dot);
        self.doh.store(c.doh);
        self.doq.store(c.doq);
        self.doh3.store(c.doh3);
        Ok(())
    }

    /// The current DoT configuration.
    pub fn dot(&self) -> Arc<ServerConfig> {
        self.dot.load_full()
    }

    /// The current DoH configuration.
    pub fn doh(&self) -> Arc<ServerConfig> {
        self.doh.load_full()
    }

    /// The current DoQ crypto.
    pub fn doq(&self) -> Arc<QuicServerConfig> {
        self.doq.load_full()
    }

    /// The current crypto of DoH over HTTP/3 (ALPN `h3`, no 0-RTT).
    pub fn doh3(&self) -> Arc<QuicServerConfig> {
        self.doh3.load_full()
    }
}

/// Runs the server side of a TLS handshake on `stream`, bounded by `limit` so a client
/// that opens a connection and never finishes the handshake cannot hold it.
pub async fn accept<S>(
    config: Arc<ServerConfig>,
    stream: S,
    limit: Duration,
) -> std::io::Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout(limit, TlsAcceptor::from(config).accept(stream)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "TLS handshake not completed in time",
        )),
    }
}

/// How a client checks the server's certificate.
#[derive(Debug, Clone)]
pub enum Verify {
    /// The strict profile with these trust anchors (RFC 8310 §6): the chain must lead to
    /// one of them and name the server.
    Ca(Vec<CertificateDer<'static>>),
    /// The end-entity certificate's SPKI must hash to one of these (RFC 7858 §4.2).
    Pin(Vec<[u8; 32]>),
    /// Any certificate: encryption without authentication (RFC 8310 §5, opportunistic).
    Opportunistic,
}

impl Verify {
    /// Trust anchors from a PEM file.
    pub fn ca_file(path: &Path) -> Result<Verify, TlsError> {
        let pem = fs::read(path).map_err(|error| TlsError::Io {
            path: path.to_owned(),
            error,
        })?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TlsError::Pem {
                path: path.to_owned(),
                reason: "no CERTIFICATE block".to_owned(),
            });
        }
        Ok(Verify::Ca(certs))
    }

    /// One pin in base64.
    pub fn pin(text: &str) -> Result<Verify, TlsError> {
        Ok(Verify::Pin(vec![parse_pin(text)?]))
    }
}

/// A client configuration checking servers as `verify` says and offering `alpn`.
pub fn client_config(verify: &Verify, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(MinVersion::Tls12.versions())?;
    let mut config = match verify {
        Verify::Ca(anchors) => {
            let mut roots = RootCertStore::empty();
            for cert in anchors {
                roots.add(cert.clone())?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Verify::Pin(pins) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinVerifier {
                pins: Some(pins.clone()),
                provider: provider(),
            }))
            .with_no_client_auth(),
        Verify::Opportunistic => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinVerifier {
                pins: None,
                provider: provider(),
            }))
            .with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.enable_early_data = true;
    Ok(Arc::new(config))
}

/// The QUIC client crypto of DoQ for `verify`.
pub fn quic_client_crypto(verify: &Verify) -> Result<Arc<QuicClientConfig>, TlsError> {
    let config = client_config(verify, &[ALPN_DOQ])?;
    let quic = QuicClientConfig::try_from(config)
        .map_err(|e| TlsError::Generate(format!("QUIC TLS configuration: {e}")))?;
    Ok(Arc::new(quic))
}

/// Checks the end-entity certificate's SPKI against pins (or accepts any when there are
/// none, the opportunistic profile); handshake signatures are always verified, so the
/// server must hold the key of the certificate it shows.
#[derive(Debug)]
struct PinVerifier {
    pins: Option<Vec<[u8; 32]>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(pins) = &self.pins else {
            return Ok(ServerCertVerified::assertion());
        };
        let hash = spki_sha256(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        if pins.contains(&hash) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_made_once_with_a_private_key_and_a_stable_pin() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let made = ensure_self_signed(&tls, &["127.0.0.1", "localhost"]).unwrap();
        assert!(made.created);
        let mode = fs::metadata(&made.key).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let id = Identity::from_pem_files(&made.cert, &made.key).unwrap();
        let pin = id.pin().unwrap();
        assert_eq!(parse_pin(&pin).unwrap().len(), 32);
        let again = ensure_self_signed(&tls, &["127.0.0.1"]).unwrap();
        assert!(!again.created);
        let id2 = Identity::from_pem_files(&again.cert, &again.key).unwrap();
        assert_eq!(id2.pin().unwrap(), pin);
        assert!(ServerTls::new(&id, MinVersion::Tls12).is_ok());
    }

    #[test]
    fn bad_files_and_pins_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        fs::write(&empty, "nothing here\n").unwrap();
        let err = Identity::from_pem_files(&empty, &empty).unwrap_err();
        assert!(err.to_string().contains("empty.pem"), "{err}");
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            Identity::from_pem_files(&missing, &missing),
            Err(TlsError::Io { .. })
        ));
        assert!(Verify::ca_file(&empty).is_err());
        assert!(parse_pin("not base64!").is_err());
        assert!(parse_pin("AAAA").is_err());
        assert!(spki_sha256(b"\x30\x03\x02\x01\x01").is_err());
        assert_eq!(MinVersion::parse("1.2"), Ok(MinVersion::Tls12));
        assert!(MinVersion::parse("1.1").is_err());
    }

    #[test]
    fn a_key_that_does_not_match_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = ensure_self_signed(&dir.path().join("a"), &["127.0.0.1"]).unwrap();
        let b = ensure_self_signed(&dir.path().join("b"), &["127.0.0.1"]).unwrap();
        let mixed = Identity::from_pem_files(&a.cert, &b.key).unwrap();
        assert!(ServerTls::new(&mixed, MinVersion::Tls13).is_err());
    }
}
