//! The two-channel aligner: decoded PCM chunks of the caller's and the operator's legs in, one
//! ordered stream of interleaved stereo frames out, with silence wherever a side had nothing.
//!
//! Both legs are placed on one *sample clock*: position 0 is the start of the recording, one
//! step is one sample at 8 kHz. The caller of [`Timeline::push`] computes each chunk's position
//! ([`crate::clock::RtpClock`] from RTP timestamps, [`crate::clock::position_from_elapsed`]
//! from a monotonic clock) — the timeline itself never reads a clock and does no I/O.
//!
//! # How it decides what is final
//! The *head* is the furthest position any chunk (or [`Timeline::tick`]) has reached. Every
//! position more than the reorder window behind the head is final: it is written to the
//! [`FrameSink`] with whatever each channel had there, zeros otherwise (a lost packet, silence
//! suppression, one side on mute, or a side that never sent anything). A chunk that arrives for
//! a position that is already final is *late* and dropped; a sample for a position that already
//! holds one is a *duplicate* and dropped; both are counted in [`Stats`].
//!
//! # Memory
//! Each channel keeps a fixed ring of `reorder window + MAX_PIECE` samples, allocated once.
//! A chunk that would land beyond the ring forces the oldest positions out first (silence for
//! the lagging side), so a side running far ahead of the other never grows memory; longer
//! chunks are taken in pieces of [`MAX_PIECE`]. A jump far ahead is written as silence through
//! [`FrameSink::silence`], which costs no memory either.
//!
//! # Pause
//! [`Timeline::pause`] and [`Timeline::resume`] are events on the same clock. Every frame in a
//! paused span is written as exact digital silence on both channels, including samples that
//! were already buffered or arrive late for that span. A pause cannot reach back into frames
//! already written, so its start is clamped to the first unwritten position; the effective
//! span is returned for the call events.
//!
//! ```
//! use madoguchi_recording::timeline::{Channel, Timeline, TimelineConfig};
//! let mut timeline = Timeline::new(TimelineConfig::default());
//! let mut out: Vec<i16> = Vec::new();
//! timeline.push(Channel::Caller, 0, &[1, 2], &mut out);
//! timeline.push(Channel::Caller, 4, &[5, 6], &mut out); // position 2..4 lost
//! timeline.push(Channel::Operator, 0, &[7, 8, 9, 10, 11, 12], &mut out);
//! assert!(out.is_empty(), "all within the 60 ms reorder window");
//! timeline.finish(0, &mut out);
//! assert_eq!(out, [1, 7, 2, 8, 0, 9, 0, 10, 5, 11, 6, 12]);
//! ```

use std::collections::VecDeque;

/// The longest piece a chunk is stored in at once (120 ms); longer chunks are split.
pub const MAX_PIECE: usize = 960;

/// The default reorder window: 60 ms at 8 kHz.
pub const DEFAULT_REORDER_WINDOW: u64 = 480;

/// The longest reorder window [`Timeline::new`] accepts (10 s); a longer one is capped. No
/// network reorders audio by seconds, and the ring it sizes is allocated up front.
pub const MAX_REORDER_WINDOW: u64 = 80_000;

/// Which side of the conversation a chunk belongs to, and so which WAV channel it lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The caller: the left channel.
    Caller,
    /// The operator: the right channel.
    Operator,
}

impl Channel {
    fn index(self) -> usize {
        match self {
            Channel::Caller => 0,
            Channel::Operator => 1,
        }
    }
}

/// Where the aligner's output goes: the WAV writer, or a `Vec<i16>` in tests.
pub trait FrameSink {
    /// Interleaved stereo frames: caller, operator, caller, operator, …
    fn frames(&mut self, interleaved: &[i16]);
    /// `frames` frames of digital silence on both channels.
    fn silence(&mut self, frames: u64);
}

/// Collects frames in memory; for tests and short clips only (a long silence allocates).
impl FrameSink for Vec<i16> {
    fn frames(&mut self, interleaved: &[i16]) {
        self.extend_from_slice(interleaved);
    }

    fn silence(&mut self, frames: u64) {
        let samples = usize::try_from(frames.saturating_mul(2)).unwrap_or(usize::MAX);
        self.resize(self.len().saturating_add(samples), 0);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineConfig {
    /// How far (in samples) a chunk may trail the head and still be placed; also the latency
    /// between a chunk's arrival and its frames being written.
    pub reorder_window: u64,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        Self {
            reorder_window: DEFAULT_REORDER_WINDOW,
        }
    }
}

/// Counts of what the aligner dropped, for the recording's quality report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Samples that arrived for positions already written.
    pub late_samples: u64,
    /// Chunks that lost at least one sample for being late.
    pub late_chunks: u64,
    /// Samples for positions that already held one.
    pub duplicate_samples: u64,
    /// Chunks that lost at least one sample as a duplicate.
    pub duplicate_chunks: u64,
    /// Samples whose position is beyond the representable clock (a caller's arithmetic bug).
    pub out_of_range_samples: u64,
}

/// A span of the recording written as silence: positions `start..end` on the sample clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PauseSpan {
    pub start: u64,
    pub end: u64,
}

/// What [`Timeline::finish`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// Frames written in all: the recording's length on the sample clock.
    pub frames: u64,
    /// The pause that was still open at the end, closed there.
    pub open_pause: Option<PauseSpan>,
    pub stats: Stats,
}

/// One channel's ring: the slot of position `p` is `p % capacity`. Only positions in
/// `written..written + capacity` are ever stored, so slots never collide.
#[derive(Debug)]
struct Lane {
    samples: Box<[i16]>,
    filled: Box<[bool]>,
    buffered: usize,
}

impl Lane {
    fn new(capacity: usize) -> Self {
        Self {
            samples: vec![0; capacity].into_boxed_slice(),
            filled: vec![false; capacity].into_boxed_slice(),
            buffered: 0,
        }
    }

    /// Takes the sample at `slot` (0 when the channel had none) and frees the slot.
    fn take(&mut self, slot: usize) -> i16 {
        let sample = if self.filled[slot] {
            self.filled[slot] = false;
            self.buffered -= 1;
            self.samples[slot]
        } else {
            0
        };
        self.samples[slot] = 0;
        sample
    }
}

/// The aligner. Drive it with [`push`](Self::push) per decoded chunk, [`tick`](Self::tick)
/// from a timer (so the file grows while both sides are silent), [`pause`](Self::pause) /
/// [`resume`](Self::resume) from the console, and [`finish`](Self::finish) at hang-up; each
/// call writes what became final to the sink it is given.
#[derive(Debug)]
pub struct Timeline {
    window: u64,
    capacity: u64,
    lanes: [Lane; 2],
    /// The next position to write; everything before it is in the sink.
    written: u64,
    head: u64,
    paused_since: Option<u64>,
    /// Closed pause spans that still reach past `written`.
    pending_pauses: VecDeque<PauseSpan>,
    scratch: Vec<i16>,
    stats: Stats,
}

impl Timeline {
    pub fn new(config: TimelineConfig) -> Self {
        let window = config.reorder_window.min(MAX_REORDER_WINDOW);
        let capacity = window + MAX_PIECE as u64;
        // `capacity` fits in usize: it is at most ten seconds of samples plus one piece.
        let slots = capacity as usize;
        Self {
            window,
            capacity,
            lanes: [Lane::new(slots), Lane::new(slots)],
            written: 0,
            head: 0,
            paused_since: None,
            pending_pauses: VecDeque::new(),
            scratch: Vec::with_capacity(2 * slots),
            stats: Stats::default(),
        }
    }

    /// Places `samples` of `channel` at `position` and writes whatever became final.
    pub fn push(
        &mut self,
        channel: Channel,
        position: u64,
        samples: &[i16],
        sink: &mut impl FrameSink,
    ) {
        for (index, piece) in samples.chunks(MAX_PIECE).enumerate() {
            let offset = (index * MAX_PIECE) as u64;
            match position.checked_add(offset) {
                Some(at) => self.push_piece(channel, at, piece, sink),
                None => self.stats.out_of_range_samples += piece.len() as u64,
            }
        }
    }

    fn push_piece(
        &mut self,
        channel: Channel,
        position: u64,
        piece: &[i16],
        sink: &mut impl FrameSink,
    ) {
        let Some(end) = position.checked_add(piece.len() as u64) else {
            self.stats.out_of_range_samples += piece.len() as u64;
            return;
        };
        if piece.is_empty() {
            return;
        }
        let (position, piece) = if position < self.written {
            let late = (self.written - position).min(piece.len() as u64);
            self.stats.late_samples += late;
            self.stats.late_chunks += 1;
            (self.written, &piece[late as usize..])
        } else {
            (position, piece)
        };
        if piece.is_empty() {
            return;
        }
        // Make room: a piece is at most MAX_PIECE long, so this never passes `position`.
        if end > self.written.saturating_add(self.capacity) {
            self.emit_until(end - self.capacity, sink);
        }
        let lane = &mut self.lanes[channel.index()];
        let mut duplicates = 0;
        for (offset, &sample) in piece.iter().enumerate() {
            let slot = ((position + offset as u64) % self.capacity) as usize;
            if lane.filled[slot] {
                duplicates += 1;
            } else {
                lane.samples[slot] = sample;
                lane.filled[slot] = true;
                lane.buffered += 1;
            }
        }
        if duplicates > 0 {
            self.stats.duplicate_samples += duplicates;
            self.stats.duplicate_chunks += 1;
        }
        self.head = self.head.max(end);
        self.emit_until(self.head.saturating_sub(self.window), sink);
    }

    /// The clock has reached `now` (from the shell's timer): writes what is final even when
    /// neither side sends anything.
    pub fn tick(&mut self, now: u64, sink: &mut impl FrameSink) {
        self.head = self.head.max(now);
        self.emit_until(self.head.saturating_sub(self.window), sink);
    }

    /// Starts a pause at `at` (clamped to the first unwritten position) and returns where it
    /// really starts. Pausing while paused changes nothing and returns the running pause's
    /// start.
    pub fn pause(&mut self, at: u64) -> u64 {
        if let Some(start) = self.paused_since {
            return start;
        }
        let start = at.max(self.written);
        self.paused_since = Some(start);
        start
    }

    /// Ends the running pause at `at` and returns its effective span; `None` when not paused.
    /// Frames already written while paused were silent, so the span reaches at least to them.
    pub fn resume(&mut self, at: u64) -> Option<PauseSpan> {
        let start = self.paused_since.take()?;
        let end = at.max(self.written).max(start);
        let span = PauseSpan { start, end };
        if end > self.written && end > start {
            self.pending_pauses.push_back(span);
        }
        Some(span)
    }

    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Writes everything up to `end` or the head, whichever is further, closing an open pause
    /// there.
    pub fn finish(mut self, end: u64, sink: &mut impl FrameSink) -> Finished {
        let end = end.max(self.head);
        let open_pause = if self.paused_since.is_some() {
            self.resume(end)
        } else {
            None
        };
        self.emit_until(end, sink);
        Finished {
            frames: self.written,
            open_pause,
            stats: self.stats,
        }
    }

    /// Frames written to the sink so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The furthest position any chunk or tick has reached.
    pub fn head(&self) -> u64 {
        self.head
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Samples held per channel at most: the reorder window plus one piece.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Samples currently buffered, both channels together (never more than 2 × capacity).
    pub fn buffered(&self) -> usize {
        self.lanes[0].buffered + self.lanes[1].buffered
    }

    fn is_silenced(&self, position: u64) -> bool {
        self.paused_since.is_some_and(|start| position >= start)
            || self
                .pending_pauses
                .iter()
                .any(|span| (span.start..span.end).contains(&position))
    }

    /// Writes every position before `target`: at most one ring's worth of frames from the
    /// buffers, then (nothing can be stored beyond the ring) plain silence.
    fn emit_until(&mut self, target: u64, sink: &mut impl FrameSink) {
        if target <= self.written {
            return;
        }
        let from_ring = (target - self.written).min(self.capacity);
        self.scratch.clear();
        for position in self.written..self.written + from_ring {
            let slot = (position % self.capacity) as usize;
            let left = self.lanes[0].take(slot);
            let right = self.lanes[1].take(slot);
            if self.is_silenced(position) {
                self.scratch.extend_from_slice(&[0, 0]);
            } else {
                self.scratch.extend_from_slice(&[left, right]);
            }
        }
        sink.frames(&self.scratch);
        self.written += from_ring;
        if target > self.written {
            sink.silence(target - self.written);
            self.written = target;
        }
        let written = self.written;
        self.pending_pauses.retain(|span| span.end > written);
    }
}
