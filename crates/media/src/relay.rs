//! Relaying RTP between the two legs of a bridged call, as a back-to-back user agent does: each
//! packet that arrives on one leg is rewritten into the *other* leg's own outgoing stream.
//!
//! The output keeps the output leg's identity: its SSRC, its sequence numbers (one per packet
//! sent, continuing whatever went out before — prompt frames — and continued by whatever comes
//! after) and its timeline. Input timestamps map onto that timeline by an offset fixed at the
//! first relayed packet (the *anchor*), so a gap in the input (lost packets, silence
//! suppression) stays a gap of the same length. The offset is re-anchored when the input SSRC
//! changes (the far end restarted its stream), when the input sequence jumps out of the window
//! of RFC 3550 §A.1 (confirmed by a second packet), and when somebody else wrote to the output
//! stream in between (a prompt). The first packet after an anchor carries the marker bit.
//!
//! Payload types are rewritten to the output leg's: audio to its negotiated payload type,
//! transcoded when the laws differ (PCMU↔PCMA), copied untouched when they match; RFC 4733
//! events to its telephone-event type, and dropped if it negotiated none.
//!
//! # How it is driven
//! The shell keeps one [`LegOutput`] per leg — the leg's sending state, shared by its prompt
//! playback and by the relay into it — and one [`RelayRewriter`] per direction of a bridge.
//! Prompt frames go out through [`LegOutput::write_audio`]; each 20 ms frame time in which a leg
//! sent nothing is reported with [`LegOutput::pass_idle`], so the timeline keeps real time. A
//! datagram received on leg A goes through [`RelayRewriter::relay`] (or
//! [`RelayRewriter::relay_datagram`]) with B's output and a buffer; the bytes written are sent to
//! B's remote. Per packet nothing allocates.
//!
//! ```
//! use madoguchi_media::g711::Transcoder;
//! use madoguchi_media::relay::{LegFormat, LegOutput, RelayRewriter};
//! use madoguchi_media::rtp::{RtpHeader, RtpSender};
//! use madoguchi_media::{Codec, Ssrc};
//!
//! let caller = LegFormat { codec: Codec::Pcmu, payload_type: 0, telephone_event_pt: Some(101) };
//! let operator = LegFormat { codec: Codec::Pcma, payload_type: 8, telephone_event_pt: None };
//! let mut to_operator = LegOutput::new(RtpSender::new(Ssrc(0xB), 500, 8000), operator);
//! let mut rewriter = RelayRewriter::new(caller);
//! let transcoder = Transcoder::new();
//!
//! let mut far_end = RtpSender::new(Ssrc(0xA), 7, 123);
//! let (mut inbound, mut outbound) = ([0u8; 1500], [0u8; 1500]);
//! let n = far_end.write_packet(0, &[0xFF; 160], &mut inbound);
//! let len = rewriter
//!     .relay_datagram(&inbound[..n], &mut to_operator, &transcoder, &mut outbound)
//!     .expect("a PCMU packet relays to a PCMA leg");
//! let (hdr, payload) = RtpHeader::parse(&outbound[..len]).expect("we wrote it");
//! assert_eq!((hdr.ssrc, hdr.sequence_number, hdr.timestamp), (Ssrc(0xB), 500, 8000));
//! assert_eq!((hdr.payload_type, hdr.marker), (8, true));
//! assert_eq!(payload, &[0xD5; 160][..]); // µ-law silence became A-law silence
//! ```

use crate::dtmf::TelephoneEvent;
use crate::g711::{Codec, Transcoder};
use crate::ids::Ssrc;
use crate::rtp::{RtpError, RtpHeader, RtpSender, HEADER_LEN, MAX_DROPOUT, MAX_MISORDER};

/// What a leg negotiated: the audio law and payload type, and the telephone-event payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegFormat {
    pub codec: Codec,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
}

impl LegFormat {
    /// The law at its static payload type (RFC 3551), without telephone-event.
    pub fn new(codec: Codec) -> Self {
        Self {
            codec,
            payload_type: codec.static_payload_type(),
            telephone_event_pt: None,
        }
    }
}

/// One leg's outgoing RTP stream: the state its prompt playback and a relay into it share, so
/// both continue one sequence space and one timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegOutput {
    pub sender: RtpSender,
    pub format: LegFormat,
    /// False while the far end holds the call (sendonly/inactive): it is sent nothing.
    pub sending: bool,
    /// A prompt plays to this leg; relayed packets give way to it.
    pub prompt_playing: bool,
    /// Real time, in samples, that passed since the last packet without one being sent; the
    /// next packet's timestamp moves on by it.
    pub idle_samples: u32,
    /// The last packet was relayed: the next prompt frame starts a new talkspurt.
    pub relayed_last: bool,
}

impl LegOutput {
    /// A sending, silent stream.
    pub fn new(sender: RtpSender, format: LegFormat) -> Self {
        Self {
            sender,
            format,
            sending: true,
            prompt_playing: false,
            idle_samples: 0,
            relayed_last: false,
        }
    }

    /// `samples` of real time went by without a packet.
    pub fn pass_idle(&mut self, samples: u32) {
        self.idle_samples = self.idle_samples.saturating_add(samples);
    }

    /// Writes one audio frame already encoded in this leg's law (a prompt frame) at the leg's
    /// payload type; after idle time, the timestamp shows the gap and the marker bit is set,
    /// as it is after relayed audio.
    pub fn write_audio(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpError> {
        self.take_idle();
        if self.relayed_last {
            self.sender.marker_pending = true;
            self.relayed_last = false;
        }
        let samples = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        self.sender
            .try_write_packet(self.format.payload_type, payload, samples, out)
    }

    fn take_idle(&mut self) {
        if self.idle_samples > 0 {
            self.sender.resume_after_gap(self.idle_samples);
            self.idle_samples = 0;
        }
    }
}

/// Why a received packet was not relayed. None of these is an error of the shell: it counts
/// them and goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RelayDrop {
    /// The datagram is not a usable RTP packet.
    #[error("not a usable RTP packet: {0}")]
    Malformed(#[from] RtpError),
    /// Neither the input leg's audio, its telephone-event, nor a static G.711 payload type.
    #[error("payload type {0} was not negotiated on the input leg")]
    UnknownPayloadType(u8),
    /// An audio packet without samples (a keep-alive).
    #[error("audio packet without payload")]
    EmptyAudio,
    /// A telephone-event payload shorter than one 4-byte event.
    #[error("telephone-event payload of {len} bytes")]
    MalformedEvent { len: usize },
    /// The output leg negotiated no telephone-event payload type.
    #[error("the output leg takes no telephone-events")]
    NoTelephoneEvent,
    /// The output leg is on hold.
    #[error("the output leg is on hold")]
    OnHold,
    /// A prompt is playing to the output leg.
    #[error("a prompt is playing to the output leg")]
    PromptPlaying,
    /// The same sequence number as the newest packet.
    #[error("duplicate packet")]
    Duplicate,
    /// A reordered packet from before the anchor: it belongs to what the output leg heard
    /// before the relay started.
    #[error("packet from before the relayed stream started")]
    BeforeAnchor,
    /// A sequence number far outside the window; relaying resumes if the next one follows it.
    #[error("sequence number jump awaiting confirmation")]
    SequenceJump,
    /// `out` cannot hold the packet.
    #[error("buffer of {available} bytes cannot hold a {needed}-byte packet")]
    BufferTooSmall { needed: usize, available: usize },
}

/// What an input payload type carries.
#[derive(Debug, Clone, Copy)]
enum Carried {
    Audio(Codec),
    Event,
}

/// How the current input stream maps onto the output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    ssrc: Ssrc,
    /// Output timestamp minus input timestamp.
    ts_offset: u32,
    /// Highest input sequence number accepted.
    max_seq: u16,
    /// Sequence numbers from the anchor packet to `max_seq` (saturating): reordered packets
    /// further back than this predate the anchor.
    span: u32,
    /// The output sender's sequence number after our last packet; any other value means
    /// somebody else wrote to the output since.
    next_out_seq: u16,
    /// The next relayed packet carries the marker bit.
    marker_pending: bool,
    /// RFC 3550 §A.1: the sequence number that would confirm a jump out of the window.
    probation: Option<u16>,
}

/// One direction of a bridge: rewrites packets received on the input leg into the output leg's
/// stream. Create one per direction when the bridge starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRewriter {
    input: LegFormat,
    anchor: Option<Anchor>,
}

impl RelayRewriter {
    /// A relay from a leg that negotiated `input`; the first packet anchors.
    pub fn new(input: LegFormat) -> Self {
        Self {
            input,
            anchor: None,
        }
    }

    /// Parses `datagram` and relays it; see [`RelayRewriter::relay`].
    pub fn relay_datagram(
        &mut self,
        datagram: &[u8],
        output: &mut LegOutput,
        transcoder: &Transcoder,
        out: &mut [u8],
    ) -> Result<usize, RelayDrop> {
        let (header, payload) = RtpHeader::parse(datagram)?;
        self.relay(&header, payload, output, transcoder, out)
    }

    /// Writes the packet `header` + `payload`, received on the input leg, into `out` as the
    /// next packet of `output` and returns its length. A dropped packet sends nothing and takes
    /// no sequence number.
    pub fn relay(
        &mut self,
        header: &RtpHeader,
        payload: &[u8],
        output: &mut LegOutput,
        transcoder: &Transcoder,
        out: &mut [u8],
    ) -> Result<usize, RelayDrop> {
        let carried = self.classify(header.payload_type)?;
        let (payload_type, duration) = match carried {
            Carried::Audio(_) if payload.is_empty() => return Err(RelayDrop::EmptyAudio),
            Carried::Audio(_) => (output.format.payload_type, payload.len()),
            Carried::Event => {
                let event = TelephoneEvent::parse(payload)
                    .map_err(|_| RelayDrop::MalformedEvent { len: payload.len() })?;
                let pt = output
                    .format
                    .telephone_event_pt
                    .ok_or(RelayDrop::NoTelephoneEvent)?;
                (pt, usize::from(event.duration))
            }
        };
        let needed = HEADER_LEN + payload.len();
        let available = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(RelayDrop::BufferTooSmall { needed, available })?;
        if output.prompt_playing {
            // The prompt's packets re-anchor the relay once it is over.
            return Err(RelayDrop::PromptPlaying);
        }
        // Tracked on hold as well, so a long hold does not look like a sequence jump.
        let anchor = self.track(header, output)?;
        if !output.sending {
            anchor.marker_pending = true;
            return Err(RelayDrop::OnHold);
        }

        let timestamp = header.timestamp.wrapping_add(anchor.ts_offset);
        let written = RtpHeader {
            padding: false,
            extension: false,
            csrc_count: 0,
            marker: header.marker || anchor.marker_pending,
            payload_type,
            sequence_number: output.sender.seq,
            timestamp,
            ssrc: output.sender.ssrc,
        }
        .write(out)?;
        let body = &mut out[written..];
        match carried {
            Carried::Audio(codec) => {
                transcoder.transcode(codec, output.format.codec, payload, body);
                output.sender.marker_pending = false;
            }
            Carried::Event => body.copy_from_slice(payload),
        }

        // Whatever follows on the output (more relayed audio, a prompt) starts after the end of
        // the newest media sent; a reordered packet leaves that end where it is.
        let end = timestamp.wrapping_add(u32::try_from(duration).unwrap_or(u32::MAX));
        if is_later(end, output.sender.timestamp) {
            output.sender.timestamp = end;
        }
        output.sender.seq = output.sender.seq.wrapping_add(1);
        output.idle_samples = 0;
        output.relayed_last = true;
        anchor.marker_pending = false;
        anchor.next_out_seq = output.sender.seq;
        Ok(needed)
    }

    fn classify(&self, payload_type: u8) -> Result<Carried, RelayDrop> {
        if payload_type == self.input.payload_type {
            Ok(Carried::Audio(self.input.codec))
        } else if Some(payload_type) == self.input.telephone_event_pt {
            Ok(Carried::Event)
        } else if payload_type == Codec::Pcmu.static_payload_type() {
            // Peers that offered both laws sometimes send the other one: the static payload
            // types say unambiguously which it is.
            Ok(Carried::Audio(Codec::Pcmu))
        } else if payload_type == Codec::Pcma.static_payload_type() {
            Ok(Carried::Audio(Codec::Pcma))
        } else {
            Err(RelayDrop::UnknownPayloadType(payload_type))
        }
    }

    /// Places the packet in the input stream, anchoring when needed; returns the anchor to
    /// write with.
    fn track(
        &mut self,
        header: &RtpHeader,
        output: &mut LegOutput,
    ) -> Result<&mut Anchor, RelayDrop> {
        let seq = header.sequence_number;
        let reanchor = match self.anchor.as_mut() {
            None => true,
            Some(a) if a.ssrc != header.ssrc || a.next_out_seq != output.sender.seq => true,
            Some(a) => {
                let delta = i64::from(seq.wrapping_sub(a.max_seq) as i16);
                if delta == 0 {
                    return Err(RelayDrop::Duplicate);
                }
                let out_of_window = delta > MAX_DROPOUT as i64 || delta < -(MAX_MISORDER as i64);
                if out_of_window {
                    if a.probation != Some(seq) {
                        a.probation = Some(seq.wrapping_add(1));
                        return Err(RelayDrop::SequenceJump);
                    }
                    true
                } else {
                    a.probation = None;
                    if delta > 0 {
                        a.max_seq = seq;
                        a.span = a.span.saturating_add(delta.unsigned_abs() as u32);
                    } else if delta.unsigned_abs() > u64::from(a.span) {
                        return Err(RelayDrop::BeforeAnchor);
                    }
                    false
                }
            }
        };
        if reanchor {
            output.take_idle();
            self.anchor = None;
        }
        // Kept if set; the new anchor is a few plain fields.
        Ok(self.anchor.get_or_insert(Anchor {
            ssrc: header.ssrc,
            ts_offset: output.sender.timestamp.wrapping_sub(header.timestamp),
            max_seq: seq,
            span: 0,
            next_out_seq: output.sender.seq,
            marker_pending: true,
            probation: None,
        }))
    }
}

/// `a` is after `b` on a wrapping 32-bit RTP timeline.
fn is_later(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
