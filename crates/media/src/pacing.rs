//! Frame pacing: when each 20 ms audio frame of a stream is due, computed from the stream's
//! start so that hours of playback accumulate no drift.
//!
//! Frame `n` is due at `start + n × frame`, always multiplied out from `start` — never
//! `previous + frame`, whose rounding and wake-up lateness would add up over a long hold.
//!
//! Driving: the shell keeps one timer for all streams, wakes at the earliest
//! [`FrameClock::next_deadline`], and for each stream asks [`FrameClock::due_frames`] with the
//! current time which frames to send now.
//!
//! # Lateness policy
//! A shell that wakes a little late (up to `max_burst` frames due at once, 3 by default = 60 ms
//! of audio) sends every due frame back to back: the receiver's jitter buffer absorbs that.
//! If it woke later than that (a stalled machine, a suspended VM), sending the whole backlog
//! would overflow the receiver's jitter buffer and play stale audio late, so the clock **skips
//! ahead**: only the most recent due frame is sent and the older ones are reported as
//! `skipped`. The shell then advances its prompt position by the skipped frames (the audio
//! stays aligned with wall time) and calls
//! [`RtpSender::resume_after_gap`](crate::rtp::RtpSender::resume_after_gap) with
//! `skipped × samples per frame`, so the RTP timestamp shows the gap and the marker bit tells the
//! receiver to resynchronise.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use madoguchi_media::pacing::{FrameClock, FRAME_20MS};
//! # let start = Instant::now(); // the shell's clock reading; the core never reads one
//! let mut clock = FrameClock::new(start, FRAME_20MS);
//! let due = clock.due_frames(start + Duration::from_millis(45));
//! assert_eq!((due.first, due.count, due.skipped), (0, 3, 0)); // frames at 0, 20 and 40 ms
//! assert_eq!(clock.next_deadline(), start + Duration::from_millis(60));
//! ```

use std::time::{Duration, Instant};

/// The frame length of every G.711 stream the engine sends (160 samples at 8 kHz).
pub const FRAME_20MS: Duration = Duration::from_millis(20);

/// Default number of frames that may be sent back to back before the clock skips ahead.
pub const DEFAULT_MAX_BURST: u64 = 3;

/// The frames a stream must send now: indices `first .. first + count`, after `skipped` older
/// frames that were dropped by the lateness policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DueFrames {
    pub first: u64,
    pub count: u64,
    pub skipped: u64,
}

impl DueFrames {
    /// Frame indices to send now.
    pub fn frames(&self) -> std::ops::Range<u64> {
        self.first..self.first + self.count
    }
}

/// Drift-free deadlines of one stream's frames; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameClock {
    start: Instant,
    frame: Duration,
    /// Index of the next frame not yet handed out.
    next: u64,
    max_burst: u64,
}

impl FrameClock {
    /// A clock whose frame 0 is due at `start`. A zero `frame` is treated as 1 ns so
    /// deadlines stay strictly increasing.
    pub fn new(start: Instant, frame: Duration) -> Self {
        Self {
            start,
            frame: frame.max(Duration::from_nanos(1)),
            next: 0,
            max_burst: DEFAULT_MAX_BURST,
        }
    }

    /// Sets how many due frames may be sent at once before skipping ahead (at least 1).
    pub fn with_max_burst(mut self, frames: u64) -> Self {
        self.max_burst = frames.max(1);
        self
    }

    /// When frame `n` is due: `start + n × frame`.
    pub fn deadline(&self, n: u64) -> Instant {
        let nanos = self.frame.as_nanos().saturating_mul(u128::from(n));
        let mut offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        // Only reachable centuries after `start`; halve until the platform can represent it.
        loop {
            if let Some(t) = self.start.checked_add(offset) {
                return t;
            }
            offset /= 2;
        }
    }

    /// The deadline of the next frame to send: when the shell should wake for this stream.
    pub fn next_deadline(&self) -> Instant {
        self.deadline(self.next)
    }

    /// Index of the next frame to be handed out.
    pub fn next_frame(&self) -> u64 {
        self.next
    }

    /// Which frames are due at `now`, applying the lateness policy; each frame is handed out
    /// once. Before the next deadline nothing is due.
    pub fn due_frames(&mut self, now: Instant) -> DueFrames {
        let Some(elapsed) = now.checked_duration_since(self.start) else {
            return DueFrames {
                first: self.next,
                ..DueFrames::default()
            };
        };
        let latest = u64::try_from(elapsed.as_nanos() / self.frame.as_nanos()).unwrap_or(u64::MAX);
        if latest < self.next {
            return DueFrames {
                first: self.next,
                ..DueFrames::default()
            };
        }
        let backlog = latest - self.next + 1;
        let due = if backlog > self.max_burst {
            tracing::debug!(backlog, "frame clock woke late; skipping ahead");
            DueFrames {
                first: latest,
                count: 1,
                skipped: backlog - 1,
            }
        } else {
            DueFrames {
                first: self.next,
                count: backlog,
                skipped: 0,
            }
        };
        self.next = latest.saturating_add(1);
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Instant {
        crate::test_origin()
    }

    #[test]
    fn deadline_of_frame_n_is_start_plus_n_frames() {
        let t0 = origin();
        let c = FrameClock::new(t0, FRAME_20MS);
        assert_eq!(c.deadline(0), t0);
        assert_eq!(c.deadline(1), t0 + Duration::from_millis(20));
        assert_eq!(c.deadline(50), t0 + Duration::from_secs(1));
    }

    #[test]
    fn nothing_is_due_before_the_next_deadline() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS);
        c.due_frames(t0);
        let due = c.due_frames(t0 + Duration::from_millis(19));
        assert_eq!(due.count, 0);
        assert_eq!(c.next_deadline(), t0 + Duration::from_millis(20));
    }

    #[test]
    fn nothing_is_due_before_the_start() {
        let t0 = origin();
        let mut c = FrameClock::new(t0 + Duration::from_secs(1), FRAME_20MS);
        assert_eq!(c.due_frames(t0).count, 0);
        assert_eq!(c.next_frame(), 0);
    }

    #[test]
    fn frame_zero_is_due_at_the_start() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS);
        assert_eq!(
            c.due_frames(t0),
            DueFrames {
                first: 0,
                count: 1,
                skipped: 0
            }
        );
    }

    #[test]
    fn each_frame_is_handed_out_once() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS);
        let now = t0 + Duration::from_millis(20);
        assert_eq!(c.due_frames(now).frames(), 0..2);
        assert_eq!(c.due_frames(now).count, 0);
    }

    #[test]
    fn a_slightly_late_wakeup_sends_the_backlog_in_a_burst() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS);
        c.due_frames(t0);
        let due = c.due_frames(t0 + Duration::from_millis(61));
        assert_eq!((due.first, due.count, due.skipped), (1, 3, 0));
        assert_eq!(c.next_frame(), 4);
    }

    #[test]
    fn a_very_late_wakeup_skips_ahead_to_the_current_frame() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS);
        c.due_frames(t0);
        let due = c.due_frames(t0 + Duration::from_millis(501));
        assert_eq!((due.first, due.count, due.skipped), (25, 1, 24));
        assert_eq!(c.next_deadline(), t0 + Duration::from_millis(520));
    }

    #[test]
    fn max_burst_sets_the_skip_threshold() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS).with_max_burst(10);
        let due = c.due_frames(t0 + Duration::from_millis(180));
        assert_eq!((due.count, due.skipped), (10, 0));
    }

    #[test]
    fn two_hours_of_frames_accumulate_zero_drift() {
        let t0 = origin();
        let mut c = FrameClock::new(t0, FRAME_20MS);
        let frames: u64 = 2 * 3600 * 50;
        let mut sent = 0u64;
        let mut expected_next = 0u64;
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        while c.next_frame() < frames {
            // Wake up 0–7 ms after the deadline, like a real timer would.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let lateness = Duration::from_micros(state % 7_000);
            let due = c.due_frames(c.next_deadline() + lateness);
            assert_eq!(due.first, expected_next);
            assert_eq!(due.skipped, 0);
            sent += due.count;
            expected_next += due.count;
        }
        assert_eq!(sent, frames);
        assert_eq!(c.deadline(frames), t0 + Duration::from_secs(2 * 3600));
        assert_eq!(
            c.deadline(frames - 1),
            t0 + Duration::from_secs(2 * 3600) - FRAME_20MS
        );
    }

    #[test]
    fn deadlines_of_an_odd_frame_length_do_not_accumulate_rounding() {
        let t0 = origin();
        // 1/3 ms is not representable exactly by repeated addition in whole nanoseconds.
        let c = FrameClock::new(t0, Duration::from_nanos(333_333));
        assert_eq!(
            c.deadline(3_000_000),
            t0 + Duration::from_nanos(999_999_000_000)
        );
    }

    #[test]
    fn zero_frame_length_is_clamped() {
        let t0 = origin();
        let c = FrameClock::new(t0, Duration::ZERO);
        assert!(c.deadline(1) > c.deadline(0));
    }
}
