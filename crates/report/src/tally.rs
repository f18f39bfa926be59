//! [`Tally`]: the additive counts of a group of calls (a day, an hour band, a day type, the
//! whole period) and the rates and averages derived from them.
//!
//! Rates are computed from the sums of a group, never averaged from smaller groups, so a
//! month's service level is the month's answered-in-time over the month's offered calls.

use madoguchi_store::SlotFigures;
use serde::Serialize;

/// Counts and sums of a group of calls. See `madoguchi_store::report` for what each means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub calls: i64,
    pub closed_hours: i64,
    pub closed_holiday: i64,
    pub closed_year_end: i64,
    pub closed_special: i64,
    pub offered: i64,
    pub answered: i64,
    pub handled: i64,
    pub transferred: i64,
    pub abandoned: i64,
    pub short_abandoned: i64,
    pub overflowed: i64,
    pub callbacks_requested: i64,
    pub answered_in_time: i64,
    pub answered_wait_ms: i64,
    /// Talk plus wrap-up (measured, or else the queue's configured one), summed over
    /// answered calls.
    pub handling_ms: i64,
    pub transfers_answered: i64,
}

impl Tally {
    /// Adds one slot's figures; `wrap_up_ms` is the configured wrap-up of the slot's queue,
    /// counted for the answered calls whose wrap-up was not measured.
    pub fn add_slot(&mut self, s: &SlotFigures, wrap_up_ms: i64) {
        self.calls += s.calls;
        self.closed_hours += s.closed_hours;
        self.closed_holiday += s.closed_holiday;
        self.closed_year_end += s.closed_year_end;
        self.closed_special += s.closed_special;
        self.offered += s.offered;
        self.answered += s.answered;
        self.handled += s.handled();
        self.transferred += s.transferred;
        self.abandoned += s.abandoned;
        self.short_abandoned += s.short_abandoned;
        self.overflowed += s.overflowed;
        self.callbacks_requested += s.callbacks_requested;
        self.answered_in_time += s.answered_in_time;
        self.answered_wait_ms += s.answered_wait_ms;
        let unmeasured = (s.answered - s.wrap_ups).max(0);
        self.handling_ms += s.talk_ms + s.wrap_up_ms + unmeasured.saturating_mul(wrap_up_ms);
        self.transfers_answered += s.transfers_answered;
    }

    pub fn add(&mut self, o: &Tally) {
        self.calls += o.calls;
        self.closed_hours += o.closed_hours;
        self.closed_holiday += o.closed_holiday;
        self.closed_year_end += o.closed_year_end;
        self.closed_special += o.closed_special;
        self.offered += o.offered;
        self.answered += o.answered;
        self.handled += o.handled;
        self.transferred += o.transferred;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.overflowed += o.overflowed;
        self.callbacks_requested += o.callbacks_requested;
        self.answered_in_time += o.answered_in_time;
        self.answered_wait_ms += o.answered_wait_ms;
        self.handling_ms += o.handling_ms;
        self.transfers_answered += o.transfers_answered;
    }

    /// Calls that arrived while the service was closed, whatever the reason.
    pub fn closed(&self) -> i64 {
        self.closed_hours + self.closed_holiday + self.closed_year_end + self.closed_special
    }

    /// Offered calls that were neither answered, abandoned, overflowed nor left with a
    /// callback request.
    pub fn other_offered(&self) -> i64 {
        self.offered - self.answered - self.abandoned - self.overflowed - self.callbacks_requested
    }

    /// Answered in time over offered calls less short abandons; `None` without such calls.
    pub fn service_level(&self) -> Option<f64> {
        ratio(self.answered_in_time, self.offered - self.short_abandoned)
    }

    /// Average speed of answer, in seconds.
    pub fn asa_s(&self) -> Option<f64> {
        ratio(self.answered_wait_ms, self.answered).map(|ms| ms / 1000.0)
    }

    /// Average handling time (talk + wrap-up), in seconds.
    pub fn aht_s(&self) -> Option<f64> {
        ratio(self.handling_ms, self.answered).map(|ms| ms / 1000.0)
    }

    /// Abandoned over offered calls.
    pub fn abandon_rate(&self) -> Option<f64> {
        ratio(self.abandoned, self.offered)
    }

    /// Answered over offered calls.
    pub fn answer_rate(&self) -> Option<f64> {
        ratio(self.answered, self.offered)
    }
}

fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(offered: i64, answered: i64, in_time: i64, short: i64) -> SlotFigures {
        SlotFigures {
            calls: offered,
            offered,
            answered,
            answered_in_time: in_time,
            short_abandoned: short,
            abandoned: short,
            answered_wait_ms: answered * 10_000,
            talk_ms: answered * 200_000,
            ..SlotFigures::default()
        }
    }

    #[test]
    fn the_service_level_leaves_short_abandons_out_of_the_denominator() {
        let mut t = Tally::default();
        t.add_slot(&slot(10, 8, 6, 2), 0);
        assert_eq!(t.service_level(), Some(6.0 / 8.0));
    }

    #[test]
    fn handling_time_adds_the_queue_wrap_up_to_each_answered_call() {
        let mut t = Tally::default();
        t.add_slot(&slot(4, 4, 4, 0), 10_000);
        assert_eq!(t.aht_s(), Some(210.0));
        assert_eq!(t.asa_s(), Some(10.0));
    }

    #[test]
    fn a_measured_wrap_up_replaces_the_configured_one_for_its_call() {
        let mut t = Tally::default();
        let s = SlotFigures {
            wrap_ups: 3,
            wrap_up_ms: 3 * 4_000,
            ..slot(4, 4, 4, 0)
        };
        t.add_slot(&s, 10_000);
        // 200 s talk each; three measured 4 s wrap-ups and one configured 10 s.
        assert_eq!(t.aht_s(), Some(200.0 + (3.0 * 4.0 + 10.0) / 4.0));
    }

    #[test]
    fn a_callback_request_is_not_an_other_ending() {
        let mut t = Tally::default();
        t.add_slot(
            &SlotFigures {
                calls: 3,
                offered: 3,
                answered: 1,
                callbacks_requested: 2,
                ..SlotFigures::default()
            },
            0,
        );
        assert_eq!(t.callbacks_requested, 2);
        assert_eq!(t.other_offered(), 0);
    }

    #[test]
    fn rates_of_an_empty_group_are_absent_not_nan() {
        let t = Tally::default();
        assert_eq!(t.service_level(), None);
        assert_eq!(t.asa_s(), None);
        assert_eq!(t.aht_s(), None);
        assert_eq!(t.abandon_rate(), None);
    }

    #[test]
    fn rates_of_a_sum_come_from_its_sums() {
        let (mut a, mut b) = (Tally::default(), Tally::default());
        a.add_slot(&slot(1, 1, 1, 0), 0);
        b.add_slot(&slot(9, 1, 0, 0), 0);
        let mut sum = a;
        sum.add(&b);
        // 1 in time of 10 offered, not the mean of 100 % and 0 %.
        assert_eq!(sum.service_level(), Some(0.1));
    }
}
