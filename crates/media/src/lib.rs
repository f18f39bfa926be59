//! The sans-IO media core of madoguchi: everything the engine's media shell needs to turn a SIP
//! trunk's SDP into a running G.711 announcement stream, one packet at a time.
//!
//! # Layout
//! - [`sdp`]: RFC 3264/4566 offer/answer for trunk-style audio SDP ([`sdp::negotiate`],
//!   [`sdp::build_offer`], [`sdp::accept_answer`]).
//! - [`rtp`]: RFC 3550 header parsing, the sending side ([`rtp::RtpSender`]) and the receiving
//!   side ([`rtp::SeqExtender`], [`rtp::ReceiveStats`]).
//! - [`g711`]: µ-law / A-law tables and encoders, PCMU↔PCMA transcoding.
//! - [`dtmf`]: RFC 4733 telephone-event parsing, a de-duplicating receiver and a sender.
//! - [`pacing`]: the drift-free 20 ms [`pacing::FrameClock`] shared by all streams.
//! - [`relay`]: bridging two legs — each received packet rewritten into the other leg's own
//!   stream ([`relay::RelayRewriter`], [`relay::LegOutput`]).
//! - [`mix`]: supervision (listen-in, whisper, barge) — each participant's audio decoded,
//!   mixed per listener and re-encoded on the 20 ms tick ([`mix::MixRoom`]).
//! - [`ids`]: newtype ids ([`Ssrc`], [`SeqNo`]).
//!
//! # How it is driven
//! Nothing here opens a socket, reads a clock or draws an unseeded random number. The shell owns
//! the UDP socket and a single timer; per tick it asks [`pacing::FrameClock::due_frames`] how
//! many frames to send, copies each pre-encoded 160-byte frame into a packet with
//! [`rtp::RtpSender::write_packet`] (into its own buffer, no allocation), and feeds every received
//! datagram through [`rtp::RtpHeader::parse`], then to [`rtp::ReceiveStats`] and — for the
//! negotiated telephone-event payload type — to [`dtmf::DtmfReceiver`]; while two legs are
//! bridged, also through [`relay::RelayRewriter::relay`] into the other leg's stream.
//!
//! ```
//! use madoguchi_media::{g711, rtp::RtpSender, Ssrc};
//! let mut sender = RtpSender::new(Ssrc(0x1234_5678), 1000, 0);
//! let pcm = [0i16; 160];
//! let mut frame = [0u8; 160];
//! g711::encode_ulaw_slice(&pcm, &mut frame);
//! let mut out = [0u8; 1500];
//! let len = sender.write_packet(0, &frame, &mut out);
//! assert_eq!(len, 12 + 160);
//! ```

pub mod dtmf;
pub mod g711;
pub mod ids;
pub mod mix;
pub mod pacing;
pub mod relay;
pub mod rtp;
pub mod sdp;

pub use g711::Codec;
pub use ids::{SeqNo, Ssrc};

/// The one clock reading in this crate, for tests only: an arbitrary origin from which tests
/// build every other instant by adding durations (virtual time). The library code never reads
/// the clock.
#[cfg(test)]
pub(crate) fn test_origin() -> std::time::Instant {
    std::time::Instant::now()
}

#[cfg(test)]
mod stream_tests;
