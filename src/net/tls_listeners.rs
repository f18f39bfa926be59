//! The TLS listeners of `serve`: HTTPS (`--https-listen`, the same router as plain HTTP)
//! and SIP over TLS (`--sip-tls-listen`), both with the one certificate of
//! `--tls-cert/--tls-key` or `--tls-self-signed` ([`super::tls`]).
//!
//! Plain HTTP stays on `--http-listen` (by default loopback only, for local scripts, health
//! checks and Prometheus); browsers from other machines should use the HTTPS address.

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::sip_tls::SipTlsHub;
use super::tls::{Certificate, TlsError, TlsListener};
use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum TlsListenError {
    #[error("TLS certificate: {0}")]
    Certificate(#[from] TlsError),
    #[error("cannot listen for {what} on {addr}: {source}")]
    Listen {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The bound TLS listeners, until they are started.
#[derive(Default)]
pub struct Listeners {
    https: Option<TlsListener>,
    sip: Option<TlsListener>,
    https_addr: Option<SocketAddr>,
    sip_addr: Option<SocketAddr>,
}

impl Listeners {
    /// Loads (or makes) the certificate and binds the configured addresses; nothing when
    /// neither is configured.
    pub async fn bind(settings: &Settings) -> Result<Listeners, TlsListenError> {
        let Some(source) = &settings.tls else {
            return Ok(Listeners::default());
        };
        if settings.https_listen.is_none() && settings.sip_tls_listen.is_none() {
            return Ok(Listeners::default());
        }
        let certificate = Certificate::load(source)?;
        // The fingerprint is what an officer compares when a browser or phone asks whether
        // to trust a self-signed certificate.
        tracing::info!(
            fingerprint_sha256 = %certificate.fingerprint,
            created = certificate.created,
            "TLS certificate"
        );
        let https = bind_tls(settings.https_listen, "HTTPS", || {
            certificate.https_acceptor()
        })
        .await?;
        let sip = bind_tls(settings.sip_tls_listen, "SIP over TLS", || {
            certificate.sip_acceptor()
        })
        .await?;
        Ok(Listeners {
            https_addr: https.as_ref().map(TlsListener::local_addr),
            sip_addr: sip.as_ref().map(TlsListener::local_addr),
            https,
            sip,
        })
    }

    pub fn sip_addr(&self) -> Option<SocketAddr> {
        self.sip_addr
    }

    /// ` https=ADDR sip_tls=ADDR` for the ready line, for those that listen.
    pub fn ready_fields(&self) -> String {
        let mut fields = String::new();
        if let Some(addr) = self.https_addr {
            fields.push_str(&format!(" https={addr}"));
        }
        if let Some(addr) = self.sip_addr {
            fields.push_str(&format!(" sip_tls={addr}"));
        }
        fields
    }

    /// Hands SIP-over-TLS connections to the SIP transport.
    pub fn start_sip(&mut self, hub: SipTlsHub) {
        if let Some(listener) = self.sip.take() {
            hub.spawn(listener);
        }
    }

    /// Serves `app` over HTTPS: the session cookie gets `Secure` and answers get HSTS
    /// ([`crate::web::served_over_https`]). WebSocket upgrades work as over HTTP.
    pub fn serve_https(&mut self, app: Router) -> Option<JoinHandle<()>> {
        let listener = self.https.take()?;
        let app = app.layer(axum::middleware::from_fn(crate::web::served_over_https));
        Some(tokio::spawn(async move {
            // The peer address keys the sign-in throttle, as on plain HTTP. `tap_io` is
            // only there because axum gives `ConnectInfo` for listeners wrapped so.
            let listener = listener.tap_io(|_| {});
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, app).await;
        }))
    }
}

async fn bind_tls(
    addr: Option<SocketAddr>,
    what: &'static str,
    acceptor: impl FnOnce() -> tokio_rustls::TlsAcceptor,
) -> Result<Option<TlsListener>, TlsListenError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let failed = |source| TlsListenError::Listen { what, addr, source };
    let tcp = TcpListener::bind(addr).await.map_err(failed)?;
    let listener = TlsListener::spawn(tcp, acceptor()).map_err(failed)?;
    Ok(Some(listener))
}
