//! TLS for HTTPS and SIP over TLS: the certificate (files the site provides, or one made
//! here once and kept), the rustls server settings, and a listener that does handshakes
//! off the accept loop.
//!
//! ```text
//!  TCP accept ─▶ task per connection: handshake (≤ HANDSHAKE_LIMIT) ─▶ queue ─▶ consumer
//!                (a failed or slow handshake ends its own task only)
//! ```
//! rustls runs on `ring`, the backend the WebRTC stack already builds (no cmake/NASM).

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once per listener; more connections wait in the kernel's
/// backlog (a flood of half-open handshakes costs bounded memory).
const CONCURRENT_HANDSHAKES: usize = 256;
/// Finished handshakes waiting for the consumer.
const READY_QUEUE: usize = 64;
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Where the certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateSource {
    /// PEM files the site provides: the chain (leaf first) and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Made here on the first start for `names` and kept in these files; later starts load
    /// them, so browsers and phones that trusted it keep trusting it.
    SelfSigned {
        cert: PathBuf,
        key: PathBuf,
        names: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{file}: {source}")]
    Read { file: PathBuf, source: io::Error },
    #[error("{file}: no PEM {what} in it ({reason})")]
    Pem {
        file: PathBuf,
        what: &'static str,
        reason: String,
    },
    #[error("cannot write the self-signed certificate to {file}: {source}")]
    Write { file: PathBuf, source: io::Error },
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The loaded certificate: the server settings and what to print about it.
#[derive(Clone)]
pub struct Certificate {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, `AB:CD:…` as browsers show it.
    pub fingerprint: String,
    /// Whether it was made on this start (and written to its files).
    pub created: bool,
}

impl Certificate {
    /// Loads the certificate, making the self-signed one first if its files do not exist.
    pub fn load(source: &CertificateSource) -> Result<Certificate, TlsError> {
        let (cert, key, created) = match source {
            CertificateSource::Files { cert, key } => (cert, key, false),
            CertificateSource::SelfSigned { cert, key, names } => {
                let created = !cert.exists() || !key.exists();
                if created {
                    write_self_signed(cert, key, names)?;
                }
                (cert, key, created)
            }
        };
        let chain = read_chain(cert)?;
        let private_key = read_key(key)?;
        let fingerprint = chain
            .first()
            .map(|leaf| fingerprint(leaf))
            .unwrap_or_default();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)?;
        Ok(Certificate {
            config: Arc::new(config),
            fingerprint,
            created,
        })
    }

    /// Settings for HTTPS: HTTP/1.1 by ALPN (WebSocket upgrades need it).
    pub fn https_acceptor(&self) -> TlsAcceptor {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }

    /// Settings for SIP over TLS (no ALPN: SIP phones send none).
    pub fn sip_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
    }
}

fn read_chain(file: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(file).map_err(|source| TlsError::Read {
        file: file.to_owned(),
        source,
    })?;
    let pem_error = |reason: String| TlsError::Pem {
        file: file.to_owned(),
        what: "certificate",
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error("expected -----BEGIN CERTIFICATE-----".to_owned()));
    }
    Ok(chain)
}

fn read_key(file: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(file).map_err(|source| TlsError::Read {
        file: file.to_owned(),
        source,
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::Pem {
        file: file.to_owned(),
        what: "private key",
        reason: e.to_string(),
    })
}

/// Makes a certificate for `names` (host names and IP addresses) and writes both files;
/// the key readable by this user only.
fn write_self_signed(cert: &Path, key: &Path, names: &[String]) -> Result<(), TlsError> {
    let made = rcgen::generate_simple_self_signed(names.to_vec())?;
    let write = |file: &Path, text: String, private: bool| -> Result<(), TlsError> {
        let failed = |source| TlsError::Write {
            file: file.to_owned(),
            source,
        };
        if let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(failed)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut out = options.open(file).map_err(failed)?;
        io::Write::write_all(&mut out, text.as_bytes()).map_err(failed)
    };
    write(key, made.signing_key.serialize_pem(), true)?;
    write(cert, made.cert.pem(), false)
}

/// `AB:CD:…`: the SHA-256 of a certificate as browsers and `openssl x509 -fingerprint
/// -sha256` show it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names a self-signed certificate is made for: the public address (name or IP), the
/// listen addresses' IPs when they are specific, and localhost.
pub fn self_signed_names(public: Option<&str>, listen: &[SocketAddr]) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let specific = listen
        .iter()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .map(|ip| ip.to_string());
    for name in public.map(str::to_owned).into_iter().chain(specific) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Connections whose handshake finished, from a TCP listener.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp`; handshakes run in their own tasks.
    pub fn spawn(tcp: TcpListener, acceptor: TlsAcceptor) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(TlsListener { ready, local })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The next connection that finished its handshake; `None` when the loop ended.
    pub async fn next(&mut self) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
        self.ready.recv().await
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let permits = Arc::new(Semaphore::new(CONCURRENT_HANDSHAKES));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // E.g. out of file descriptors: pause instead of spinning on the error.
                tracing::warn!(%error, "tls accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if ready.is_closed() {
            return;
        }
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(stream)).await;
            drop(permit);
            match handshake {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(error)) => {
                    metrics::counter!("madoguchi_tls_handshake_failures_total").increment(1);
                    tracing::debug!(%peer, %error, "tls handshake failed");
                }
                Err(_) => {
                    metrics::counter!("madoguchi_tls_handshake_failures_total").increment(1);
                    tracing::debug!(%peer, "tls handshake timed out");
                }
            }
        });
    }
}

/// The HTTPS listener for `axum::serve`.
impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.next().await {
            Some(accepted) => accepted,
            // The accept loop ends only with the runtime: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let source = CertificateSource::SelfSigned {
            cert: dir.path().join("tls/cert.pem"),
            key: dir.path().join("tls/key.pem"),
            names: self_signed_names(None, &[]),
        };
        let first = Certificate::load(&source).expect("made");
        let second = Certificate::load(&source).expect("loaded");
        assert!(first.created);
        assert!(!second.created);
        assert_eq!(first.fingerprint, second.fingerprint);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_self_signed_key_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let key = dir.path().join("key.pem");
        let source = CertificateSource::SelfSigned {
            cert: dir.path().join("cert.pem"),
            key: key.clone(),
            names: vec!["localhost".into()],
        };
        Certificate::load(&source).expect("made");
        let mode = std::fs::metadata(&key)
            .expect("written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }

    #[test]
    fn a_missing_or_wrong_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let missing = CertificateSource::Files {
            cert: dir.path().join("none.pem"),
            key: dir.path().join("none.key"),
        };
        let error = Certificate::load(&missing).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("none.pem")));
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").expect("written");
        let wrong = CertificateSource::Files {
            cert: junk.clone(),
            key: junk,
        };
        let error = Certificate::load(&wrong).err().map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("no PEM certificate")),
            "{error:?}"
        );
    }

    #[test]
    fn the_names_include_the_public_address_and_specific_listen_addresses() {
        let names = self_signed_names(
            Some("hotline.city.example"),
            &[
                "0.0.0.0:443".parse().expect("addr"),
                "192.0.2.7:5061".parse().expect("addr"),
            ],
        );
        assert_eq!(
            names,
            [
                "localhost",
                "127.0.0.1",
                "hotline.city.example",
                "192.0.2.7"
            ]
        );
    }

    #[test]
    fn the_fingerprint_is_colon_separated_upper_case_hex() {
        assert!(fingerprint(b"x").starts_with("2D:71:16:42"));
    }
}
