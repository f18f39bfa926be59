//! Supervision of a live call: a manager listens in silently, whispers to the operator only, or
//! barges in to a three-way call. With a third party, relaying each packet into the other leg
//! (see [`crate::relay`]) no longer suffices: every participant must hear a *mix* of the others.
//! A [`MixRoom`] decodes what the caller, the operator and the supervisor send, buffers it
//! briefly, and on each 20 ms tick writes, per listener, the sum of the voices that listener
//! may hear; the shell encodes that frame in the listener's own law and sends it on the
//! listener's own stream.
//!
//! # Who hears whom
//! | listener ↓ / speaker → | caller | operator | supervisor                  |
//! |------------------------|--------|----------|-----------------------------|
//! | caller                 | —      | always   | [`MixMode::Barge`] only     |
//! | operator               | always | —        | [`MixMode::Whisper`], Barge |
//! | supervisor             | always | always   | —                           |
//!
//! Nobody hears themselves. The mode can change at any time; [`MixRoom::tick`] reads it, so a
//! change made between two ticks governs the next one.
//!
//! # The jitter buffer
//! Each participant has a ring of [`BUFFER_FRAMES`] frames of decoded samples (100 ms), placed
//! by **RTP timestamp**, so packets of any length (10, 20, 30 ms …) and reordered packets land
//! where they belong and play in order; sequence numbers only tell the stream's newest packet
//! from a straggler. The first packet of a stream *anchors* it: it will play after
//! the playout delay ([`DEFAULT_PLAYOUT_DELAY_FRAMES`], one frame: it absorbs up to 20 ms of
//! jitter). Each tick takes the next 160 samples of every participant, silence where nothing
//! arrived (a lost packet, silence suppression, a leg that stopped sending, a participant with
//! no stream yet), and moves on: real time passes for a silent participant too.
//!
//! Memory is fixed: the room holds arrays only, never a heap allocation. The policies that keep
//! it so, and keep latency near the playout delay:
//! - A packet that arrives after its time was played is dropped as [`MixDrop::Late`] — unless it
//!   is the stream's newest packet: then the stream is behind the tick (the sender's clock runs
//!   slow, a delay spike, a new timebase), and it is *re-anchored* there instead of going
//!   silent for good. Re-anchoring maps the stream's timestamps afresh so the packet plays
//!   after the playout delay, or right after what is still buffered; nothing buffered is lost.
//! - A packet already in the buffer is dropped as [`MixDrop::Duplicate`].
//! - A packet that does not fit ahead (the shell stopped ticking, the sender's clock runs fast)
//!   pushes the **oldest** buffered samples out rather than being refused: refusing the newest
//!   audio would keep the listener a full buffer behind. A packet more than a whole buffer
//!   ahead re-anchors the stream.
//! - After each tick the buffer is compared with its normal level (the playout delay plus the
//!   rest of the last packet). More than two frames above it (a burst, a stalled shell) drops
//!   the oldest frame at once; at least one frame above it for a whole second (a sender whose
//!   clock runs fast, the rest of a burst) drops one then. Jitter makes the level dip, so an
//!   excess that stands is latency nobody needs. Discarded samples are counted in
//!   [`MixStats`].
//! - A new SSRC re-anchors; a sequence number far behind the newest (more than
//!   [`MAX_MISORDER`]) counts as the newest: no network reorders by seconds, it is a sender
//!   that restarted its numbering.
//!
//! RFC 4733 telephone-events are not audio: [`MixRoom::push`] returns
//! [`MixDrop::TelephoneEvent`] and the shell keeps routing digits as it does for a bridge.
//!
//! # Mixing
//! A listener's frame is the saturating sum of the frames it may hear. With at most two voices
//! per listener, that is exactly the clamped sum: two loud voices clip at full scale instead of
//! wrapping around to the opposite sign (a loud crack).
//!
//! # How the shell drives it
//! The runtime keeps one room per supervised call, next to its 20 ms tick:
//! - **Monitor** (caller leg, operator leg, supervisor leg, mode): build the room with the three
//!   legs' [`LegFormat`]s. The caller's and the operator's readers stop relaying into each
//!   other's stream and push every received datagram into the room instead
//!   ([`MixRoom::push_datagram`], or [`MixRoom::push`] after the parse they already do); the
//!   supervisor's reader does the same. Telephone-events keep going to the
//!   [`DtmfReceiver`](crate::dtmf::DtmfReceiver) as today; the recording tap, which copies
//!   received audio before any mixing, is unchanged.
//! - **Tick**: for the frames [`FrameClock::due_frames`](crate::pacing::FrameClock::due_frames)
//!   hands out, call [`MixRoom::skip`] with the skipped count, then [`MixRoom::tick`] once per
//!   due frame; for each participant, [`MixRoom::encode`] its frame into a 160-byte buffer in
//!   its own law and send it with that leg's
//!   [`LegOutput::write_audio`](crate::relay::LegOutput::write_audio), which continues the
//!   stream the relay was writing (the first mixed frame carries the marker bit). A leg on hold
//!   is sent nothing and gets [`LegOutput::pass_idle`](crate::relay::LegOutput::pass_idle), as
//!   the tick does for prompts. Nothing allocates per tick.
//! - **Whisper / Barge / Listen** from the board: [`MixRoom::set_mode`].
//! - **Unmonitor**: drop the room and let both readers relay to each other again. Their new
//!   [`RelayRewriter`](crate::relay::RelayRewriter)s anchor where the mixed frames left each
//!   output stream, and mark the first relayed packet as a new talkspurt.
//!
//! Compared with the relay, the mix adds the wait for the tick (0–20 ms) and the playout delay
//! (20 ms) to the path between caller and operator — only while a supervisor is present.
//!
//! ```
//! use madoguchi_media::mix::{MixFrames, MixMode, MixRoom, Participant, FRAME_SAMPLES};
//! use madoguchi_media::relay::LegFormat;
//! use madoguchi_media::rtp::RtpSender;
//! use madoguchi_media::{g711, Codec, Ssrc};
//!
//! let (pcmu, pcma) = (LegFormat::new(Codec::Pcmu), LegFormat::new(Codec::Pcma));
//! let mut room = MixRoom::new(MixMode::Whisper, pcmu, pcma, pcmu).with_playout_delay(0);
//!
//! // The supervisor's phone sends one frame of speech.
//! let mut supervisor = RtpSender::new(Ssrc(0x5), 1, 0);
//! let mut speech = [0u8; FRAME_SAMPLES];
//! g711::encode_ulaw_slice(&[8000; FRAME_SAMPLES], &mut speech);
//! let mut datagram = [0u8; 1500];
//! let n = supervisor.write_packet(0, &speech, &mut datagram);
//! room.push_datagram(Participant::Supervisor, &datagram[..n]).expect("PCMU audio");
//!
//! let mut mixes = MixFrames::new();
//! room.tick(&mut mixes);
//! assert!(mixes.heard_by(Participant::Operator).iter().all(|&s| s > 7000));
//! assert!(mixes.heard_by(Participant::Caller).iter().all(|&s| s == 0));
//!
//! // The operator's leg is A-law: this is what its LegOutput::write_audio sends.
//! let mut frame = [0u8; FRAME_SAMPLES];
//! room.encode(Participant::Operator, &mixes, &mut frame);
//! let heard = mixes.heard_by(Participant::Operator)[0];
//! assert!((g711::decode_alaw(frame[0]) - heard).abs() < 300);
//! ```

use std::ops::Range;

use crate::g711::Codec;
use crate::ids::Ssrc;
use crate::relay::LegFormat;
use crate::rtp::{RtpError, RtpHeader, MAX_MISORDER};

/// Samples in one 20 ms frame at 8 kHz: what each tick plays and writes per listener.
pub const FRAME_SAMPLES: usize = 160;

/// Frames each participant's buffer holds (100 ms); also the longest packet accepted.
pub const BUFFER_FRAMES: usize = 5;

/// Frames between a stream's first packet and its playing: the jitter the buffer absorbs.
pub const DEFAULT_PLAYOUT_DELAY_FRAMES: usize = 1;

/// Ticks (1 s) over which a buffer's lowest level is watched before standing latency is
/// trimmed.
const TRIM_WINDOW_TICKS: u32 = 50;

/// Samples in a participant's ring.
const RING: usize = BUFFER_FRAMES * FRAME_SAMPLES;
const FRAME: u32 = FRAME_SAMPLES as u32;

/// One of the three people on a supervised call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Participant {
    /// The citizen who called in.
    Caller,
    /// The operator who answered.
    Operator,
    /// The manager listening in (one per call).
    Supervisor,
}

impl Participant {
    /// Every participant, in the order of [`MixRoom`]'s internal arrays.
    pub const ALL: [Participant; 3] = [
        Participant::Caller,
        Participant::Operator,
        Participant::Supervisor,
    ];

    fn slot(self) -> usize {
        match self {
            Participant::Caller => 0,
            Participant::Operator => 1,
            Participant::Supervisor => 2,
        }
    }
}

/// What the supervisor does; decides who hears whom (see the module docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MixMode {
    /// Silent listening: caller and operator hear each other, the supervisor hears both.
    Listen,
    /// Coaching: as `Listen`, and the operator hears the supervisor; the caller does not.
    Whisper,
    /// A three-way call: everyone hears the other two.
    Barge,
}

impl MixMode {
    /// Whether `listener` hears `speaker` in this mode. Nobody hears themselves.
    pub fn hears(self, listener: Participant, speaker: Participant) -> bool {
        use Participant::{Caller, Operator, Supervisor};
        match (listener, speaker) {
            (Caller, Caller) | (Operator, Operator) | (Supervisor, Supervisor) => false,
            (Caller, Operator) | (Operator, Caller) => true,
            (Supervisor, Caller) | (Supervisor, Operator) => true,
            (Operator, Supervisor) => self != MixMode::Listen,
            (Caller, Supervisor) => self == MixMode::Barge,
        }
    }
}

/// Why a received packet did not go into the mix. None of these is an error of the shell: it
/// counts them and goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MixDrop {
    /// The datagram is not a usable RTP packet.
    #[error("not a usable RTP packet: {0}")]
    Malformed(#[from] RtpError),
    /// Neither the participant's audio, its telephone-event, nor a static G.711 payload type.
    #[error("payload type {0} was not negotiated by the participant")]
    UnknownPayloadType(u8),
    /// An RFC 4733 event: not audio; the shell routes digits as for a bridge.
    #[error("telephone-event packets are not mixed")]
    TelephoneEvent,
    /// An audio packet without samples (a keep-alive).
    #[error("audio packet without payload")]
    EmptyAudio,
    /// More samples than the buffer holds.
    #[error("audio packet of {samples} samples exceeds the mix buffer")]
    TooLong { samples: usize },
    /// Its time was already played.
    #[error("packet arrived after its time was played")]
    Late,
    /// Its samples are already buffered.
    #[error("duplicate packet")]
    Duplicate,
}

/// Counters of one participant's stream into the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MixStats {
    /// Audio packets buffered.
    pub packets: u64,
    /// Packets dropped as [`MixDrop::Late`].
    pub late: u64,
    /// Packets dropped as [`MixDrop::Duplicate`].
    pub duplicates: u64,
    /// Buffered samples thrown away unplayed: pushed out by newer packets, trimmed to bring
    /// latency back to the playout delay, or skipped by [`MixRoom::skip`].
    pub discarded_samples: u64,
    /// Times the stream was re-anchored (new SSRC, restart, far behind or ahead of the tick).
    pub reanchors: u64,
    /// Ticks that played at least one received sample.
    pub played_frames: u64,
    /// Ticks of an anchored stream that found nothing to play (loss, silence suppression).
    pub concealed_frames: u64,
}

/// One tick's output: per listener, the 160 samples it should hear. Allocate once and pass to
/// every [`MixRoom::tick`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixFrames {
    frames: [[i16; FRAME_SAMPLES]; 3],
}

impl Default for MixFrames {
    fn default() -> Self {
        Self::new()
    }
}

impl MixFrames {
    /// Silence for everyone.
    pub fn new() -> Self {
        Self {
            frames: [[0; FRAME_SAMPLES]; 3],
        }
    }

    /// What `listener` hears this tick, as linear PCM.
    pub fn heard_by(&self, listener: Participant) -> &[i16; FRAME_SAMPLES] {
        &self.frames[listener.slot()]
    }
}

/// The mixer of one supervised call; see the module docs.
#[derive(Debug, Clone)]
pub struct MixRoom {
    mode: MixMode,
    /// Playout delay in samples.
    delay: u32,
    inboxes: [Inbox; 3],
    /// Each participant's frame of the current tick, before mixing.
    spoken: [[i16; FRAME_SAMPLES]; 3],
}

impl MixRoom {
    /// A room in `mode` for participants that negotiated these formats, with the default
    /// playout delay and no stream anchored yet.
    pub fn new(
        mode: MixMode,
        caller: LegFormat,
        operator: LegFormat,
        supervisor: LegFormat,
    ) -> Self {
        Self {
            mode,
            delay: DEFAULT_PLAYOUT_DELAY_FRAMES as u32 * FRAME,
            inboxes: [caller, operator, supervisor].map(Inbox::new),
            spoken: [[0; FRAME_SAMPLES]; 3],
        }
    }

    /// Sets the playout delay for streams anchored from now on, in frames (at most
    /// `BUFFER_FRAMES - 1`, so a frame still fits behind it).
    pub fn with_playout_delay(mut self, frames: usize) -> Self {
        self.delay = frames.min(BUFFER_FRAMES - 1) as u32 * FRAME;
        self
    }

    /// Who hears whom now.
    pub fn mode(&self) -> MixMode {
        self.mode
    }

    /// Switches who hears whom from the next tick on.
    pub fn set_mode(&mut self, mode: MixMode) {
        self.mode = mode;
    }

    /// The format `participant` negotiated.
    pub fn format(&self, participant: Participant) -> LegFormat {
        self.inboxes[participant.slot()].format
    }

    /// After a re-negotiation: decodes `participant`'s packets and encodes its mix with
    /// `format` from now on; what is buffered stays.
    pub fn set_format(&mut self, participant: Participant, format: LegFormat) {
        self.inboxes[participant.slot()].format = format;
    }

    /// Parses `datagram`, received from `participant`, and buffers it; see [`MixRoom::push`].
    pub fn push_datagram(
        &mut self,
        participant: Participant,
        datagram: &[u8],
    ) -> Result<(), MixDrop> {
        let (header, payload) = RtpHeader::parse(datagram)?;
        self.push(participant, &header, payload)
    }

    /// Decodes the packet `header` + `payload`, received from `participant`, into its buffer;
    /// it plays on the tick its timestamp falls on. A packet that is not buffered changes
    /// nothing but a counter.
    pub fn push(
        &mut self,
        participant: Participant,
        header: &RtpHeader,
        payload: &[u8],
    ) -> Result<(), MixDrop> {
        let result = self.inboxes[participant.slot()].push(header, payload, self.delay);
        if let Err(reason) = &result {
            tracing::trace!(?participant, %reason, "packet not mixed");
        }
        result
    }

    /// One 20 ms tick: takes the next frame of every participant and writes into `out` what
    /// each one hears in the current mode.
    pub fn tick(&mut self, out: &mut MixFrames) {
        for (inbox, spoken) in self.inboxes.iter_mut().zip(self.spoken.iter_mut()) {
            inbox.take_frame(spoken, self.delay);
        }
        for listener in Participant::ALL {
            let heard = &mut out.frames[listener.slot()];
            heard.fill(0);
            for speaker in Participant::ALL {
                if self.mode.hears(listener, speaker) {
                    for (h, &s) in heard.iter_mut().zip(&self.spoken[speaker.slot()]) {
                        *h = h.saturating_add(s);
                    }
                }
            }
        }
    }

    /// Frame times the shell's clock skipped (it woke too late to send them): every buffer
    /// moves on as if that many ticks had played, so the streams stay in step with real time.
    pub fn skip(&mut self, frames: u64) {
        // The timeline is RTP's, modulo 2³²; a skip of days wraps like the timestamps do.
        let samples = frames.wrapping_mul(u64::from(FRAME)) as u32;
        for inbox in &mut self.inboxes {
            inbox.advance(samples);
        }
    }

    /// Encodes what `listener` hears in `mixes` in the listener's own law, ready for its
    /// [`LegOutput::write_audio`](crate::relay::LegOutput::write_audio).
    pub fn encode(&self, listener: Participant, mixes: &MixFrames, out: &mut [u8; FRAME_SAMPLES]) {
        self.format(listener)
            .codec
            .encode_slice(mixes.heard_by(listener), out);
    }

    /// Counters of `participant`'s stream.
    pub fn stats(&self, participant: Participant) -> &MixStats {
        &self.inboxes[participant.slot()].stats
    }

    /// Samples of `participant` waiting to be played (at most `BUFFER_FRAMES × 160`).
    pub fn buffered_samples(&self, participant: Participant) -> usize {
        let inbox = &self.inboxes[participant.slot()];
        inbox.filled.iter().filter(|&&f| f).count()
    }
}

/// What an input payload type carries.
enum Carried {
    Audio(Codec),
    Event,
}

/// Where a participant's stream stands against the tick.
#[derive(Debug, Clone, Copy)]
struct Stream {
    ssrc: Ssrc,
    /// RTP timestamp of the next sample a tick plays.
    read: u32,
    /// Ring index of `read`.
    read_index: usize,
    /// Sequence number of the newest packet.
    max_seq: u16,
    /// RTP timestamp just past the latest sample buffered.
    head_end: u32,
    /// Samples in the last packet: how much a buffer normally holds beyond the delay.
    last_len: u32,
    /// Lowest excess over the normal level seen in the current trim window.
    low_water: i64,
    /// Ticks into the current trim window.
    window: u32,
}

/// One participant's jitter buffer: a ring of decoded samples, each marked filled or not.
#[derive(Debug, Clone)]
struct Inbox {
    format: LegFormat,
    stream: Option<Stream>,
    samples: [i16; RING],
    filled: [bool; RING],
    stats: MixStats,
}

impl Inbox {
    fn new(format: LegFormat) -> Self {
        Self {
            format,
            stream: None,
            samples: [0; RING],
            filled: [false; RING],
            stats: MixStats::default(),
        }
    }

    fn push(&mut self, header: &RtpHeader, payload: &[u8], delay: u32) -> Result<(), MixDrop> {
        let codec = match self.classify(header.payload_type)? {
            Carried::Audio(codec) => codec,
            Carried::Event => return Err(MixDrop::TelephoneEvent),
        };
        if payload.is_empty() {
            return Err(MixDrop::EmptyAudio);
        }
        if payload.len() > RING {
            return Err(MixDrop::TooLong {
                samples: payload.len(),
            });
        }
        let offset = self.place(header, payload.len() as u32, delay)?;
        let (first, second) = self.ring_spans(offset, payload.len());
        let split = first.len();
        codec.decode_slice(&payload[..split], &mut self.samples[first.clone()]);
        codec.decode_slice(&payload[split..], &mut self.samples[second.clone()]);
        self.filled[first].fill(true);
        self.filled[second].fill(true);
        self.stats.packets += 1;
        Ok(())
    }

    /// The same rules as the relay's: the participant's own types first, then the static
    /// G.711 ones (peers that offered both laws sometimes send the other).
    fn classify(&self, payload_type: u8) -> Result<Carried, MixDrop> {
        if payload_type == self.format.payload_type {
            Ok(Carried::Audio(self.format.codec))
        } else if Some(payload_type) == self.format.telephone_event_pt {
            Ok(Carried::Event)
        } else if payload_type == Codec::Pcmu.static_payload_type() {
            Ok(Carried::Audio(Codec::Pcmu))
        } else if payload_type == Codec::Pcma.static_payload_type() {
            Ok(Carried::Audio(Codec::Pcma))
        } else {
            Err(MixDrop::UnknownPayloadType(payload_type))
        }
    }

    /// Where a packet of `len` samples goes: its offset from the read position, after any
    /// re-anchoring or sliding it causes (see the module docs).
    fn place(&mut self, header: &RtpHeader, len: u32, delay: u32) -> Result<usize, MixDrop> {
        let stream = match self.stream {
            Some(s) if s.ssrc == header.ssrc => s,
            Some(_) => return Ok(self.reanchor(header, len, delay)),
            None => return Ok(self.anchor(header, len, delay)),
        };
        let seq_delta = i64::from(header.sequence_number.wrapping_sub(stream.max_seq) as i16);
        let newest = seq_delta > 0 || seq_delta < -(MAX_MISORDER as i64);
        let mut offset = i64::from(header.timestamp.wrapping_sub(stream.read) as i32);
        if offset < 0 {
            if !newest {
                self.stats.late += 1;
                return Err(MixDrop::Late);
            }
            return Ok(self.reanchor(header, len, delay));
        }
        let excess = offset + i64::from(len) - RING as i64;
        if excess > RING as i64 {
            return Ok(self.reanchor(header, len, delay));
        }
        if excess > 0 {
            self.advance(excess as u32);
            offset -= excess;
        }
        let offset = offset as usize;
        let (first, second) = self.ring_spans(offset, len as usize);
        if self.filled[first]
            .iter()
            .chain(&self.filled[second])
            .all(|&f| f)
        {
            self.stats.duplicates += 1;
            return Err(MixDrop::Duplicate);
        }
        if let Some(s) = self.stream.as_mut() {
            if newest {
                s.max_seq = header.sequence_number;
            }
            let end = header.timestamp.wrapping_add(len);
            if (end.wrapping_sub(s.head_end) as i32) > 0 {
                s.head_end = end;
            }
            s.last_len = len;
        }
        Ok(offset)
    }

    fn reanchor(&mut self, header: &RtpHeader, len: u32, delay: u32) -> usize {
        self.stats.reanchors += 1;
        tracing::debug!(reanchors = self.stats.reanchors, "mix stream re-anchored");
        self.anchor(header, len, delay)
    }

    /// Maps the stream's timestamps afresh so that this packet plays after the playout delay,
    /// or after what is still buffered if that is longer; the buffer itself stays.
    fn anchor(&mut self, header: &RtpHeader, len: u32, delay: u32) -> usize {
        let (read_index, pending) = self.stream.map_or((0, 0), |s| {
            let pending = i64::from(s.head_end.wrapping_sub(s.read) as i32);
            (s.read_index, pending.clamp(0, RING as i64) as u32)
        });
        // Nothing is buffered beyond `pending`; a packet that must start earlier to fit
        // overwrites the end of what was.
        let offset = delay.max(pending).min(RING as u32 - len);
        self.stream = Some(Stream {
            ssrc: header.ssrc,
            read: header.timestamp.wrapping_sub(offset),
            read_index,
            max_seq: header.sequence_number,
            head_end: header.timestamp.wrapping_add(len),
            last_len: len,
            low_water: i64::MAX,
            window: 0,
        });
        offset as usize
    }

    /// Plays the next frame into `out` (silence where nothing was received) and trims the
    /// buffer back towards the playout delay.
    fn take_frame(&mut self, out: &mut [i16; FRAME_SAMPLES], delay: u32) {
        if self.stream.is_none() {
            out.fill(0);
            return;
        }
        let (first, second) = self.ring_spans(0, FRAME_SAMPLES);
        let mut played = false;
        let ring = first.chain(second);
        for (o, i) in out.iter_mut().zip(ring) {
            *o = if self.filled[i] {
                self.filled[i] = false;
                played = true;
                self.samples[i]
            } else {
                0
            };
        }
        if played {
            self.stats.played_frames += 1;
        } else {
            self.stats.concealed_frames += 1;
        }
        self.advance(FRAME);
        self.trim(delay);
    }

    /// Drops the oldest frame when the buffer holds more than it normally does after a tick
    /// (the playout delay plus the rest of the last packet): at once when the excess is over
    /// two frames (a burst, a stalled shell), and at the end of a trim window when at least a
    /// frame of it stood the whole window (a sender with a fast clock, a burst's remainder).
    /// Jitter makes the level dip, so a standing excess is latency nobody needs.
    fn trim(&mut self, delay: u32) {
        let Some(s) = self.stream.as_mut() else {
            return;
        };
        let frame = i64::from(FRAME);
        let depth = i64::from(s.head_end.wrapping_sub(s.read) as i32);
        let normal = i64::from(delay) + i64::from(s.last_len) - frame;
        let mut excess = depth - normal;
        let burst = excess > 2 * frame;
        if burst {
            excess -= frame;
        }
        s.low_water = s.low_water.min(excess);
        s.window += 1;
        let mut standing = false;
        if s.window >= TRIM_WINDOW_TICKS {
            standing = !burst && s.low_water >= frame;
            s.window = 0;
            s.low_water = i64::MAX;
        }
        if burst || standing {
            self.advance(FRAME);
        }
    }

    /// Moves the read position on by `samples`, discarding whatever it passes.
    fn advance(&mut self, samples: u32) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let start = stream.read_index;
        stream.read = stream.read.wrapping_add(samples);
        let step = samples as usize % RING;
        stream.read_index = (start + step) % RING;
        let passed = (samples as usize).min(RING);
        let (first, second) = ring_spans(start, passed);
        let mut discarded = 0u64;
        for i in first.chain(second) {
            if self.filled[i] {
                self.filled[i] = false;
                discarded += 1;
            }
        }
        self.stats.discarded_samples += discarded;
    }

    /// Ring indices of `len` samples starting `offset` samples after the read position.
    fn ring_spans(&self, offset: usize, len: usize) -> (Range<usize>, Range<usize>) {
        let read_index = self.stream.map_or(0, |s| s.read_index);
        ring_spans((read_index + offset) % RING, len)
    }
}

/// The ring indices of `len ≤ RING` samples from index `start`: up to the end, then from 0.
fn ring_spans(start: usize, len: usize) -> (Range<usize>, Range<usize>) {
    let first_len = len.min(RING - start);
    (start..start + first_len, 0..len - first_len)
}

#[cfg(test)]
#[path = "mix_tests.rs"]
mod tests;
