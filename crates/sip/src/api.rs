//! The vocabulary between the endpoint and the call layer: configuration, the bytes to send,
//! the events, and the errors of TU commands. See [`crate::endpoint`] for the driving loop.

use crate::prack::PrackPolicy;
use crate::registrar::{RegistrarConfig, RegistrarEvent};
use crate::{LegId, ReInviteId, ReferId};
use std::net::SocketAddr;

/// The methods this endpoint accepts; sent in every Allow header.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, REFER, NOTIFY, PRACK";

/// Transport a message came on or goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// SIP over WebSocket (RFC 7118): one message per frame on a connection the browser
    /// opened. The address is that connection's peer; nothing can be sent to a WebSocket
    /// phone except over the connection its REGISTER came on (§5).
    Ws,
    /// SIP over TLS (RFC 3261 §26, port 5061), framed like TCP. Connection-bound as a
    /// WebSocket is: the engine opens no TLS connections, so a phone is reached over the
    /// connection it opened (its binding ends with it) and the Via/Contact say `TLS`.
    Tls,
}

impl Transport {
    /// Reliable transports run no retransmission timers.
    pub fn is_reliable(self) -> bool {
        matches!(self, Self::Tcp | Self::Ws | Self::Tls)
    }

    /// Only the connection a peer opened reaches it: its Contact names no address we could
    /// open one to (RFC 7118 §5: hosts such as `df7jal23ls0d.invalid`).
    pub fn is_connection_bound(self) -> bool {
        matches!(self, Self::Ws | Self::Tls)
    }

    pub(crate) fn via_name(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Ws => "WS",
            Self::Tls => "TLS",
        }
    }
}

/// Static settings of an endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// IP or name used in our Via and Contact.
    pub public_host: String,
    pub public_port: u16,
    /// Sent as Server (responses) and User-Agent (requests).
    pub user_agent: String,
    /// Larger inputs are dropped and counted.
    pub max_message_size: usize,
    /// Digest realm of REGISTER challenges (the HA1s in the store are computed with it).
    pub realm: String,
    pub registrar: RegistrarConfig,
    /// Keys the stateless digest nonces; from the shell's RNG at start.
    pub nonce_secret: [u8; 32],
    /// Nonces older than this are answered with `stale=true`.
    pub nonce_lifetime_secs: u64,
    /// When incoming INVITEs get reliable provisionals (RFC 3262, see `prack.rs`).
    pub prack: PrackPolicy,
}

// By hand so the nonce secret never reaches a log line.
impl std::fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("public_host", &self.public_host)
            .field("public_port", &self.public_port)
            .field("user_agent", &self.user_agent)
            .field("max_message_size", &self.max_message_size)
            .field("realm", &self.realm)
            .field("registrar", &self.registrar)
            .field("nonce_lifetime_secs", &self.nonce_lifetime_secs)
            .field("prack", &self.prack)
            .finish_non_exhaustive()
    }
}

/// Bytes for the shell to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub transport: Transport,
    pub destination: SocketAddr,
    pub payload: Vec<u8>,
}

/// A call the engine places (an operator's phone, the city line through a trunk); see
/// [`crate::Endpoint::invite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundCall {
    /// e.g. `sip:op1@127.0.0.1:5070` or `sip:city@127.0.0.1:5080`.
    pub request_uri: String,
    /// Where the INVITE is sent (the phone's binding source, or the trunk/proxy).
    pub destination: SocketAddr,
    pub transport: Transport,
    /// User part of our From (the caller number to pass on).
    pub from_user: String,
    pub from_display: Option<String>,
    /// e.g. P-Asserted-Identity, X-Madoguchi-Call-Id. Values lose any CR/LF; invalid names
    /// are skipped.
    pub extra_headers: Vec<(String, String)>,
    /// Our SDP offer.
    pub sdp: Vec<u8>,
    /// (username, password) answering one 401/407 challenge.
    pub credentials: Option<(String, String)>,
}

/// How our BYE ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupOutcome {
    /// A final response arrived (200, or 481 if the peer had already forgotten the dialog).
    Completed { status: u16 },
    /// Timer F fired: the peer never answered.
    TimedOut,
}

/// What the endpoint tells the call layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEvent {
    /// A new INVITE; 100 Trying was already sent.
    IncomingCall {
        leg: LegId,
        call_id: String,
        from_user: String,
        from_display: Option<String>,
        /// The Request-URI user (the dialled number).
        to_user: String,
        source: SocketAddr,
        transport: Transport,
        sdp: Option<Vec<u8>>,
        /// Extension headers (names starting with `X-`), in the order sent: what another
        /// node says about a call it offers (`X-Madoguchi-Peer`, `-Call-Id`, `-Queue`, `-Menu`).
        headers: Vec<(String, String)>,
    },
    /// CANCEL matched: 200 to the CANCEL and 487 to the INVITE were already sent.
    CallCancelled { leg: LegId },
    /// The ACK for our 2xx arrived (`sdp` is the answer when our 200 carried the offer).
    CallConfirmed { leg: LegId, sdp: Option<Vec<u8>> },
    /// Our 2xx was never ACKed within 64·T1: the call layer should hang up.
    AckTimedOut { leg: LegId },
    /// A reliable provisional (RFC 3262) got no PRACK within 64·T1: the INVITE was already
    /// rejected with 504 (a held 200 never went out); `LegTerminated` follows.
    ProvisionalNotAcked { leg: LegId },
    /// A re-INVITE arrived; answer it with `answer_reinvite`.
    ReInvite {
        leg: LegId,
        request: ReInviteId,
        sdp: Option<Vec<u8>>,
    },
    /// The ACK for our 2xx to an offerless re-INVITE: it carries the answer to the offer our
    /// 200 made (RFC 3264 §5). Raised only when the ACK has a body.
    ReInviteAnswered { leg: LegId, sdp: Vec<u8> },
    /// BYE received; 200 OK already sent.
    RemoteHangup { leg: LegId },
    /// Our BYE got its final response or timed out.
    HangupCompleted { leg: LegId, outcome: HangupOutcome },
    /// All state for the leg is gone; no more events for it.
    LegTerminated { leg: LegId },
    /// A 101–199 to our INVITE (180 Ringing, 183 with early media …), raised once per
    /// distinct status and SDP.
    OutgoingProgress {
        leg: LegId,
        status: u16,
        sdp: Option<Vec<u8>>,
    },
    /// A 2xx to our INVITE; the endpoint already sent the ACK. The leg is confirmed.
    OutgoingAnswered { leg: LegId, sdp: Option<Vec<u8>> },
    /// Our INVITE failed: the final status (≥ 300, after at most one authentication retry),
    /// 408 when Timer B fired or the transport failed, 487 when our CANCEL went unanswered
    /// for 64·T1 or the call was answered after it (that 2xx is ACKed and BYEd, with
    /// `HangupCompleted` following). `LegTerminated` follows at once
    /// except after such a late 2xx.
    OutgoingFailed { leg: LegId, status: u16 },
    /// A REFER (RFC 3515) on a confirmed leg; answer it with `answer_refer`, then report the
    /// transfer with `notify_refer`. `refer_to` is the URI (parameters kept, `?headers`
    /// dropped), `referred_by` the Referred-By URI.
    Refer {
        leg: LegId,
        refer: ReferId,
        refer_to: String,
        referred_by: Option<String>,
    },
    /// A binding was added, refreshed, removed or expired (for presence and the store).
    Registration(RegistrarEvent),
    /// A REGISTER carried a wrong digest response, or named an unknown login (for the log
    /// and rate limits; the phone got the same `401` either way).
    AuthFailed { login: String, source: SocketAddr },
}

/// A TU command could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("leg {0} does not exist (any more)")]
    UnknownLeg(LegId),
    #[error("leg {0} is not in a state that allows this command")]
    InvalidState(LegId),
    #[error("status {0} is not allowed for this command")]
    InvalidStatus(u16),
    #[error("re-INVITE {0} is not pending")]
    UnknownReInvite(ReInviteId),
    #[error("REFER {0} is not pending")]
    UnknownRefer(ReferId),
}
