//! The inputs of a staffing question, checked once: the load (calls per hour and their
//! average handling time) and the goal (a share of calls answered within a threshold).

use crate::error::StaffingError;

/// The largest offered traffic accepted, in erlangs: a hundred thousand agents busy at
/// once is far beyond any contact center, and it bounds the work of [`crate::agents_for`].
pub const MAX_ERLANGS: f64 = 100_000.0;

/// Calls offered per hour and their average handling time (talk + wrap-up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Load {
    calls_per_hour: f64,
    aht_s: f64,
}

impl Load {
    /// `calls_per_hour` ≥ 0 and `aht_s` > 0, both finite, together at most
    /// [`MAX_ERLANGS`].
    pub fn new(calls_per_hour: f64, aht_s: f64) -> Result<Load, StaffingError> {
        if !calls_per_hour.is_finite() || calls_per_hour < 0.0 {
            return Err(StaffingError::CallsPerHour(calls_per_hour));
        }
        if !aht_s.is_finite() || aht_s <= 0.0 {
            return Err(StaffingError::HandlingTime(aht_s));
        }
        let load = Load {
            calls_per_hour,
            aht_s,
        };
        if load.erlangs() > MAX_ERLANGS {
            return Err(StaffingError::TooMuchTraffic(load.erlangs()));
        }
        Ok(load)
    }

    pub fn calls_per_hour(&self) -> f64 {
        self.calls_per_hour
    }

    pub fn aht_s(&self) -> f64 {
        self.aht_s
    }

    /// Offered traffic `A = λ·AHT`: how many agents would be busy on average.
    pub fn erlangs(&self) -> f64 {
        self.calls_per_hour * self.aht_s / 3600.0
    }
}

/// The service level wanted: at least `target` of the calls answered within
/// `threshold_s` seconds ("80 % in 20 s").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    target: f64,
    threshold_s: f64,
}

impl Goal {
    /// 80 % of calls answered within 20 s, the industry's usual goal.
    pub const DEFAULT: Goal = Goal {
        target: 0.8,
        threshold_s: 20.0,
    };

    /// `target` strictly between 0 and 1 (a 100 % service level is never reached while
    /// any call can wait); `threshold_s` finite and ≥ 0.
    pub fn new(target: f64, threshold_s: f64) -> Result<Goal, StaffingError> {
        if !(target > 0.0 && target < 1.0) {
            return Err(StaffingError::Target(target));
        }
        check_threshold(threshold_s)?;
        Ok(Goal {
            target,
            threshold_s,
        })
    }

    pub fn target(&self) -> f64 {
        self.target
    }

    pub fn threshold_s(&self) -> f64 {
        self.threshold_s
    }
}

pub(crate) fn check_threshold(threshold_s: f64) -> Result<(), StaffingError> {
    if threshold_s.is_finite() && threshold_s >= 0.0 {
        Ok(())
    } else {
        Err(StaffingError::Threshold(threshold_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_is_calls_per_second_times_handling_time() {
        let load = Load::new(200.0, 180.0).expect("valid");
        assert_eq!(load.erlangs(), 10.0);
    }

    #[test]
    fn zero_calls_is_a_valid_load() {
        assert_eq!(Load::new(0.0, 300.0).map(|l| l.erlangs()), Ok(0.0));
    }

    #[test]
    fn negative_or_non_finite_calls_are_refused() {
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Load::new(bad, 180.0),
                Err(StaffingError::CallsPerHour(_))
            ));
        }
    }

    #[test]
    fn a_handling_time_of_zero_or_less_is_refused() {
        for bad in [0.0, -5.0, f64::NAN] {
            assert!(matches!(
                Load::new(100.0, bad),
                Err(StaffingError::HandlingTime(_))
            ));
        }
    }

    #[test]
    fn traffic_beyond_the_limit_is_refused() {
        assert!(matches!(
            Load::new(1e9, 3600.0),
            Err(StaffingError::TooMuchTraffic(_))
        ));
    }

    #[test]
    fn a_target_must_lie_strictly_between_0_and_1() {
        for bad in [0.0, 1.0, 80.0, -0.1, f64::NAN] {
            assert!(matches!(
                Goal::new(bad, 20.0),
                Err(StaffingError::Target(_))
            ));
        }
        assert!(Goal::new(0.999, 0.0).is_ok());
    }

    #[test]
    fn a_negative_threshold_is_refused() {
        assert_eq!(Goal::new(0.8, -1.0), Err(StaffingError::Threshold(-1.0)));
    }
}
