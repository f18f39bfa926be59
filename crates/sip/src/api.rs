//! The vocabulary between the endpoint and the call layer: configuration, the bytes to send,
//! the events, and the errors of TU commands. See [`crate::endpoint`] for the driving loop.

use crate::{LegId, ReInviteId};
use std::net::SocketAddr;

/// The methods this UAS accepts; sent in every Allow header.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO";

/// Transport a message came on or goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// Reliable transports run no retransmission timers.
    pub fn is_reliable(self) -> bool {
        matches!(self, Self::Tcp)
    }

    pub(crate) fn via_name(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
        }
    }
}

/// Static settings of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// IP or name used in our Via and Contact.
    pub public_host: String,
    pub public_port: u16,
    /// Sent as Server (responses) and User-Agent (requests).
    pub user_agent: String,
    /// Larger inputs are dropped and counted.
    pub max_message_size: usize,
}

/// Bytes for the shell to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub transport: Transport,
    pub destination: SocketAddr,
    pub payload: Vec<u8>,
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
    },
    /// CANCEL matched: 200 to the CANCEL and 487 to the INVITE were already sent.
    CallCancelled { leg: LegId },
    /// The ACK for our 2xx arrived (`sdp` is the answer when our 200 carried the offer).
    CallConfirmed { leg: LegId, sdp: Option<Vec<u8>> },
    /// Our 2xx was never ACKed within 64·T1: the call layer should hang up.
    AckTimedOut { leg: LegId },
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
}
