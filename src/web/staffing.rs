//! Staffing over HTTP (managers and admins):
//! - `GET /api/v1/staffing?target=0.8&threshold=20&weeks=4[&aht=S]`: the seats a typical
//!   week needs, per local weekday and 30-minute interval, from the queue arrivals of the
//!   last `weeks` whole weeks (today excluded) and their measured handling time;
//! - `GET /api/v1/staffing/erlang?calls_per_hour=N&aht=S&target=0.8&threshold=20`: Erlang
//!   C for one load, the same answer as `madoguchi staffing --json`.
//!
//! The handling time of a call is its talk time plus its wrap-up as the engine measured it
//! (`madoguchi_store::wrap_up`); a call stored without one (before wrap-ups were measured,
//! or cut off by a restart) counts its queue's configured `wrap_up`, the same rule as the
//! reports (`madoguchi_report::ReportSettings`). The maths and the folding into the week
//! live in `madoguchi_staffing`; this module only reads the store and translates.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use madoguchi_report::ReportSettings;
use madoguchi_staffing::{
    typical_week, Goal, IntervalPlan, Load, MeasuredHalfHour, PlanSettings, StaffingError,
    WeekPlan, Window,
};
use madoguchi_store::HalfHourArrivals;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::auth::ManagerOrAdmin;
use super::AppState;
use crate::staffing::ErlangAnswer;

const DEFAULT_WEEKS: u32 = 4;

/// The configured wrap-ups the reports use (`ReportSettings::configured_wrap_up`), for the
/// handled calls whose wrap-up was not measured.
#[derive(Clone, Debug)]
pub struct QueueWrapUps(std::sync::Arc<ReportSettings>);

impl QueueWrapUps {
    pub fn from_settings(settings: std::sync::Arc<ReportSettings>) -> QueueWrapUps {
        QueueWrapUps(settings)
    }

    /// A store row as the staffing crate's measurement: talk + wrap-up per handled call.
    fn measure(&self, row: &HalfHourArrivals) -> MeasuredHalfHour {
        let handled = u64::try_from(row.handled).unwrap_or(0);
        let unmeasured = (row.handled - row.wrapped).max(0) as f64;
        let configured = self.0.configured_wrap_up(Some(&row.queue)).as_secs_f64();
        MeasuredHalfHour {
            start: row.start,
            arrivals: u64::try_from(row.arrivals).unwrap_or(0),
            handled,
            handling_s: (row.talk_ms.max(0) + row.wrap_up_ms.max(0)) as f64 / 1000.0
                + unmeasured * configured,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeekParams {
    /// Share of calls to answer within the threshold, 0–1 exclusive (default 0.8).
    target: Option<f64>,
    /// Answer threshold, seconds (default 20).
    threshold: Option<f64>,
    /// Whole weeks to average, 1–52, ending before today (default 4).
    weeks: Option<u32>,
    /// Use this average handling time (seconds) for every interval instead of the measured.
    aht: Option<f64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ErlangParams {
    /// Calls offered per hour (≥ 0).
    calls_per_hour: f64,
    /// Average handling time, seconds (> 0): talk, hold and wrap-up.
    aht: f64,
    /// Share of calls to answer within the threshold, 0–1 exclusive (default 0.8).
    target: Option<f64>,
    /// Answer threshold, seconds (default 20).
    threshold: Option<f64>,
}

/// The seats a typical week needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeekStaffing {
    pub target: f64,
    pub threshold_s: f64,
    pub weeks: u32,
    /// The time zone of the weekdays and interval times (the hotline's calendar).
    pub time_zone: String,
    /// The span measured: whole local days, `weeks` weeks ending at today's midnight.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Calls that reached a queue in the span.
    pub arrivals: u64,
    /// Of those, calls an operator took.
    pub handled: u64,
    /// The span's average handling time (talk + configured wrap-up), or the one given;
    /// null when no call was handled.
    pub aht_s: Option<f64>,
    /// Monday to Sunday.
    pub days: Vec<DayStaffing>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayStaffing {
    /// `mon` … `sun`.
    pub weekday: String,
    /// The most agents any interval of the day needs.
    pub peak_agents: u32,
    /// 48 intervals of 30 minutes from 00:00.
    pub intervals: Vec<IntervalStaffing>,
}

/// One 30-minute interval. The Erlang C figures are null when calls arrived but no
/// handling time is known (nothing handled in the span and no `aht` given).
#[derive(Debug, Serialize, ToSchema)]
pub struct IntervalStaffing {
    /// Local start, `HH:MM`.
    pub start: String,
    /// Calls that arrived in this interval over the whole span.
    pub arrivals: u64,
    /// Average calls per hour in this interval on one such weekday.
    pub arrivals_per_hour: f64,
    /// Calls handled in this interval over the span.
    pub handled: u64,
    /// The AHT used: the interval's own when it has at least 10 handled calls, else the
    /// span's (or the one given).
    pub aht_s: Option<f64>,
    /// Fewest agents meeting the goal (0 when no call arrives).
    pub agents: Option<u32>,
    /// Expected share answered within the threshold with that many agents.
    pub service_level: Option<f64>,
    /// Expected average speed of answer, seconds.
    pub asa_s: Option<f64>,
    /// Expected share of the agents' time on calls.
    pub occupancy: Option<f64>,
}

fn bad_query(rejection: QueryRejection) -> Response {
    error(StatusCode::BAD_REQUEST, rejection.body_text())
}

fn bad_input(e: StaffingError) -> Response {
    error(StatusCode::BAD_REQUEST, e.to_string())
}

/// The goal asked for, 80 % in 20 s where not given.
fn goal(target: Option<f64>, threshold: Option<f64>) -> Result<Goal, StaffingError> {
    Goal::new(
        target.unwrap_or(Goal::DEFAULT.target()),
        threshold.unwrap_or(Goal::DEFAULT.threshold_s()),
    )
}

/// The seats needed per weekday and 30-minute interval of a typical week, from the queue
/// arrivals and handling times measured over the last weeks (Erlang C).
#[utoipa::path(get, path = "/api/v1/staffing", params(WeekParams),
    responses((status = 200, body = WeekStaffing), (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 503, body = ApiError)))]
pub async fn week(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
    params: Result<Query<WeekParams>, QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return bad_query(rejection),
    };
    let tz = state.time_zone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let checked = goal(params.target, params.threshold).and_then(|goal| {
        if let Some(aht) = params.aht {
            Load::new(0.0, aht)?;
        }
        let weeks = params.weeks.unwrap_or(DEFAULT_WEEKS);
        Ok((goal, Window::weeks_before(today, tz, weeks)?))
    });
    let (goal, window) = match checked {
        Ok(checked) => checked,
        Err(e) => return bad_input(e),
    };
    let rows = match state
        .store
        .arrivals_by_half_hour(window.from, window.to)
        .await
    {
        Ok(rows) => rows,
        Err(err) => {
            tracing::warn!(error = %err, "reading arrivals for staffing failed");
            return error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
        }
    };
    let measured: Vec<MeasuredHalfHour> =
        rows.iter().map(|row| state.wrap_ups.measure(row)).collect();
    let settings = PlanSettings {
        goal,
        weeks: window.weeks(),
        tz,
        aht_s: params.aht,
    };
    let plan = typical_week(&measured, &settings);
    Json(week_staffing(&plan, &settings, &window)).into_response()
}

fn week_staffing(plan: &WeekPlan, settings: &PlanSettings, window: &Window) -> WeekStaffing {
    WeekStaffing {
        target: settings.goal.target(),
        threshold_s: settings.goal.threshold_s(),
        weeks: window.weeks(),
        time_zone: settings.tz.name().to_owned(),
        from: window.from,
        to: window.to,
        arrivals: plan.arrivals,
        handled: plan.handled,
        aht_s: plan.aht_s,
        days: plan
            .days
            .iter()
            .map(|day| DayStaffing {
                weekday: day.weekday.to_string().to_ascii_lowercase(),
                peak_agents: day.peak_agents,
                intervals: day.intervals.iter().map(interval_staffing).collect(),
            })
            .collect(),
    }
}

fn interval_staffing(interval: &IntervalPlan) -> IntervalStaffing {
    let staffing = interval.staffing;
    IntervalStaffing {
        start: interval.start.format("%H:%M").to_string(),
        arrivals: interval.arrivals,
        arrivals_per_hour: interval.arrivals_per_hour,
        handled: interval.handled,
        aht_s: interval.aht_s,
        agents: staffing.map(|s| s.agents),
        service_level: staffing.map(|s| s.service_level),
        asa_s: staffing.map(|s| s.asa_s),
        occupancy: staffing.map(|s| s.occupancy),
    }
}

/// Erlang C for one load: the fewest agents answering `target` of the calls within
/// `threshold` seconds, and the service level, ASA and occupancy they give.
#[utoipa::path(get, path = "/api/v1/staffing/erlang", params(ErlangParams),
    responses((status = 200, body = ErlangAnswer), (status = 400, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn erlang(
    _manager: ManagerOrAdmin,
    params: Result<Query<ErlangParams>, QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return bad_query(rejection),
    };
    let answer = goal(params.target, params.threshold).and_then(|goal| {
        let load = Load::new(params.calls_per_hour, params.aht)?;
        ErlangAnswer::compute(load, goal)
    });
    match answer {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => bad_input(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card_wrap_up_30_s() -> QueueWrapUps {
        let mut settings = ReportSettings::new(chrono_tz::Asia::Tokyo);
        settings
            .wrap_up
            .insert("card".into(), std::time::Duration::from_secs(30));
        QueueWrapUps::from_settings(std::sync::Arc::new(settings))
    }

    fn row(
        queue: &str,
        handled: i64,
        talk_ms: i64,
        wrapped: i64,
        wrap_up_ms: i64,
    ) -> HalfHourArrivals {
        HalfHourArrivals {
            queue: queue.into(),
            start: DateTime::UNIX_EPOCH,
            arrivals: 5,
            handled,
            talk_ms,
            wrapped,
            wrap_up_ms,
        }
    }

    #[test]
    fn an_unmeasured_calls_handling_time_is_its_talk_plus_its_queues_wrap_up() {
        let measured = card_wrap_up_30_s().measure(&row("card", 2, 400_000, 0, 0));
        assert_eq!((measured.arrivals, measured.handled), (5, 2));
        assert_eq!(measured.handling_s, 400.0 + 2.0 * 30.0);
    }

    #[test]
    fn a_measured_wrap_up_replaces_the_configured_one() {
        let measured = card_wrap_up_30_s().measure(&row("card", 2, 400_000, 1, 4_500));
        assert_eq!(measured.handling_s, 400.0 + 4.5 + 30.0);
    }

    #[test]
    fn a_queue_missing_from_the_dialplan_counts_the_default_wrap_up_as_reports_do() {
        let measured = card_wrap_up_30_s().measure(&row("gone", 1, 90_000, 0, 0));
        let default = madoguchi_report::DEFAULT_WRAP_UP.as_secs_f64();
        assert_eq!(measured.handling_s, 90.0 + default);
    }
}
