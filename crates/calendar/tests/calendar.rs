//! Specifications of `Calendar::status_at` on the city's three reference calendars (hotline,
//! city office, counter) and on special hours, one-off closures and time-zone edge cases.
//! Instants are given in UTC, as the engine passes them; Asia/Tokyo is UTC+9.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::{Asia::Tokyo, Tz};
use madoguchi_calendar::{
    Calendar, CalendarStatus, Closure, ClosureKind, DateRule, DaySchedule, HolidayPolicy,
    HoursRule, SpecialHours, TimeRange, WeekdaySet,
};

fn range(s: &str) -> TimeRange {
    s.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A Tokyo wall-clock time as the UTC instant the engine would pass.
fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .with_timezone(&Utc)
}

fn tokyo(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Tz> {
    Tokyo.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn year_end() -> Closure {
    Closure {
        days: DateRule::YearlyRange {
            from: (12, 29),
            to: (1, 3),
        },
        kind: ClosureKind::YearEnd,
        label: "年末年始".into(),
    }
}

/// 08:30–20:00 every day, holidays open, closed 12/29–1/3.
fn hotline() -> Calendar {
    Calendar {
        name: "hotline".into(),
        tz: Tokyo,
        hours: vec![HoursRule {
            days: DateRule::Weekdays(WeekdaySet::ALL),
            ranges: vec![range("08:30-20:00")],
        }],
        holidays: HolidayPolicy::Open,
        closures: vec![year_end()],
        special_hours: vec![],
    }
}

/// Weekdays 08:30–17:15, closed on holidays and 12/29–1/3.
fn city_office() -> Calendar {
    Calendar {
        name: "city_office".into(),
        tz: Tokyo,
        hours: vec![HoursRule {
            days: DateRule::Weekdays(WeekdaySet::MON_FRI),
            ranges: vec![range("08:30-17:15")],
        }],
        holidays: HolidayPolicy::Closed,
        closures: vec![year_end()],
        special_hours: vec![],
    }
}

/// The city office plus the 2nd and 4th Saturday 08:30–12:00.
fn counter() -> Calendar {
    let mut calendar = city_office();
    calendar.name = "counter".into();
    calendar.hours.push(HoursRule {
        days: DateRule::Any(vec![
            DateRule::NthWeekday {
                n: 2,
                weekday: Weekday::Sat,
            },
            DateRule::NthWeekday {
                n: 4,
                weekday: Weekday::Sat,
            },
        ]),
        ranges: vec![range("08:30-12:00")],
    });
    calendar
}

fn open_until(closes_at: DateTime<Tz>) -> CalendarStatus {
    CalendarStatus::Open { closes_at }
}

fn closed_until(next_open: DateTime<Tz>) -> CalendarStatus {
    CalendarStatus::ClosedHours {
        next_open: Some(next_open),
    }
}

// --- hotline -------------------------------------------------------------------------------

#[test]
fn hotline_is_closed_one_second_before_opening() {
    assert_eq!(
        hotline().status_at(jst(2026, 6, 10, 8, 29, 59)),
        closed_until(tokyo(2026, 6, 10, 8, 30))
    );
}

#[test]
fn hotline_opens_at_0830_given_as_2330_utc_the_day_before() {
    let at = Utc.with_ymd_and_hms(2026, 6, 9, 23, 30, 0).unwrap();
    assert_eq!(hotline().local(at), tokyo(2026, 6, 10, 8, 30));
    assert_eq!(
        hotline().status_at(at),
        open_until(tokyo(2026, 6, 10, 20, 0))
    );
}

#[test]
fn hotline_is_open_one_second_before_closing() {
    assert_eq!(
        hotline().status_at(jst(2026, 6, 10, 19, 59, 59)),
        open_until(tokyo(2026, 6, 10, 20, 0))
    );
}

#[test]
fn hotline_is_closed_at_2000_and_reopens_next_morning() {
    assert_eq!(
        hotline().status_at(jst(2026, 6, 10, 20, 0, 0)),
        closed_until(tokyo(2026, 6, 11, 8, 30))
    );
}

#[test]
fn hotline_on_12_28_late_is_outside_hours_and_reopens_after_the_new_year_break() {
    assert_eq!(
        hotline().status_at(jst(2026, 12, 28, 23, 59, 0)),
        closed_until(tokyo(2027, 1, 4, 8, 30))
    );
}

#[test]
fn hotline_is_closed_for_year_end_on_12_29() {
    assert_eq!(
        hotline().status_at(jst(2026, 12, 29, 10, 0, 0)),
        CalendarStatus::ClosedYearEnd {
            label: "年末年始".into()
        }
    );
}

#[test]
fn hotline_year_end_closure_starts_at_midnight_of_12_29() {
    assert!(matches!(
        hotline().status_at(jst(2026, 12, 29, 0, 0, 0)),
        CalendarStatus::ClosedYearEnd { .. }
    ));
}

#[test]
fn hotline_is_closed_for_year_end_on_1_3_during_normal_hours() {
    assert!(matches!(
        hotline().status_at(jst(2027, 1, 3, 19, 0, 0)),
        CalendarStatus::ClosedYearEnd { .. }
    ));
}

#[test]
fn hotline_on_1_4_at_midnight_is_outside_hours_not_year_end() {
    assert_eq!(
        hotline().status_at(jst(2027, 1, 4, 0, 0, 0)),
        closed_until(tokyo(2027, 1, 4, 8, 30))
    );
}

#[test]
fn hotline_reopens_on_1_4_at_0830() {
    assert_eq!(
        hotline().status_at(jst(2027, 1, 4, 8, 30, 0)),
        open_until(tokyo(2027, 1, 4, 20, 0))
    );
}

#[test]
fn hotline_is_open_on_a_national_holiday() {
    // 2026-07-20 海の日.
    assert_eq!(
        hotline().status_at(jst(2026, 7, 20, 10, 0, 0)),
        open_until(tokyo(2026, 7, 20, 20, 0))
    );
}

#[test]
fn hotline_on_new_years_day_is_closed_for_year_end_not_for_the_holiday() {
    assert!(matches!(
        hotline().status_at(jst(2027, 1, 1, 10, 0, 0)),
        CalendarStatus::ClosedYearEnd { .. }
    ));
}

// --- city office ---------------------------------------------------------------------------

#[test]
fn city_office_is_closed_on_a_holiday_monday() {
    assert_eq!(
        city_office().status_at(jst(2026, 7, 20, 10, 0, 0)),
        CalendarStatus::ClosedHoliday { name: "海の日" }
    );
}

#[test]
fn city_office_is_closed_on_a_substitute_holiday_named_kyujitsu() {
    // 2026-05-03 (Sunday) moves to Wednesday 5/6.
    assert_eq!(
        city_office().status_at(jst(2026, 5, 6, 10, 0, 0)),
        CalendarStatus::ClosedHoliday { name: "休日" }
    );
}

#[test]
fn city_office_closes_at_1715_on_friday_and_reopens_on_monday() {
    let office = city_office();
    assert_eq!(
        office.status_at(jst(2026, 6, 12, 17, 14, 59)),
        open_until(tokyo(2026, 6, 12, 17, 15))
    );
    assert_eq!(
        office.status_at(jst(2026, 6, 12, 17, 15, 0)),
        closed_until(tokyo(2026, 6, 15, 8, 30))
    );
}

#[test]
fn city_office_next_open_skips_a_holiday() {
    // Friday 2026-07-17 evening → Monday 7/20 is 海の日 → Tuesday 7/21.
    assert_eq!(
        city_office().status_at(jst(2026, 7, 17, 18, 0, 0)),
        closed_until(tokyo(2026, 7, 21, 8, 30))
    );
}

#[test]
fn city_office_year_end_closure_takes_precedence_over_the_holiday() {
    assert_eq!(
        city_office().status_at(jst(2027, 1, 1, 10, 0, 0)),
        CalendarStatus::ClosedYearEnd {
            label: "年末年始".into()
        }
    );
}

// --- counter -------------------------------------------------------------------------------

#[test]
fn counter_is_open_on_the_2nd_saturday_at_1159() {
    // 2026-02-14 is the 2nd Saturday.
    assert_eq!(
        counter().status_at(jst(2026, 2, 14, 11, 59, 0)),
        open_until(tokyo(2026, 2, 14, 12, 0))
    );
}

#[test]
fn counter_closes_at_noon_on_the_2nd_saturday_until_monday() {
    assert_eq!(
        counter().status_at(jst(2026, 2, 14, 12, 0, 0)),
        closed_until(tokyo(2026, 2, 16, 8, 30))
    );
}

#[test]
fn counter_is_closed_on_the_3rd_saturday() {
    // 2026-02-21 is the 3rd Saturday; Monday 2/23 is 天皇誕生日, so the next opening is Tuesday.
    assert_eq!(
        counter().status_at(jst(2026, 2, 21, 10, 0, 0)),
        closed_until(tokyo(2026, 2, 24, 8, 30))
    );
}

#[test]
fn counter_is_open_on_the_4th_saturday() {
    assert!(counter().status_at(jst(2026, 2, 28, 8, 30, 0)).is_open());
}

#[test]
fn counter_from_friday_evening_reopens_on_the_2nd_saturday() {
    assert_eq!(
        counter().status_at(jst(2026, 2, 13, 17, 15, 0)),
        closed_until(tokyo(2026, 2, 14, 8, 30))
    );
}

// --- J-LIS maintenance ---------------------------------------------------------------------

#[test]
fn jlis_maintenance_sundays_of_2026() {
    let jlis = DateRule::OffsetFromNthWeekday {
        n: 3,
        weekday: Weekday::Sat,
        days: 1,
    };
    let expected: Vec<NaiveDate> = [
        (1, 18),
        (2, 22),
        (3, 22),
        (4, 19),
        (5, 17),
        (6, 21),
        (7, 19),
        (8, 16),
        (9, 20),
        (10, 18),
        (11, 22),
        (12, 20),
    ]
    .into_iter()
    .map(|(m, d)| date(2026, m, d))
    .collect();
    assert_eq!(
        jlis.dates_between(date(2026, 1, 1), date(2026, 12, 31)),
        expected
    );
}

// --- special hours and closures ------------------------------------------------------------

#[test]
fn special_hours_replace_the_weekly_hours_that_day() {
    let mut calendar = hotline();
    calendar.special_hours.push(SpecialHours {
        date: date(2026, 8, 15),
        ranges: vec![range("10:00-15:00")],
        label: "短縮".into(),
    });
    assert_eq!(
        calendar.status_at(jst(2026, 8, 15, 9, 0, 0)),
        closed_until(tokyo(2026, 8, 15, 10, 0))
    );
    assert_eq!(
        calendar.status_at(jst(2026, 8, 15, 14, 59, 59)),
        open_until(tokyo(2026, 8, 15, 15, 0))
    );
    assert_eq!(
        calendar.status_at(jst(2026, 8, 15, 15, 0, 0)),
        closed_until(tokyo(2026, 8, 16, 8, 30))
    );
}

#[test]
fn special_hours_open_a_day_inside_the_year_end_closure() {
    let mut calendar = hotline();
    calendar.special_hours.push(SpecialHours {
        date: date(2026, 12, 30),
        ranges: vec![range("10:00-12:00")],
        label: "臨時".into(),
    });
    assert_eq!(
        calendar.status_at(jst(2026, 12, 30, 11, 0, 0)),
        open_until(tokyo(2026, 12, 30, 12, 0))
    );
    assert!(matches!(
        calendar.status_at(jst(2026, 12, 31, 11, 0, 0)),
        CalendarStatus::ClosedYearEnd { .. }
    ));
}

#[test]
fn special_hours_open_a_holiday_for_a_calendar_closed_on_holidays() {
    let mut calendar = city_office();
    calendar.special_hours.push(SpecialHours {
        date: date(2026, 7, 20),
        ranges: vec![range("09:00-12:00")],
        label: "休日窓口".into(),
    });
    assert!(calendar.status_at(jst(2026, 7, 20, 9, 0, 0)).is_open());
}

#[test]
fn special_hours_without_ranges_close_the_whole_day() {
    let mut calendar = hotline();
    calendar.special_hours.push(SpecialHours {
        date: date(2026, 6, 10),
        ranges: vec![],
        label: "休止".into(),
    });
    assert_eq!(
        calendar.status_at(jst(2026, 6, 10, 12, 0, 0)),
        closed_until(tokyo(2026, 6, 11, 8, 30))
    );
}

#[test]
fn one_off_closure_closes_the_day_with_its_label() {
    let mut calendar = hotline();
    calendar.closures.push(Closure {
        days: DateRule::Date(date(2026, 5, 7)),
        kind: ClosureKind::Special,
        label: "システム停止".into(),
    });
    assert_eq!(
        calendar.status_at(jst(2026, 5, 7, 12, 0, 0)),
        CalendarStatus::ClosedSpecial {
            label: "システム停止".into()
        }
    );
    assert!(calendar.status_at(jst(2026, 5, 8, 12, 0, 0)).is_open());
}

#[test]
fn one_off_closure_takes_precedence_over_the_year_end_closure() {
    let mut calendar = hotline();
    calendar.closures.push(Closure {
        days: DateRule::DateRange(date(2026, 12, 28), date(2026, 12, 30)),
        kind: ClosureKind::Special,
        label: "庁舎停電".into(),
    });
    assert_eq!(
        calendar.status_at(jst(2026, 12, 29, 12, 0, 0)),
        CalendarStatus::ClosedSpecial {
            label: "庁舎停電".into()
        }
    );
}

#[test]
fn outside_hours_before_a_one_off_closure_points_past_it() {
    let mut calendar = hotline();
    calendar.closures.push(Closure {
        days: DateRule::Date(date(2026, 5, 7)),
        kind: ClosureKind::Special,
        label: "停止".into(),
    });
    assert_eq!(
        calendar.status_at(jst(2026, 5, 6, 21, 0, 0)),
        closed_until(tokyo(2026, 5, 8, 8, 30))
    );
}

#[test]
fn holiday_hours_policy_uses_its_own_ranges_on_holidays() {
    let mut calendar = city_office();
    calendar.holidays = HolidayPolicy::Hours(vec![range("10:00-15:00")]);
    assert_eq!(
        calendar.status_at(jst(2026, 7, 20, 9, 0, 0)),
        closed_until(tokyo(2026, 7, 20, 10, 0))
    );
    assert_eq!(
        calendar.status_at(jst(2026, 7, 20, 10, 0, 0)),
        open_until(tokyo(2026, 7, 20, 15, 0))
    );
}

#[test]
fn ranges_of_every_matching_rule_are_united() {
    let mut calendar = city_office();
    calendar.hours.push(HoursRule {
        days: DateRule::Weekdays(WeekdaySet::single(Weekday::Wed)),
        ranges: vec![range("17:00-19:00")],
    });
    // 2026-06-10 is a Wednesday: 08:30–17:15 ∪ 17:00–19:00.
    assert_eq!(
        calendar.status_at(jst(2026, 6, 10, 16, 0, 0)),
        open_until(tokyo(2026, 6, 10, 19, 0))
    );
    assert_eq!(
        calendar.day_schedule(date(2026, 6, 10)),
        DaySchedule::Hours(vec![range("08:30-19:00")])
    );
}

#[test]
fn open_period_running_past_midnight_closes_when_the_next_day_stops() {
    let mut calendar = hotline();
    calendar.hours = vec![HoursRule {
        days: DateRule::Weekdays(WeekdaySet::ALL),
        ranges: vec![TimeRange::all_day()],
    }];
    assert_eq!(
        calendar.status_at(jst(2026, 12, 27, 10, 0, 0)),
        open_until(tokyo(2026, 12, 29, 0, 0))
    );
}

#[test]
fn calendar_without_hours_never_opens() {
    let mut calendar = hotline();
    calendar.hours.clear();
    assert_eq!(
        calendar.status_at(jst(2026, 6, 10, 10, 0, 0)),
        CalendarStatus::ClosedHours { next_open: None }
    );
}

#[test]
fn next_open_is_the_instant_itself_when_open() {
    let at = jst(2026, 6, 10, 10, 0, 0);
    assert_eq!(hotline().next_open(at), Some(hotline().local(at)));
}

#[test]
fn next_open_from_inside_the_year_end_closure_is_1_4() {
    assert_eq!(
        hotline().next_open(jst(2026, 12, 31, 12, 0, 0)),
        Some(tokyo(2027, 1, 4, 8, 30))
    );
}

// --- other time zones ----------------------------------------------------------------------

fn new_york_early() -> Calendar {
    Calendar {
        name: "ny".into(),
        tz: chrono_tz::America::New_York,
        hours: vec![HoursRule {
            days: DateRule::Weekdays(WeekdaySet::ALL),
            ranges: vec![range("02:30-05:00")],
        }],
        holidays: HolidayPolicy::Open,
        closures: vec![],
        special_hours: vec![],
    }
}

#[test]
fn opening_skipped_by_a_forward_clock_shift_happens_when_the_clock_jumps() {
    // 2026-03-08 02:00 EST the clocks jump to 03:00 EDT (07:00 UTC).
    let calendar = new_york_early();
    let before = Utc.with_ymd_and_hms(2026, 3, 8, 6, 0, 0).unwrap(); // 01:00 EST
    let jump = Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap();
    assert_eq!(
        calendar.status_at(before),
        CalendarStatus::ClosedHours {
            next_open: Some(calendar.local(jump))
        }
    );
    assert!(calendar.status_at(jump).is_open());
}

#[test]
fn local_time_uses_the_calendar_time_zone() {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        hotline().local(at).time(),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap()
    );
}
