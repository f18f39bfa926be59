//! A named service calendar: weekly opening hours, a national-holiday policy, closures and
//! special hours, answering "is the service open at this instant, and if not, why".
//!
//! Pure: [`Calendar::status_at`] takes the instant (UTC) and converts it to the calendar's time
//! zone itself. For a local date, [`Calendar::day_schedule`] resolves the rules in this order of
//! precedence (the first that applies decides the day):
//!
//! 1. [`SpecialHours`] for that date (the union of every entry for the date) — even on a
//!    holiday or inside a closure;
//! 2. [`Closure`]s — a [`ClosureKind::Special`] one before a [`ClosureKind::YearEnd`] one;
//! 3. the [`HolidayPolicy`] on a national holiday (`Open` falls through to the weekly hours);
//! 4. the weekly [`HoursRule`]s — the union of the ranges of every rule matching the day.
//!
//! Ranges are half-open `[start, end)` in local wall-clock time; an `end` of `00:00` means the
//! end of the day (24:00).
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use madoguchi_calendar::{Calendar, CalendarStatus, DateRule, DaySchedule, HolidayPolicy, HoursRule, WeekdaySet};
//!
//! let city_office = Calendar {
//!     name: "city_office".into(),
//!     tz: chrono_tz::Asia::Tokyo,
//!     hours: vec![HoursRule { days: DateRule::Weekdays(WeekdaySet::MON_FRI), ranges: vec!["08:30-17:15".parse().unwrap()] }],
//!     holidays: HolidayPolicy::Closed,
//!     closures: vec![],
//!     special_hours: vec![],
//! };
//! // Monday 2026-07-20 is 海の日.
//! let marine_day = NaiveDate::from_ymd_opt(2026, 7, 20).unwrap();
//! assert_eq!(city_office.day_schedule(marine_day), DaySchedule::ClosedHoliday { name: "海の日" });
//! // 10:00 JST is 01:00 UTC.
//! let at = Utc.with_ymd_and_hms(2026, 7, 20, 1, 0, 0).unwrap();
//! assert_eq!(city_office.status_at(at), CalendarStatus::ClosedHoliday { name: "海の日" });
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

use crate::holidays::holiday_on;
use crate::rules::DateRule;

/// Opening hours within one day, `[start, end)`. `end == 00:00` stands for 24:00.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// Why a time range did not parse or is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeRangeError {
    #[error("expected HH:MM-HH:MM, got {0:?}")]
    Format(String),
    #[error("{0:?} is not a time of day (00:00 to 24:00)")]
    Time(String),
    #[error("the range ends at or before its start")]
    Empty,
}

/// Opening hours on the days a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursRule {
    pub days: DateRule,
    pub ranges: Vec<TimeRange>,
}

/// What a national holiday does to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolidayPolicy {
    /// Holidays follow the normal rules of their day of the week.
    Open,
    /// Closed all day.
    Closed,
    /// Open only in these ranges.
    Hours(Vec<TimeRange>),
}

/// Whole days on which the service is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub days: DateRule,
    pub kind: ClosureKind,
    /// Shown or announced, e.g. "年末年始".
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClosureKind {
    /// Recurring every year (the year-end / New-Year break).
    YearEnd,
    /// One-off (building maintenance, a disaster …).
    Special,
}

/// Hours for one date that replace every other rule on that date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialHours {
    pub date: NaiveDate,
    /// Empty means closed all day.
    pub ranges: Vec<TimeRange>,
    pub label: String,
}

/// A named service calendar. See the module docs for the precedence of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub name: String,
    pub tz: Tz,
    /// The union of the ranges of every rule matching the day.
    pub hours: Vec<HoursRule>,
    pub holidays: HolidayPolicy,
    pub closures: Vec<Closure>,
    pub special_hours: Vec<SpecialHours>,
}

/// Whether the service is open at an instant, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarStatus {
    /// Open; `closes_at` is the end of the current uninterrupted opening (it may be on a later
    /// day when ranges meet at midnight).
    Open { closes_at: DateTime<Tz> },
    /// Outside the day's hours (also on a day with no hours). `next_open` is the next opening
    /// within about 400 days, if any.
    ClosedHours { next_open: Option<DateTime<Tz>> },
    /// A national holiday with [`HolidayPolicy::Closed`].
    ClosedHoliday { name: &'static str },
    /// A [`ClosureKind::YearEnd`] closure.
    ClosedYearEnd { label: String },
    /// A [`ClosureKind::Special`] closure.
    ClosedSpecial { label: String },
}

/// How one local date resolves, before looking at the time of day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaySchedule {
    /// Open in these ranges: sorted, merged, non-overlapping; empty when there are no hours.
    Hours(Vec<TimeRange>),
    ClosedHoliday {
        name: &'static str,
    },
    ClosedYearEnd {
        label: String,
    },
    ClosedSpecial {
        label: String,
    },
}

/// How far ahead the next opening is searched: long enough to cross any yearly closure.
const SEARCH_DAYS: u64 = 400;

const DAY_SECONDS: u32 = 86_400;

impl Calendar {
    /// The instant in the calendar's time zone.
    pub fn local(&self, instant: DateTime<Utc>) -> DateTime<Tz> {
        instant.with_timezone(&self.tz)
    }

    /// Whether the service is open at `instant`, and if not, why.
    pub fn status_at(&self, instant: DateTime<Utc>) -> CalendarStatus {
        let local = self.local(instant);
        let date = local.date_naive();
        let second = local.time().num_seconds_from_midnight();
        match self.day_schedule(date) {
            DaySchedule::Hours(ranges) => {
                match ranges
                    .iter()
                    .map(Span::of)
                    .find(|span| span.contains(second))
                {
                    Some(span) => match self.closes_at(date, span.end) {
                        Some(closes_at) => CalendarStatus::Open { closes_at },
                        // Only at the very end of chrono's date range.
                        None => CalendarStatus::ClosedHours { next_open: None },
                    },
                    None => CalendarStatus::ClosedHours {
                        next_open: self.next_open_from(date, second),
                    },
                }
            }
            DaySchedule::ClosedHoliday { name } => CalendarStatus::ClosedHoliday { name },
            DaySchedule::ClosedYearEnd { label } => CalendarStatus::ClosedYearEnd { label },
            DaySchedule::ClosedSpecial { label } => CalendarStatus::ClosedSpecial { label },
        }
    }

    /// How the local `date` resolves (see the module docs for the precedence).
    pub fn day_schedule(&self, date: NaiveDate) -> DaySchedule {
        let mut special = self
            .special_hours
            .iter()
            .filter(|special| special.date == date)
            .peekable();
        if special.peek().is_some() {
            return DaySchedule::Hours(merge(special.flat_map(|s| s.ranges.iter())));
        }
        for kind in [ClosureKind::Special, ClosureKind::YearEnd] {
            let closure = self
                .closures
                .iter()
                .find(|closure| closure.kind == kind && closure.days.matches(date));
            if let Some(Closure { label, .. }) = closure {
                let label = label.clone();
                return match kind {
                    ClosureKind::Special => DaySchedule::ClosedSpecial { label },
                    ClosureKind::YearEnd => DaySchedule::ClosedYearEnd { label },
                };
            }
        }
        if self.holidays != HolidayPolicy::Open {
            if let Some(name) = holiday_on(date) {
                match &self.holidays {
                    HolidayPolicy::Closed => return DaySchedule::ClosedHoliday { name },
                    HolidayPolicy::Hours(ranges) => return DaySchedule::Hours(merge(ranges)),
                    HolidayPolicy::Open => {}
                }
            }
        }
        DaySchedule::Hours(merge(
            self.hours
                .iter()
                .filter(|rule| rule.days.matches(date))
                .flat_map(|rule| rule.ranges.iter()),
        ))
    }

    /// The first instant at or after `instant` at which the service is open (`instant` itself
    /// when open), searching about 400 days ahead.
    pub fn next_open(&self, instant: DateTime<Utc>) -> Option<DateTime<Tz>> {
        if let CalendarStatus::Open { .. } = self.status_at(instant) {
            return Some(self.local(instant));
        }
        let local = self.local(instant);
        self.next_open_from(local.date_naive(), local.time().num_seconds_from_midnight())
    }

    /// The next range start at or after `second` of `date`, assuming no range contains it.
    fn next_open_from(&self, date: NaiveDate, second: u32) -> Option<DateTime<Tz>> {
        for offset in 0..=SEARCH_DAYS {
            let day = date.checked_add_days(Days::new(offset))?;
            let DaySchedule::Hours(ranges) = self.day_schedule(day) else {
                continue;
            };
            let opening = ranges
                .iter()
                .map(Span::of)
                .find(|span| offset > 0 || span.start >= second);
            if let Some(span) = opening {
                return self.to_instant(day, span.start);
            }
        }
        None
    }

    /// The end of the opening that ends at `end` on `date`, followed across midnights where the
    /// next day opens at 00:00.
    fn closes_at(&self, mut date: NaiveDate, mut end: u32) -> Option<DateTime<Tz>> {
        for _ in 0..SEARCH_DAYS {
            if end < DAY_SECONDS {
                break;
            }
            let next = date.succ_opt()?;
            let continues = match self.day_schedule(next) {
                DaySchedule::Hours(ranges) => ranges.first().map(Span::of).filter(|s| s.start == 0),
                _ => None,
            };
            match continues {
                Some(span) => (date, end) = (next, span.end),
                None => break,
            }
        }
        self.to_instant(date, end)
    }

    /// The instant of a local wall-clock time (`second` may be 86 400, the next midnight). A
    /// time repeated by a backward shift resolves to its first occurrence; a time skipped by a
    /// forward shift to the instant the clock jumped over it (02:30 → the 03:00 the clock jumped
    /// to), which is when [`Calendar::status_at`] starts to see the range.
    fn to_instant(&self, date: NaiveDate, second: u32) -> Option<DateTime<Tz>> {
        let naive = date
            .and_time(NaiveTime::MIN)
            .checked_add_signed(TimeDelta::seconds(i64::from(second)))?;
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => Some(instant),
            LocalResult::None => self.end_of_gap(naive),
        }
    }

    /// The first instant whose wall-clock time is at or after `naive`, which a forward shift
    /// skipped. Zones shift at most a few hours, once in months: the offsets a day either side
    /// bound the shift, and a binary search over the seconds between finds it.
    fn end_of_gap(&self, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
        let offset_at = |utc: NaiveDateTime| {
            i64::from(
                self.tz
                    .offset_from_utc_datetime(&utc)
                    .fix()
                    .local_minus_utc(),
            )
        };
        let before = offset_at(naive.checked_sub_signed(TimeDelta::days(1))?);
        let after = offset_at(naive.checked_add_signed(TimeDelta::days(1))?);
        let as_utc = |offset: i64| naive.checked_sub_signed(TimeDelta::seconds(offset));
        let (mut low, mut high) = (as_utc(after)?, as_utc(before)?);
        let reached = |utc: NaiveDateTime| {
            Utc.from_utc_datetime(&utc)
                .with_timezone(&self.tz)
                .naive_local()
                >= naive
        };
        if low > high || !reached(high) {
            return None;
        }
        while low < high {
            let middle = low + (high - low) / 2;
            if reached(middle) {
                high = middle;
            } else {
                low = middle + TimeDelta::seconds(1);
            }
        }
        Some(Utc.from_utc_datetime(&high).with_timezone(&self.tz))
    }
}

impl CalendarStatus {
    pub fn is_open(&self) -> bool {
        matches!(self, CalendarStatus::Open { .. })
    }
}

/// A range in seconds of the day, `end` up to 86 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(range: &TimeRange) -> Span {
        Span {
            start: range.start.num_seconds_from_midnight(),
            end: range.end_seconds(),
        }
    }

    fn contains(self, second: u32) -> bool {
        self.start <= second && second < self.end
    }

    fn to_range(self) -> TimeRange {
        TimeRange {
            start: time_of(self.start),
            end: time_of(self.end % DAY_SECONDS),
        }
    }
}

fn time_of(second: u32) -> NaiveTime {
    // `second` < 86 400 here: ranges are built from NaiveTimes and ends reduced modulo a day.
    NaiveTime::from_num_seconds_from_midnight_opt(second, 0).unwrap_or(NaiveTime::MIN)
}

/// Sorted, non-overlapping ranges covering the union of `ranges` (empty ones dropped,
/// touching ones joined).
fn merge<'a>(ranges: impl IntoIterator<Item = &'a TimeRange>) -> Vec<TimeRange> {
    let mut spans: Vec<Span> = ranges
        .into_iter()
        .map(Span::of)
        .filter(|span| span.start < span.end)
        .collect();
    spans.sort();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged.into_iter().map(Span::to_range).collect()
}

impl TimeRange {
    /// A validated range; `end` of 00:00 means 24:00.
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<TimeRange, TimeRangeError> {
        let range = TimeRange { start, end };
        if range.is_empty() {
            return Err(TimeRangeError::Empty);
        }
        Ok(range)
    }

    /// From `start` to the end of the day (24:00).
    pub fn until_end_of_day(start: NaiveTime) -> TimeRange {
        TimeRange {
            start,
            end: NaiveTime::MIN,
        }
    }

    /// The whole day, 00:00–24:00.
    pub fn all_day() -> TimeRange {
        TimeRange::until_end_of_day(NaiveTime::MIN)
    }

    /// Whether the wall-clock `time` is inside `[start, end)`.
    pub fn contains(&self, time: NaiveTime) -> bool {
        Span::of(self).contains(time.num_seconds_from_midnight())
    }

    /// Whether the range ends at 24:00.
    pub fn ends_at_midnight(&self) -> bool {
        self.end == NaiveTime::MIN
    }

    /// Whether no time is inside (an end at or before a start, other than 24:00).
    pub fn is_empty(&self) -> bool {
        let span = Span::of(self);
        span.start >= span.end
    }

    /// The end in seconds since midnight, 86 400 for 24:00.
    fn end_seconds(&self) -> u32 {
        if self.ends_at_midnight() {
            DAY_SECONDS
        } else {
            self.end.num_seconds_from_midnight()
        }
    }
}

impl fmt::Debug for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `08:30-17:15`, with seconds only when not zero and `24:00` for the end of the day.
impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.start.num_seconds_from_midnight())?;
        f.write_str("-")?;
        write_time(f, self.end_seconds())
    }
}

fn write_time(f: &mut fmt::Formatter<'_>, second: u32) -> fmt::Result {
    let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
    if s == 0 {
        write!(f, "{h:02}:{m:02}")
    } else {
        write!(f, "{h:02}:{m:02}:{s:02}")
    }
}

/// Parses `HH:MM-HH:MM` (also `H:MM`, seconds optional as `HH:MM:SS`, `24:00` allowed as the
/// end, `–` or `〜` as the separator). The range must not be empty.
impl FromStr for TimeRange {
    type Err = TimeRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (start, end) = s
            .split_once(['-', '–', '〜', '~'])
            .ok_or_else(|| TimeRangeError::Format(s.to_owned()))?;
        let start = parse_time(start.trim())?;
        let end = match end.trim() {
            "24:00" | "24:00:00" => NaiveTime::MIN,
            end if parse_time(end)? == NaiveTime::MIN => return Err(TimeRangeError::Empty),
            end => parse_time(end)?,
        };
        TimeRange::new(start, end)
    }
}

fn parse_time(s: &str) -> Result<NaiveTime, TimeRangeError> {
    let well_formed = s.split(':').count() >= 2
        && s.split(':')
            .all(|part| (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(TimeRangeError::Format(s.to_owned()));
    }
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
        // chrono reads 23:59:60 as a leap second; a service hour has none.
        .filter(|time| time.nanosecond() < 1_000_000_000)
        .ok_or_else(|| TimeRangeError::Time(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn time_range_parses_hours_and_minutes() {
        assert_eq!(
            "08:30-17:15".parse(),
            Ok(TimeRange {
                start: time(8, 30),
                end: time(17, 15)
            })
        );
        assert_eq!(
            "8:30 - 12:00".parse(),
            Ok(TimeRange {
                start: time(8, 30),
                end: time(12, 0)
            })
        );
        assert_eq!(
            "08:30〜20:00".parse(),
            Ok(TimeRange {
                start: time(8, 30),
                end: time(20, 0)
            })
        );
    }

    #[test]
    fn time_range_ending_at_2400_is_the_end_of_the_day() {
        let range: TimeRange = "20:00-24:00".parse().unwrap();
        assert!(range.ends_at_midnight());
        assert!(range.contains(NaiveTime::from_hms_opt(23, 59, 59).unwrap()));
        assert!(!range.contains(time(0, 0)));
        assert_eq!(range, TimeRange::until_end_of_day(time(20, 0)));
    }

    #[test]
    fn time_range_is_half_open() {
        let range: TimeRange = "08:30-20:00".parse().unwrap();
        assert!(range.contains(time(8, 30)));
        assert!(!range.contains(time(20, 0)));
        assert!(!range.contains(NaiveTime::from_hms_opt(8, 29, 59).unwrap()));
    }

    #[test]
    fn time_range_rejects_times_that_do_not_exist() {
        assert_eq!(
            "25:00-26:00".parse::<TimeRange>(),
            Err(TimeRangeError::Time("25:00".into()))
        );
        assert_eq!(
            "08:60-09:00".parse::<TimeRange>(),
            Err(TimeRangeError::Time("08:60".into()))
        );
        assert_eq!(
            "24:00-24:00".parse::<TimeRange>(),
            Err(TimeRangeError::Time("24:00".into()))
        );
        assert_eq!(
            "23:00-23:59:60".parse::<TimeRange>(),
            Err(TimeRangeError::Time("23:59:60".into()))
        );
    }

    #[test]
    fn time_range_rejects_malformed_text() {
        for text in [
            "",
            "0830-1715",
            "08:30",
            "08:30-",
            "08:30-17:15x",
            "-1:00-02:00",
            "08:300-09:00",
        ] {
            assert!(
                matches!(text.parse::<TimeRange>(), Err(TimeRangeError::Format(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn time_range_rejects_an_end_at_or_before_the_start() {
        assert_eq!(
            "17:15-08:30".parse::<TimeRange>(),
            Err(TimeRangeError::Empty)
        );
        assert_eq!(
            "08:30-08:30".parse::<TimeRange>(),
            Err(TimeRangeError::Empty)
        );
        // 00:00 as an end would silently mean 24:00: the text must say 24:00.
        assert_eq!(
            "20:00-00:00".parse::<TimeRange>(),
            Err(TimeRangeError::Empty)
        );
        assert_eq!(
            TimeRange::new(time(9, 0), time(8, 0)),
            Err(TimeRangeError::Empty)
        );
    }

    #[test]
    fn time_range_displays_as_it_parses() {
        for text in ["08:30-17:15", "00:00-24:00", "09:00:30-10:00"] {
            assert_eq!(text.parse::<TimeRange>().unwrap().to_string(), text);
        }
        assert_eq!(format!("{:?}", TimeRange::all_day()), "00:00-24:00");
    }

    #[test]
    fn merge_joins_overlapping_and_touching_ranges_and_drops_empty_ones() {
        let ranges = [
            TimeRange {
                start: time(13, 0),
                end: time(17, 0),
            },
            TimeRange {
                start: time(8, 30),
                end: time(12, 0),
            },
            TimeRange {
                start: time(12, 0),
                end: time(12, 30),
            },
            TimeRange {
                start: time(16, 0),
                end: time(18, 0),
            },
            TimeRange {
                start: time(10, 0),
                end: time(9, 0),
            },
            TimeRange::until_end_of_day(time(22, 0)),
        ];
        assert_eq!(
            merge(&ranges),
            vec![
                TimeRange {
                    start: time(8, 30),
                    end: time(12, 30)
                },
                TimeRange {
                    start: time(13, 0),
                    end: time(18, 0)
                },
                TimeRange::until_end_of_day(time(22, 0)),
            ]
        );
    }
}
