//! The period a report covers: a calendar month (the monthly report) or a range of days (the
//! final report), in local dates of the hotline's time zone, both ends included.
//!
//! ```
//! use madoguchi_report::Period;
//! let june: Period = Period::parse_month("2025-06").unwrap();
//! assert_eq!(june.label(), "2025年6月");
//! assert_eq!(june.era_label(), "令和7年6月");
//! assert_eq!(june.days().count(), 30);
//! ```

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::era::{era_date, era_year_month};

/// The first day of the city's contract (the final report's default start).
pub const CONTRACT_FIRST_DAY: (i32, u32, u32) = (2025, 6, 1);
/// The last day of the city's contract (the final report's default end).
pub const CONTRACT_LAST_DAY: (i32, u32, u32) = (2026, 3, 31);

/// Whole local days, `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// A calendar month (labelled by its month) or a range (labelled by its ends).
    pub kind: PeriodKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKind {
    Month,
    Range,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("{0:?} is not a month like 2025-06")]
    BadMonth(String),
    #[error("{0:?} is not a date like 2025-06-01")]
    BadDate(String),
    #[error("the period ends ({last}) before it starts ({first})")]
    Reversed { first: NaiveDate, last: NaiveDate },
    #[error("the period is outside the dates this program can handle")]
    OutOfRange,
}

impl Period {
    /// The calendar month `year-month`.
    pub fn month(year: i32, month: u32) -> Result<Period, PeriodError> {
        let bad = || PeriodError::BadMonth(format!("{year:04}-{month:02}"));
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .ok_or(PeriodError::OutOfRange)?;
        Ok(Period {
            first,
            last,
            kind: PeriodKind::Month,
        })
    }

    /// `YYYY-MM`.
    pub fn parse_month(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::BadMonth(text.to_owned());
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        Period::month(year, month).map_err(|_| bad())
    }

    /// The days `first..=last`.
    pub fn range(first: NaiveDate, last: NaiveDate) -> Result<Period, PeriodError> {
        if last < first {
            return Err(PeriodError::Reversed { first, last });
        }
        Ok(Period {
            first,
            last,
            kind: PeriodKind::Range,
        })
    }

    /// `YYYY-MM-DD` to `YYYY-MM-DD`, both included.
    pub fn parse_range(first: &str, last: &str) -> Result<Period, PeriodError> {
        Period::range(parse_date(first)?, parse_date(last)?)
    }

    /// The city's contract period, 2025-06-01 to 2026-03-31.
    pub fn contract() -> Period {
        let (y, m, d) = CONTRACT_FIRST_DAY;
        let (ly, lm, ld) = CONTRACT_LAST_DAY;
        // Constant dates that exist.
        let first = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(ly, lm, ld).unwrap_or_default();
        Period {
            first,
            last,
            kind: PeriodKind::Range,
        }
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let last = self.last;
        self.first.iter_days().take_while(move |d| *d <= last)
    }

    /// The UTC instants `[start, end)` of the period in `tz`: from the first local midnight
    /// to the midnight after the last day.
    pub fn bounds(&self, tz: Tz) -> Result<(DateTime<Utc>, DateTime<Utc>), PeriodError> {
        let after = self
            .last
            .checked_add_days(Days::new(1))
            .ok_or(PeriodError::OutOfRange)?;
        Ok((local_midnight(tz, self.first)?, local_midnight(tz, after)?))
    }

    /// "2025年6月", or "2025年6月1日〜2026年3月31日".
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{}年{}月", self.first.year(), self.first.month()),
            PeriodKind::Range => {
                format!("{}〜{}", western_date(self.first), western_date(self.last))
            }
        }
    }

    /// The label in the Japanese era: "令和7年6月", or "令和7年6月1日〜令和8年3月31日".
    pub fn era_label(&self) -> String {
        match self.kind {
            PeriodKind::Month => era_year_month(self.first),
            PeriodKind::Range => format!("{}〜{}", era_date(self.first), era_date(self.last)),
        }
    }

    /// The days as text: "2025年6月1日〜2025年6月30日" whatever the kind.
    pub fn days_label(&self) -> String {
        format!("{}〜{}", western_date(self.first), western_date(self.last))
    }

    /// A file name without extension: "madoguchi-report-2025-06" or
    /// "madoguchi-report-2025-06-01_2026-03-31".
    pub fn file_stem(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("madoguchi-report-{}", self.first.format("%Y-%m")),
            PeriodKind::Range => format!(
                "madoguchi-report-{}_{}",
                self.first.format("%Y-%m-%d"),
                self.last.format("%Y-%m-%d")
            ),
        }
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| PeriodError::BadDate(text.to_owned()))
}

fn western_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// The instant a local day begins. A zone that skips midnight (a DST change at 00:00)
/// begins the day at the first instant that exists.
fn local_midnight(tz: Tz, date: NaiveDate) -> Result<DateTime<Utc>, PeriodError> {
    let midnight = date.and_hms_opt(0, 0, 0).ok_or(PeriodError::OutOfRange)?;
    (0..=120)
        .step_by(15)
        .find_map(|minutes| {
            tz.from_local_datetime(&(midnight + chrono::Duration::minutes(minutes)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
        .ok_or(PeriodError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Tokyo;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let feb = Period::parse_month("2026-02").expect("a month");
        assert_eq!((feb.first, feb.last), (date(2026, 2, 1), date(2026, 2, 28)));
        assert_eq!(feb.days().count(), 28);
    }

    #[test]
    fn a_month_must_be_written_yyyy_mm() {
        for bad in ["2025-6", "2025-13", "25-06", "2025/06", "", "2025-06-01"] {
            assert!(Period::parse_month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_bounds_are_tokyo_midnights_in_utc() {
        let june = Period::parse_month("2025-06").expect("a month");
        let (from, to) = june.bounds(Tokyo).expect("bounds");
        assert_eq!(from.to_rfc3339(), "2025-05-31T15:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2025-06-30T15:00:00+00:00");
    }

    #[test]
    fn a_range_includes_both_ends() {
        let p = Period::parse_range("2025-06-01", "2026-03-31").expect("a range");
        assert_eq!(p, Period::contract());
        assert_eq!(p.days().count(), 304);
        let (_, to) = p.bounds(Tokyo).expect("bounds");
        assert_eq!(to.to_rfc3339(), "2026-03-31T15:00:00+00:00");
    }

    #[test]
    fn a_reversed_range_is_refused() {
        assert!(matches!(
            Period::parse_range("2026-03-31", "2025-06-01"),
            Err(PeriodError::Reversed { .. })
        ));
    }

    #[test]
    fn a_one_day_range_is_fine_but_a_sloppy_date_is_not() {
        assert!(Period::parse_range("2025-06-01", "2025-06-01").is_ok());
        assert!(matches!(
            Period::parse_range("2025-6-1", "2025-06-02"),
            Err(PeriodError::BadDate(_))
        ));
    }

    #[test]
    fn labels_give_the_western_and_the_era_forms() {
        let june = Period::parse_month("2025-06").expect("a month");
        assert_eq!(june.label(), "2025年6月");
        assert_eq!(june.era_label(), "令和7年6月");
        assert_eq!(june.days_label(), "2025年6月1日〜2025年6月30日");
        assert_eq!(june.file_stem(), "madoguchi-report-2025-06");
        let contract = Period::contract();
        assert_eq!(contract.label(), "2025年6月1日〜2026年3月31日");
        assert_eq!(contract.era_label(), "令和7年6月1日〜令和8年3月31日");
        assert_eq!(
            contract.file_stem(),
            "madoguchi-report-2025-06-01_2026-03-31"
        );
    }
}
