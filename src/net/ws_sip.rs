//! SIP over WebSocket (RFC 7118) at `/ws/sip` on the HTTP port, for browser phones (JsSIP,
//! SIP.js) that register as operators.
//!
//! Each WebSocket is one connection-oriented flow, like a TCP connection of
//! [`super::sip_transport`]: every frame is one SIP message (§5.1, so no Content-Length
//! framing), fed to the engine as [`Transport::Ws`] from the connection's peer address, and
//! whatever the engine sends to that address goes back over the same socket — the only way to
//! reach the phone, whose Contact names a made-up `.invalid` host (§5). When the socket closes
//! the engine hears [`Inbound::FlowClosed`]: the phone's bindings go and its operator logs out.
//!
//! ```text
//!  browser ──WebSocket "sip"──▶ upgrade ─▶ reader ──Inbound::Message(Ws, peer)──▶ engine task
//!  engine task ──Transmit(Ws, peer)──▶ SipTransport::send ─▶ WsSipHub ─▶ writer ──▶ browser
//! ```
//! The hub reaches the handler as an axum `Extension` (the HTTP router knows nothing of SIP).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use madoguchi_sip::Transport;
use tokio::sync::mpsc;

use super::sip_guard::SharedGuard;
use super::sip_transport::Inbound;
use crate::web::{origin_allowed, TrustedOrigins};

/// The WebSocket subprotocol of SIP (RFC 7118 §4); a handshake without it is refused.
pub const SUBPROTOCOL: &str = "sip";
/// Larger messages close the connection; a UDP datagram cannot carry more either.
const MAX_MESSAGE: usize = 65_535;

type Writers = Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>>;

/// The open SIP WebSockets by peer address, and the engine's inbound queue.
#[derive(Clone)]
pub struct WsSipHub {
    writers: Writers,
    inbound: mpsc::Sender<Inbound>,
    /// The same flood guard as UDP and TCP: one source's flood or a scanner is dropped here.
    guard: SharedGuard,
}

impl WsSipHub {
    pub(super) fn new(inbound: mpsc::Sender<Inbound>, guard: SharedGuard) -> WsSipHub {
        WsSipHub {
            writers: Writers::default(),
            inbound,
            guard,
        }
    }

    /// Sends one SIP message over the connection from `peer`. A connection that closed
    /// meanwhile loses it, as a TCP peer that went away would.
    pub fn send(&self, peer: SocketAddr, payload: Vec<u8>) {
        let writer = self
            .writers
            .lock()
            .ok()
            .and_then(|writers| writers.get(&peer).cloned());
        let sent = writer.is_some_and(|writer| writer.send(payload).is_ok());
        if !sent {
            metrics::counter!("madoguchi_sip_send_errors_total").increment(1);
            tracing::debug!(%peer, "no open WebSocket for a SIP message");
        }
    }

    /// Carries one connection until either side closes it.
    async fn serve(self, mut socket: WebSocket, peer: SocketAddr) {
        let (writer, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
        if let Ok(mut writers) = self.writers.lock() {
            writers.insert(peer, writer.clone());
        }
        tracing::debug!(%peer, "SIP WebSocket open");
        loop {
            tokio::select! {
                received = socket.recv() => {
                    let payload = match received {
                        Some(Ok(Message::Text(text))) => Vec::from(text.as_bytes()),
                        Some(Ok(Message::Binary(bytes))) => Vec::from(bytes),
                        // Pings are answered by the WebSocket layer itself.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    };
                    if !self.guard.admit(peer.ip(), &payload) {
                        continue;
                    }
                    let message = Inbound::Message {
                        transport: Transport::Ws,
                        source: peer,
                        payload,
                    };
                    // A WebSocket peer never retransmits: wait for room rather than drop
                    // (this slows this connection only), as for TCP.
                    if self.inbound.send(message).await.is_err() {
                        break;
                    }
                }
                payload = outgoing.recv() => {
                    // `writer` is held here, so the channel cannot end while this runs.
                    let Some(payload) = payload else { break };
                    if socket.send(frame(payload)).await.is_err() {
                        break;
                    }
                }
            }
        }
        // Only this connection's entry goes: the same address may be a newer connection now.
        if let Ok(mut writers) = self.writers.lock() {
            if writers
                .get(&peer)
                .is_some_and(|current| current.same_channel(&writer))
            {
                writers.remove(&peer);
            }
        }
        let _ = self
            .inbound
            .send(Inbound::FlowClosed {
                transport: Transport::Ws,
                source: peer,
            })
            .await;
        tracing::debug!(%peer, "SIP WebSocket closed");
    }
}

/// SIP is text, so a text frame, unless a body is not UTF-8 (§5.1 allows binary frames).
fn frame(payload: Vec<u8>) -> Message {
    match String::from_utf8(payload) {
        Ok(text) => Message::Text(text.into()),
        Err(error) => Message::Binary(error.into_bytes().into()),
    }
}

/// `GET /ws/sip`: the WebSocket handshake with the `sip` subprotocol. A browser page of
/// another site (its `Origin` neither this server nor a `--web-origin`) is refused (403):
/// it could otherwise guess operators' SIP passwords from inside the city's network.
pub async fn upgrade(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    trusted: Option<Extension<TrustedOrigins>>,
    hub: Option<Extension<WsSipHub>>,
) -> Response {
    let Some(Extension(hub)) = hub else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    if !origin_allowed(&headers, trusted.as_ref().map(|Extension(t)| t)) {
        return (
            StatusCode::FORBIDDEN,
            "SIP over WebSocket is open to this server's pages only\n",
        )
            .into_response();
    }
    let upgrade = upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE);
    if upgrade.selected_protocol().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            "SIP over WebSocket needs the subprotocol \"sip\" (RFC 7118)\n",
        )
            .into_response();
    }
    upgrade.on_upgrade(move |socket| hub.serve(socket, peer))
}
