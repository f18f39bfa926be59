//! Recording policy: whether a call is recorded, decided per entry and again per queue, and
//! when the caller is told (the consent notice, 「品質向上のため、通話を録音させていただきます」).
//!
//! A [`RecordingPolicy`] is what the dialplan says (`recording = …` on an entry or a queue); a
//! [`RecordingDecision`] is what it means for one call. Turning one into the other takes a
//! `draw` in `[0, 1)` from the engine's seeded RNG, so routing stays pure and a test can pick
//! which side of a share a call falls on.
//!
//! # Driving
//! 1. [`Dialplan::route`](crate::Dialplan::route) decides with the entry's policy; the notice
//!    is in the route's prelude (after the greeting) when
//!    [`RecordingDecision::needs_notice`] holds, and `Route.recording` carries the decision.
//! 2. When the caller joins a queue, [`Queue::recording_at_join`] gives the decision from then
//!    on (the queue's policy replaces the entry's; without one the call keeps its decision)
//!    and the notice to play before joining when it is needed and was not played yet.
//!
//! ```
//! use madoguchi_dialplan::{RecordingDecision, RecordingPolicy};
//!
//! let policy = RecordingPolicy::Share(0.3);
//! assert_eq!(policy.decide(0.1), RecordingDecision::Record);
//! assert_eq!(policy.decide(0.7), RecordingDecision::Off);
//! assert!(RecordingPolicy::OnDemand.decide(0.7).needs_notice());
//! ```

use std::fmt;

use serde::Serialize;

use crate::model::Queue;

/// Which calls are recorded, as written in the dialplan.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingPolicy {
    /// No call is recorded (`recording = false` or `"off"`).
    #[default]
    Off,
    /// Every call is recorded (`recording = true`, `"all"` or `1`).
    All,
    /// This share of calls, in `(0, 1)`, is recorded (`recording = 0.3`).
    Share(f64),
    /// The operator starts the recording from the console (`recording = "on_demand"`).
    OnDemand,
}

/// Whether one call is recorded, from its policy and its draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingDecision {
    /// The engine records the call once it is bridged.
    Record,
    /// The operator may start a recording from the console.
    OnDemand,
    /// The call is not recorded.
    Off,
}

impl RecordingPolicy {
    /// The decision for one call; `draw` is uniform in `[0, 1)`. A share records when
    /// `draw < share` (a draw outside `[0, 1)` or NaN only shifts the odds, it never panics).
    pub fn decide(self, draw: f64) -> RecordingDecision {
        match self {
            RecordingPolicy::Off => RecordingDecision::Off,
            RecordingPolicy::All => RecordingDecision::Record,
            RecordingPolicy::Share(share) if draw < share => RecordingDecision::Record,
            RecordingPolicy::Share(_) => RecordingDecision::Off,
            RecordingPolicy::OnDemand => RecordingDecision::OnDemand,
        }
    }

    /// Some call under this policy may be recorded, so a notice prompt must exist.
    pub fn may_record(self) -> bool {
        !matches!(self, RecordingPolicy::Off)
    }
}

/// `off`, `all calls`, `30% of calls`, `on demand`: the simulator's words.
impl fmt::Display for RecordingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordingPolicy::Off => f.write_str("off"),
            RecordingPolicy::All => f.write_str("all calls"),
            // Rounded to 0.01 % so that 0.3 reads "30", not "30.000000000000004".
            RecordingPolicy::Share(share) => {
                write!(f, "{}% of calls", (share * 10_000.0).round() / 100.0)
            }
            RecordingPolicy::OnDemand => f.write_str("on demand"),
        }
    }
}

impl RecordingDecision {
    /// The caller is told: a call that may be recorded (on demand included) hears the notice.
    pub fn needs_notice(self) -> bool {
        matches!(
            self,
            RecordingDecision::Record | RecordingDecision::OnDemand
        )
    }
}

impl Queue {
    /// The recording decision once a caller joins this queue, and the notice prompt to play
    /// before joining.
    ///
    /// `current` is the call's decision so far (the route's, or a previous queue's);
    /// `notice_played` says whether the caller already heard a notice; `draw` is uniform in
    /// `[0, 1)`. The queue's policy, when it has one, replaces `current`. The prompt is given
    /// when the new decision needs a notice that was not played; it is `None` only if the queue
    /// inherits a decision and knows no notice prompt (the checker rules this out whenever the
    /// queue's own policy may record, and the route plays the entry's notice itself).
    pub fn recording_at_join(
        &self,
        current: RecordingDecision,
        notice_played: bool,
        draw: f64,
    ) -> (RecordingDecision, Option<String>) {
        let decision = match self.recording {
            Some(policy) => policy.decide(draw),
            None => current,
        };
        let notice = if decision.needs_notice() && !notice_played {
            self.recording_notice.clone()
        } else {
            None
        };
        (decision, notice)
    }
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
