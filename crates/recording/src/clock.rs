//! Positions on the recording's sample clock (8 kHz samples since the recording started) for
//! the [`crate::timeline::Timeline`]: from elapsed time, and from a leg's RTP timestamps.
//!
//! Elapsed time is what the shell's monotonic clock says; it drives ticks, pause/resume and the
//! end. Packets are better placed by their RTP timestamps: those say exactly where a packet
//! belongs even when the network reorders or delays it. [`RtpClock`] maps one leg's timestamps
//! onto the sample clock through an *anchor* (the first packet lands where it arrived) and
//! keeps that mapping honest against arrival times:
//! - 32-bit timestamps are extended to 64 bits across wraps (and backwards for a packet
//!   reordered across a wrap);
//! - a jump of more than the discontinuity limit (new timestamp base after a re-INVITE or a
//!   transfer, a sender restart) re-anchors the newest packet where it arrived; an *old*
//!   packet that far off is dropped instead, so one straggler cannot move the whole leg —
//!   unless the next packet is far off too: then it is a new timebase that happened to look
//!   older, and the leg re-anchors there (one packet lost);
//! - once per second of media the anchor slews to the fastest packet of that second when the
//!   mapping has drifted by more than [`SLEW_THRESHOLD`] (sender clock drift, or an anchor
//!   packet that happened to be delayed), so the two legs stay within the reorder window of
//!   each other on long calls. Each slew is one short gap or overlap in that leg.
//!
//! ```
//! use madoguchi_recording::clock::{position_from_elapsed, RtpClock};
//! use std::time::Duration;
//! let mut clock = RtpClock::new();
//! let arrival = position_from_elapsed(Duration::from_millis(500));
//! assert_eq!(clock.position(u32::MAX - 79, arrival), Some(4000));
//! // 20 ms later, across the timestamp wrap:
//! assert_eq!(clock.position(80, arrival + 160), Some(4160));
//! ```

use std::time::Duration;

/// Samples per second of the recording (G.711's clock rate).
pub const SAMPLE_RATE: u32 = 8000;

/// Nanoseconds per sample at 8 kHz.
const NANOS_PER_SAMPLE: u64 = 125_000;

/// The default deviation (1 s) between timestamp and arrival beyond which a leg re-anchors.
pub const DEFAULT_DISCONTINUITY: u64 = 8000;

/// How far (10 ms) the mapping may drift from the fastest arrivals before the anchor slews.
pub const SLEW_THRESHOLD: i64 = 80;

/// Far-off packets in a row after which even an old-looking one is a new timebase (a jump of
/// more than 2³¹ looks backwards to the wrap arithmetic).
const PROBATION: u32 = 2;

/// How much media (1 s) one slew measurement spans.
const SLEW_PERIOD: i64 = 8000;

/// The sample position `elapsed` after the recording started (rounded down).
pub fn position_from_elapsed(elapsed: Duration) -> u64 {
    let samples = elapsed.as_nanos() / u128::from(NANOS_PER_SAMPLE);
    u64::try_from(samples).unwrap_or(u64::MAX)
}

/// The duration of `frames` samples.
pub fn duration_of(frames: u64) -> Duration {
    Duration::from_nanos(frames.saturating_mul(NANOS_PER_SAMPLE))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    extended: i64,
    position: i64,
}

/// Maps one leg's RTP timestamps to positions; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpClock {
    discontinuity: i64,
    max_extended: Option<i64>,
    anchor: Option<Anchor>,
    period_start: i64,
    fastest: Option<i64>,
    far_off_streak: u32,
    reanchors: u64,
    slews: u64,
    stale: u64,
}

impl Default for RtpClock {
    fn default() -> Self {
        Self::new()
    }
}

impl RtpClock {
    pub fn new() -> Self {
        Self::with_discontinuity(DEFAULT_DISCONTINUITY)
    }

    /// A clock that re-anchors when timestamp and arrival disagree by more than `samples`.
    pub fn with_discontinuity(samples: u64) -> Self {
        Self {
            discontinuity: i64::try_from(samples).unwrap_or(i64::MAX),
            max_extended: None,
            anchor: None,
            period_start: 0,
            fastest: None,
            far_off_streak: 0,
            reanchors: 0,
            slews: 0,
            stale: 0,
        }
    }

    /// The position of the packet with RTP `timestamp` that arrived at position `arrival`;
    /// `None` for an old packet that is too far off to place (counted in [`Self::stale`]).
    pub fn position(&mut self, timestamp: u32, arrival: u64) -> Option<u64> {
        let arrival = i64::try_from(arrival).unwrap_or(i64::MAX);
        let (extended, newest) = self.extend(timestamp);
        let Some(anchor) = self.anchor else {
            self.anchor_at(extended, arrival);
            return u64::try_from(arrival).ok();
        };
        let mapped = anchor
            .position
            .saturating_add(extended.saturating_sub(anchor.extended));
        let deviation = arrival.saturating_sub(mapped);
        if deviation.saturating_abs() > self.discontinuity {
            self.far_off_streak += 1;
            if !newest && self.far_off_streak < PROBATION {
                self.stale += 1;
                return None;
            }
            self.reanchors += 1;
            self.max_extended = Some(extended);
            self.anchor_at(extended, arrival);
            return u64::try_from(arrival).ok();
        }
        self.far_off_streak = 0;
        self.fastest = Some(self.fastest.map_or(deviation, |f| f.min(deviation)));
        if newest && extended.saturating_sub(self.period_start) >= SLEW_PERIOD {
            if let Some(fastest) = self.fastest.take() {
                if fastest.abs() > SLEW_THRESHOLD {
                    self.slews += 1;
                    if let Some(anchor) = &mut self.anchor {
                        anchor.position = anchor.position.saturating_add(fastest);
                    }
                }
            }
            self.period_start = extended;
        }
        u64::try_from(mapped).ok()
    }

    /// Forgets the mapping (the leg's SSRC changed): the next packet anchors where it arrives.
    pub fn reanchor(&mut self) {
        self.max_extended = None;
        self.anchor = None;
        self.fastest = None;
        self.far_off_streak = 0;
    }

    /// Times the leg re-anchored on a discontinuity.
    pub fn reanchors(&self) -> u64 {
        self.reanchors
    }

    /// Times the anchor slewed toward the arrivals.
    pub fn slews(&self) -> u64 {
        self.slews
    }

    /// Old packets dropped for being too far from where their timestamp puts them.
    pub fn stale(&self) -> u64 {
        self.stale
    }

    fn anchor_at(&mut self, extended: i64, arrival: i64) {
        self.anchor = Some(Anchor {
            extended,
            position: arrival,
        });
        self.period_start = extended;
        self.fastest = None;
    }

    /// Extends `timestamp` to 64 bits by its signed 32-bit distance from the newest one seen
    /// (the first gets a base of 2³² so one reordered before it, across a wrap, stays positive).
    /// Returns the extended value and whether it is the newest.
    fn extend(&mut self, timestamp: u32) -> (i64, bool) {
        let Some(max) = self.max_extended else {
            let extended = (1 << 32) + i64::from(timestamp);
            self.max_extended = Some(extended);
            return (extended, true);
        };
        let delta = i64::from(timestamp.wrapping_sub(max as u32) as i32);
        // Saturating: a hostile peer's timestamps, each 2³¹ ahead, must not overflow this.
        let extended = max.saturating_add(delta);
        if extended > max {
            self.max_extended = Some(extended);
            (extended, true)
        } else {
            (extended, false)
        }
    }
}
