//! The two clocks every core input carries.
//!
//! Timers run on the monotonic clock; the calendar and the call records need the wall clock.
//! Both come in from the shell with each input, so the core never reads a clock and a test can
//! put a call at 12/30 10:00 JST without touching the machine's time.

use std::time::Instant;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub mono: Instant,
    pub wall: DateTime<Utc>,
}

impl Now {
    /// The same instant moved forward on both clocks; for tests driving virtual time.
    #[cfg(test)]
    pub fn advanced(self, by: std::time::Duration) -> Now {
        Now {
            mono: self.mono + by,
            wall: self.wall + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero()),
        }
    }
}
