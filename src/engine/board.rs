//! The service figures of the manager's board: service level, ASA, AHT, abandon and answer
//! rates, for today and for the last 30 minutes, and today's calls per 30-minute interval.
//! Kept from the call records as the engine writes them (and from the operators' wrap-ups as
//! they end), so a board costs no database query; at start the day so far is replayed from
//! the stored records and measured wrap-ups.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use madoguchi_store::{CallRecord, Disposition};
use serde::Serialize;

/// The window of the "last 30 minutes" figures, and the width of the day's intervals.
pub const WINDOW: Duration = Duration::from_secs(30 * 60);
const INTERVALS_PER_DAY: usize = 48;

/// What counts as a good answer and as an abandon too short to blame on the center.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLevelSettings {
    /// Answered within this wait: in the service level (20 s by default).
    pub threshold: Duration,
    /// Abandoned before this wait: left out of the service level (5 s by default).
    pub short_abandon: Duration,
}

impl Default for ServiceLevelSettings {
    fn default() -> Self {
        ServiceLevelSettings {
            threshold: Duration::from_secs(20),
            short_abandon: Duration::from_secs(5),
        }
    }
}

/// Sums over a set of calls, from which the figures follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Calls that reached a queue.
    pub offered: u64,
    /// Calls an operator answered.
    pub answered: u64,
    pub answered_in_threshold: u64,
    pub abandoned: u64,
    /// Abandoned before the short-abandon limit.
    pub abandoned_short: u64,
    /// Waits of the answered calls, in milliseconds.
    pub answered_wait_ms: u64,
    /// Talk times (hold included) of the answered calls, in milliseconds.
    pub talk_ms: u64,
    /// Wrap-ups that ended, and their length.
    pub wrap_ups: u64,
    pub wrap_up_ms: u64,
}

/// The board's figures; `None` where nothing was offered (or answered) yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Figures {
    #[serde(flatten)]
    pub tally: Tally,
    /// Answered within the threshold over offered less short abandons.
    pub service_level: Option<f64>,
    /// Average speed of answer, seconds.
    pub asa_s: Option<f64>,
    /// Average handling time: talk (with hold) plus wrap-up, seconds.
    pub aht_s: Option<f64>,
    pub abandon_rate: Option<f64>,
    pub answer_rate: Option<f64>,
}

/// What the board needs of a call that reached a queue: a few numbers instead of the whole
/// record, so the 30-minute window stays small however many calls end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedCall {
    pub answered: bool,
    pub abandoned: bool,
    pub waited_ms: Option<u64>,
    pub talk_ms: u64,
}

impl QueuedCall {
    /// `None` for a call that never reached a queue (it is not offered).
    pub fn of(record: &CallRecord) -> Option<QueuedCall> {
        record.queue.as_ref()?;
        let ms = |v: Option<i64>| v.map(|ms| u64::try_from(ms).unwrap_or(0));
        Some(QueuedCall {
            answered: record.operator.is_some(),
            abandoned: record.disposition == Disposition::Abandoned,
            waited_ms: ms(record.waited_ms),
            talk_ms: ms(record.talk_ms).unwrap_or(0),
        })
    }
}

impl Tally {
    fn add_queued(&mut self, call: QueuedCall, settings: &ServiceLevelSettings) {
        self.offered += 1;
        if call.answered {
            self.answered += 1;
            let waited = call.waited_ms.unwrap_or(0);
            self.answered_wait_ms += waited;
            if u128::from(waited) <= settings.threshold.as_millis() {
                self.answered_in_threshold += 1;
            }
            self.talk_ms += call.talk_ms;
        } else if call.abandoned {
            self.abandoned += 1;
            if call
                .waited_ms
                .is_some_and(|ms| u128::from(ms) < settings.short_abandon.as_millis())
            {
                self.abandoned_short += 1;
            }
        }
    }

    pub fn add_wrap_up(&mut self, length: Duration) {
        self.wrap_ups += 1;
        self.wrap_up_ms += u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
    }

    pub fn figures(&self) -> Figures {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let mean_s = |ms: u64, n: u64| (n > 0).then(|| ms as f64 / n as f64 / 1000.0);
        let eligible = self.offered.saturating_sub(self.abandoned_short);
        let aht_s = mean_s(self.talk_ms, self.answered)
            .map(|talk| talk + mean_s(self.wrap_up_ms, self.wrap_ups).unwrap_or(0.0));
        Figures {
            tally: *self,
            service_level: ratio(self.answered_in_threshold, eligible),
            asa_s: mean_s(self.answered_wait_ms, self.answered),
            aht_s,
            abandon_rate: ratio(self.abandoned, self.offered),
            answer_rate: ratio(self.answered, self.offered),
        }
    }
}

/// Calls of one 30-minute interval of the day, by arrival.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
}

/// Today's board: the day's tally and intervals, and the recent calls for the last 30 minutes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    pub settings: ServiceLevelSettings,
    pub today: Tally,
    pub intervals: Vec<Interval>,
    /// Calls and wrap-ups of about the last 30 minutes, by when they ended.
    recent: VecDeque<(DateTime<Utc>, Recent)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Recent {
    Call(QueuedCall),
    WrapUp(Duration),
}

impl Board {
    pub fn new(settings: ServiceLevelSettings) -> Board {
        Board {
            settings,
            today: Tally::default(),
            intervals: vec![Interval::default(); INTERVALS_PER_DAY],
            recent: VecDeque::new(),
        }
    }

    /// A new day: the same settings, nothing counted.
    pub fn reset(&mut self) {
        *self = Board::new(self.settings);
    }

    pub fn add_call(&mut self, record: &CallRecord, tz: Tz) {
        let Some(call) = QueuedCall::of(record) else {
            return;
        };
        self.today.add_queued(call, &self.settings);
        let local = record.arrived_at.with_timezone(&tz);
        let index = (local.hour() * 2 + local.minute() / 30) as usize;
        if let Some(interval) = self.intervals.get_mut(index) {
            interval.offered += 1;
            if call.answered {
                interval.answered += 1;
            } else if call.abandoned {
                interval.abandoned += 1;
            }
        }
        self.remember(record.ended_at, Recent::Call(call));
    }

    pub fn add_wrap_up(&mut self, ended: DateTime<Utc>, length: Duration) {
        self.today.add_wrap_up(length);
        self.remember(ended, Recent::WrapUp(length));
    }

    /// The tally of what ended in the 30 minutes before `now`.
    pub fn last_window(&self, now: DateTime<Utc>) -> Tally {
        let since = now - chrono::Duration::from_std(WINDOW).unwrap_or_default();
        let mut tally = Tally::default();
        let window = self
            .recent
            .iter()
            .filter(|(at, _)| *at > since && *at <= now);
        for (_, recent) in window {
            match recent {
                Recent::Call(call) => tally.add_queued(*call, &self.settings),
                Recent::WrapUp(length) => tally.add_wrap_up(*length),
            }
        }
        tally
    }

    fn remember(&mut self, at: DateTime<Utc>, recent: Recent) {
        let keep_from = at - chrono::Duration::from_std(WINDOW).unwrap_or_default();
        while self.recent.front().is_some_and(|(t, _)| *t < keep_from) {
            self.recent.pop_front();
        }
        self.recent.push_back((at, recent));
    }
}

/// The board as the live state shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardView {
    pub threshold_s: u64,
    pub short_abandon_s: u64,
    pub today: Figures,
    pub last_30_min: Figures,
    /// Today's 48 half-hours from 00:00 local, each with `start` ("HH:MM").
    pub intervals: Vec<IntervalView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalView {
    pub start: String,
    #[serde(flatten)]
    pub counts: Interval,
}

impl Board {
    pub fn view(&self, now: DateTime<Utc>) -> BoardView {
        BoardView {
            threshold_s: self.settings.threshold.as_secs(),
            short_abandon_s: self.settings.short_abandon.as_secs(),
            today: self.today.figures(),
            last_30_min: self.last_window(now).figures(),
            intervals: self
                .intervals
                .iter()
                .enumerate()
                .map(|(i, counts)| IntervalView {
                    start: format!("{:02}:{:02}", i / 2, (i % 2) * 30),
                    counts: *counts,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn call(queue: bool, operator: bool, disposition: Disposition, waited_ms: i64) -> CallRecord {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 25, 1, 10, 0)
            .single()
            .expect("instant");
        CallRecord {
            id: "c".to_owned(),
            sip_call_id: "s".to_owned(),
            caller: "0467001234".to_owned(),
            called: "0120000000".to_owned(),
            arrived_at: at,
            answered_at: Some(at),
            ended_at: at + chrono::Duration::minutes(2),
            entry: None,
            branch: None,
            disposition,
            dtmf: Vec::new(),
            hangup_side: None,
            hangup_cause: None,
            queue: queue.then(|| "desk".to_owned()),
            waited_ms: Some(waited_ms),
            operator: operator.then(|| "op1".to_owned()),
            connected_at: None,
            talk_ms: operator.then_some(60_000),
            transfer_target: None,
            transfer_result: None,
            menu_choice: None,
            answer_mode: None,
            answered_by: None,
            unanswered_ms: None,
            answered_ms: None,
            language: None,
            language_fallback: None,
            node_id: "test".to_owned(),
            events: Vec::new(),
        }
    }

    fn tally(calls: &[CallRecord]) -> Tally {
        let mut tally = Tally::default();
        for c in calls {
            if let Some(call) = QueuedCall::of(c) {
                tally.add_queued(call, &ServiceLevelSettings::default());
            }
        }
        tally
    }

    #[test]
    fn service_level_leaves_short_abandons_out_of_the_offered_calls() {
        let figures = tally(&[
            call(true, true, Disposition::Answered, 3_000),
            call(true, true, Disposition::Answered, 20_000),
            call(true, true, Disposition::Answered, 20_001),
            call(true, false, Disposition::Abandoned, 4_999),
            call(true, false, Disposition::Abandoned, 30_000),
        ])
        .figures();
        // 2 answered in 20 s of (5 offered - 1 short abandon).
        assert_eq!(figures.service_level, Some(0.5));
        assert_eq!(figures.abandon_rate, Some(0.4));
        assert_eq!(figures.answer_rate, Some(0.6));
        let asa = figures.asa_s.expect("asa");
        assert!((asa - 43.001 / 3.0).abs() < 1e-9, "{asa}");
    }

    #[test]
    fn aht_is_talk_plus_the_mean_wrap_up() {
        let mut t = tally(&[call(true, true, Disposition::Answered, 1_000)]);
        t.add_wrap_up(Duration::from_secs(30));
        t.add_wrap_up(Duration::from_secs(10));
        assert_eq!(t.figures().aht_s, Some(60.0 + 20.0));
    }

    #[test]
    fn calls_that_never_reached_a_queue_are_not_offered() {
        let t = tally(&[call(false, false, Disposition::Completed, 0)]);
        assert_eq!(t.offered, 0);
        assert_eq!(t.figures().service_level, None);
    }

    #[test]
    fn the_day_is_cut_into_local_half_hours_by_arrival() {
        let mut board = Board::new(ServiceLevelSettings::default());
        // 01:10 UTC is 10:10 in Tokyo: the 10:00 interval.
        board.add_call(
            &call(true, true, Disposition::Answered, 1_000),
            chrono_tz::Asia::Tokyo,
        );
        let view = board.view(
            Utc.with_ymd_and_hms(2026, 11, 25, 1, 20, 0)
                .single()
                .expect("t"),
        );
        let ten = view
            .intervals
            .iter()
            .find(|i| i.start == "10:00")
            .expect("10:00");
        assert_eq!((ten.counts.offered, ten.counts.answered), (1, 1));
        assert_eq!(view.intervals.len(), 48);
    }

    #[test]
    fn the_last_30_minutes_hold_only_what_ended_in_them() {
        let mut board = Board::new(ServiceLevelSettings::default());
        let old = call(true, false, Disposition::Abandoned, 30_000);
        let mut recent = call(true, true, Disposition::Answered, 1_000);
        recent.ended_at = old.ended_at + chrono::Duration::minutes(40);
        board.add_call(&old, chrono_tz::UTC);
        board.add_call(&recent, chrono_tz::UTC);
        let window = board.last_window(recent.ended_at + chrono::Duration::minutes(1));
        assert_eq!(
            (window.offered, window.answered, window.abandoned),
            (1, 1, 0)
        );
        assert_eq!(board.today.offered, 2);
    }
}
