//! RTP packets (RFC 3550): parsing a received datagram, writing outgoing packets into a
//! caller-provided buffer, and the receiver-side bookkeeping (extended sequence numbers, loss,
//! jitter, the address the peer sends from).
//!
//! Driving: the shell hands every received datagram to [`RtpHeader::parse`], which returns the
//! header and the payload slice without copying; the header then goes to
//! [`ReceiveStats::handle_packet`] (with the source address and `now`). For sending, one
//! [`RtpSender`] per stream writes 12-byte headers in front of pre-encoded frames; after silence,
//! hold or a pacing skip, [`RtpSender::resume_after_gap`] moves the timestamp on and marks the
//! next packet as the start of a talkspurt (RFC 3551 §4.1).
//!
//! ```
//! use madoguchi_media::rtp::{RtpHeader, RtpSender};
//! let mut tx = RtpSender::from_seed(7);
//! let mut buf = [0u8; 1500];
//! let n = tx.write_packet(8, &[0xD5; 160], &mut buf);
//! let (hdr, payload) = RtpHeader::parse(&buf[..n]).expect("we just wrote a valid packet");
//! assert!(hdr.marker);
//! assert_eq!((hdr.payload_type, payload.len()), (8, 160));
//! ```

use std::net::SocketAddr;
use std::time::Instant;

use crate::ids::{SeqNo, Ssrc};

/// Size of the fixed RTP header (no CSRCs, no extension).
pub const HEADER_LEN: usize = 12;

/// Largest forward sequence jump still taken as loss (RFC 3550 §A.1 suggests 3000).
pub const MAX_DROPOUT: u64 = 3000;
/// Largest backward sequence jump still taken as reordering (RFC 3550 §A.1 suggests 100).
pub const MAX_MISORDER: u64 = 100;

/// Why a datagram is not a usable RTP packet, or an outgoing packet does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the header it announces.
    #[error("datagram of {len} bytes is too short for an RTP header")]
    TooShort { len: usize },
    /// Version field other than 2.
    #[error("RTP version {0} is not 2")]
    BadVersion(u8),
    /// The CSRC list runs past the end of the datagram.
    #[error("CSRC list of {count} entries exceeds the datagram")]
    CsrcOverrun { count: u8 },
    /// The header extension runs past the end of the datagram.
    #[error("header extension exceeds the datagram")]
    ExtensionOverrun,
    /// The padding count is zero or larger than the payload.
    #[error("invalid padding count {count}")]
    BadPadding { count: u8 },
    /// Second byte in 192..=223: an RTCP packet multiplexed on the RTP port (RFC 5761 §4).
    #[error("RTCP packet type {packet_type} on the RTP port")]
    LooksLikeRtcp { packet_type: u8 },
    /// The output buffer cannot hold header and payload.
    #[error("buffer of {available} bytes cannot hold a {needed}-byte packet")]
    BufferTooSmall { needed: usize, available: usize },
}

/// The fixed part of an RTP header (RFC 3550 §5.1). CSRCs and the extension are skipped by
/// [`RtpHeader::parse`]; nothing in a G.711 trunk call needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// P bit: the payload was followed by padding (already stripped from the payload slice).
    pub padding: bool,
    /// X bit: a header extension was present (skipped).
    pub extension: bool,
    /// Number of CSRC identifiers that were present (skipped).
    pub csrc_count: u8,
    /// M bit: for audio, the first packet of a talkspurt; for telephone-event, a new event.
    pub marker: bool,
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: Ssrc,
}

impl RtpHeader {
    /// Parses a datagram, returning the header and the payload (without CSRCs, extension and
    /// padding). Never panics; anything malformed is an [`RtpError`].
    pub fn parse(datagram: &[u8]) -> Result<(RtpHeader, &[u8]), RtpError> {
        let too_short = RtpError::TooShort {
            len: datagram.len(),
        };
        let fixed: &[u8; HEADER_LEN] = datagram
            .get(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(too_short)?;
        let version = fixed[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        if (192..=223).contains(&fixed[1]) {
            return Err(RtpError::LooksLikeRtcp {
                packet_type: fixed[1],
            });
        }
        let padding = fixed[0] & 0x20 != 0;
        let extension = fixed[0] & 0x10 != 0;
        let csrc_count = fixed[0] & 0x0F;
        let mut offset = HEADER_LEN + 4 * usize::from(csrc_count);
        if offset > datagram.len() {
            return Err(RtpError::CsrcOverrun { count: csrc_count });
        }
        if extension {
            // RFC 3550 §5.3.1: 16-bit profile id, 16-bit length in 32-bit words.
            let ext = datagram
                .get(offset..offset + 4)
                .ok_or(RtpError::ExtensionOverrun)?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            offset += 4 + 4 * words;
            if offset > datagram.len() {
                return Err(RtpError::ExtensionOverrun);
            }
        }
        let mut end = datagram.len();
        if padding {
            // The last octet counts the padding octets, itself included (RFC 3550 §5.1).
            let count = datagram[end - 1];
            if count == 0 || usize::from(count) > end - offset {
                return Err(RtpError::BadPadding { count });
            }
            end -= usize::from(count);
        }
        let header = RtpHeader {
            padding,
            extension,
            csrc_count,
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7F,
            sequence_number: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: Ssrc(u32::from_be_bytes([
                fixed[8], fixed[9], fixed[10], fixed[11],
            ])),
        };
        Ok((header, &datagram[offset..end]))
    }

    /// Writes the fixed 12-byte header (V=2, no padding, extension or CSRCs) into `out`.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtpError> {
        let available = out.len();
        let dst: &mut [u8; HEADER_LEN] = out
            .get_mut(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(RtpError::BufferTooSmall {
                needed: HEADER_LEN,
                available,
            })?;
        dst[0] = 0x80;
        dst[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        dst[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        dst[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        dst[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        Ok(HEADER_LEN)
    }
}

/// SplitMix64: a tiny, well-distributed mixer so one caller-provided seed yields independent
/// initial SSRC, sequence number and timestamp (RFC 3550 §5.1 asks for random initial values).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The sending side of one RTP stream: SSRC, next sequence number and timestamp, and whether
/// the next audio packet starts a talkspurt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpSender {
    pub ssrc: Ssrc,
    /// Sequence number of the next packet.
    pub seq: u16,
    /// RTP timestamp of the next audio packet (8 kHz units for G.711).
    pub timestamp: u32,
    /// The next audio packet carries the marker bit.
    pub marker_pending: bool,
}

impl RtpSender {
    /// A sender with explicit initial values; the first packet carries the marker bit.
    pub fn new(ssrc: Ssrc, initial_seq: u16, initial_timestamp: u32) -> Self {
        Self {
            ssrc,
            seq: initial_seq,
            timestamp: initial_timestamp,
            marker_pending: true,
        }
    }

    /// A sender whose SSRC, initial sequence number and timestamp derive from `seed` (use a
    /// per-call value from the engine's seeded RNG).
    pub fn from_seed(seed: u64) -> Self {
        let mut state = seed;
        // Truncations pick the low bits of independent 64-bit draws.
        let ssrc = Ssrc(splitmix64(&mut state) as u32);
        let seq = splitmix64(&mut state) as u16;
        let timestamp = splitmix64(&mut state) as u32;
        Self::new(ssrc, seq, timestamp)
    }

    /// Writes a G.711 packet (one byte per sample) and advances the sequence number by 1 and the
    /// timestamp by `payload.len()` samples (160 for 20 ms). Returns the packet length.
    ///
    /// # Panics
    /// If `out` is shorter than `12 + payload.len()` — a bug in the caller, whose MTU-sized
    /// buffer always fits an audio frame; see [`RtpSender::try_write_packet`] otherwise.
    pub fn write_packet(&mut self, pt: u8, payload: &[u8], out: &mut [u8]) -> usize {
        let samples = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        // Holds for every correct caller: the buffer size is the shell's choice, never input.
        self.try_write_packet(pt, payload, samples, out)
            .expect("caller provides a buffer of at least 12 + payload bytes")
    }

    /// Like [`RtpSender::write_packet`] with an explicit sample count (for codecs that are not
    /// one byte per sample) and an error instead of a panic when `out` is too small. On error
    /// the sender's state is unchanged.
    pub fn try_write_packet(
        &mut self,
        pt: u8,
        payload: &[u8],
        samples: u32,
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        let marker = self.marker_pending;
        let len = self.write_raw(pt, self.timestamp, marker, payload, out)?;
        self.marker_pending = false;
        self.timestamp = self.timestamp.wrapping_add(samples);
        Ok(len)
    }

    /// Writes a packet with a caller-chosen timestamp and marker, advancing only the sequence
    /// number: RFC 4733 events share the stream's SSRC and sequence space but keep the event's
    /// start timestamp in every packet. Does not touch the audio timestamp or marker.
    pub fn write_event_packet(
        &mut self,
        pt: u8,
        event_timestamp: u32,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        self.write_raw(pt, event_timestamp, marker, payload, out)
    }

    fn write_raw(
        &mut self,
        pt: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        let needed = HEADER_LEN + payload.len();
        let available = out.len();
        let dst = out
            .get_mut(..needed)
            .ok_or(RtpError::BufferTooSmall { needed, available })?;
        let header = RtpHeader {
            padding: false,
            extension: false,
            csrc_count: 0,
            marker,
            payload_type: pt,
            sequence_number: self.seq,
            timestamp,
            ssrc: self.ssrc,
        };
        header.write(dst)?;
        dst[HEADER_LEN..].copy_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        Ok(needed)
    }

    /// Accounts for `samples` of media that were not sent (silence suppression, hold, frames
    /// skipped by pacing): the timestamp moves on so the receiver sees the gap, and the next
    /// audio packet carries the marker bit as the start of a new talkspurt.
    pub fn resume_after_gap(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.marker_pending = true;
    }
}

/// Extends 16-bit sequence numbers to [`SeqNo`] across rollovers by choosing, for each packet,
/// the extension closest to the highest number seen so far (so reordering of up to 32,767
/// packets either way is handled).
///
/// The first packet maps to `65_536 + seq`: the extra 2¹⁶ base lets a packet reordered before
/// the first one, across a wrap, still get a smaller, distinct number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqExtender {
    max: Option<u64>,
}

impl SeqExtender {
    pub fn new() -> Self {
        Self::default()
    }

    /// The extended number of `seq`; updates the highest number seen.
    pub fn extend(&mut self, seq: u16) -> SeqNo {
        let extended = self.peek(seq);
        if self.max.is_none_or(|max| extended.0 > max) {
            self.max = Some(extended.0);
        }
        extended
    }

    /// The extended number `seq` would get, without recording it.
    pub fn peek(&self, seq: u16) -> SeqNo {
        let Some(max) = self.max else {
            return SeqNo((1 << 16) + u64::from(seq));
        };
        // The signed 16-bit distance from the wire value of `max` picks the nearest extension.
        let delta = i64::from(seq.wrapping_sub(max as u16) as i16);
        SeqNo((max as i64 + delta).max(0) as u64)
    }

    /// The highest extended sequence number seen, if any.
    pub fn max(&self) -> Option<SeqNo> {
        self.max.map(SeqNo)
    }
}

/// Receive-side statistics of one call leg's RTP (RFC 3550 §6.4.1, §A.3, §A.8): packets,
/// cumulative loss estimate, interarrival jitter, and the address the peer last sent from (for
/// symmetric RTP: the shell sends to where the peer's media really comes from behind NAT).
///
/// A new SSRC starts a new sequence space (a carrier re-routing the call); counts of earlier
/// sources are kept in the totals. So does a sequence jump of more than [`MAX_DROPOUT`] ahead
/// or [`MAX_MISORDER`] behind once the next packet confirms it (RFC 3550 §A.1: a sender that
/// restarted its numbering without changing SSRC); the single unconfirmed packet is not counted,
/// so one stray packet cannot wreck the loss estimate.
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    clock_rate: u32,
    audio_payload_type: u8,
    ssrc: Option<Ssrc>,
    extender: SeqExtender,
    base_seq: Option<SeqNo>,
    stream_packets: u64,
    earlier_packets: u64,
    earlier_lost: u64,
    last_source: Option<SocketAddr>,
    source_changes: u32,
    ssrc_changes: u32,
    restarts: u32,
    /// After an out-of-window packet: the wire sequence number that would confirm a restart.
    bad_seq: Option<u16>,
    first_arrival: Option<Instant>,
    last_transit: Option<u32>,
    /// Jitter in timestamp units, scaled by 16 (RFC 3550 §A.8 integer form).
    jitter_q4: u64,
}

impl ReceiveStats {
    /// Statistics for a stream with the given RTP clock rate (8000 for G.711); interarrival
    /// jitter is measured on `audio_payload_type` only, because telephone-event packets repeat
    /// their event's start timestamp.
    pub fn new(clock_rate: u32, audio_payload_type: u8) -> Self {
        Self {
            clock_rate,
            audio_payload_type,
            ssrc: None,
            extender: SeqExtender::new(),
            base_seq: None,
            stream_packets: 0,
            earlier_packets: 0,
            earlier_lost: 0,
            last_source: None,
            source_changes: 0,
            ssrc_changes: 0,
            restarts: 0,
            bad_seq: None,
            first_arrival: None,
            last_transit: None,
            jitter_q4: 0,
        }
    }

    /// Records one received packet; returns its extended sequence number (for an unconfirmed
    /// out-of-window packet, the number it would have had; it is not counted).
    pub fn handle_packet(&mut self, header: &RtpHeader, source: SocketAddr, now: Instant) -> SeqNo {
        if self.ssrc != Some(header.ssrc) {
            if self.ssrc.is_some() {
                self.ssrc_changes += 1;
            }
            self.ssrc = Some(header.ssrc);
            self.new_sequence_space();
        }
        if self.last_source.is_some_and(|s| s != source) {
            self.source_changes += 1;
        }
        self.last_source = Some(source);

        if let Some(max) = self.extender.max() {
            let candidate = self.extender.peek(header.sequence_number);
            let out_of_window =
                candidate.0 > max.0 + MAX_DROPOUT || candidate.0 + MAX_MISORDER < max.0;
            if out_of_window {
                if self.bad_seq == Some(header.sequence_number) {
                    tracing::debug!("RTP sequence restarted without SSRC change");
                    self.restarts += 1;
                    self.new_sequence_space();
                } else {
                    self.bad_seq = Some(header.sequence_number.wrapping_add(1));
                    return candidate;
                }
            }
        }
        self.bad_seq = None;

        let seq = self.extender.extend(header.sequence_number);
        if self.base_seq.is_none_or(|b| seq < b) {
            self.base_seq = Some(seq);
        }
        self.stream_packets += 1;

        if header.payload_type == self.audio_payload_type {
            self.update_jitter(header.timestamp, now);
        }
        seq
    }

    /// Folds the current stream's counts into the totals and starts counting afresh.
    fn new_sequence_space(&mut self) {
        self.earlier_packets += self.stream_packets;
        self.earlier_lost += self.stream_lost();
        self.extender = SeqExtender::new();
        self.base_seq = None;
        self.bad_seq = None;
        self.stream_packets = 0;
        self.last_transit = None;
    }

    fn update_jitter(&mut self, rtp_timestamp: u32, now: Instant) {
        let first = *self.first_arrival.get_or_insert(now);
        let elapsed = now.saturating_duration_since(first);
        // Arrival time in RTP units; only differences matter, so wrapping to u32 is fine.
        let arrival = (elapsed.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(last) = self.last_transit {
            let d = u64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            // J += (|D| - J) / 16, kept scaled by 16; |D| < 2^31 keeps this far from overflow.
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    fn stream_expected(&self) -> u64 {
        match (self.base_seq, self.extender.max()) {
            (Some(base), Some(max)) => max.0 - base.0 + 1,
            _ => 0,
        }
    }

    fn stream_lost(&self) -> u64 {
        // Duplicates can make received exceed expected; loss is then reported as zero.
        self.stream_expected().saturating_sub(self.stream_packets)
    }

    /// Packets received, over all SSRCs.
    pub fn packets(&self) -> u64 {
        self.earlier_packets + self.stream_packets
    }

    /// Cumulative number of packets lost (expected minus received), over all SSRCs.
    pub fn lost(&self) -> u64 {
        self.earlier_lost + self.stream_lost()
    }

    /// Packets expected from the current SSRC (highest − first extended sequence + 1).
    pub fn expected(&self) -> u64 {
        self.stream_expected()
    }

    /// Interarrival jitter of the current stream, in RTP timestamp units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter_q4 >> 4).unwrap_or(u32::MAX)
    }

    /// Where the last packet came from.
    pub fn last_source(&self) -> Option<SocketAddr> {
        self.last_source
    }

    /// How many times the source address changed.
    pub fn source_changes(&self) -> u32 {
        self.source_changes
    }

    /// The SSRC currently received.
    pub fn ssrc(&self) -> Option<Ssrc> {
        self.ssrc
    }

    /// How many times the SSRC changed.
    pub fn ssrc_changes(&self) -> u32 {
        self.ssrc_changes
    }

    /// How many times the sequence numbering restarted under the same SSRC.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The highest extended sequence number of the current SSRC.
    pub fn max_seq(&self) -> Option<SeqNo> {
        self.extender.max()
    }
}

#[cfg(test)]
#[path = "rtp_tests.rs"]
mod tests;
