//! Alerts for managers: a complaint flag raised on a call is pushed at once to every open
//! `GET /api/v1/complaints/stream` (Server-Sent Events), and `GET /api/v1/complaints` lists
//! those already filed (today's by default), so a board opened — or reconnected — late
//! still shows them. Managers and admins only. Both name the call, the operator, the
//! category and the outcome — never the note or the caller's number; the manager opens the
//! call for those.
//!
//! A board subscribes to the stream first and lists once the stream is open: a complaint
//! filed in between is then in one or both, never in neither (the board keeps one per call).

use std::convert::Infallible;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};
use madoguchi_store::MAX_COMPLAINTS;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::auth::ManagerOrAdmin;
use super::classification::ComplaintFiled;
use super::AppState;

/// How many complaints `GET /api/v1/complaints` lists without a `limit`.
const DEFAULT_LIMIT: u32 = 50;

/// Complaints filed from now on, one `complaint` event each.
#[utoipa::path(get, path = "/api/v1/complaints/stream",
    responses((status = 200, description = "text/event-stream of `complaint` events"),
        (status = 401, body = super::api::ApiError), (status = 403, body = super::api::ApiError)))]
pub async fn complaints_stream(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let filed = state.complaints.subscribe();
    let events = stream::unfold(filed, |mut filed| async move {
        loop {
            match filed.recv().await {
                Ok(complaint) => {
                    let event = Event::default()
                        .event("complaint")
                        .json_data(&complaint)
                        .unwrap_or_else(|_| Event::default().event("error"));
                    return Some((Ok(event), filed));
                }
                // A manager this far behind still hears of the newer ones.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentParams {
    /// Complaints filed at or after this instant (RFC 3339; percent-encode a `+` offset).
    /// Default: the hotline's local midnight today.
    since: Option<String>,
    /// At most this many, newest first: 1–200 (default 50).
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecentComplaints {
    /// Newest first; each as the stream's `complaint` event: call_id, operator, category,
    /// outcome, at.
    #[schema(value_type = Vec<Object>)]
    complaints: Vec<ComplaintFiled>,
}

/// The complaints already filed (the current classification of each call carries the
/// flag), newest first: what the board lists when it opens and after its stream reconnects.
#[utoipa::path(get, path = "/api/v1/complaints", params(RecentParams),
    responses((status = 200, body = RecentComplaints), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn recent_complaints(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
    params: Result<Query<RecentParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let since = match params.since.as_deref() {
        None => local_start_of_day(Utc::now(), state.time_zone),
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(since) => since.with_timezone(&Utc),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "since must be an RFC 3339 instant such as 2026-01-05T09:00:00%2B09:00",
                )
            }
        },
    };
    let limit = match params.limit.as_deref().map(str::parse::<u32>) {
        None => DEFAULT_LIMIT,
        Some(Ok(limit)) if (1..=MAX_COMPLAINTS).contains(&limit) => limit,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("limit must be a whole number within 1..={MAX_COMPLAINTS}"),
            )
        }
    };
    match state.store.complaints_since(since, limit).await {
        Ok(found) => Json(RecentComplaints {
            complaints: found
                .into_iter()
                .map(|c| ComplaintFiled {
                    call_id: c.call_id,
                    operator: c.operator,
                    category: c.category,
                    outcome: c.outcome,
                    at: c.updated_at,
                })
                .collect(),
        })
        .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "listing complaints failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

/// The first instant of `now`'s local date in `zone`: midnight, or the end of the gap
/// where a clock change skips midnight (as in America/Santiago each September).
fn local_start_of_day(now: DateTime<Utc>, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let date = now.with_timezone(&zone).date_naive();
    (0..24)
        .filter_map(|hour| date.and_hms_opt(hour, 0, 0))
        .find_map(|t| t.and_local_timezone(zone).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instants are RFC 3339")
            .with_timezone(&Utc)
    }

    #[test]
    fn the_day_starts_at_local_midnight_not_utc_midnight() {
        // 08:59 in Tokyo on 5 January is still 4 January in UTC.
        let now = utc("2026-01-04T23:59:00Z");
        assert_eq!(
            local_start_of_day(now, chrono_tz::Asia::Tokyo),
            utc("2026-01-04T15:00:00Z")
        );
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clock_resumes() {
        // Chile moved its clocks from 00:00 to 01:00 on 8 September 2024.
        let zone = chrono_tz::America::Santiago;
        let now = zone
            .with_ymd_and_hms(2024, 9, 8, 12, 0, 0)
            .single()
            .expect("noon exists")
            .with_timezone(&Utc);
        let start = local_start_of_day(now, zone);
        assert_eq!(start, utc("2024-09-08T04:00:00Z"));
        assert_eq!(
            start.with_timezone(&zone).format("%H:%M").to_string(),
            "01:00"
        );
    }
}
