//! madoguchi-sip: the sans-IO SIP stack (RFC 3261) of the madoguchi engine.
//!
//! # Layout
//! - [`normalize`] and [`parse`]: bytes → `rsip::SipMessage`, with the validation a UAS needs
//!   and a best-effort scanner that still answers `400` to requests rsip cannot parse.
//! - [`framing`]: the TCP stream decoder (Content-Length framing, RFC 5626 keep-alives).
//! - [`timers`] and [`transaction`]: the four RFC 3261 §17 transaction state machines.
//! - [`dialog`]: dialogs (§12), UAS and UAC side.
//! - [`digest`]: Digest authentication (server side with stateless nonces, MD5 and SHA-256;
//!   the client side answering challenges to our INVITEs).
//! - [`registrar`]: the REGISTER binding table (§10.3), with expiry timers.
//! - `register`: REGISTER requests behind digest authentication, wiring the two above into
//!   the endpoint ([`SipCredentials`], [`Endpoint::set_credentials`]).
//! - [`guard`]: the flood and scanner guard the socket readers ask about each message (rate
//!   limits per source, fail2ban-like blocks, scanner User-Agents); [`caps`]: the endpoint's
//!   caps on dialogs and transactions per source and in total (503 beyond them).
//! - [`endpoint`]: the core that owns transactions and dialogs — the only type the engine
//!   talks to; `uas.rs` handles what arrives, `uac.rs` the calls we place
//!   ([`Endpoint::invite`]), `refer.rs` blind transfers by REFER (RFC 3515), `prack.rs`
//!   reliable provisional responses (RFC 3262, [`PrackPolicy`]).
//!
//! # Driving contract
//! No sockets, clocks or unseeded randomness live here. The shell feeds datagrams/frames with
//! [`Endpoint::handle_input`], moves time with [`Endpoint::handle_timeout`], and after every
//! input drains [`Endpoint::poll_transmit`] and [`Endpoint::poll_event`] until both are empty,
//! then sleeps until [`Endpoint::poll_timeout`].
//!
//! ```
//! use madoguchi_sip::{Endpoint, EndpointConfig, SipEvent, Transport};
//! use std::time::Instant;
//! let mut ep = Endpoint::new(EndpointConfig {
//!     public_host: "192.0.2.10".into(), public_port: 5060,
//!     user_agent: "madoguchi".into(), max_message_size: 65_535,
//!     realm: "madoguchi".into(), registrar: Default::default(),
//!     nonce_secret: [0; 32], // from the shell's RNG
//!     nonce_lifetime_secs: 300, prack: Default::default(),
//! }, 7);
//! let now = Instant::now(); // the shell's clock, never read inside the core
//! let src = "192.0.2.20:5060".parse().unwrap();
//! ep.handle_input(now, Transport::Udp, src, b"OPTIONS sip:hotline@192.0.2.10 SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK1\r\nFrom: <sip:a@192.0.2.20>;tag=1\r\n\
//! To: <sip:hotline@192.0.2.10>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
//! let out = ep.poll_transmit().unwrap();
//! assert!(out.payload.starts_with(b"SIP/2.0 200 OK"));
//! assert_eq!(out.destination, src);
//! ```

mod api;
pub mod caps;
pub mod dialog;
pub mod digest;
pub mod endpoint;
pub mod framing;
pub mod guard;
mod message;
pub mod normalize;
pub mod parse;
mod prack;
mod refer;
mod register;
pub mod registrar;
mod stats;
pub mod timers;
pub mod transaction;
mod uac;
mod uas;

pub use caps::{CapExceeded, SessionCaps};
pub use dialog::{Dialog, DialogError, DialogId};
pub use digest::{Challenger, Credentials, DigestAlgorithm, DigestError, Verdict};
pub use endpoint::{
    Endpoint, EndpointConfig, EndpointError, HangupOutcome, OutboundCall, SipEvent, Transmit,
    Transport,
};
pub use framing::{FramingError, StreamDecoder, StreamItem};
pub use parse::{parse_message, ParseError};
pub use prack::PrackPolicy;
pub use register::SipCredentials;
pub use registrar::{
    Binding, BindingSource, ContactRequest, Registrar, RegistrarConfig, RegistrarError,
    RegistrarEvent,
};
pub use stats::SipStats;
pub use timers::TransactionTimer;
pub use transaction::TransactionKey;

/// Declares a `u64` newtype id (Copy, ordered, hashable, displayed as its number).
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_newtype!(
    /// One INVITE (incoming, or placed with `Endpoint::invite`) → one leg; the same id names
    /// its dialog.
    LegId
);
id_newtype!(
    /// One re-INVITE received inside a leg's dialog, answered with `answer_reinvite`.
    ReInviteId
);
id_newtype!(
    /// One REFER received inside a leg's dialog, answered with `answer_refer`.
    ReferId
);

#[cfg(test)]
mod tests;
