//! Japanese national holidays and named service calendars, as pure functions of a date or instant.
//!
//! Nothing here reads the clock: callers pass the instant (`DateTime<Utc>`) or the local date.
//!
//! # Layout
//! - [`holidays`]: the national holidays computed from the Holidays Act and its history
//!   ([`holidays_in_year`], [`holiday_on`]).
//! - [`rules`]: [`DateRule`], a small language of date rules ("Mon–Fri", "2nd Saturday",
//!   "Sunday after the 3rd Saturday", "12/29–1/3", "a national holiday").
//! - [`calendar`]: [`Calendar`], a service calendar (weekly hours, holiday policy, closures,
//!   special hours) answering [`Calendar::status_at`].
//!
//! # Example
//! ```
//! use chrono::{TimeZone, Utc};
//! use madoguchi_calendar::{Calendar, CalendarStatus, DateRule, HolidayPolicy, HoursRule, TimeRange, WeekdaySet, Closure, ClosureKind};
//!
//! let hotline = Calendar {
//!     name: "hotline".into(),
//!     tz: chrono_tz::Asia::Tokyo,
//!     hours: vec![HoursRule {
//!         days: DateRule::Weekdays(WeekdaySet::ALL),
//!         ranges: vec!["08:30-20:00".parse().unwrap()],
//!     }],
//!     holidays: HolidayPolicy::Open,
//!     closures: vec![Closure {
//!         days: DateRule::YearlyRange { from: (12, 29), to: (1, 3) },
//!         kind: ClosureKind::YearEnd,
//!         label: "年末年始".into(),
//!     }],
//!     special_hours: vec![],
//! };
//! // 2026-05-01 10:00 JST
//! let at = Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap();
//! assert!(matches!(hotline.status_at(at), CalendarStatus::Open { .. }));
//! ```

pub mod calendar;
pub mod holidays;
pub mod rules;

pub use calendar::{
    Calendar, CalendarStatus, Closure, ClosureKind, DaySchedule, HolidayPolicy, HoursRule,
    SpecialHours, TimeRange, TimeRangeError,
};
pub use holidays::{holiday_on, holidays_in_year, Holiday};
pub use rules::{DateRule, WeekdaySet, WeekdaySetError};
