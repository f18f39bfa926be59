//! DTMF over RTP as RFC 4733 telephone-events: the 4-byte payload, a receiver that turns the
//! stream of start / interim / retransmitted end packets into one digit per key press, and a
//! sender that produces those packets.
//!
//! # Receiving
//! The shell passes every packet whose payload type is the negotiated telephone-event type to
//! [`DtmfReceiver::handle_packet`] and drains [`DtmfReceiver::poll_event`]. An event is
//! identified by its RTP timestamp (RFC 4733 §2.5.1.2: all packets of one event carry the
//! event's start timestamp).
//!
//! **A digit is reported on the first packet of its event that arrives** — normally the start
//! packet with the marker bit, otherwise whichever interim or end packet comes first. Reporting
//! at the start keeps menu latency at one packet and needs no timer: a press whose end packets
//! are all lost is still reported exactly once. Later packets of the same event (interim
//! updates, the three end retransmissions) are absorbed; a packet with a different, newer
//! timestamp is a new press — even of the same digit — and implicitly ends the previous event.
//! Packets older than the current event (reordered stragglers) are ignored. A newer timestamp
//! *without* the marker bit, for the same still-running event, that starts where the previous
//! segment reached, is the continuation of a long press (RFC 4733 §2.5.1.5), not a new digit.
//! Sequence numbers are not used, so their wrap cannot matter; timestamps compare with
//! wrapping arithmetic.
//!
//! ```
//! use madoguchi_media::dtmf::{DtmfEvent, DtmfReceiver, DtmfSender};
//! use madoguchi_media::rtp::{RtpHeader, RtpSender};
//! use madoguchi_media::Ssrc;
//!
//! let mut tx = RtpSender::new(Ssrc(1), 0, 0);
//! let mut rx = DtmfReceiver::new();
//! let mut press = DtmfSender::new('5', 8000, 800).expect("'5' is a DTMF digit");
//! let mut buf = [0u8; 64];
//! while let Some(p) = press.next_packet() {
//!     let n = tx.write_event_packet(101, p.timestamp, p.marker, &p.payload, &mut buf).unwrap();
//!     let (hdr, payload) = RtpHeader::parse(&buf[..n]).unwrap();
//!     rx.handle_packet(&hdr, payload).unwrap();
//! }
//! assert_eq!(rx.poll_event(), Some(DtmfEvent::Digit('5')));
//! assert_eq!(rx.poll_event(), None);
//! ```

use std::collections::VecDeque;

use crate::rtp::RtpHeader;

/// Samples per 20 ms packet at 8 kHz: the interval between interim packets.
const PACKET_SAMPLES: u16 = 160;
/// Slack, in samples, within which a marker-less newer segment of the same running event is
/// taken as the continuation of a long press rather than a new one (1 s at 8 kHz).
const CONTINUATION_SLACK: u32 = 8000;
/// Default volume of sent events: −10 dBm0, the usual level of a keypad tone.
const DEFAULT_VOLUME: u8 = 10;
/// Number of packets carrying the end bit (RFC 4733 §2.5.1.4 recommends three).
const END_PACKETS: u8 = 3;

/// Why a telephone-event payload or a send request is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    /// A telephone-event payload is 4 bytes; this one is shorter.
    #[error("telephone-event payload of {len} bytes, need 4")]
    PayloadTooShort { len: usize },
    /// Not one of 0-9, *, #, A-D.
    #[error("{0:?} is not a DTMF digit")]
    NotADigit(char),
    /// Events must last at least one sample.
    #[error("event duration must be positive")]
    ZeroDuration,
}

/// One RFC 4733 §2.3 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D`, 16 flash, …
    pub event: u8,
    /// E bit: the event has ended (this is one of the final packets).
    pub end: bool,
    /// Power level in −dBm0 (0..=63).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first event block of a payload (later blocks of RFC 2198 redundancy or
    /// multi-event packets are ignored). The reserved bit is ignored as the RFC asks.
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let block: &[u8; 4] = payload
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(DtmfError::PayloadTooShort { len: payload.len() })?;
        Ok(Self {
            event: block[0],
            end: block[1] & 0x80 != 0,
            volume: block[1] & 0x3F,
            duration: u16::from_be_bytes([block[2], block[3]]),
        })
    }

    /// The wire form.
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }

    /// The key this event stands for, if it is a DTMF digit.
    pub fn digit(&self) -> Option<char> {
        digit_for_event(self.event)
    }
}

/// Event code → key (RFC 4733 §3.2 table 7).
pub fn digit_for_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// Key → event code; lowercase `a`-`d` are accepted.
pub fn event_for_digit(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// What the receiver reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    /// One key press: '0'-'9', '*', '#', 'A'-'D'.
    Digit(char),
}

/// The event the receiver is currently tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CurrentEvent {
    /// Start timestamp of the latest segment of the event.
    timestamp: u32,
    event: u8,
    ended: bool,
    /// Longest duration seen for the latest segment.
    duration: u16,
}

/// De-duplicates telephone-event packets into [`DtmfEvent`]s; see the module docs for the rules.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    current: Option<CurrentEvent>,
    events: VecDeque<DtmfEvent>,
}

impl DtmfReceiver {
    /// A receiver with room for a few queued digits, so receiving does not allocate.
    pub fn new() -> Self {
        Self {
            current: None,
            events: VecDeque::with_capacity(8),
        }
    }

    /// Feeds one telephone-event RTP packet (header and payload as returned by
    /// [`RtpHeader::parse`]).
    pub fn handle_packet(&mut self, header: &RtpHeader, payload: &[u8]) -> Result<(), DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        let ts = header.timestamp;
        let Some(cur) = self.current.as_mut() else {
            self.start_event(ts, ev);
            return Ok(());
        };
        let age = ts.wrapping_sub(cur.timestamp) as i32;
        if age == 0 {
            if ev.event == cur.event {
                cur.ended |= ev.end;
                cur.duration = cur.duration.max(ev.duration);
            }
            return Ok(());
        }
        if age < 0 {
            tracing::trace!(ts, current = cur.timestamp, "stale telephone-event ignored");
            return Ok(());
        }
        let continues_long_press = !header.marker
            && ev.event == cur.event
            && !cur.ended
            && (age as u32) <= u32::from(cur.duration) + CONTINUATION_SLACK;
        if continues_long_press {
            *cur = CurrentEvent {
                timestamp: ts,
                event: ev.event,
                ended: ev.end,
                duration: ev.duration,
            };
            return Ok(());
        }
        self.start_event(ts, ev);
        Ok(())
    }

    fn start_event(&mut self, timestamp: u32, ev: TelephoneEvent) {
        self.current = Some(CurrentEvent {
            timestamp,
            event: ev.event,
            ended: ev.end,
            duration: ev.duration,
        });
        if let Some(d) = ev.digit() {
            tracing::debug!(event = ev.event, "DTMF digit received");
            self.events.push_back(DtmfEvent::Digit(d));
        }
    }

    /// The next detected digit, oldest first.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.events.pop_front()
    }
}

impl Default for DtmfReceiver {
    fn default() -> Self {
        Self::new()
    }
}

/// One packet to send for a digit: put `payload` in an RTP packet with this timestamp and
/// marker (see [`crate::rtp::RtpSender::write_event_packet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    pub timestamp: u32,
    pub marker: bool,
    pub payload: [u8; 4],
}

/// Produces the packets of one key press: a start packet with the marker bit, one interim
/// packet per 20 ms with the growing duration, and the final duration three times with the end
/// bit. The shell calls [`DtmfSender::next_packet`] once per 20 ms frame instead of sending
/// audio, then resumes audio with [`crate::rtp::RtpSender::resume_after_gap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtmfSender {
    event: u8,
    timestamp: u32,
    total: u16,
    volume: u8,
    /// Packets produced so far.
    sent: u32,
    /// End packets still to send once the duration is reached.
    ends_left: u8,
}

impl DtmfSender {
    /// A press of `digit` starting at RTP timestamp `event_timestamp`, lasting
    /// `duration_samples` (800 = 100 ms at 8 kHz).
    pub fn new(
        digit: char,
        event_timestamp: u32,
        duration_samples: u16,
    ) -> Result<Self, DtmfError> {
        let event = event_for_digit(digit).ok_or(DtmfError::NotADigit(digit))?;
        if duration_samples == 0 {
            return Err(DtmfError::ZeroDuration);
        }
        Ok(Self {
            event,
            timestamp: event_timestamp,
            total: duration_samples,
            volume: DEFAULT_VOLUME,
            sent: 0,
            ends_left: END_PACKETS,
        })
    }

    /// Sets the power level (0..=63, −dBm0).
    pub fn with_volume(mut self, volume: u8) -> Self {
        self.volume = volume.min(63);
        self
    }

    /// The next packet, or `None` once the last end packet was produced.
    pub fn next_packet(&mut self) -> Option<DtmfPacket> {
        if self.ends_left == 0 {
            return None;
        }
        let elapsed = (self.sent + 1).saturating_mul(u32::from(PACKET_SAMPLES));
        let duration = u16::try_from(elapsed).unwrap_or(u16::MAX).min(self.total);
        let end = duration == self.total;
        if end {
            self.ends_left -= 1;
        }
        let marker = self.sent == 0;
        self.sent += 1;
        let payload = TelephoneEvent {
            event: self.event,
            end,
            volume: self.volume,
            duration,
        }
        .to_bytes();
        Some(DtmfPacket {
            timestamp: self.timestamp,
            marker,
            payload,
        })
    }

    /// Whether all packets have been produced.
    pub fn is_done(&self) -> bool {
        self.ends_left == 0
    }

    /// Samples the press occupies on the stream's timeline.
    pub fn duration_samples(&self) -> u16 {
        self.total
    }
}

#[cfg(test)]
#[path = "dtmf_tests.rs"]
mod tests;
