//! Japanese national holidays (国民の祝日・休日), computed from the Holidays Act
//! (国民の祝日に関する法律) and its amendments, plus the one-off days set by special laws.
//!
//! Pure functions of the year or date; nothing is read at run time. Names follow the Cabinet
//! Office list: substitute holidays (振替休日) and citizens' holidays (国民の休日) are both
//! named `休日`.
//!
//! ```
//! use chrono::NaiveDate;
//! use madoguchi_calendar::holiday_on;
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
//! assert_eq!(holiday_on(day(1, 12)), Some("成人の日"));
//! assert_eq!(holiday_on(day(9, 22)), Some("休日")); // between 敬老の日 and 秋分の日
//! assert_eq!(holiday_on(day(9, 24)), None);
//! ```
//!
//! # Range
//! The Act took effect on 1948-07-20: earlier dates have no holidays. From then on the rules
//! continue indefinitely as currently enacted. The equinox days use the standard approximation
//! of the Cabinet Office's announcement (verified against the official list 1955–2027); it is
//! valid to 2099, and later years use the 2100–2150 coefficients (beyond 2150 an
//! extrapolation). Equinox days are officially fixed only about a year ahead, so dates more than
//! a year away are predictions.

use chrono::{Datelike, NaiveDate, Weekday};

/// A holiday on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: &'static str,
}

/// Substitute (振替休日) and citizens' (国民の休日) holidays.
const KYUJITSU: &str = "休日";

/// The day the Holidays Act took effect.
const ACT_EFFECTIVE: (i32, u32, u32) = (1948, 7, 20);
/// The 1973 amendment introducing 振替休日 (a Sunday holiday moves to Monday).
const SUBSTITUTE_FROM: (i32, u32, u32) = (1973, 4, 12);
/// The 1985 amendment introducing 国民の休日 (a day between two holidays).
const CITIZENS_FROM: (i32, u32, u32) = (1985, 12, 27);
/// From 2007 a substitute is the next day that is not a holiday, and a Sunday between two
/// holidays also counts.
const AMENDMENT_2007: i32 = 2007;

/// Days set by special laws; they count as national holidays (祝日) for the neighbouring rules.
const SPECIAL_DAYS: [((i32, u32, u32), &str); 6] = [
    ((1959, 4, 10), "結婚の儀"),          // 皇太子明仁親王の結婚の儀
    ((1989, 2, 24), "大喪の礼"),          // 昭和天皇の大喪の礼
    ((1990, 11, 12), "即位礼正殿の儀"),   // 即位礼正殿の儀 (明仁天皇)
    ((1993, 6, 9), "結婚の儀"),           // 皇太子徳仁親王の結婚の儀
    ((2019, 5, 1), "休日（祝日扱い）"),   // 天皇の即位の日
    ((2019, 10, 22), "休日（祝日扱い）"), // 即位礼正殿の儀 (徳仁天皇)
];

/// The national holidays of `year`, sorted by date. Empty before 1948.
pub fn holidays_in_year(year: i32) -> Vec<Holiday> {
    let mut holidays = national_holidays(year);
    let proper: Vec<NaiveDate> = holidays.iter().map(|h| h.date).collect();
    let is_holiday = |date: NaiveDate, list: &[Holiday]| list.iter().any(|h| h.date == date);

    if let Some(substitute_from) = ymd(SUBSTITUTE_FROM) {
        for &date in &proper {
            if date.weekday() != Weekday::Sun || date < substitute_from {
                continue;
            }
            let mut substitute = date.succ_opt();
            if year >= AMENDMENT_2007 {
                while let Some(day) = substitute.filter(|day| is_holiday(*day, &holidays)) {
                    substitute = day.succ_opt();
                }
            }
            if let Some(day) = substitute.filter(|day| !is_holiday(*day, &holidays)) {
                holidays.push(Holiday {
                    date: day,
                    name: KYUJITSU,
                });
            }
        }
    }

    if let Some(citizens_from) = ymd(CITIZENS_FROM) {
        for pair in proper.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let Some(between) = before.succ_opt() else {
                continue;
            };
            if between.succ_opt() != Some(after) || between < citizens_from {
                continue;
            }
            // Until 2007 a Sunday between two holidays stayed a plain Sunday.
            let sunday_excluded = year < AMENDMENT_2007 && between.weekday() == Weekday::Sun;
            if !sunday_excluded && !is_holiday(between, &holidays) {
                holidays.push(Holiday {
                    date: between,
                    name: KYUJITSU,
                });
            }
        }
    }

    holidays.sort();
    holidays
}

/// The name of the national holiday on `date`, if any.
///
/// Computes that year's list (a couple of dozen dates in two small vectors, about a
/// microsecond): cheap enough to call for every incoming call.
pub fn holiday_on(date: NaiveDate) -> Option<&'static str> {
    holidays_in_year(date.year())
        .into_iter()
        .find(|h| h.date == date)
        .map(|h| h.name)
}

/// The 祝日 proper (and the special-law days), sorted, without substitutes or citizens'
/// holidays.
fn national_holidays(year: i32) -> Vec<Holiday> {
    let mut list: Vec<Holiday> = Vec::with_capacity(24);
    let mut add = |date: Option<NaiveDate>, name: &'static str| {
        if let Some(date) = date {
            list.push(Holiday { date, name });
        }
    };
    let on = |month: u32, day: u32| NaiveDate::from_ymd_opt(year, month, day);
    let monday =
        |month: u32, n: u8| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, n);

    add(on(1, 1), "元日");
    add(
        if year < 2000 { on(1, 15) } else { monday(1, 2) },
        "成人の日",
    );
    if year >= 1967 {
        add(on(2, 11), "建国記念の日");
    }
    if year >= 2020 {
        add(on(2, 23), "天皇誕生日");
    }
    add(vernal_equinox_day(year), "春分の日");
    match year {
        ..=1988 => add(on(4, 29), "天皇誕生日"),
        1989..=2006 => add(on(4, 29), "みどりの日"),
        _ => add(on(4, 29), "昭和の日"),
    }
    add(on(5, 3), "憲法記念日");
    if year >= AMENDMENT_2007 {
        add(on(5, 4), "みどりの日");
    }
    add(on(5, 5), "こどもの日");
    match year {
        ..=1995 => {}
        1996..=2002 => add(on(7, 20), "海の日"),
        2020 => add(on(7, 23), "海の日"), // Tokyo 2020 Olympics special measure
        2021 => add(on(7, 22), "海の日"), // postponed Olympics special measure
        _ => add(monday(7, 3), "海の日"),
    }
    match year {
        ..=2015 => {}
        2020 => add(on(8, 10), "山の日"),
        2021 => add(on(8, 8), "山の日"),
        _ => add(on(8, 11), "山の日"),
    }
    match year {
        ..=1965 => {}
        1966..=2002 => add(on(9, 15), "敬老の日"),
        _ => add(monday(9, 3), "敬老の日"),
    }
    add(autumnal_equinox_day(year), "秋分の日");
    match year {
        ..=1965 => {}
        1966..=1999 => add(on(10, 10), "体育の日"),
        2000..=2018 => add(monday(10, 2), "体育の日"),
        // The renaming was enacted in 2018 for 2020; the Cabinet Office lists 2019 so.
        2019 => add(monday(10, 2), "体育の日（スポーツの日）"),
        2020 => add(on(7, 24), "スポーツの日"),
        2021 => add(on(7, 23), "スポーツの日"),
        _ => add(monday(10, 2), "スポーツの日"),
    }
    add(on(11, 3), "文化の日");
    add(on(11, 23), "勤労感謝の日");
    if (1989..=2018).contains(&year) {
        add(on(12, 23), "天皇誕生日");
    }
    for (date, name) in SPECIAL_DAYS {
        if date.0 == year {
            add(ymd(date), name);
        }
    }

    if let Some(effective) = ymd(ACT_EFFECTIVE) {
        list.retain(|h| h.date >= effective);
    }
    list.sort();
    list
}

fn ymd((year, month, day): (i32, u32, u32)) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// 春分の日: the day of the March equinox in Japan Standard Time.
fn vernal_equinox_day(year: i32) -> Option<NaiveDate> {
    let base = match year {
        ..=1979 => 20.8357,
        1980..=2099 => 20.8431,
        _ => 21.8510,
    };
    NaiveDate::from_ymd_opt(year, 3, equinox_day_of_month(year, base)?)
}

/// 秋分の日: the day of the September equinox in Japan Standard Time.
fn autumnal_equinox_day(year: i32) -> Option<NaiveDate> {
    let base = match year {
        ..=1979 => 23.2588,
        1980..=2099 => 23.2488,
        _ => 24.2488,
    };
    NaiveDate::from_ymd_opt(year, 9, equinox_day_of_month(year, base)?)
}

/// The approximation `int(base + 0.242194 (Y - 1980) - int((Y - L) / 4))`, where the leap-year
/// reference `L` is 1983 before 1980 and 1980 after. The inner `int` truncates toward zero (not
/// floor): before 1983 `(Y - 1983) / 4` is negative and flooring it is a day off.
fn equinox_day_of_month(year: i32, base: f64) -> Option<u32> {
    let year = i64::from(year);
    let leap_reference = if year < 1980 { 1983 } else { 1980 };
    let leap_days = (year - leap_reference) / 4;
    // Exact in f64: |year| < 2^31.
    let day = (base + 0.242194 * (year - 1980) as f64 - leap_days as f64).floor();
    // Only far outside any sensible year does the drift leave the month.
    (1.0..=31.0).contains(&day).then_some(day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn nothing_before_the_act_took_effect() {
        assert!(holidays_in_year(1947).is_empty());
        assert_eq!(holiday_on(date(1948, 5, 5)), None);
        assert_eq!(
            holidays_in_year(1948).first().map(|h| h.date),
            Some(date(1948, 9, 23))
        );
    }

    #[test]
    fn substitute_holiday_before_1973_amendment_does_not_exist() {
        // 1973-02-11 was a Sunday, before the amendment of April 1973.
        assert_eq!(holiday_on(date(1973, 2, 12)), None);
        assert_eq!(holiday_on(date(1973, 4, 30)), Some("休日"));
    }

    #[test]
    fn substitute_from_2007_skips_following_holidays() {
        // 2026-05-03 is a Sunday: 5/4 and 5/5 are holidays, so the substitute is 5/6.
        assert_eq!(holiday_on(date(2026, 5, 6)), Some("休日"));
    }

    #[test]
    fn citizens_holiday_between_two_holidays() {
        assert_eq!(holiday_on(date(2026, 9, 22)), Some("休日"));
        assert_eq!(holiday_on(date(2015, 9, 22)), Some("休日"));
    }

    #[test]
    fn moved_holidays_follow_the_happy_monday_changes() {
        assert_eq!(holiday_on(date(1999, 1, 15)), Some("成人の日"));
        assert_eq!(holiday_on(date(2000, 1, 10)), Some("成人の日"));
        assert_eq!(holiday_on(date(2000, 1, 15)), None);
        assert_eq!(holiday_on(date(2002, 7, 20)), Some("海の日"));
        assert_eq!(holiday_on(date(2003, 7, 21)), Some("海の日"));
        assert_eq!(holiday_on(date(2002, 9, 16)), Some("休日")); // 9/15 Sunday, old rule
        assert_eq!(holiday_on(date(2003, 9, 15)), Some("敬老の日"));
        assert_eq!(holiday_on(date(1999, 10, 11)), Some("休日")); // 10/10 Sunday
        assert_eq!(holiday_on(date(2000, 10, 9)), Some("体育の日"));
        assert_eq!(holiday_on(date(2026, 10, 12)), Some("スポーツの日"));
    }

    #[test]
    fn emperors_birthday_follows_the_reign() {
        assert_eq!(holiday_on(date(1988, 4, 29)), Some("天皇誕生日"));
        assert_eq!(holiday_on(date(1989, 4, 29)), Some("みどりの日"));
        assert_eq!(holiday_on(date(2018, 12, 23)), Some("天皇誕生日"));
        assert!(holidays_in_year(2019)
            .iter()
            .all(|h| h.name != "天皇誕生日"));
        assert_eq!(holiday_on(date(2020, 2, 23)), Some("天皇誕生日"));
        assert_eq!(holiday_on(date(2007, 4, 29)), Some("昭和の日"));
        assert_eq!(holiday_on(date(2007, 5, 4)), Some("みどりの日"));
    }

    #[test]
    fn mountain_day_exists_from_2016() {
        assert_eq!(holiday_on(date(2015, 8, 11)), None);
        assert_eq!(holiday_on(date(2016, 8, 11)), Some("山の日"));
    }

    #[test]
    fn olympic_years_move_three_holidays() {
        assert_eq!(holiday_on(date(2020, 7, 23)), Some("海の日"));
        assert_eq!(holiday_on(date(2020, 7, 24)), Some("スポーツの日"));
        assert_eq!(holiday_on(date(2020, 8, 10)), Some("山の日"));
        assert_eq!(holiday_on(date(2020, 8, 11)), None);
        assert_eq!(holiday_on(date(2021, 7, 22)), Some("海の日"));
        assert_eq!(holiday_on(date(2021, 7, 23)), Some("スポーツの日"));
        assert_eq!(holiday_on(date(2021, 8, 8)), Some("山の日"));
        assert_eq!(holiday_on(date(2021, 8, 9)), Some("休日"));
        assert_eq!(holiday_on(date(2021, 10, 11)), None);
    }

    #[test]
    fn enthronement_year_2019_makes_a_ten_day_golden_week() {
        let golden_week: Vec<&str> = (27..=30)
            .map(|d| date(2019, 4, d))
            .chain((1..=6).map(|d| date(2019, 5, d)))
            .filter_map(holiday_on)
            .collect();
        // 4/27–28 are a weekend; 4/29 to 5/6 are all holidays.
        assert_eq!(
            golden_week,
            [
                "昭和の日",
                "休日",
                "休日（祝日扱い）",
                "休日",
                "憲法記念日",
                "みどりの日",
                "こどもの日",
                "休日"
            ]
        );
        assert_eq!(holiday_on(date(2019, 10, 22)), Some("休日（祝日扱い）"));
    }

    #[test]
    fn one_off_imperial_ceremonies_are_holidays() {
        assert_eq!(holiday_on(date(1959, 4, 10)), Some("結婚の儀"));
        assert_eq!(holiday_on(date(1989, 2, 24)), Some("大喪の礼"));
        assert_eq!(holiday_on(date(1990, 11, 12)), Some("即位礼正殿の儀"));
        assert_eq!(holiday_on(date(1993, 6, 9)), Some("結婚の儀"));
    }

    #[test]
    fn citizens_holiday_before_2007_skips_sundays() {
        // 1986-05-04 was a Sunday between 憲法記念日 and こどもの日.
        assert_eq!(holiday_on(date(1986, 5, 4)), None);
        assert_eq!(holiday_on(date(1988, 5, 4)), Some("休日"));
    }

    #[test]
    fn equinox_formula_before_1980_truncates_the_leap_correction() {
        assert_eq!(holiday_on(date(1956, 3, 21)), Some("春分の日"));
        assert_eq!(holiday_on(date(1979, 9, 24)), Some("秋分の日"));
        assert_eq!(holiday_on(date(2027, 3, 21)), Some("春分の日"));
    }

    #[test]
    fn years_after_2099_continue_the_rules() {
        let names: Vec<&str> = holidays_in_year(2100).iter().map(|h| h.name).collect();
        assert!(names.contains(&"春分の日"));
        assert!(names.contains(&"スポーツの日"));
        assert_eq!(holiday_on(date(2100, 1, 1)), Some("元日"));
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for year in [i32::MIN, -1, 0, 1, 9999, 262_142, 262_143, i32::MAX] {
            let _ = holidays_in_year(year);
        }
        let _ = holiday_on(NaiveDate::MAX);
        let _ = holiday_on(NaiveDate::MIN);
    }
}
