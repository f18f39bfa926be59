//! The crate's one error type: bad inputs, and loads no staffing can carry.

use crate::load::MAX_ERLANGS;
use crate::week::MAX_WEEKS;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StaffingError {
    #[error("calls per hour must be a number of at least 0, not {0}")]
    CallsPerHour(f64),
    #[error("the average handling time must be more than 0 seconds, not {0}")]
    HandlingTime(f64),
    #[error(
        "{0:.0} erlangs of traffic is beyond what this calculator plans for \
         (at most {MAX_ERLANGS:.0})"
    )]
    TooMuchTraffic(f64),
    #[error(
        "the service-level target must be a fraction between 0 and 1, exclusive \
         (0.8 for 80 %), not {0}"
    )]
    Target(f64),
    #[error("the answer threshold must be 0 seconds or more, not {0}")]
    Threshold(f64),
    #[error("the number of weeks measured must be between 1 and {MAX_WEEKS}, not {0}")]
    Weeks(u32),
    /// The agents cannot keep up: every caller waits and the queue grows without bound.
    #[error(
        "{agents} agents cannot carry {erlangs:.2} erlangs: the queue would grow without bound"
    )]
    Unstable { agents: u32, erlangs: f64 },
    /// Floating point gave out before the target was met (not seen for valid inputs).
    #[error("no staffing up to {0} agents reaches the target")]
    Unreachable(u32),
    /// The time zone has no local midnight on that day (a daylight-saving gap at 00:00
    /// and 01:00 alike).
    #[error("no local midnight on {0} in this time zone")]
    NoMidnight(chrono::NaiveDate),
}
