//! The city's reports over HTTP (managers and admins), the same files as
//! `madoguchi report`:
//! - `GET /api/v1/reports/monthly?month=YYYY-MM&format=csv|xlsx`
//! - `GET /api/v1/reports/final?from=YYYY-MM-DD&to=YYYY-MM-DD&format=csv|xlsx` (both days
//!   included; without them, the contract period 2025-06-01 to 2026-03-31)
//!
//! Both answer with the file as an attachment (`Content-Disposition`). The service-level
//! thresholds default to the engine's and may be given per request
//! (`service_level_seconds`, `short_abandon_seconds`).
//!
//! The names, time zone and queue wrap-ups come from the dialplan: `serve` hands them over
//! as an `Extension<Arc<ReportSettings>>` built by `crate::reports::settings_from_dialplan`.
//! Without it (a router built without the layer) the report uses the state's categories and
//! time zone with the default 10 s wrap-up for every queue, and says so in its summary.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use madoguchi_report::{CategoryLabel, OutputFormat, Period, ReportSettings};
use serde::Deserialize;
use utoipa::IntoParams;

use super::api::{error, ApiError};
use super::auth::ManagerOrAdmin;
use super::AppState;
use crate::reports::{produce, ReportFailure};

const MAX_THRESHOLD_S: u64 = 3_600;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthlyParams {
    /// The month, YYYY-MM (local dates of the hotline).
    month: String,
    /// `xlsx` (default) or `csv`.
    format: Option<String>,
    /// Answered within this many seconds counts for the service level (default 20).
    service_level_seconds: Option<u64>,
    /// Abandons within this many seconds are left out of the service level (default 5).
    short_abandon_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FinalParams {
    /// First day, YYYY-MM-DD (default 2025-06-01, the contract's start).
    from: Option<String>,
    /// Last day, included, YYYY-MM-DD (default 2026-03-31, the contract's end).
    to: Option<String>,
    /// `xlsx` (default) or `csv`.
    format: Option<String>,
    /// Answered within this many seconds counts for the service level (default 20).
    service_level_seconds: Option<u64>,
    /// Abandons within this many seconds are left out of the service level (default 5).
    short_abandon_seconds: Option<u64>,
}

/// The monthly report as a file.
#[utoipa::path(get, path = "/api/v1/reports/monthly", params(MonthlyParams),
    responses(
        (status = 200, description = "The report as an attachment: XLSX, or CSV (UTF-8 with BOM)"),
        (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 503, body = ApiError)))]
pub(super) async fn monthly(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
    configured: Option<Extension<Arc<ReportSettings>>>,
    params: Result<Query<MonthlyParams>, QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let period = match Period::parse_month(&p.month) {
        Ok(period) => period,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let thresholds = (p.service_level_seconds, p.short_abandon_seconds);
    respond(&state, configured, period, p.format.as_deref(), thresholds).await
}

/// The final report (a range of days) as a file.
#[utoipa::path(get, path = "/api/v1/reports/final", params(FinalParams),
    responses(
        (status = 200, description = "The report as an attachment: XLSX, or CSV (UTF-8 with BOM)"),
        (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 503, body = ApiError)))]
pub(super) async fn final_report(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
    configured: Option<Extension<Arc<ReportSettings>>>,
    params: Result<Query<FinalParams>, QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let contract = Period::contract();
    let period = match (p.from.as_deref(), p.to.as_deref()) {
        (None, None) => Ok(contract),
        (from, to) => Period::parse_range(
            from.unwrap_or(&contract.first.format("%Y-%m-%d").to_string()),
            to.unwrap_or(&contract.last.format("%Y-%m-%d").to_string()),
        ),
    };
    let period = match period {
        Ok(period) => period,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let thresholds = (p.service_level_seconds, p.short_abandon_seconds);
    respond(&state, configured, period, p.format.as_deref(), thresholds).await
}

async fn respond(
    state: &AppState,
    configured: Option<Extension<Arc<ReportSettings>>>,
    period: Period,
    format: Option<&str>,
    (within, short): (Option<u64>, Option<u64>),
) -> Response {
    let format: OutputFormat = match format.unwrap_or("xlsx").parse() {
        Ok(format) => format,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("format: {e}")),
    };
    if within.is_some_and(|s| s == 0 || s > MAX_THRESHOLD_S)
        || short.is_some_and(|s| s > MAX_THRESHOLD_S)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("thresholds must be within 1..={MAX_THRESHOLD_S} s (short abandons 0..)"),
        );
    }
    let mut settings = match configured {
        Some(Extension(settings)) => settings.as_ref().clone(),
        None => fallback_settings(state),
    };
    if let Some(s) = within {
        settings.answered_within = Duration::from_secs(s);
    }
    if let Some(s) = short {
        settings.short_abandon = Duration::from_secs(s);
    }
    match produce(&state.store, &settings, period, format).await {
        Ok((report, bytes)) => {
            let name = format!("{}.{}", report.period.file_stem(), format.extension());
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                .unwrap_or(HeaderValue::from_static("attachment"));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(format.content_type()),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                bytes,
            )
                .into_response()
        }
        Err(ReportFailure::Period(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(ReportFailure::Store(e)) => {
            tracing::warn!(error = %e, "reading report figures failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
        Err(ReportFailure::Render(e)) => {
            tracing::warn!(error = %e, "writing a report file failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the report could not be written",
            )
        }
    }
}

/// Settings from what the state knows when `serve` handed over none.
fn fallback_settings(state: &AppState) -> ReportSettings {
    let mut settings = ReportSettings::new(state.time_zone);
    settings.categories = state
        .categories
        .iter()
        .map(|c| CategoryLabel {
            code: c.code.clone(),
            label: c.label.clone(),
        })
        .collect();
    settings
}
