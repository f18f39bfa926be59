//! The `[calendars.NAME]` sections: service hours, the holiday policy, closures and special
//! hours, checked and turned into [`madoguchi_calendar::Calendar`] values.
//!
//! ```toml
//! [calendars.counter]
//! tz = "Asia/Tokyo"                       # default Asia/Tokyo
//! hours = [
//!   { days = "mon-fri", ranges = ["08:30-17:15"] },
//!   { days = ["2nd sat", "4th sat"], ranges = ["08:30-12:00"] },
//! ]
//! holidays = "closed"                     # "open" | "closed" | ["10:00-15:00", …]
//! closures = [{ yearly = "12-29..01-03", label = "年末年始" }]
//! special_hours = [{ date = "2026-12-28", ranges = ["08:30-12:00"], label = "仕事納め" }]
//! ```

use chrono_tz::Tz;
use madoguchi_calendar::{
    Calendar, Closure, ClosureKind, DateRule, HolidayPolicy, HoursRule, SpecialHours, TimeRange,
    WeekdaySet,
};
use toml::de::DeValue;

use crate::date_rule::parse_date_rule;
use crate::toml_walk::{get, index_path, key_path, Value, Walker};

const CALENDAR_KEYS: &[&str] = &["tz", "hours", "holidays", "closures", "special_hours"];

/// Parses one calendar section; `None` once an error has been recorded.
pub(crate) fn parse_calendar(
    w: &mut Walker<'_>,
    name: &str,
    v: &Value<'_>,
    path: &str,
) -> Option<Calendar> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, CALENDAR_KEYS, path);
    let before = w.errors.len();

    let tz = match get(t, "tz") {
        None => chrono_tz::Asia::Tokyo,
        Some(v) => {
            let p = key_path(path, "tz");
            match w.str(v, &p).map(|s| (s, s.parse::<Tz>())) {
                Some((_, Ok(tz))) => tz,
                Some((s, Err(_))) => {
                    w.error(v.span(), &p, format!("unknown time zone \"{s}\""));
                    chrono_tz::Asia::Tokyo
                }
                None => chrono_tz::Asia::Tokyo,
            }
        }
    };

    let mut hours = Vec::new();
    if let Some(v) = w.required(t, v.span(), "hours", path) {
        let p = key_path(path, "hours");
        if let Some(items) = w.array(v, &p) {
            for (i, item) in items.iter().enumerate() {
                if let Some(rule) = parse_hours_rule(w, item, &index_path(&p, i)) {
                    hours.push(rule);
                }
            }
        }
    }

    let holidays = match get(t, "holidays") {
        None => HolidayPolicy::Open,
        Some(v) => parse_holiday_policy(w, v, &key_path(path, "holidays")),
    };

    let mut closures = Vec::new();
    if let Some(v) = get(t, "closures") {
        let p = key_path(path, "closures");
        if let Some(items) = w.array(v, &p) {
            for (i, item) in items.iter().enumerate() {
                if let Some(c) = parse_closure(w, item, &index_path(&p, i)) {
                    closures.push(c);
                }
            }
        }
    }

    let mut special_hours = Vec::new();
    if let Some(v) = get(t, "special_hours") {
        let p = key_path(path, "special_hours");
        if let Some(items) = w.array(v, &p) {
            for (i, item) in items.iter().enumerate() {
                if let Some(s) = parse_special_hours(w, item, &index_path(&p, i)) {
                    special_hours.push(s);
                }
            }
        }
    }

    (w.errors.len() == before).then(|| Calendar {
        name: name.to_string(),
        tz,
        hours,
        holidays,
        closures,
        special_hours,
    })
}

fn parse_hours_rule(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<HoursRule> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, &["days", "ranges"], path);
    let days = w
        .required(t, v.span(), "days", path)
        .and_then(|d| date_rule_value(w, d, &key_path(path, "days")));
    let ranges = w
        .required(t, v.span(), "ranges", path)
        .and_then(|r| time_ranges(w, r, &key_path(path, "ranges")));
    Some(HoursRule {
        days: days?,
        ranges: ranges?,
    })
}

fn parse_holiday_policy(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> HolidayPolicy {
    match v.get_ref() {
        DeValue::String(s) if s == "open" => HolidayPolicy::Open,
        DeValue::String(s) if s == "closed" => HolidayPolicy::Closed,
        DeValue::Array(_) => time_ranges(w, v, path)
            .map(HolidayPolicy::Hours)
            .unwrap_or(HolidayPolicy::Closed),
        _ => {
            w.error(
                v.span(),
                path,
                "expected \"open\", \"closed\" or a list of time ranges",
            );
            HolidayPolicy::Closed
        }
    }
}

fn parse_closure(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<Closure> {
    let t = w.table(v, path)?;
    w.deny_unknown(
        t,
        &["yearly", "date", "dates", "days", "kind", "label"],
        path,
    );
    let forms: Vec<&str> = ["yearly", "date", "dates", "days"]
        .into_iter()
        .filter(|k| get(t, k).is_some())
        .collect();
    let form = match forms.as_slice() {
        [one] => *one,
        [] => {
            w.error(
                v.span(),
                path,
                "a closure needs one of \"yearly\", \"date\", \"dates\" or \"days\"",
            );
            return None;
        }
        _ => {
            w.error(
                v.span(),
                path,
                format!("a closure takes only one of {}", forms.join(", ")),
            );
            return None;
        }
    };
    let rule_value = get(t, form)?;
    let rule_path = key_path(path, form);
    let days = date_rule_value(w, rule_value, &rule_path)?;
    let shape_ok = matches!(
        (form, &days),
        ("yearly", DateRule::YearlyRange { .. })
            | ("date", DateRule::Date(_))
            | ("dates", DateRule::DateRange(..) | DateRule::Date(_))
            | ("days", _)
    );
    if !shape_ok {
        let expected = match form {
            "yearly" => "MM-DD..MM-DD or MM-DD",
            "date" => "YYYY-MM-DD",
            _ => "YYYY-MM-DD..YYYY-MM-DD",
        };
        w.error(
            rule_value.span(),
            &rule_path,
            format!("expected {expected}"),
        );
        return None;
    }
    let default_kind = if form == "yearly" {
        ClosureKind::YearEnd
    } else {
        ClosureKind::Special
    };
    let kind = match get(t, "kind") {
        None => default_kind,
        Some(k) => {
            let p = key_path(path, "kind");
            match w.str(k, &p)? {
                "year_end" => ClosureKind::YearEnd,
                "special" => ClosureKind::Special,
                other => {
                    w.error(
                        k.span(),
                        &p,
                        format!("unknown closure kind \"{other}\" (expected year_end or special)"),
                    );
                    return None;
                }
            }
        }
    };
    let label = match get(t, "label") {
        Some(l) => w.str(l, &key_path(path, "label"))?.to_string(),
        None => String::new(),
    };
    Some(Closure { days, kind, label })
}

fn parse_special_hours(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<SpecialHours> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, &["date", "ranges", "label"], path);
    let date = w.required(t, v.span(), "date", path).and_then(|d| {
        let p = key_path(path, "date");
        match date_rule_value(w, d, &p)? {
            DateRule::Date(date) => Some(date),
            _ => {
                w.error(d.span(), &p, "expected one date, YYYY-MM-DD");
                None
            }
        }
    });
    let ranges = w
        .required(t, v.span(), "ranges", path)
        .and_then(|r| time_ranges(w, r, &key_path(path, "ranges")));
    let label = match get(t, "label") {
        Some(l) => w.str(l, &key_path(path, "label"))?.to_string(),
        None => String::new(),
    };
    Some(SpecialHours {
        date: date?,
        ranges: ranges?,
        label,
    })
}

/// A date rule written as a string, or an array of strings meaning "any of them".
/// A TOML date literal (`date = 2026-05-07`) is accepted too.
pub(crate) fn date_rule_value(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<DateRule> {
    match v.get_ref() {
        DeValue::String(s) => match parse_date_rule(s) {
            Ok(r) => Some(r),
            Err(msg) => {
                w.error(v.span(), path, msg);
                None
            }
        },
        DeValue::Datetime(dt) => {
            let text = dt.to_string();
            match parse_date_rule(&text) {
                Ok(r @ DateRule::Date(_)) => Some(r),
                _ => {
                    w.error(v.span(), path, format!("expected a date, found {text}"));
                    None
                }
            }
        }
        DeValue::Array(items) if !items.is_empty() => {
            let mut rules = Vec::new();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let p = index_path(path, i);
                match w.str(item, &p) {
                    Some(s) => match parse_date_rule(s) {
                        Ok(r) => rules.push(r),
                        Err(msg) => {
                            w.error(item.span(), &p, msg);
                            ok = false;
                        }
                    },
                    None => ok = false,
                }
            }
            ok.then_some(DateRule::Any(rules))
        }
        _ => {
            w.error(
                v.span(),
                path,
                "expected a date rule (e.g. \"mon-fri\", \"2nd sat\") or a non-empty list of them",
            );
            None
        }
    }
}

/// A non-empty list of `HH:MM-HH:MM` ranges.
fn time_ranges(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<Vec<TimeRange>> {
    let items = w.array(v, path)?;
    if items.is_empty() {
        w.error(v.span(), path, "expected at least one time range");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let p = index_path(path, i);
        let Some(s) = w.str(item, &p) else {
            ok = false;
            continue;
        };
        match s.parse::<TimeRange>() {
            Ok(r) => out.push(r),
            Err(e) => {
                w.error(item.span(), &p, format!("bad time range \"{s}\": {e}"));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Which closed states a calendar can produce, so the checker can demand a branch for each.
/// Conservative: a state is assumed reachable unless the calendar plainly rules it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reachable {
    pub hours: bool,
    pub holiday: bool,
    pub year_end: bool,
    pub special: bool,
}

pub(crate) fn reachable_closures(cal: &Calendar) -> Reachable {
    let all_day_every_day = cal.hours.iter().any(|h| {
        h.days == DateRule::Weekdays(WeekdaySet::ALL)
            && h.ranges.iter().any(|r| *r == TimeRange::all_day())
    });
    Reachable {
        hours: !all_day_every_day || !cal.special_hours.is_empty(),
        holiday: !matches!(cal.holidays, HolidayPolicy::Open),
        year_end: cal.closures.iter().any(|c| c.kind == ClosureKind::YearEnd),
        special: cal.closures.iter().any(|c| c.kind == ClosureKind::Special),
    }
}
