//! The in-person counter's hours, from the dialplan's `[calendars.counter]` (weekdays
//! 08:30–17:15, the 2nd and 4th Saturday 08:30–12:00, closed on national holidays and
//! 12/29–1/3 in the reference): `GET /api/v1/counter/hours?date=YYYY-MM-DD` tells a day's
//! hours, and every counter case says whether it was recorded outside them.
//!
//! [`CounterDesk`] is what the HTTP side knows about the counter: its calendar (absent when
//! the dialplan has none: hours are then 404 and `outside_hours` is `null`), its time zone
//! ("today", "the same day") and the node id stamped on cases.
//!
//! ```text
//! GET /api/v1/counter/hours?date=2026-06-13
//! {"date":"2026-06-13","time_zone":"Asia/Tokyo","open":true,"from":"08:30","to":"12:00",
//!  "ranges":[{"from":"08:30","to":"12:00"}],"closed_reason":null,"label":null,"open_now":null}
//! ```

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use madoguchi_calendar::{Calendar, DaySchedule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::AppState;

/// The counter as the HTTP side sees it.
#[derive(Debug, Clone)]
pub struct CounterDesk {
    /// The dialplan's `counter` calendar, if it has one.
    pub calendar: Option<Calendar>,
    /// The counter calendar's zone, else the hotline's.
    pub time_zone: Tz,
    /// Stamped on every case recorded through this node.
    pub node_id: String,
}

impl CounterDesk {
    /// `calendar` is the dialplan's `counter` calendar; `fallback_zone` is used without one.
    pub fn new(calendar: Option<Calendar>, fallback_zone: Tz, node_id: String) -> CounterDesk {
        CounterDesk {
            time_zone: calendar.as_ref().map_or(fallback_zone, |c| c.tz),
            calendar,
            node_id,
        }
    }

    /// Whether `at` falls outside the counter's hours; `None` without a counter calendar.
    pub fn outside_hours(&self, at: DateTime<Utc>) -> Option<bool> {
        self.calendar.as_ref().map(|c| !c.status_at(at).is_open())
    }

    /// The counter's local date at `now`.
    pub fn date_at(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }

    /// `[local midnight of date, local midnight of the next day)` as UTC instants.
    pub fn day_bounds(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = |date: NaiveDate| {
            date.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(self.time_zone).earliest())
                .map(|t| t.with_timezone(&Utc))
        };
        Some((start(date)?, start(date.checked_add_days(Days::new(1))?)?))
    }

    /// The hours of `date`; `open_now` is set when `date` is the local date of `now`.
    pub fn hours_on(&self, date: NaiveDate, now: DateTime<Utc>) -> Option<DayHours> {
        let calendar = self.calendar.as_ref()?;
        let mut hours = DayHours::from_schedule(date, calendar.day_schedule(date));
        hours.time_zone = calendar.tz.name().to_owned();
        if self.date_at(now) == date {
            hours.open_now = Some(calendar.status_at(now).is_open());
        }
        Some(hours)
    }
}

/// One opening of a day, local wall-clock times (`to` may be `24:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OpenRange {
    #[schema(example = "08:30")]
    pub from: String,
    #[schema(example = "17:15")]
    pub to: String,
}

/// Why a day has no hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosedReason {
    /// No hours on this day of the week (a Sunday, the 1st, 3rd or 5th Saturday).
    NoHours,
    /// A national holiday; `label` names it.
    Holiday,
    /// The year-end break; `label` names it.
    YearEnd,
    /// A one-off closure; `label` names it.
    Special,
}

/// The counter's hours on one local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayHours {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The counter's time zone (IANA name): times of cases are shown in it.
    #[schema(example = "Asia/Tokyo")]
    pub time_zone: String,
    pub open: bool,
    /// The first opening time of the day, when open.
    pub from: Option<String>,
    /// The last closing time of the day, when open.
    pub to: Option<String>,
    /// Every opening of the day (one for the counter).
    pub ranges: Vec<OpenRange>,
    pub closed_reason: Option<ClosedReason>,
    /// The holiday's name or the closure's label (元日, 年末年始 …).
    pub label: Option<String>,
    /// For today only: whether the counter is open at this moment.
    pub open_now: Option<bool>,
}

impl DayHours {
    fn from_schedule(date: NaiveDate, schedule: DaySchedule) -> DayHours {
        let mut hours = DayHours {
            date: date.format("%Y-%m-%d").to_string(),
            time_zone: String::new(),
            open: false,
            from: None,
            to: None,
            ranges: Vec::new(),
            closed_reason: None,
            label: None,
            open_now: None,
        };
        match schedule {
            DaySchedule::Hours(ranges) if ranges.is_empty() => {
                hours.closed_reason = Some(ClosedReason::NoHours);
            }
            DaySchedule::Hours(ranges) => {
                hours.open = true;
                hours.ranges = ranges
                    .iter()
                    .map(|range| {
                        // Display is "HH:MM-HH:MM" (24:00 for the end of the day).
                        let text = range.to_string();
                        let (from, to) = text.split_once('-').unwrap_or((&text, ""));
                        OpenRange {
                            from: from.to_owned(),
                            to: to.to_owned(),
                        }
                    })
                    .collect();
                hours.from = hours.ranges.first().map(|r| r.from.clone());
                hours.to = hours.ranges.last().map(|r| r.to.clone());
            }
            DaySchedule::ClosedHoliday { name } => {
                hours.closed_reason = Some(ClosedReason::Holiday);
                hours.label = Some(name.to_owned());
            }
            DaySchedule::ClosedYearEnd { label } => {
                hours.closed_reason = Some(ClosedReason::YearEnd);
                hours.label = Some(label);
            }
            DaySchedule::ClosedSpecial { label } => {
                hours.closed_reason = Some(ClosedReason::Special);
                hours.label = Some(label);
            }
        }
        hours
    }
}

/// A `YYYY-MM-DD` query value; `Err` is the 400 to send.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
pub fn parse_date(name: &str, text: &str) -> Result<NaiveDate, Response> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("{name} must be a date YYYY-MM-DD"),
        )
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HoursParams {
    /// The local date, `YYYY-MM-DD`; today when absent.
    date: Option<String>,
}

/// The counter's hours on a date (today by default), from the dialplan's `counter` calendar.
#[utoipa::path(get, path = "/api/v1/counter/hours", params(HoursParams),
    responses((status = 200, body = DayHours), (status = 400, body = ApiError),
        (status = 401, body = ApiError),
        (status = 404, description = "the dialplan has no counter calendar", body = ApiError)))]
pub async fn hours(
    State(state): State<AppState>,
    params: Result<Query<HoursParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let now = Utc::now();
    let date = match params.date.as_deref() {
        None => state.counter.date_at(now),
        Some(text) => match parse_date("date", text) {
            Ok(date) => date,
            Err(response) => return response,
        },
    };
    match state.counter.hours_on(date, now) {
        Some(hours) => Json(hours).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "the dialplan has no counter calendar ([calendars.counter])",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The counter of the reference dialplan.
    fn desk() -> CounterDesk {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans/zama.toml");
        let dialplan = madoguchi_dialplan::Dialplan::load(&path).expect("the reference loads");
        let calendar = dialplan.calendar("counter").cloned();
        assert!(calendar.is_some(), "zama.toml defines [calendars.counter]");
        CounterDesk::new(calendar, chrono_tz::Asia::Tokyo, "node1".into())
    }

    fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("a valid JST instant")
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    fn far_away() -> DateTime<Utc> {
        jst(2030, 1, 1, 0, 0)
    }

    #[test]
    fn a_weekday_is_open_from_0830_to_1715() {
        let hours = desk()
            .hours_on(date(2026, 6, 10), far_away())
            .expect("calendar");
        assert!(hours.open);
        assert_eq!(
            (hours.from.as_deref(), hours.to.as_deref()),
            (Some("08:30"), Some("17:15"))
        );
        assert_eq!(hours.closed_reason, None);
        assert_eq!(hours.open_now, None);
    }

    #[test]
    fn the_second_saturday_is_open_until_noon() {
        let hours = desk()
            .hours_on(date(2026, 6, 13), far_away())
            .expect("calendar");
        assert!(hours.open);
        assert_eq!(hours.to.as_deref(), Some("12:00"));
    }

    #[test]
    fn the_third_saturday_has_no_hours() {
        let hours = desk()
            .hours_on(date(2026, 6, 20), far_away())
            .expect("calendar");
        assert!(!hours.open);
        assert_eq!(hours.closed_reason, Some(ClosedReason::NoHours));
        assert!(hours.ranges.is_empty() && hours.from.is_none());
    }

    #[test]
    fn a_national_holiday_is_closed_and_named() {
        // Monday 2026-07-20 is 海の日.
        let hours = desk()
            .hours_on(date(2026, 7, 20), far_away())
            .expect("calendar");
        assert_eq!(hours.closed_reason, Some(ClosedReason::Holiday));
        assert_eq!(hours.label.as_deref(), Some("海の日"));
    }

    #[test]
    fn the_year_end_break_is_closed_even_on_a_weekday() {
        // Tuesday 2026-12-29.
        let hours = desk()
            .hours_on(date(2026, 12, 29), far_away())
            .expect("calendar");
        assert_eq!(hours.closed_reason, Some(ClosedReason::YearEnd));
        assert_eq!(hours.label.as_deref(), Some("年末年始"));
    }

    #[test]
    fn today_says_whether_the_counter_is_open_now() {
        let d = desk();
        let at_noon = d
            .hours_on(date(2026, 6, 10), jst(2026, 6, 10, 12, 0))
            .expect("calendar");
        assert_eq!(at_noon.open_now, Some(true));
        let evening = d
            .hours_on(date(2026, 6, 10), jst(2026, 6, 10, 17, 15))
            .expect("calendar");
        assert_eq!(evening.open_now, Some(false));
    }

    #[test]
    fn a_case_after_closing_is_outside_hours_and_one_before_is_not() {
        let d = desk();
        assert_eq!(d.outside_hours(jst(2026, 6, 10, 17, 14)), Some(false));
        assert_eq!(d.outside_hours(jst(2026, 6, 10, 17, 15)), Some(true));
        assert_eq!(d.outside_hours(jst(2026, 6, 13, 12, 30)), Some(true));
    }

    #[test]
    fn without_a_counter_calendar_nothing_is_known() {
        let d = CounterDesk::new(None, chrono_tz::Asia::Tokyo, "node1".into());
        assert_eq!(d.outside_hours(jst(2026, 6, 10, 10, 0)), None);
        assert_eq!(d.hours_on(date(2026, 6, 10), far_away()), None);
    }

    #[test]
    fn the_counter_day_runs_from_local_midnight_to_local_midnight() {
        let (start, end) = desk().day_bounds(date(2026, 6, 10)).expect("bounds");
        assert_eq!(start, jst(2026, 6, 10, 0, 0));
        assert_eq!(end, jst(2026, 6, 11, 0, 0));
        assert_eq!(desk().date_at(jst(2026, 6, 10, 0, 30)), date(2026, 6, 10));
    }
}
