//! SIP over TLS (RFC 3261 §26, the 5061 of desk phones) on `--sip-tls-listen`, with the
//! certificate of HTTPS ([`super::tls`]).
//!
//! Each connection is framed like TCP ([`StreamDecoder`]: Content-Length, RFC 5626 CRLF
//! keep-alives) and fed to the engine as [`Transport::Tls`] from the connection's peer
//! address; whatever the engine sends to that address goes back over the same connection.
//! The engine opens no TLS connections itself, so a phone on TLS is reached only over the
//! connection it opened (as a WebSocket phone is); when it closes the engine hears
//! [`Inbound::FlowClosed`] and the phone's bindings go until it registers again.
//!
//! ```text
//!  phone ──TLS──▶ TlsListener (handshake) ─▶ reader ──Inbound::Message(Tls, peer)──▶ engine
//!  engine ──Transmit(Tls, peer)──▶ SipTransport::send ─▶ SipTlsHub ─▶ writer ──TLS──▶ phone
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use madoguchi_sip::framing::{StreamDecoder, StreamItem};
use madoguchi_sip::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;

use super::sip_guard::SharedGuard;
use super::sip_transport::Inbound;
use super::tls::TlsListener;

type Writers = Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>>;

/// The open SIP-over-TLS connections by peer address, and the engine's inbound queue.
#[derive(Clone)]
pub struct SipTlsHub {
    writers: Writers,
    inbound: mpsc::Sender<Inbound>,
    /// The same flood guard as UDP and TCP: one source's flood or a scanner is dropped here.
    guard: SharedGuard,
}

impl SipTlsHub {
    pub(super) fn new(inbound: mpsc::Sender<Inbound>, guard: SharedGuard) -> SipTlsHub {
        SipTlsHub {
            writers: Writers::default(),
            inbound,
            guard,
        }
    }

    /// Sends one SIP message over the connection from `peer`; a connection that closed
    /// meanwhile loses it, as a TCP peer that went away would.
    pub fn send(&self, peer: SocketAddr, payload: Vec<u8>) {
        let writer = self
            .writers
            .lock()
            .ok()
            .and_then(|writers| writers.get(&peer).cloned());
        if writer.is_none_or(|writer| writer.send(payload).is_err()) {
            metrics::counter!("madoguchi_sip_send_errors_total").increment(1);
            tracing::debug!(%peer, "no open TLS connection for a SIP message");
        }
    }

    /// Serves every connection `listener` hands over, until the process ends.
    pub fn spawn(self, mut listener: TlsListener) {
        tokio::spawn(async move {
            while let Some((stream, peer)) = listener.next().await {
                tokio::spawn(self.clone().serve(stream, peer));
            }
        });
    }

    /// Carries one connection until either side closes it or it breaks the framing.
    async fn serve(self, stream: TlsStream<TcpStream>, peer: SocketAddr) {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let (tx, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
        if let Ok(mut writers) = self.writers.lock() {
            writers.insert(peer, tx.clone());
        }
        tracing::debug!(%peer, "SIP TLS connection open");
        let write = tokio::spawn(async move {
            while let Some(bytes) = outgoing.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            let _ = writer.shutdown().await;
        });
        let mut decoder = StreamDecoder::default();
        let mut buf = vec![0u8; 16 * 1024];
        'connection: loop {
            let len = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(len) => len,
            };
            decoder.push(&buf[..len]);
            loop {
                match decoder.next_item() {
                    // Reliable peers never retransmit: wait for room in the queue rather
                    // than drop, slowing this connection only (as for TCP).
                    Ok(Some(StreamItem::Message(payload))) => {
                        if !self.guard.admit(peer.ip(), &payload) {
                            continue;
                        }
                        let message = Inbound::Message {
                            transport: Transport::Tls,
                            source: peer,
                            payload,
                        };
                        if self.inbound.send(message).await.is_err() {
                            break 'connection;
                        }
                    }
                    // RFC 5626 keep-alive: a double CRLF ping gets a CRLF pong.
                    Ok(Some(StreamItem::KeepAlivePing)) => {
                        let _ = tx.send(b"\r\n".to_vec());
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "closing a SIP TLS connection with a broken stream");
                        metrics::counter!("madoguchi_sip_parse_errors_total").increment(1);
                        break 'connection;
                    }
                }
            }
        }
        // Only this connection's entry goes: the same address may be a newer connection.
        if let Ok(mut writers) = self.writers.lock() {
            if writers
                .get(&peer)
                .is_some_and(|current| current.same_channel(&tx))
            {
                writers.remove(&peer);
            }
        }
        // The writer ends once the last sender is gone, after what is queued.
        drop(tx);
        drop(write);
        let _ = self
            .inbound
            .send(Inbound::FlowClosed {
                transport: Transport::Tls,
                source: peer,
            })
            .await;
        tracing::debug!(%peer, "SIP TLS connection closed");
    }
}
