//! The seats a typical week needs: measured arrivals and handling times, folded into
//! local weekday × 30-minute intervals and averaged over whole weeks, then each interval
//! staffed with Erlang C.
//!
//! The store measures half-hours in UTC (one [`MeasuredHalfHour`] per half-hour and queue,
//! in any order); [`typical_week`] places each in the local week of the given time zone,
//! so daylight-saving zones fold correctly too (Asia/Tokyo has none). [`Window`] says
//! which half-hours to measure: whole local days, so every weekday occurs exactly
//! `weeks` times.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use madoguchi_staffing::{typical_week, Goal, MeasuredHalfHour, PlanSettings, Window};
//!
//! let tz = chrono_tz::Asia::Tokyo;
//! let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
//! let window = Window::weeks_before(today, tz, 4).expect("window");
//! // Monday 10:00–10:30 Tokyo, four Mondays: 100 calls, all handled in 180 s each.
//! let measured = MeasuredHalfHour {
//!     start: Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap(),
//!     arrivals: 100,
//!     handled: 100,
//!     handling_s: 18_000.0,
//! };
//! let settings = PlanSettings { goal: Goal::DEFAULT, weeks: window.weeks(), tz, aht_s: None };
//! let plan = typical_week(&[measured], &settings);
//! let monday_ten = &plan.days[0].intervals[20];
//! assert_eq!(monday_ten.arrivals_per_hour, 50.0);
//! assert_eq!(plan.days[0].peak_agents, 5);
//! ```

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

use crate::erlang::{agents_for, Staffing};
use crate::error::StaffingError;
use crate::load::{Goal, Load};

/// The longest span averaged, in weeks.
pub const MAX_WEEKS: u32 = 52;
/// Intervals of a day.
pub const INTERVALS_PER_DAY: usize = 48;
const INTERVAL_MINUTES: u32 = 30;
/// An interval's own average handling time is used when it has at least this many handled
/// calls; below that it is mostly noise, and the window's overall AHT is used instead.
pub const MIN_HANDLED_FOR_OWN_AHT: u64 = 10;

/// Calls that arrived in one half-hour (of one queue, or several), as the store counts them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasuredHalfHour {
    /// Start of the half-hour, UTC.
    pub start: DateTime<Utc>,
    /// Calls that reached a queue (answered, abandoned or overflowed alike).
    pub arrivals: u64,
    /// Those an operator took.
    pub handled: u64,
    /// Their handling time summed: talk plus wrap-up, seconds.
    pub handling_s: f64,
}

/// The span measured: `weeks` whole weeks of local days, ending at the start of a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    weeks: u32,
}

impl Window {
    /// The `weeks` weeks of local days before `today` (today excluded: it is not over).
    pub fn weeks_before(today: NaiveDate, tz: Tz, weeks: u32) -> Result<Window, StaffingError> {
        if !(1..=MAX_WEEKS).contains(&weeks) {
            return Err(StaffingError::Weeks(weeks));
        }
        let first = today - Duration::days(7 * i64::from(weeks));
        Ok(Window {
            from: local_midnight(first, tz)?,
            to: local_midnight(today, tz)?,
            weeks,
        })
    }

    pub fn weeks(&self) -> u32 {
        self.weeks
    }
}

/// The first instant of a local day (01:00 where a daylight-saving gap swallows 00:00).
fn local_midnight(date: NaiveDate, tz: Tz) -> Result<DateTime<Utc>, StaffingError> {
    [0, 1]
        .into_iter()
        .filter_map(|hour| date.and_hms_opt(hour, 0, 0))
        .find_map(|local| tz.from_local_datetime(&local).earliest())
        .map(|at| at.with_timezone(&Utc))
        .ok_or(StaffingError::NoMidnight(date))
}

/// How to turn measurements into a plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSettings {
    pub goal: Goal,
    /// Weeks the measurements span ([`Window::weeks`]): the divisor of the counts.
    pub weeks: u32,
    /// The time zone whose weekdays and clock times the plan is in.
    pub tz: Tz,
    /// One AHT for every interval instead of the measured ones, seconds.
    pub aht_s: Option<f64>,
}

/// A typical week, Monday first.
#[derive(Clone, Debug, PartialEq)]
pub struct WeekPlan {
    /// The average handling time over the whole window (or the one given), seconds;
    /// `None` when no call was handled and none was given.
    pub aht_s: Option<f64>,
    /// Calls that arrived in the window.
    pub arrivals: u64,
    /// Calls an operator handled in the window.
    pub handled: u64,
    /// Seven days, Monday to Sunday.
    pub days: Vec<DayPlan>,
}

/// One weekday of the typical week.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPlan {
    pub weekday: Weekday,
    /// The most agents any interval of the day needs.
    pub peak_agents: u32,
    /// 48 intervals from 00:00, 30 minutes each.
    pub intervals: Vec<IntervalPlan>,
}

/// One 30-minute interval of the typical week.
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalPlan {
    /// Local start time.
    pub start: NaiveTime,
    /// Calls that arrived in this interval over the whole window.
    pub arrivals: u64,
    /// Average arrivals per hour in this interval on one such weekday.
    pub arrivals_per_hour: f64,
    /// Calls handled in this interval over the whole window.
    pub handled: u64,
    /// The AHT used: the given one, the interval's own (≥ [`MIN_HANDLED_FOR_OWN_AHT`]
    /// handled calls) or the window's; `None` when there is none.
    pub aht_s: Option<f64>,
    /// The fewest agents meeting the goal and what they give; `None` when calls arrived
    /// but no AHT is known (or the load is beyond [`crate::MAX_ERLANGS`]).
    pub staffing: Option<Staffing>,
}

#[derive(Clone, Copy, Default)]
struct Cell {
    arrivals: u64,
    handled: u64,
    handling_s: f64,
}

/// Folds `measured` into the local week and staffs every interval for `settings.goal`.
pub fn typical_week(measured: &[MeasuredHalfHour], settings: &PlanSettings) -> WeekPlan {
    let mut cells = [[Cell::default(); INTERVALS_PER_DAY]; 7];
    for m in measured {
        let local = m.start.with_timezone(&settings.tz);
        let day = local.weekday().num_days_from_monday() as usize;
        let slot = ((local.hour() * 60 + local.minute()) / INTERVAL_MINUTES) as usize;
        let cell = &mut cells[day][slot];
        cell.arrivals += m.arrivals;
        cell.handled += m.handled;
        cell.handling_s += m.handling_s;
    }
    let all = cells.iter().flatten().fold(Cell::default(), |sum, c| Cell {
        arrivals: sum.arrivals + c.arrivals,
        handled: sum.handled + c.handled,
        handling_s: sum.handling_s + c.handling_s,
    });
    let overall_aht = settings
        .aht_s
        .or((all.handled > 0).then(|| all.handling_s / all.handled as f64));
    let weeks = f64::from(settings.weeks.max(1));
    let days = cells
        .iter()
        .enumerate()
        .map(|(day, day_cells)| {
            let intervals: Vec<IntervalPlan> = day_cells
                .iter()
                .enumerate()
                .map(|(slot, cell)| interval(slot, cell, weeks, overall_aht, settings))
                .collect();
            DayPlan {
                weekday: WEEK[day],
                peak_agents: intervals
                    .iter()
                    .filter_map(|i| i.staffing.map(|s| s.agents))
                    .max()
                    .unwrap_or(0),
                intervals,
            }
        })
        .collect();
    WeekPlan {
        aht_s: overall_aht,
        arrivals: all.arrivals,
        handled: all.handled,
        days,
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn interval(
    slot: usize,
    cell: &Cell,
    weeks: f64,
    overall_aht: Option<f64>,
    settings: &PlanSettings,
) -> IntervalPlan {
    let minutes = slot as u32 * INTERVAL_MINUTES;
    let start = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN);
    let arrivals_per_hour = cell.arrivals as f64 / weeks * (60.0 / f64::from(INTERVAL_MINUTES));
    let aht_s = match settings.aht_s {
        Some(given) => Some(given),
        None if cell.handled >= MIN_HANDLED_FOR_OWN_AHT => {
            Some(cell.handling_s / cell.handled as f64)
        }
        None => overall_aht,
    };
    let staffing = if cell.arrivals == 0 {
        Some(Staffing::idle())
    } else {
        aht_s
            .and_then(|aht| Load::new(arrivals_per_hour, aht).ok())
            .and_then(|load| agents_for(load, settings.goal).ok())
    };
    IntervalPlan {
        start,
        arrivals: cell.arrivals,
        arrivals_per_hour,
        handled: cell.handled,
        aht_s,
        staffing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Tokyo;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid instant")
    }

    fn settings(weeks: u32) -> PlanSettings {
        PlanSettings {
            goal: Goal::DEFAULT,
            weeks,
            tz: Tokyo,
            aht_s: None,
        }
    }

    fn half_hour(start: DateTime<Utc>, arrivals: u64, handled: u64, aht: f64) -> MeasuredHalfHour {
        MeasuredHalfHour {
            start,
            arrivals,
            handled,
            handling_s: handled as f64 * aht,
        }
    }

    #[test]
    fn the_window_is_whole_tokyo_days_ending_at_todays_midnight() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let window = Window::weeks_before(today, Tokyo, 4).expect("window");
        assert_eq!(window.to, utc(2026, 12, 6, 15, 0));
        assert_eq!(window.from, utc(2026, 11, 8, 15, 0));
        assert_eq!(window.weeks(), 4);
    }

    #[test]
    fn zero_or_too_many_weeks_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        assert_eq!(
            Window::weeks_before(today, Tokyo, 0),
            Err(StaffingError::Weeks(0))
        );
        assert_eq!(
            Window::weeks_before(today, Tokyo, MAX_WEEKS + 1),
            Err(StaffingError::Weeks(MAX_WEEKS + 1))
        );
    }

    #[test]
    fn a_utc_half_hour_lands_on_its_tokyo_weekday_and_time() {
        // Sunday 2026-11-29 23:30 UTC is Monday 08:30 in Tokyo.
        let plan = typical_week(
            &[half_hour(utc(2026, 11, 29, 23, 30), 4, 0, 0.0)],
            &settings(1),
        );
        let monday = &plan.days[0];
        assert_eq!(monday.weekday, Weekday::Mon);
        assert_eq!(
            monday.intervals[17].start,
            NaiveTime::from_hms_opt(8, 30, 0).expect("time")
        );
        assert_eq!(monday.intervals[17].arrivals, 4);
        assert_eq!(
            plan.days[6]
                .intervals
                .iter()
                .map(|i| i.arrivals)
                .sum::<u64>(),
            0
        );
    }

    #[test]
    fn arrivals_are_averaged_over_the_weeks_and_given_per_hour() {
        // Two Mondays 10:00 Tokyo, 30 and 50 calls: 40 per half-hour on average, 80 per hour.
        let measured = [
            half_hour(utc(2026, 11, 23, 1, 0), 30, 30, 120.0),
            half_hour(utc(2026, 11, 30, 1, 0), 50, 50, 120.0),
        ];
        let plan = typical_week(&measured, &settings(2));
        let interval = &plan.days[0].intervals[20];
        assert_eq!(interval.arrivals, 80);
        assert_eq!(interval.arrivals_per_hour, 80.0);
    }

    #[test]
    fn several_queues_in_one_half_hour_add_up() {
        let start = utc(2026, 11, 30, 1, 0);
        let measured = [half_hour(start, 3, 3, 100.0), half_hour(start, 7, 7, 200.0)];
        let plan = typical_week(&measured, &settings(1));
        let interval = &plan.days[0].intervals[20];
        assert_eq!((interval.arrivals, interval.handled), (10, 10));
        assert_eq!(interval.aht_s, Some(170.0));
    }

    #[test]
    fn an_interval_with_few_handled_calls_uses_the_windows_aht() {
        let measured = [
            // Monday 10:00: 20 calls of 300 s.
            half_hour(utc(2026, 11, 30, 1, 0), 20, 20, 300.0),
            // Monday 11:00: 2 calls of 60 s, too few for an AHT of its own.
            half_hour(utc(2026, 11, 30, 2, 0), 2, 2, 60.0),
        ];
        let plan = typical_week(&measured, &settings(1));
        let overall = (20.0 * 300.0 + 2.0 * 60.0) / 22.0;
        assert_eq!(plan.aht_s, Some(overall));
        assert_eq!(plan.days[0].intervals[20].aht_s, Some(300.0));
        assert_eq!(plan.days[0].intervals[22].aht_s, Some(overall));
    }

    #[test]
    fn a_given_aht_replaces_every_measured_one() {
        let measured = [half_hour(utc(2026, 11, 30, 1, 0), 20, 20, 300.0)];
        let plan = typical_week(
            &measured,
            &PlanSettings {
                aht_s: Some(180.0),
                ..settings(1)
            },
        );
        assert_eq!(plan.aht_s, Some(180.0));
        assert_eq!(plan.days[0].intervals[20].aht_s, Some(180.0));
    }

    #[test]
    fn intervals_without_calls_need_no_agent() {
        let plan = typical_week(&[], &settings(4));
        assert_eq!(plan.days.len(), 7);
        for day in &plan.days {
            assert_eq!(day.intervals.len(), INTERVALS_PER_DAY);
            assert_eq!(day.peak_agents, 0);
            assert!(day
                .intervals
                .iter()
                .all(|i| i.staffing == Some(Staffing::idle())));
        }
        assert_eq!(plan.aht_s, None);
    }

    #[test]
    fn calls_never_handled_leave_the_interval_unstaffed_for_want_of_an_aht() {
        // Everyone abandoned: arrivals, but no handling time measured anywhere.
        let plan = typical_week(
            &[half_hour(utc(2026, 11, 30, 1, 0), 5, 0, 0.0)],
            &settings(1),
        );
        let interval = &plan.days[0].intervals[20];
        assert_eq!((interval.aht_s, interval.staffing), (None, None));
    }

    #[test]
    fn each_interval_is_staffed_with_erlang_c_and_the_day_peak_is_its_maximum() {
        // Monday 10:00: 100 calls per half-hour at 180 s: 10 erlangs, 14 agents for 80/20.
        // Monday 10:30: 10 calls per half-hour at 180 s: 1 erlang, 3 agents.
        let measured = [
            half_hour(utc(2026, 11, 30, 1, 0), 100, 100, 180.0),
            half_hour(utc(2026, 11, 30, 1, 30), 10, 10, 180.0),
        ];
        let plan = typical_week(&measured, &settings(1));
        let monday = &plan.days[0];
        assert_eq!(monday.intervals[20].staffing.map(|s| s.agents), Some(14));
        assert_eq!(monday.intervals[21].staffing.map(|s| s.agents), Some(3));
        assert_eq!(monday.peak_agents, 14);
    }
}
