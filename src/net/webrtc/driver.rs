//! The task of one WebRTC leg: its UDP socket and the sans-IO peer connection.
//!
//! The loop follows the `rtc` contract: after every input (a datagram, a packet for the
//! browser, a timer) it drains the core — datagrams to send, events, received RTP — then waits
//! for the next input or the core's next deadline. Nothing here awaits anything but that wait:
//! datagrams go out with a non-blocking send and RTP from the browser is handed on with
//! `try_send`, so a slow consumer costs packets, never ICE consent or DTLS timers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::RTCDtlsTransportState;
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtp;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::sansio::Protocol;
use rtc::shared::marshal::{Marshal, Unmarshal};
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

use super::LegState;

/// Largest datagram read; SRTP audio and DTLS handshake records stay well below it.
const DATAGRAM_MAX: usize = 2048;
/// Packets for the browser taken from the queue per wake-up, so a burst cannot starve reads.
const SEND_BATCH: usize = 8;
/// The core has no deadline: wake up anyway now and then.
const IDLE_WAKE: Duration = Duration::from_secs(60);
/// Timers are millisecond-grained: a deadline already handled within the last millisecond
/// waits out the rest of it, so a core whose deadline does not move cannot spin the task.
const TIMER_STEP: Duration = Duration::from_millis(1);

/// Everything the task owns.
pub(super) struct Driver {
    pub(super) socket: UdpSocket,
    /// The host candidate's address: what the core knows our end of the path by.
    pub(super) local: SocketAddr,
    pub(super) peer: RTCPeerConnection,
    pub(super) sender: RTCRtpSenderId,
    pub(super) ssrc: u32,
    pub(super) outgoing: mpsc::Receiver<Vec<u8>>,
    pub(super) incoming: mpsc::Sender<Vec<u8>>,
    pub(super) state: watch::Sender<LegState>,
    pub(super) stopped: oneshot::Receiver<()>,
}

pub(super) async fn run(driver: Driver) {
    let Driver {
        socket,
        local,
        mut peer,
        sender,
        ssrc,
        mut outgoing,
        incoming,
        state,
        mut stopped,
    } = driver;
    let mut core = Core {
        peer: &mut peer,
        socket: &socket,
        incoming: &incoming,
        state: &state,
        sender,
        ssrc,
    };
    let mut datagram = vec![0u8; DATAGRAM_MAX];
    let mut outgoing_open = true;
    let mut timer_handled: Option<Instant> = None;
    loop {
        core.drain();
        let now = Instant::now();
        let earliest = timer_handled.map_or(now, |at| (at + TIMER_STEP).max(now));
        let deadline = core
            .peer
            .poll_timeout()
            .unwrap_or(now + IDLE_WAKE)
            .max(earliest);
        tokio::select! {
            biased;
            // A stop, or the leg dropped without one.
            _ = &mut stopped => break,
            received = socket.recv_from(&mut datagram) => match received {
                Ok((length, from)) => core.read(&datagram[..length], from, local),
                Err(error) => tracing::debug!(%error, "WebRTC socket read failed"),
            },
            packet = outgoing.recv(), if outgoing_open => match packet {
                Some(packet) => {
                    core.send_rtp(&packet);
                    for _ in 1..SEND_BATCH {
                        match outgoing.try_recv() {
                            Ok(packet) => core.send_rtp(&packet),
                            Err(_) => break,
                        }
                    }
                }
                None => outgoing_open = false,
            },
            _ = tokio::time::sleep_until(deadline.into()) => {
                let now = Instant::now();
                timer_handled = Some(now);
                if let Err(error) = core.peer.handle_timeout(now) {
                    tracing::debug!(%error, "WebRTC timer handling failed");
                }
            }
        }
    }
    // close() queues the DTLS close_notify, so the browser hangs up at once instead of
    // waiting for its consent checks to time out.
    if let Err(error) = core.peer.close() {
        tracing::debug!(%error, "WebRTC close failed");
    }
    core.drain();
    state.send_replace(LegState::Closed);
    tracing::debug!(%local, "WebRTC leg closed");
}

/// The core and the edges it drains into.
struct Core<'a> {
    peer: &'a mut RTCPeerConnection,
    socket: &'a UdpSocket,
    incoming: &'a mpsc::Sender<Vec<u8>>,
    state: &'a watch::Sender<LegState>,
    sender: RTCRtpSenderId,
    ssrc: u32,
}

impl Core<'_> {
    fn read(&mut self, datagram: &[u8], from: SocketAddr, local: SocketAddr) {
        let input = TaggedBytesMut {
            now: Instant::now(),
            transport: TransportContext {
                local_addr: local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(datagram),
        };
        if let Err(error) = self.peer.handle_read(input) {
            tracing::trace!(%error, "WebRTC datagram rejected");
        }
    }

    /// Hands a relayed packet to the core under our SSRC (the relay writes its own).
    fn send_rtp(&mut self, packet: &[u8]) {
        let mut bytes = packet;
        let Ok(mut packet) = rtp::Packet::unmarshal(&mut bytes) else {
            tracing::trace!("malformed RTP for the browser dropped");
            return;
        };
        packet.header.ssrc = self.ssrc;
        let Some(mut sender) = self.peer.rtp_sender(self.sender) else {
            return;
        };
        // Before DTLS is up, or with a payload type the browser did not agree to.
        if let Err(error) = sender.write_rtp(Instant::now(), packet) {
            tracing::trace!(%error, "RTP for the browser dropped");
        }
    }

    /// Drains the core: datagrams out, state changes, RTP from the browser.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.peer.poll_write() {
                progressed = true;
                let to = transmit.transport.peer_addr;
                if let Err(error) = self.socket.try_send_to(&transmit.message, to) {
                    // A full send buffer drops the datagram, as the network would.
                    tracing::trace!(%error, "WebRTC datagram not sent");
                }
            }
            while let Some(event) = self.peer.poll_event() {
                progressed = true;
                if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) = event {
                    self.set_state(state);
                }
            }
            while let Some(TaggedRTCMessage { message, .. }) = self.peer.poll_read() {
                progressed = true;
                if let RTCMessage::RtpPacket(_, packet) = message {
                    self.deliver(&packet);
                }
            }
            if !progressed {
                break;
            }
        }
        self.notice_hang_up();
    }

    /// A browser that closes its connection sends a DTLS close_notify. The W3C connection
    /// state stays "connected" while ICE does, so the transport's own state is what tells.
    fn notice_hang_up(&mut self) {
        if *self.state.borrow() == LegState::Closed {
            return;
        }
        let closed = self
            .peer
            .rtp_sender(self.sender)
            .and_then(|sender| sender.transport().map(|dtls| dtls.state()))
            == Some(RTCDtlsTransportState::Closed);
        if closed {
            tracing::debug!("the browser closed the WebRTC leg");
            self.state.send_replace(LegState::Closed);
        }
    }

    fn deliver(&self, packet: &rtp::Packet) {
        let Ok(bytes) = packet.marshal() else {
            return;
        };
        if self.incoming.try_send(bytes.to_vec()).is_err() {
            tracing::trace!("RTP from the browser dropped: the reader is behind or gone");
        }
    }

    fn set_state(&self, state: RTCPeerConnectionState) {
        let leg = match state {
            RTCPeerConnectionState::Connected => LegState::Connected,
            RTCPeerConnectionState::Disconnected => LegState::Disconnected,
            RTCPeerConnectionState::Failed => LegState::Failed,
            RTCPeerConnectionState::Closed => LegState::Closed,
            _ => LegState::Connecting,
        };
        tracing::debug!(state = ?leg, "WebRTC leg state");
        self.state.send_replace(leg);
    }
}
