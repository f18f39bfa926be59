//! WebRTC media legs: a browser's audio (ICE, DTLS-SRTP, PCMU/PCMA) as plain RTP packets in
//! and out, for the media runtime to bridge like any other leg.
//!
//! The protocol work is the sans-IO `rtc` crate's (the core under the `webrtc` crate's async
//! layer). Each leg is one UDP socket and one task ([`driver`]) that feeds the core what the
//! socket reads, sends what the core writes, and moves time through `handle_timeout`. The
//! async layer was not used for the leg: its `write_rtp` awaits a lock and a channel, while the
//! relay must hand a packet over without awaiting, and it would add a driver task and a writer
//! task per leg to the one task this needs.
//!
//! Our side is ICE-lite with one host candidate (the configured address): the browser checks,
//! we answer. The answer carries exactly one G.711 codec — PCMU when the offer has it, else
//! PCMA — and telephone-event/8000 when offered, so what the relay writes and reads needs no
//! transcoding here. A browser SIP phone (JsSIP, SIP.js) is called instead: [`offer_on`] makes
//! the offer (one law, the caller's, and telephone-event; `a=setup:actpass`, so the browser
//! picks the DTLS client role) and [`PendingOffer::answer`] starts the leg once the phone's
//! 200 OK brings the answer. Until then the socket only buffers the browser's ICE checks,
//! which it repeats.
//!
//! # Use
//! ```ignore
//! let (mut leg, answer_sdp) = webrtc::accept(&offer_sdp, &config).await?;
//! // answer_sdp goes back to the browser over signalling.
//! // Or, offering to a phone: the offer goes out in the INVITE, the 200 OK's answer comes back.
//! let (pending, offer_sdp) = webrtc::offer_on(socket, candidate_ip, Codec::Pcmu)?;
//! let mut leg = pending.answer(&answer_sdp)?;
//! let to_browser = leg.browser_sender(); // cheap clone for the relay path
//! to_browser.send_rtp(&rtp_packet);      // never awaits; drops when the leg is congested
//! while let Some(packet) = leg.recv_rtp().await { /* plain RTP from the browser */ }
//! leg.close().await;                     // socket and task released
//! ```

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;

use madoguchi_media::Codec;
use rand::Rng;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

mod driver;
mod negotiation;
#[cfg(test)]
mod tests;

/// Packets queued towards the browser before `send_rtp` starts dropping: 16 frames of 20 ms.
const TO_BROWSER_QUEUE: usize = 16;
/// Packets from the browser held for a slow reader before the newest are dropped.
const FROM_BROWSER_QUEUE: usize = 32;

/// Where WebRTC legs listen.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
pub struct WebRtcConfig {
    /// The address the legs' UDP sockets bind to.
    pub bind_ip: IpAddr,
    /// The address announced in the host candidate; `None` announces `bind_ip`. Required when
    /// `bind_ip` is unspecified (0.0.0.0 or ::), which no browser can send to.
    pub candidate_ip: Option<IpAddr>,
    /// UDP ports a leg may take (one per leg: RTP, RTCP, STUN and DTLS share it); `0..=0`
    /// lets the system choose.
    pub ports: RangeInclusive<u16>,
}

#[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
impl WebRtcConfig {
    fn candidate_ip(&self) -> Result<IpAddr, WebRtcError> {
        let ip = self.candidate_ip.unwrap_or(self.bind_ip);
        if ip.is_unspecified() {
            return Err(WebRtcError::NoCandidateAddress);
        }
        Ok(ip)
    }
}

/// Why a leg could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WebRtcError {
    #[error("the offer is not a valid SDP offer: {0}")]
    InvalidOffer(rtc::shared::error::Error),
    #[error("the answer is not a valid SDP answer to our offer: {0}")]
    InvalidAnswer(rtc::shared::error::Error),
    #[error("the offer has no audio section")]
    NoAudio,
    #[error("the offer has neither PCMU nor PCMA, or the answer dropped the offered law")]
    NoCommonCodec,
    #[error("no host candidate address: the bind address is unspecified and none is configured")]
    NoCandidateAddress,
    #[error("no free UDP port in the WebRTC range")]
    #[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
    NoFreePort,
    #[error("the UDP socket cannot be used: {0}")]
    Socket(std::io::Error),
    #[error("WebRTC negotiation failed: {0}")]
    Negotiation(rtc::shared::error::Error),
}

/// What the engine needs to know about a leg's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegState {
    /// ICE and DTLS are in progress.
    Connecting,
    /// Media flows both ways.
    Connected,
    /// The browser went quiet; it may come back.
    Disconnected,
    /// The browser is gone for good (ICE or DTLS failed).
    Failed,
    /// The browser hung up (DTLS close_notify), the leg was closed, or its task ended.
    Closed,
}

/// The sending half of a leg, for the relay path: cheap to clone, never awaits.
#[derive(Clone)]
pub struct BrowserRtpSender {
    queue: mpsc::Sender<Vec<u8>>,
}

impl BrowserRtpSender {
    /// Queues one plain RTP packet (header and G.711 payload, with the leg's payload type) for
    /// the browser; false when it was dropped because the leg is congested or closed. Never
    /// blocks or awaits. (A packet queued before DTLS is up is dropped by the leg's task.)
    pub fn send_rtp(&self, packet: &[u8]) -> bool {
        let queued = self.queue.try_send(packet.to_vec()).is_ok();
        if !queued {
            tracing::trace!("packet to the browser dropped");
        }
        queued
    }
}

/// One browser's audio leg.
pub struct WebRtcLeg {
    codec: Codec,
    payload_type: u8,
    telephone_event_pt: Option<u8>,
    #[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
    local: SocketAddr,
    to_browser: BrowserRtpSender,
    from_browser: mpsc::Receiver<Vec<u8>>,
    state: watch::Receiver<LegState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl WebRtcLeg {
    /// The negotiated G.711 law.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The payload type of the audio, in both directions.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// The payload type of RFC 4733 telephone-event/8000, when the browser offered it.
    pub fn telephone_event_pt(&self) -> Option<u8> {
        self.telephone_event_pt
    }

    /// The leg's socket address (the host candidate's port).
    #[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Queues a plain RTP packet for the browser; see [`BrowserRtpSender::send_rtp`].
    #[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
    pub fn send_rtp(&self, packet: &[u8]) -> bool {
        self.to_browser.send_rtp(packet)
    }

    /// A handle that sends to the browser, for a task that does not own the leg.
    pub fn browser_sender(&self) -> BrowserRtpSender {
        self.to_browser.clone()
    }

    /// The next plain RTP packet from the browser (SRTP removed), `None` once the leg ended.
    pub async fn recv_rtp(&mut self) -> Option<Vec<u8>> {
        self.from_browser.recv().await
    }

    /// The transport's state, to notice a browser that went away.
    pub fn state(&self) -> watch::Receiver<LegState> {
        self.state.clone()
    }

    /// Tells the browser (DTLS close_notify), then releases the socket and the task.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // The task only fails by panicking, which it has already reported.
            let _ = task.await;
        }
    }
}

impl Drop for WebRtcLeg {
    /// A leg dropped without `close` still frees its socket: the task is stopped.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Accepts a browser's SDP offer on a fresh port of `config.ports`: returns the leg and the
/// answer SDP to send back.
#[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
pub async fn accept(
    offer: &str,
    config: &WebRtcConfig,
) -> Result<(WebRtcLeg, String), WebRtcError> {
    let candidate_ip = config.candidate_ip()?;
    let socket = bind_in_range(config.bind_ip, &config.ports).await?;
    accept_on(offer, socket, candidate_ip).await
}

/// Accepts a browser's SDP offer on a socket the caller bound (from a shared port pool), with
/// `candidate_ip` announced in the host candidate.
pub async fn accept_on(
    offer: &str,
    socket: UdpSocket,
    candidate_ip: IpAddr,
) -> Result<(WebRtcLeg, String), WebRtcError> {
    let local = candidate_address(&socket, candidate_ip)?;
    let (negotiated, answer) = negotiation::answer(offer, local)?;
    Ok((start(socket, local, negotiated), answer))
}

/// Our offer to a browser phone, made on a socket of the caller's pool; the leg starts with
/// the phone's answer.
pub struct PendingOffer {
    socket: UdpSocket,
    local: SocketAddr,
    offered: negotiation::Offered,
}

impl PendingOffer {
    /// Applies the phone's SDP answer and starts the leg (needs a tokio runtime). On error
    /// the socket is dropped with the offer.
    pub fn answer(self, answer: &str) -> Result<WebRtcLeg, WebRtcError> {
        let negotiated = self.offered.accept(answer)?;
        Ok(start(self.socket, self.local, negotiated))
    }
}

/// Offers `codec` (and telephone-event) on `socket`, with `candidate_ip` announced in the
/// host candidate: returns the pending leg and the offer SDP for the INVITE.
pub fn offer_on(
    socket: UdpSocket,
    candidate_ip: IpAddr,
    codec: Codec,
) -> Result<(PendingOffer, String), WebRtcError> {
    let local = candidate_address(&socket, candidate_ip)?;
    let offered = negotiation::offer(codec, local)?;
    let sdp = offered.offer.clone();
    tracing::debug!(%local, ?codec, "WebRTC offer made");
    Ok((
        PendingOffer {
            socket,
            local,
            offered,
        },
        sdp,
    ))
}

/// The host candidate's address: `candidate_ip` on the socket's port.
fn candidate_address(socket: &UdpSocket, candidate_ip: IpAddr) -> Result<SocketAddr, WebRtcError> {
    if candidate_ip.is_unspecified() {
        return Err(WebRtcError::NoCandidateAddress);
    }
    let port = socket.local_addr().map_err(WebRtcError::Socket)?.port();
    Ok(SocketAddr::new(candidate_ip, port))
}

/// Starts the task of a negotiated leg on `socket`.
fn start(socket: UdpSocket, local: SocketAddr, negotiated: negotiation::Negotiated) -> WebRtcLeg {
    let (to_browser, outgoing) = mpsc::channel(TO_BROWSER_QUEUE);
    let (incoming, from_browser) = mpsc::channel(FROM_BROWSER_QUEUE);
    let (state_tx, state) = watch::channel(LegState::Connecting);
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(driver::run(driver::Driver {
        socket,
        local,
        peer: negotiated.peer,
        sender: negotiated.sender,
        ssrc: negotiated.ssrc,
        outgoing,
        incoming,
        state: state_tx,
        stopped,
    }));
    tracing::debug!(%local, codec = ?negotiated.codec, "WebRTC leg started");
    WebRtcLeg {
        codec: negotiated.codec,
        payload_type: negotiated.payload_type,
        telephone_event_pt: negotiated.telephone_event_pt,
        local,
        to_browser: BrowserRtpSender { queue: to_browser },
        from_browser,
        state,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Binds a UDP socket on a port of `range`, starting at a random one so a port just released
/// is not taken again at once.
#[cfg_attr(not(test), allow(dead_code))] // the engine binds from its RTP pool (accept_on)
async fn bind_in_range(ip: IpAddr, range: &RangeInclusive<u16>) -> Result<UdpSocket, WebRtcError> {
    let (start, end) = (*range.start(), *range.end());
    if start > end {
        return Err(WebRtcError::NoFreePort);
    }
    let span = u32::from(end - start) + 1;
    let first = rand::thread_rng().gen_range(0..span);
    for step in 0..span {
        let offset = (first + step) % span;
        // `offset < span` keeps `start + offset` within `start..=end`.
        let port = start + offset as u16;
        if let Ok(socket) = UdpSocket::bind(SocketAddr::new(ip, port)).await {
            return Ok(socket);
        }
    }
    Err(WebRtcError::NoFreePort)
}
