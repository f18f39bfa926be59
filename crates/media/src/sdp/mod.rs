//! SDP offer/answer (RFC 3264 over RFC 4566) for a G.711 trunk: which codec, which payload
//! types, where to send, and in which direction.
//!
//! Three entry points, all pure functions of their input:
//! - [`negotiate`]: the caller's INVITE carried an offer; returns our answer (for the 200 OK)
//!   and the negotiated [`Negotiated`] parameters. PCMU (0) and PCMA (8) are accepted in the
//!   **caller's** order — the first supported one wins — plus `telephone-event/8000` under the
//!   caller's dynamic payload type when offered. No common codec → [`SdpError::NoCommonCodec`]
//!   (the engine answers 488).
//! - [`build_offer`]: our offer for an INVITE that arrived without SDP (or an outgoing leg):
//!   PCMU, PCMA, telephone-event 101, 20 ms, sendrecv.
//! - [`accept_answer`]: the peer's answer to that offer (in the ACK or a 200).
//!
//! Hold: `c=0.0.0.0` (RFC 2543 style; also `::`), `a=sendonly` or `a=inactive` in an offer
//! mean the peer is holding the call; the answer mirrors the direction (sendonly → recvonly,
//! inactive → inactive, recvonly → sendonly) and [`Negotiated::is_hold`] says so.
//!
//! Parsing is tolerant of what real trunks send (a small reader in `parse.rs`, which says why
//! it is not `webrtc-sdp`); damaged input is a matchable [`SdpError`], never a panic.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use madoguchi_media::sdp::{negotiate, Direction, LocalMedia};
//! use madoguchi_media::Codec;
//!
//! let offer = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//!               m=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
//! let local = LocalMedia {
//!     ip: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
//!     port: 20000,
//!     session_id: 42,
//!     session_version: 1,
//! };
//! let n = negotiate(offer, local).expect("a valid G.711 offer");
//! assert_eq!((n.codec, n.payload_type, n.telephone_event_pt), (Codec::Pcma, 8, Some(101)));
//! assert_eq!(n.remote, Some("192.0.2.1:40000".parse().unwrap()));
//! assert_eq!(n.direction, Direction::SendRecv);
//! assert!(String::from_utf8(n.answer_sdp).unwrap().contains("m=audio 20000 RTP/AVP 8 101\r\n"));
//! ```

mod parse;

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::g711::Codec;
use parse::{Connection, MediaSection, SessionDescription};

/// Our fixed telephone-event payload type in offers we build.
pub const OFFER_TELEPHONE_EVENT_PT: u8 = 101;
/// Packetization we send and ask for.
pub const DEFAULT_PTIME_MS: u32 = 20;

/// Why an SDP body cannot be used. `NoAudioStream`, `NoCommonCodec` and
/// `UnsupportedTransport` are answered with 488 Not Acceptable Here; the others with 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body does not start with `v=0`.
    #[error("body is not SDP (no v=0 first line)")]
    NotSdp,
    /// A line is not of the form `x=value` (1-based line number).
    #[error("line {line} is not an SDP line")]
    MalformedLine { line: usize },
    /// An `m=` line cannot be read.
    #[error("malformed m= line {line}")]
    MalformedMedia { line: usize },
    /// A `c=` line cannot be read.
    #[error("malformed c= line {line}")]
    MalformedConnection { line: usize },
    /// No audio stream with a non-zero port.
    #[error("no active audio stream")]
    NoAudioStream,
    /// Audio offered only over transports we do not speak (e.g. RTP/SAVP).
    #[error("audio offered only over an unsupported transport")]
    UnsupportedTransport,
    /// Audio offered, but neither PCMU nor PCMA.
    #[error("no common codec (need PCMU or PCMA)")]
    NoCommonCodec,
    /// Neither the audio stream nor the session has a `c=` line.
    #[error("audio stream has no connection address")]
    MissingConnection,
    /// The connection address is a host name, which the core does not resolve.
    #[error("connection address is a host name")]
    UnresolvedHost,
}

/// Media direction attribute (RFC 3264 §5.1), from the point of view of the side that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction the other side answers with (sendonly ↔ recvonly).
    pub fn reverse(self) -> Self {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    /// The attribute name (`sendrecv`, …).
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Whether the writer of this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the writer of this direction receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// Removes the receiving half (the peer gave no address to send to).
    fn without_receive(self) -> Self {
        match self {
            Direction::SendRecv => Direction::SendOnly,
            Direction::RecvOnly => Direction::Inactive,
            d => d,
        }
    }
}

/// Our side of the media session: where we receive RTP, and the `o=` identifiers (the engine
/// increments `session_version` for every new offer or answer in the same dialog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMedia {
    pub ip: IpAddr,
    pub port: u16,
    pub session_id: u64,
    pub session_version: u64,
}

/// The result of answering an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Our answer, CRLF-terminated lines, for the response body.
    pub answer_sdp: Vec<u8>,
    pub codec: Codec,
    /// Payload type to send audio with (the caller's number for the codec).
    pub payload_type: u8,
    /// The caller's telephone-event payload type, if both sides do RFC 4733.
    pub telephone_event_pt: Option<u8>,
    /// Where to send RTP; `None` when the peer gave `c=0.0.0.0` (hold).
    pub remote: Option<SocketAddr>,
    /// Our direction, as written in the answer.
    pub direction: Direction,
    /// Packetization the peer asked to receive (`a=ptime`, 10..=120 ms), else 20. A hint only:
    /// the engine may keep its single 20 ms tick.
    pub ptime_ms: u32,
}

impl Negotiated {
    /// Whether the peer put the call on hold (it will not receive our media).
    pub fn is_hold(&self) -> bool {
        is_hold(self.remote, self.direction)
    }
}

/// The result of accepting an answer to our offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptedAnswer {
    pub codec: Codec,
    /// Payload type to send audio with.
    pub payload_type: u8,
    /// Telephone-event payload type if the answer kept it.
    pub telephone_event_pt: Option<u8>,
    /// Where to send RTP; `None` for `c=0.0.0.0`.
    pub remote: Option<SocketAddr>,
    /// Our direction, the mirror of the answer's.
    pub direction: Direction,
    /// Packetization the peer asked to receive, else 20.
    pub ptime_ms: u32,
}

impl AcceptedAnswer {
    /// Whether the peer will not receive our media.
    pub fn is_hold(&self) -> bool {
        is_hold(self.remote, self.direction)
    }
}

fn is_hold(remote: Option<SocketAddr>, ours: Direction) -> bool {
    remote.is_none() || !ours.sends()
}

/// What was chosen from one audio section.
struct Selection {
    codec: Codec,
    payload_type: u8,
    telephone_event: Option<(u8, DtmfEvents)>,
    remote: Option<SocketAddr>,
    /// The peer's direction, adjusted for a null connection address.
    peer_direction: Direction,
    ptime_ms: u32,
}

/// Answers `offer` (RFC 3264 §6): one answer `m=` line per offered one, in order; the first
/// usable audio stream is accepted, every other stream is rejected with port 0.
pub fn negotiate(offer: &[u8], local: LocalMedia) -> Result<Negotiated, SdpError> {
    let desc = parse::parse(offer)?;
    let (index, sel) = select_audio(&desc)?;
    let direction = sel.peer_direction.reverse();
    let mut sdp = session_header(&local);
    for (i, m) in desc.media.iter().enumerate() {
        if i == index {
            write_audio_section(
                &mut sdp,
                m.proto,
                local.port,
                &[(sel.payload_type, sel.codec.encoding_name())],
                sel.telephone_event,
                direction,
            );
        } else {
            let formats = if m.formats.is_empty() { "0" } else { m.formats };
            let _ = write!(sdp, "m={} 0 {} {}\r\n", m.media, m.proto, formats);
        }
    }
    tracing::debug!(
        codec = sel.codec.encoding_name(),
        payload_type = sel.payload_type,
        telephone_event = sel.telephone_event.map(|(pt, _)| pt),
        direction = direction.attribute(),
        "SDP offer answered"
    );
    Ok(Negotiated {
        answer_sdp: sdp.into_bytes(),
        codec: sel.codec,
        payload_type: sel.payload_type,
        telephone_event_pt: sel.telephone_event.map(|(pt, _)| pt),
        remote: sel.remote,
        direction,
        ptime_ms: sel.ptime_ms,
    })
}

/// Our offer: PCMU, PCMA, telephone-event/8000 as 101, 20 ms, sendrecv.
pub fn build_offer(local: LocalMedia) -> Vec<u8> {
    let mut sdp = session_header(&local);
    write_audio_section(
        &mut sdp,
        "RTP/AVP",
        local.port,
        &[(0, "PCMU"), (8, "PCMA")],
        Some((OFFER_TELEPHONE_EVENT_PT, DtmfEvents::ALL_KEYS)),
        Direction::SendRecv,
    );
    sdp.into_bytes()
}

/// Reads the peer's answer to [`build_offer`]: the first supported codec of its audio stream,
/// its telephone-event type, address and direction (mirrored to ours).
pub fn accept_answer(answer: &[u8]) -> Result<AcceptedAnswer, SdpError> {
    let desc = parse::parse(answer)?;
    let (_, sel) = select_audio(&desc)?;
    Ok(AcceptedAnswer {
        codec: sel.codec,
        payload_type: sel.payload_type,
        telephone_event_pt: sel.telephone_event.map(|(pt, _)| pt),
        remote: sel.remote,
        direction: sel.peer_direction.reverse(),
        ptime_ms: sel.ptime_ms,
    })
}

/// Finds the first active audio section we can use and what to use in it. The error reflects
/// the best stream seen: codec trouble beats transport trouble beats no audio at all.
fn select_audio(desc: &SessionDescription<'_>) -> Result<(usize, Selection), SdpError> {
    let mut error = SdpError::NoAudioStream;
    for (i, m) in desc.media.iter().enumerate() {
        if !m.media.eq_ignore_ascii_case("audio") || m.port == 0 {
            continue;
        }
        if !is_plain_rtp(m.proto) {
            if error == SdpError::NoAudioStream {
                error = SdpError::UnsupportedTransport;
            }
            continue;
        }
        let Some((codec, payload_type)) = first_g711(m) else {
            error = SdpError::NoCommonCodec;
            continue;
        };
        let connection = m
            .connection
            .or(desc.connection)
            .ok_or(SdpError::MissingConnection)?;
        let ip = match connection {
            Connection::Ip(ip) => ip,
            Connection::Host => return Err(SdpError::UnresolvedHost),
        };
        let offered = m
            .direction
            .or(desc.direction)
            .unwrap_or(Direction::SendRecv);
        let (remote, peer_direction) = if ip.is_unspecified() {
            (None, offered.without_receive())
        } else {
            (Some(SocketAddr::new(ip, m.port)), offered)
        };
        let ptime_ms = m
            .ptime
            .or(desc.ptime)
            .filter(|p| (10..=120).contains(p))
            .unwrap_or(DEFAULT_PTIME_MS);
        return Ok((
            i,
            Selection {
                codec,
                payload_type,
                telephone_event: telephone_event(m),
                remote,
                peer_direction,
                ptime_ms,
            },
        ));
    }
    Err(error)
}

/// RTP/AVP, or RTP/AVPF whose feedback we may simply not use (RFC 4585 §3.2 keeps it compatible).
fn is_plain_rtp(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/AVP") || proto.eq_ignore_ascii_case("RTP/AVPF")
}

/// The first format, in the offerer's order, that is PCMU or PCMA at 8 kHz mono.
fn first_g711(m: &MediaSection<'_>) -> Option<(Codec, u8)> {
    m.payload_types.iter().find_map(|&pt| {
        let codec = match m.rtpmap(pt) {
            Some(map) => {
                let mono = map.channels.is_none_or(|c| c == 1);
                if map.clock_rate != 8000 || !mono {
                    return None;
                }
                if map.encoding.eq_ignore_ascii_case("PCMU") {
                    Codec::Pcmu
                } else if map.encoding.eq_ignore_ascii_case("PCMA") {
                    Codec::Pcma
                } else {
                    return None;
                }
            }
            // Static assignments of RFC 3551 need no rtpmap.
            None => match pt {
                0 => Codec::Pcmu,
                8 => Codec::Pcma,
                _ => return None,
            },
        };
        Some((codec, pt))
    })
}

/// The offered telephone-event/8000 payload type, if it is in the format list and its event
/// list (`a=fmtp`, RFC 4733 §7.1.1) includes DTMF keys; with the keys both sides handle.
fn telephone_event(m: &MediaSection<'_>) -> Option<(u8, DtmfEvents)> {
    m.payload_types.iter().copied().find_map(|pt| {
        let map = m.rtpmap(pt)?;
        if !map.encoding.eq_ignore_ascii_case("telephone-event") || map.clock_rate != 8000 {
            return None;
        }
        let events = m.fmtp(pt).map_or(DtmfEvents::ALL_KEYS, DtmfEvents::parse);
        (!events.is_empty()).then_some((pt, events))
    })
}

/// The set of DTMF key events 0..=15 (RFC 4733 §3.2), as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DtmfEvents(u16);

impl DtmfEvents {
    /// 0-15, also what an offer without `a=fmtp` means (RFC 4733 §7.1.1).
    const ALL_KEYS: DtmfEvents = DtmfEvents(0xFFFF);

    /// Reads an event list such as `0-15`, `0-11,16` or `0-16`; events above 15 (flash, tones)
    /// are not keys and drop out, and unreadable items are skipped.
    fn parse(list: &str) -> Self {
        let mut mask = 0u16;
        for item in list.split(',').map(str::trim) {
            let (lo, hi) = match item.split_once('-') {
                Some((lo, hi)) => (lo.trim().parse::<u32>(), hi.trim().parse::<u32>()),
                None => (item.parse::<u32>(), item.parse::<u32>()),
            };
            let (Ok(lo), Ok(hi)) = (lo, hi) else { continue };
            for event in lo..=hi.min(15) {
                mask |= 1 << event;
            }
        }
        DtmfEvents(mask)
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The list in `a=fmtp` form, runs written as ranges (`0-9,12-15`).
    fn to_fmtp(self) -> String {
        let mut out = String::new();
        let mut event = 0u32;
        while event < 16 {
            if self.0 & (1 << event) == 0 {
                event += 1;
                continue;
            }
            let start = event;
            while event < 16 && self.0 & (1 << event) != 0 {
                event += 1;
            }
            if !out.is_empty() {
                out.push(',');
            }
            let _ = match event - 1 - start {
                0 => write!(out, "{start}"),
                _ => write!(out, "{start}-{}", event - 1),
            };
        }
        out
    }
}

fn addr_type(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    }
}

fn session_header(local: &LocalMedia) -> String {
    let at = addr_type(local.ip);
    // Writing to a String cannot fail; the results are ignored for that reason.
    let mut sdp = String::with_capacity(320);
    let _ = write!(
        sdp,
        "v=0\r\no=madoguchi {} {} IN {at} {ip}\r\ns=madoguchi\r\nc=IN {at} {ip}\r\nt=0 0\r\n",
        local.session_id,
        local.session_version,
        ip = local.ip,
    );
    sdp
}

fn write_audio_section(
    sdp: &mut String,
    proto: &str,
    port: u16,
    codecs: &[(u8, &str)],
    telephone_event: Option<(u8, DtmfEvents)>,
    direction: Direction,
) {
    let _ = write!(sdp, "m=audio {port} {proto}");
    for (pt, _) in codecs {
        let _ = write!(sdp, " {pt}");
    }
    if let Some((te, _)) = telephone_event {
        let _ = write!(sdp, " {te}");
    }
    sdp.push_str("\r\n");
    for (pt, name) in codecs {
        let _ = write!(sdp, "a=rtpmap:{pt} {name}/8000\r\n");
    }
    if let Some((te, events)) = telephone_event {
        // Only DTMF keys (0-15) are reported by the receiver, so only those are accepted.
        let _ = write!(
            sdp,
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} {}\r\n",
            events.to_fmtp()
        );
    }
    let _ = write!(
        sdp,
        "a=ptime:{DEFAULT_PTIME_MS}\r\na={}\r\n",
        direction.attribute()
    );
}

#[cfg(test)]
mod offer_tests;
#[cfg(test)]
mod tests;
