//! Date rules: which local dates a calendar's hours, closures or a dialplan notice apply to.
//!
//! A [`DateRule`] is a pure predicate over a `NaiveDate` that the caller has already converted to
//! the calendar's time zone; it never looks at a clock. Rules compose with [`DateRule::Any`],
//! [`DateRule::All`] and [`DateRule::Not`].
//!
//! ```
//! use chrono::{NaiveDate, Weekday};
//! use madoguchi_calendar::DateRule;
//!
//! // J-LIS maintenance: the Sunday after the 3rd Saturday of the month.
//! let jlis = DateRule::OffsetFromNthWeekday { n: 3, weekday: Weekday::Sat, days: 1 };
//! assert!(jlis.matches(NaiveDate::from_ymd_opt(2026, 1, 18).unwrap()));
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::holidays::holiday_on;

/// A set of days of the week, stored as a 7-bit mask (bit 0 = Monday).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WeekdaySet(u8);

impl WeekdaySet {
    /// No day at all.
    pub const EMPTY: WeekdaySet = WeekdaySet(0);
    /// Monday to Sunday.
    pub const ALL: WeekdaySet = WeekdaySet(0b111_1111);
    /// Monday to Friday.
    pub const MON_FRI: WeekdaySet = WeekdaySet(0b001_1111);
    /// Saturday and Sunday.
    pub const WEEKEND: WeekdaySet = WeekdaySet(0b110_0000);

    /// The set holding only `weekday`.
    pub const fn single(weekday: Weekday) -> WeekdaySet {
        WeekdaySet(1 << weekday.num_days_from_monday())
    }

    /// The set of the given days.
    pub fn from_weekdays(days: impl IntoIterator<Item = Weekday>) -> WeekdaySet {
        days.into_iter()
            .fold(WeekdaySet::EMPTY, |set, day| set.with(day))
    }

    /// The days from `first` to `last` inclusive, wrapping past Sunday (`Fri..=Mon` is Fri, Sat,
    /// Sun, Mon).
    pub fn range(first: Weekday, last: Weekday) -> WeekdaySet {
        let mut set = WeekdaySet::single(first);
        let mut day = first;
        while day != last {
            day = day.succ();
            set = set.with(day);
        }
        set
    }

    /// This set plus `weekday`.
    pub const fn with(self, weekday: Weekday) -> WeekdaySet {
        WeekdaySet(self.0 | 1 << weekday.num_days_from_monday())
    }

    pub const fn contains(self, weekday: Weekday) -> bool {
        self.0 & (1 << weekday.num_days_from_monday()) != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        ALL_WEEKDAYS
            .into_iter()
            .filter(move |day| self.contains(*day))
    }
}

const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

impl fmt::Debug for WeekdaySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Why a weekday list did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeekdaySetError {
    #[error("empty weekday list")]
    Empty,
    #[error("unknown weekday {0:?} (expected mon, tue, … sun or 月 … 日)")]
    UnknownWeekday(String),
}

/// Parses lists such as `mon-fri`, `sat,sun`, `mon,wed-fri`, `Monday`, `月-金` (case-insensitive;
/// a range may wrap past Sunday: `fri-mon`).
impl FromStr for WeekdaySet {
    type Err = WeekdaySetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = WeekdaySet::EMPTY;
        for item in s.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(WeekdaySetError::Empty);
            }
            set = match item.split_once(['-', '–', '〜', '~']) {
                Some((first, last)) => WeekdaySet(
                    set.0 | WeekdaySet::range(parse_weekday(first)?, parse_weekday(last)?).0,
                ),
                None => set.with(parse_weekday(item)?),
            };
        }
        Ok(set)
    }
}

fn parse_weekday(s: &str) -> Result<Weekday, WeekdaySetError> {
    let s = s.trim();
    let japanese = match s.trim_end_matches("曜日").trim_end_matches('曜') {
        "月" => Some(Weekday::Mon),
        "火" => Some(Weekday::Tue),
        "水" => Some(Weekday::Wed),
        "木" => Some(Weekday::Thu),
        "金" => Some(Weekday::Fri),
        "土" => Some(Weekday::Sat),
        "日" => Some(Weekday::Sun),
        _ => None,
    };
    // chrono accepts both "mon" and "monday", case-insensitively.
    japanese
        .or_else(|| s.parse::<Weekday>().ok())
        .ok_or_else(|| WeekdaySetError::UnknownWeekday(s.to_owned()))
}

/// A predicate over local dates (in the calendar's time zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateRule {
    /// Any day of the week in the set (e.g. Monday to Friday).
    Weekdays(WeekdaySet),
    /// The `n`th `weekday` of the month (`n` in 1..=5), or the last one when `n` is -1.
    /// Any other `n` matches nothing.
    NthWeekday { n: i8, weekday: Weekday },
    /// `days` days after (or before, when negative) the `n`th `weekday` of a month, which may
    /// fall in another month than the anchor (the anchor is `date - days`).
    OffsetFromNthWeekday { n: i8, weekday: Weekday, days: i32 },
    /// A Japanese national holiday, including substitute and citizens' holidays (休日).
    Holiday,
    /// One date.
    Date(NaiveDate),
    /// The dates from the first to the second, inclusive (nothing when the first is later).
    DateRange(NaiveDate, NaiveDate),
    /// Every year from (month, day) to (month, day) inclusive; wraps the year end when `from`
    /// is after `to` (12/29–1/3).
    YearlyRange { from: (u32, u32), to: (u32, u32) },
    /// Any of the rules (none: never).
    Any(Vec<DateRule>),
    /// All of the rules (none: always).
    All(Vec<DateRule>),
    /// The rule does not match.
    Not(Box<DateRule>),
}

impl DateRule {
    /// Whether the local `date` satisfies this rule.
    pub fn matches(&self, date: NaiveDate) -> bool {
        match self {
            DateRule::Weekdays(set) => set.contains(date.weekday()),
            DateRule::NthWeekday { n, weekday } => is_nth_weekday(date, *n, *weekday),
            DateRule::OffsetFromNthWeekday { n, weekday, days } => {
                anchor_of(date, *days).is_some_and(|anchor| is_nth_weekday(anchor, *n, *weekday))
            }
            DateRule::Holiday => holiday_on(date).is_some(),
            DateRule::Date(day) => date == *day,
            DateRule::DateRange(first, last) => *first <= date && date <= *last,
            DateRule::YearlyRange { from, to } => {
                let day = (date.month(), date.day());
                if from <= to {
                    *from <= day && day <= *to
                } else {
                    *from <= day || day <= *to
                }
            }
            DateRule::Any(rules) => rules.iter().any(|rule| rule.matches(date)),
            DateRule::All(rules) => rules.iter().all(|rule| rule.matches(date)),
            DateRule::Not(rule) => !rule.matches(date),
        }
    }

    /// The dates in `first..=last` that match, in order (for listing e.g. a year's J-LIS days).
    pub fn dates_between(&self, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
        first
            .iter_days()
            .take_while(|day| *day <= last)
            .filter(|day| self.matches(*day))
            .collect()
    }
}

/// `date - days`, or `None` past the representable range.
fn anchor_of(date: NaiveDate, days: i32) -> Option<NaiveDate> {
    let magnitude = Days::new(u64::from(days.unsigned_abs()));
    if days >= 0 {
        date.checked_sub_days(magnitude)
    } else {
        date.checked_add_days(magnitude)
    }
}

fn is_nth_weekday(date: NaiveDate, n: i8, weekday: Weekday) -> bool {
    if date.weekday() != weekday {
        return false;
    }
    match n {
        1..=5 => (date.day() - 1) / 7 + 1 == u32::from(n.unsigned_abs()),
        // The last one: a week later is already in the next month.
        -1 => date
            .checked_add_days(Days::new(7))
            .is_none_or(|later| later.month() != date.month()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekday_list_parses_ranges_and_lists() {
        assert_eq!("mon-fri".parse(), Ok(WeekdaySet::MON_FRI));
        assert_eq!("Mon-Sun".parse(), Ok(WeekdaySet::ALL));
        assert_eq!("sat, sun".parse(), Ok(WeekdaySet::WEEKEND));
        assert_eq!("saturday,Sunday".parse(), Ok(WeekdaySet::WEEKEND));
        assert_eq!("月-金".parse(), Ok(WeekdaySet::MON_FRI));
        assert_eq!("土曜日,日曜".parse(), Ok(WeekdaySet::WEEKEND));
        assert_eq!(
            "mon,wed-thu".parse(),
            Ok(WeekdaySet::from_weekdays([
                Weekday::Mon,
                Weekday::Wed,
                Weekday::Thu
            ]))
        );
    }

    #[test]
    fn weekday_range_wraps_past_sunday() {
        assert_eq!(
            "fri-mon".parse(),
            Ok(WeekdaySet::from_weekdays([
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
                Weekday::Mon
            ]))
        );
    }

    #[test]
    fn weekday_list_rejects_unknown_days_and_empty_items() {
        assert_eq!(
            "mon-fry".parse::<WeekdaySet>(),
            Err(WeekdaySetError::UnknownWeekday("fry".into()))
        );
        assert_eq!("".parse::<WeekdaySet>(), Err(WeekdaySetError::Empty));
        assert_eq!("mon,".parse::<WeekdaySet>(), Err(WeekdaySetError::Empty));
    }

    #[test]
    fn weekday_set_debug_lists_the_days() {
        assert_eq!(format!("{:?}", WeekdaySet::WEEKEND), "{Sat, Sun}");
    }

    #[test]
    fn weekdays_rule_matches_days_in_the_set_only() {
        let rule = DateRule::Weekdays(WeekdaySet::MON_FRI);
        assert!(rule.matches(date(2026, 6, 12))); // Friday
        assert!(!rule.matches(date(2026, 6, 13))); // Saturday
    }

    #[test]
    fn nth_weekday_matches_only_that_occurrence() {
        let second_saturday = DateRule::NthWeekday {
            n: 2,
            weekday: Weekday::Sat,
        };
        assert!(second_saturday.matches(date(2026, 2, 14)));
        assert!(!second_saturday.matches(date(2026, 2, 7)));
        assert!(!second_saturday.matches(date(2026, 2, 21)));
        assert!(!second_saturday.matches(date(2026, 2, 15))); // the Sunday after
    }

    #[test]
    fn fifth_weekday_exists_only_in_some_months() {
        let fifth_sunday = DateRule::NthWeekday {
            n: 5,
            weekday: Weekday::Sun,
        };
        assert!(fifth_sunday.matches(date(2026, 3, 29)));
        assert_eq!(
            fifth_sunday.dates_between(date(2026, 2, 1), date(2026, 2, 28)),
            vec![]
        );
    }

    #[test]
    fn last_weekday_is_the_one_with_no_later_in_the_month() {
        let last_friday = DateRule::NthWeekday {
            n: -1,
            weekday: Weekday::Fri,
        };
        assert!(last_friday.matches(date(2026, 7, 31)));
        assert!(!last_friday.matches(date(2026, 7, 24)));
        assert!(last_friday.matches(date(2026, 2, 27)));
    }

    #[test]
    fn nth_weekday_out_of_range_matches_nothing() {
        for n in [0, 6, -2, i8::MIN, i8::MAX] {
            let rule = DateRule::NthWeekday {
                n,
                weekday: Weekday::Mon,
            };
            assert!(
                rule.dates_between(date(2026, 1, 1), date(2026, 12, 31))
                    .is_empty(),
                "{n}"
            );
        }
    }

    #[test]
    fn sunday_after_third_saturday_differs_from_third_sunday_when_the_month_starts_on_sunday() {
        // 2026-02-01 is a Sunday: the 3rd Sunday is 2/15, the Sunday after the 3rd Saturday 2/22.
        let jlis = DateRule::OffsetFromNthWeekday {
            n: 3,
            weekday: Weekday::Sat,
            days: 1,
        };
        assert!(jlis.matches(date(2026, 2, 22)));
        assert!(!jlis.matches(date(2026, 2, 15)));
    }

    #[test]
    fn offset_may_land_in_the_next_month() {
        // The last Saturday of January 2026 is 1/31; three days later is 2/3.
        let rule = DateRule::OffsetFromNthWeekday {
            n: -1,
            weekday: Weekday::Sat,
            days: 3,
        };
        assert!(rule.matches(date(2026, 2, 3)));
        assert!(!rule.matches(date(2026, 1, 3)));
    }

    #[test]
    fn negative_offset_may_land_in_the_previous_month() {
        // The 1st Monday of June 2026 is 6/1; two days before is 5/30.
        let rule = DateRule::OffsetFromNthWeekday {
            n: 1,
            weekday: Weekday::Mon,
            days: -2,
        };
        assert!(rule.matches(date(2026, 5, 30)));
    }

    #[test]
    fn huge_offsets_near_the_calendar_limits_do_not_panic() {
        let rule = DateRule::OffsetFromNthWeekday {
            n: 1,
            weekday: Weekday::Mon,
            days: i32::MIN,
        };
        assert!(!rule.matches(NaiveDate::MAX));
        let rule = DateRule::OffsetFromNthWeekday {
            n: 1,
            weekday: Weekday::Mon,
            days: i32::MAX,
        };
        assert!(!rule.matches(NaiveDate::MIN));
    }

    #[test]
    fn holiday_rule_matches_national_and_substitute_holidays() {
        assert!(DateRule::Holiday.matches(date(2026, 5, 6))); // 振替休日
        assert!(DateRule::Holiday.matches(date(2026, 11, 3)));
        assert!(!DateRule::Holiday.matches(date(2026, 11, 4)));
    }

    #[test]
    fn date_range_is_inclusive_at_both_ends() {
        let rule = DateRule::DateRange(date(2026, 5, 1), date(2026, 5, 3));
        assert!(rule.matches(date(2026, 5, 1)));
        assert!(rule.matches(date(2026, 5, 3)));
        assert!(!rule.matches(date(2026, 4, 30)));
        assert!(!rule.matches(date(2026, 5, 4)));
    }

    #[test]
    fn reversed_date_range_matches_nothing() {
        let rule = DateRule::DateRange(date(2026, 5, 3), date(2026, 5, 1));
        assert!(!rule.matches(date(2026, 5, 2)));
    }

    #[test]
    fn yearly_range_wraps_the_year_end() {
        let rule = DateRule::YearlyRange {
            from: (12, 29),
            to: (1, 3),
        };
        assert!(rule.matches(date(2026, 12, 29)));
        assert!(rule.matches(date(2026, 12, 31)));
        assert!(rule.matches(date(2027, 1, 1)));
        assert!(rule.matches(date(2027, 1, 3)));
        assert!(!rule.matches(date(2026, 12, 28)));
        assert!(!rule.matches(date(2027, 1, 4)));
    }

    #[test]
    fn yearly_range_within_a_year() {
        let rule = DateRule::YearlyRange {
            from: (8, 13),
            to: (8, 16),
        };
        assert!(rule.matches(date(2026, 8, 13)));
        assert!(rule.matches(date(2030, 8, 16)));
        assert!(!rule.matches(date(2026, 8, 17)));
        assert!(!rule.matches(date(2026, 1, 1)));
    }

    #[test]
    fn combinators_compose() {
        let saturday = DateRule::Weekdays(WeekdaySet::single(Weekday::Sat));
        let weekday_not_holiday = DateRule::All(vec![
            DateRule::Weekdays(WeekdaySet::MON_FRI),
            DateRule::Not(Box::new(DateRule::Holiday)),
        ]);
        assert!(weekday_not_holiday.matches(date(2026, 7, 21)));
        assert!(!weekday_not_holiday.matches(date(2026, 7, 20))); // 海の日
        let either = DateRule::Any(vec![saturday, DateRule::Date(date(2026, 7, 21))]);
        assert!(either.matches(date(2026, 7, 18)));
        assert!(either.matches(date(2026, 7, 21)));
        assert!(!either.matches(date(2026, 7, 22)));
    }

    #[test]
    fn empty_any_never_matches_and_empty_all_always_matches() {
        assert!(!DateRule::Any(vec![]).matches(date(2026, 1, 1)));
        assert!(DateRule::All(vec![]).matches(date(2026, 1, 1)));
    }
}
