//! The text form of date rules used in dialplan files, parsed into
//! [`madoguchi_calendar::DateRule`].
//!
//! Grammar (case-insensitive; one rule per string, an array of strings means "any of"):
//!
//! | text | rule |
//! | --- | --- |
//! | `mon-fri`, `sat,sun`, `mon-sun`, `月-金` | those days of the week |
//! | `every day`, `weekdays`, `weekends` | Mon–Sun, Mon–Fri, Sat–Sun |
//! | `2nd sat`, `4th saturday`, `last fri` | the nth weekday of the month (1st…5th, last) |
//! | `sun after 3rd sat`, `fri before last mon` | the next (previous) such weekday after (before) the anchor |
//! | `2 days after 3rd sat` | an offset in days from the anchor |
//! | `holiday` | a national holiday |
//! | `2026-05-07`, `2026-05-01..2026-05-06` | one date, an inclusive range of dates |
//! | `12-29..01-03`, `08-15` | every year, may wrap the year end |
//! | `not …` | the negation |

use chrono::{NaiveDate, Weekday};
use madoguchi_calendar::{DateRule, WeekdaySet};

/// Parses one rule; the error is a message for a [`crate::CheckError`].
pub fn parse_date_rule(text: &str) -> Result<DateRule, String> {
    let s = text.trim().to_lowercase();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return Err("empty date rule".into());
    }
    if let Some(rest) = s.strip_prefix("not ") {
        return Ok(DateRule::Not(Box::new(parse_date_rule(rest)?)));
    }
    match s.as_str() {
        "holiday" | "holidays" => return Ok(DateRule::Holiday),
        "every day" | "daily" | "all" => return Ok(DateRule::Weekdays(WeekdaySet::ALL)),
        "weekdays" => return Ok(DateRule::Weekdays(WeekdaySet::MON_FRI)),
        "weekends" | "weekend" => return Ok(DateRule::Weekdays(WeekdaySet::WEEKEND)),
        _ => {}
    }
    if let Some((from, to)) = s.split_once("..") {
        return parse_range(from.trim(), to.trim());
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) && s.contains('-') && !s.contains(' ') {
        return parse_single_date(&s);
    }
    for (word, sign) in [(" after ", 1), (" before ", -1)] {
        if let Some((offset, anchor)) = s.split_once(word) {
            return parse_offset(offset, anchor, sign);
        }
    }
    if s.contains(' ') {
        let (n, weekday) = parse_nth_weekday(&s)?;
        return Ok(DateRule::NthWeekday { n, weekday });
    }
    s.parse::<WeekdaySet>()
        .map(DateRule::Weekdays)
        .map_err(|e| format!("bad date rule \"{text}\": {e}"))
}

fn parse_range(from: &str, to: &str) -> Result<DateRule, String> {
    if let (Ok(a), Ok(b)) = (parse_ymd(from), parse_ymd(to)) {
        if a > b {
            return Err(format!("date range {from}..{to} ends before it starts"));
        }
        return Ok(DateRule::DateRange(a, b));
    }
    match (parse_md(from), parse_md(to)) {
        (Ok(a), Ok(b)) => Ok(DateRule::YearlyRange { from: a, to: b }),
        _ => Err(format!(
            "bad date range \"{from}..{to}\" (expected YYYY-MM-DD..YYYY-MM-DD or MM-DD..MM-DD)"
        )),
    }
}

fn parse_single_date(s: &str) -> Result<DateRule, String> {
    if let Ok(d) = parse_ymd(s) {
        return Ok(DateRule::Date(d));
    }
    parse_md(s)
        .map(|md| DateRule::YearlyRange { from: md, to: md })
        .map_err(|_| format!("bad date \"{s}\" (expected YYYY-MM-DD or MM-DD)"))
}

fn parse_ymd(s: &str) -> Result<NaiveDate, ()> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ())
}

/// A month-day valid in some year (02-29 included).
fn parse_md(s: &str) -> Result<(u32, u32), ()> {
    let (m, d) = s.split_once('-').ok_or(())?;
    let m: u32 = m.parse().map_err(|_| ())?;
    let d: u32 = d.parse().map_err(|_| ())?;
    NaiveDate::from_ymd_opt(2024, m, d).ok_or(())?;
    Ok((m, d))
}

fn parse_offset(offset: &str, anchor: &str, sign: i32) -> Result<DateRule, String> {
    let (n, anchor_day) = parse_nth_weekday(anchor)?;
    let words: Vec<&str> = offset.split(' ').collect();
    let days = match words.as_slice() {
        ["day"] | ["the", "day"] => sign,
        [count, "day" | "days"] => {
            let c: i32 = count
                .parse()
                .ok()
                .filter(|c| (1..=31).contains(c))
                .ok_or_else(|| format!("bad day count \"{count}\" (expected 1 to 31)"))?;
            c * sign
        }
        [weekday] => {
            let target = parse_weekday(weekday)?;
            let forward = (7 + target.num_days_from_monday() as i32
                - anchor_day.num_days_from_monday() as i32)
                % 7;
            if sign > 0 {
                if forward == 0 {
                    7
                } else {
                    forward
                }
            } else if forward == 0 {
                -7
            } else {
                forward - 7
            }
        }
        _ => {
            return Err(format!(
                "bad offset \"{offset}\" (expected a weekday or \"N days\")"
            ))
        }
    };
    Ok(DateRule::OffsetFromNthWeekday {
        n,
        weekday: anchor_day,
        days,
    })
}

fn parse_nth_weekday(s: &str) -> Result<(i8, Weekday), String> {
    let (nth, day) = s
        .split_once(' ')
        .ok_or_else(|| format!("bad date rule \"{s}\" (expected e.g. \"2nd sat\")"))?;
    let n = match nth {
        "1st" | "first" => 1,
        "2nd" | "second" => 2,
        "3rd" | "third" => 3,
        "4th" | "fourth" => 4,
        "5th" | "fifth" => 5,
        "last" => -1,
        other => {
            return Err(format!(
                "bad ordinal \"{other}\" (expected 1st, 2nd, 3rd, 4th, 5th or last)"
            ))
        }
    };
    Ok((n, parse_weekday(day)?))
}

fn parse_weekday(s: &str) -> Result<Weekday, String> {
    match s.parse::<WeekdaySet>() {
        Ok(set) => {
            let mut days = set.iter();
            match (days.next(), days.next()) {
                (Some(d), None) => Ok(d),
                _ => Err(format!("expected one weekday, found \"{s}\"")),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekday_range_is_a_weekday_set() {
        assert_eq!(
            parse_date_rule("mon-fri").unwrap(),
            DateRule::Weekdays(WeekdaySet::MON_FRI)
        );
        assert_eq!(
            parse_date_rule("Mon-Sun").unwrap(),
            DateRule::Weekdays(WeekdaySet::ALL)
        );
    }

    #[test]
    fn nth_weekday_reads_ordinals_and_last() {
        assert_eq!(
            parse_date_rule("2nd sat").unwrap(),
            DateRule::NthWeekday {
                n: 2,
                weekday: Weekday::Sat
            }
        );
        assert_eq!(
            parse_date_rule("last friday").unwrap(),
            DateRule::NthWeekday {
                n: -1,
                weekday: Weekday::Fri
            }
        );
    }

    #[test]
    fn sunday_after_third_saturday_is_one_day_after() {
        assert_eq!(
            parse_date_rule("sun after 3rd sat").unwrap(),
            DateRule::OffsetFromNthWeekday {
                n: 3,
                weekday: Weekday::Sat,
                days: 1
            }
        );
    }

    #[test]
    fn weekday_before_anchor_counts_backwards() {
        assert_eq!(
            parse_date_rule("fri before 2nd mon").unwrap(),
            DateRule::OffsetFromNthWeekday {
                n: 2,
                weekday: Weekday::Mon,
                days: -3
            }
        );
    }

    #[test]
    fn day_count_offset_is_signed() {
        assert_eq!(
            parse_date_rule("2 days before 1st mon").unwrap(),
            DateRule::OffsetFromNthWeekday {
                n: 1,
                weekday: Weekday::Mon,
                days: -2
            }
        );
    }

    #[test]
    fn jlis_rule_matches_the_sunday_after_the_third_saturday_only() {
        let r = parse_date_rule("sunday after 3rd saturday").unwrap();
        // 2026-11: Saturdays 7, 14, 21 → Sunday 22.
        assert!(r.matches(date(2026, 11, 22)));
        assert!(!r.matches(date(2026, 11, 15)));
        assert!(!r.matches(date(2026, 11, 29)));
    }

    #[test]
    fn yearly_range_wraps_the_year_end() {
        assert_eq!(
            parse_date_rule("12-29..01-03").unwrap(),
            DateRule::YearlyRange {
                from: (12, 29),
                to: (1, 3)
            }
        );
    }

    #[test]
    fn full_dates_and_date_ranges() {
        assert_eq!(
            parse_date_rule("2026-05-07").unwrap(),
            DateRule::Date(date(2026, 5, 7))
        );
        assert_eq!(
            parse_date_rule("2026-05-01..2026-05-06").unwrap(),
            DateRule::DateRange(date(2026, 5, 1), date(2026, 5, 6))
        );
    }

    #[test]
    fn holiday_and_not() {
        assert_eq!(parse_date_rule("holiday").unwrap(), DateRule::Holiday);
        assert_eq!(
            parse_date_rule("not holiday").unwrap(),
            DateRule::Not(Box::new(DateRule::Holiday))
        );
    }

    #[test]
    fn rejects_impossible_dates_ordinals_and_weekdays() {
        assert!(parse_date_rule("2026-02-30").is_err());
        assert!(parse_date_rule("13-01..01-03").is_err());
        assert!(parse_date_rule("6th sat").is_err());
        assert!(parse_date_rule("2nd caturday").is_err());
        assert!(parse_date_rule("funday").is_err());
        assert!(parse_date_rule("2026-05-06..2026-05-01").is_err());
        assert!(parse_date_rule("").is_err());
    }
}
