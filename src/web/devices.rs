//! The counter's devices over HTTP (design §3): each device beats with its own token, and
//! managers see the devices' last beats.
//!
//! - `POST /api/v1/devices/heartbeat` with `Authorization: Bearer mdg_dev_…` (a device
//!   token from `madoguchi device add`, never a user's API token or session) and
//!   `{"status": "ok"|"warning"|"error", "detail": "…" (≤ 200 characters), "rtt_ms": 85,
//!   "seq": 12}` → 200 `{"server_time": "…", "every_s": 30}`. 401 names why the token is
//!   refused (missing, unknown or revoked look alike: "unknown or revoked"); a bad body is a
//!   400 (not a JSON object) or a 422 naming the field; beats of one device less than
//!   [`MIN_BEAT_GAP`] apart are 429 with `Retry-After`.
//! - `GET /api/v1/devices` (managers, admins): every device not revoked, with its last
//!   beat's age, RTT, status, whether it is silent (and since when) and whether that silence
//!   is alerted now (`alert`: within the dialplan's `[devices] calendar`).
//! - `GET /api/v1/devices/stream` (managers, admins): Server-Sent Events, one `device` event
//!   per silence this node found and per device back ([`crate::devices::DeviceAlert`]). With
//!   two nodes each silence is sent by the node that found it only; a board on the other
//!   node sees it in the list, which it reads again every 30 s.
//!
//! A device token is looked up only among devices: `super::auth` looks bearer tokens up
//! among API tokens, where a device token's hash is not, so it opens nothing else.
//! CSRF: a request with `Authorization` passes `super::csrf` (browsers do not add one).
//! Tokens are never logged; a beat is logged at debug with the device id only.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};
use madoguchi_store::{
    Beat, Device, DeviceError, DeviceStatus, Secret, DEVICE_TOKEN_PREFIX, MAX_DEVICE_DETAIL_CHARS,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;
use utoipa::ToSchema;

use super::api::{error, ApiError};
use super::auth::ManagerOrAdmin;
use super::AppState;
use crate::devices::DeviceAlert;

/// How often a device is asked to beat.
pub const EVERY_S: u32 = 30;
/// Beats of one device closer than this are refused (429).
pub const MIN_BEAT_GAP: Duration = Duration::from_secs(5);
/// The largest RTT a beat may report, in milliseconds (an hour: anything above is a bug).
const MAX_RTT_MS: u64 = 3_600_000;

/// When each device's last accepted beat came in (this node's memory: a restart forgets).
#[derive(Default)]
pub struct BeatGate {
    last: Mutex<HashMap<String, Instant>>,
}

impl BeatGate {
    /// Admits a beat of `device` at `now`, or says how long it must wait.
    fn admit(&self, device: &str, now: Instant) -> Result<(), Duration> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        admit(last.get(device).copied(), now)?;
        last.insert(device.to_owned(), now);
        Ok(())
    }
}

/// The rule: a beat at least [`MIN_BEAT_GAP`] after the previous accepted one passes.
fn admit(previous: Option<Instant>, now: Instant) -> Result<(), Duration> {
    match previous {
        Some(at) if now.saturating_duration_since(at) < MIN_BEAT_GAP => {
            Err(MIN_BEAT_GAP - now.saturating_duration_since(at))
        }
        _ => Ok(()),
    }
}

/// The heartbeat route, outside `require_auth` (a device token is no user's credential).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/devices/heartbeat", post(heartbeat))
        .layer(Extension(Arc::new(BeatGate::default())))
}

/// A 422 naming the field at fault.
fn invalid(field: &str, message: impl std::fmt::Display) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(serde_json::json!({
            "error": format!("{field}: {message}"),
            "field": field,
        })),
    )
        .into_response()
}

fn store_unavailable(err: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %err, "device store access failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// The device token of the `Authorization` header; `Err` is the reason to refuse it.
fn device_token(headers: &HeaderMap) -> Result<Secret, &'static str> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or("a device token is required: Authorization: Bearer mdg_dev_…")?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or("Authorization must be Bearer mdg_dev_…")?;
    if !token.starts_with(DEVICE_TOKEN_PREFIX) {
        return Err("not a device token (mdg_dev_…): user tokens and sessions cannot beat");
    }
    Ok(Secret::new(token))
}

/// The beat a body describes; `Err` is the 400 or 422 to send.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn check_beat(body: &Map<String, Value>) -> Result<Beat, Response> {
    let status = match body.get("status") {
        Some(Value::String(name)) => name.parse::<DeviceStatus>().map_err(|_| {
            invalid(
                "status",
                format!("{name:?} is not one of ok, warning, error"),
            )
        })?,
        Some(_) => return Err(invalid("status", "must be a string")),
        None => return Err(invalid("status", "is required: ok, warning or error")),
    };
    let detail = match body.get("detail") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.chars().count() > MAX_DEVICE_DETAIL_CHARS => {
            return Err(invalid(
                "detail",
                format!("is longer than {MAX_DEVICE_DETAIL_CHARS} characters"),
            ))
        }
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(invalid("detail", "must be a string or null")),
    };
    let rtt_ms = match body.get("rtt_ms") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(ms) if (0.0..=MAX_RTT_MS as f64).contains(&ms) => Some(ms.round() as u32),
            _ => {
                return Err(invalid(
                    "rtt_ms",
                    format!("must be 0 to {MAX_RTT_MS} milliseconds"),
                ))
            }
        },
        Some(_) => return Err(invalid("rtt_ms", "must be a number or null")),
    };
    match body.get("seq") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64().is_some() => {}
        Some(_) => return Err(invalid("seq", "must be a whole number from 0")),
    }
    Ok(Beat {
        status,
        detail,
        rtt_ms,
    })
}

/// The answer to a beat.
#[derive(Debug, Serialize, ToSchema)]
pub struct BeatReply {
    /// The server's clock when the beat was recorded.
    server_time: DateTime<Utc>,
    /// Seconds until the next beat is due.
    every_s: u32,
}

/// A device's heartbeat (a device token only: `madoguchi device add` prints it).
#[utoipa::path(post, path = "/api/v1/devices/heartbeat", security(("bearer" = [])),
    request_body(content = Object, description = "{status: ok|warning|error, detail?: string (≤ 200), rtt_ms?: number|null (the previous beat's round trip), seq?: number}"),
    responses((status = 200, body = BeatReply), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 422, body = ApiError),
        (status = 429, body = ApiError), (status = 503, body = ApiError)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    Extension(gate): Extension<Arc<BeatGate>>,
    headers: HeaderMap,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let token = match device_token(&headers) {
        Ok(token) => token,
        Err(reason) => return error(StatusCode::UNAUTHORIZED, reason),
    };
    let device = match state.store.device_by_token(&token).await {
        Ok(Some(device)) => device,
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "unknown or revoked device token"),
        Err(e) => return store_unavailable(&e),
    };
    let beat = match body {
        Ok(Json(Value::Object(fields))) => match check_beat(&fields) {
            Ok(beat) => beat,
            Err(refused) => return refused,
        },
        Ok(_) => return error(StatusCode::BAD_REQUEST, "the body must be a JSON object"),
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    if let Err(wait) = gate.admit(&device.id, Instant::now()) {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "beats come at least {} s apart (every {EVERY_S} s is enough)",
                MIN_BEAT_GAP.as_secs()
            ),
        );
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    let now = Utc::now();
    match state.store.device_beat(&device.id, now, &beat).await {
        Ok(outcome) => {
            tracing::debug!(device = %device.id, status = %beat.status, "device beat");
            if let Some(gap) = outcome.was_silent {
                tracing::info!(device = %device.id, silent_s = gap.num_seconds(), "device back");
                state.devices.send(DeviceAlert::Back {
                    device: outcome.device.id.clone(),
                    label: outcome.device.label.clone(),
                    location: outcome.device.location.clone(),
                    at: now,
                    silent_ms: u64::try_from(gap.num_milliseconds()).unwrap_or(0),
                });
            }
            Json(BeatReply {
                server_time: now,
                every_s: EVERY_S,
            })
            .into_response()
        }
        Err(DeviceError::NotFound) => {
            error(StatusCode::UNAUTHORIZED, "unknown or revoked device token")
        }
        Err(DeviceError::Store(e)) => store_unavailable(&e),
        Err(other) => match other.field() {
            Some(field) => invalid(field, other),
            None => error(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
        },
    }
}

/// One device on the board.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    id: String,
    label: String,
    location: String,
    /// tablet, pc, kiosk …
    kind: String,
    /// Silent after this many seconds without a beat.
    silent_after_s: u32,
    /// The last beat; `null` for a device never heard from.
    last_seen_at: Option<DateTime<Utc>>,
    /// Seconds since the last beat (by this server's clock).
    last_beat_age_s: Option<i64>,
    /// The round trip the device measured for its beat before the last, in ms.
    last_rtt_ms: Option<u32>,
    /// ok, warning or error, as the device said in its last beat.
    #[schema(value_type = Option<String>)]
    last_status: Option<DeviceStatus>,
    last_detail: Option<String>,
    /// Found silent and not heard from since.
    silent: bool,
    silent_since: Option<DateTime<Utc>>,
    /// Silent while the devices' calendar is open: the board raises its banner.
    alert: bool,
}

impl DeviceView {
    fn of(device: Device, now: DateTime<Utc>, within_hours: bool) -> DeviceView {
        DeviceView {
            alert: device.silent_since.is_some() && within_hours,
            last_beat_age_s: device
                .last_seen_at
                .map(|at| (now - at).num_seconds().max(0)),
            silent: device.silent_since.is_some(),
            id: device.id,
            label: device.label,
            location: device.location,
            kind: device.kind,
            silent_after_s: device.silent_after_s,
            last_seen_at: device.last_seen_at,
            last_rtt_ms: device.last_rtt_ms,
            last_status: device.last_status,
            last_detail: device.last_detail,
            silent_since: device.silent_since,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    /// The devices not revoked, by id.
    devices: Vec<DeviceView>,
    /// The server's clock, which the ages are counted from.
    server_time: DateTime<Utc>,
}

/// The counter's devices and their last beats (managers and admins).
#[utoipa::path(get, path = "/api/v1/devices",
    responses((status = 200, body = DeviceList), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 503, body = ApiError)))]
pub async fn list(_manager: ManagerOrAdmin, State(state): State<AppState>) -> Response {
    match state.store.devices().await {
        Ok(devices) => {
            let now = Utc::now();
            let within_hours = state.devices.alerts_at(now);
            Json(DeviceList {
                devices: devices
                    .into_iter()
                    .filter(|d| d.revoked_at.is_none())
                    .map(|d| DeviceView::of(d, now, within_hours))
                    .collect(),
                server_time: now,
            })
            .into_response()
        }
        Err(e) => store_unavailable(&e),
    }
}

/// Devices found silent and back from now on, one `device` event each (managers, admins).
#[utoipa::path(get, path = "/api/v1/devices/stream",
    responses((status = 200, description = "text/event-stream of `device` events: {kind: silent, device, label, location, last_seen_at, silent_since, alert} or {kind: back, device, label, location, at, silent_ms}"),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn stream(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let alerts = state.devices.subscribe();
    let events = stream::unfold(alerts, |mut alerts| async move {
        loop {
            match alerts.recv().await {
                Ok(alert) => {
                    let event = Event::default()
                        .event("device")
                        .json_data(&alert)
                        .unwrap_or_else(|_| Event::default().event("error"));
                    return Some((Ok(event), alerts));
                }
                // A board this far behind reads the list again anyway.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: Value) -> Map<String, Value> {
        match json {
            Value::Object(fields) => fields,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn a_second_beat_within_five_seconds_waits_for_the_rest() {
        let first = Instant::now();
        assert_eq!(admit(None, first), Ok(()));
        assert_eq!(
            admit(Some(first), first + Duration::from_secs(3)),
            Err(Duration::from_secs(2))
        );
        assert_eq!(admit(Some(first), first + MIN_BEAT_GAP), Ok(()));
    }

    #[test]
    fn the_gate_counts_each_device_apart() {
        let gate = BeatGate::default();
        let now = Instant::now();
        assert!(gate.admit("counter-1", now).is_ok());
        assert!(gate.admit("counter-2", now).is_ok());
        assert!(gate.admit("counter-1", now).is_err());
    }

    #[test]
    fn a_user_api_token_is_not_a_device_token() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer mdg_0123abcd"),
        );
        assert!(device_token(&headers).is_err());
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer mdg_dev_x"));
        assert_eq!(device_token(&headers), Ok(Secret::new("mdg_dev_x")));
    }

    #[test]
    fn a_beat_needs_a_known_status() {
        let refused =
            check_beat(&body(serde_json::json!({"status": "fine"}))).expect_err("unknown status");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let beat = check_beat(&body(
            serde_json::json!({"status": "warning", "rtt_ms": 84.6, "seq": 3}),
        ))
        .expect("valid");
        assert_eq!(beat.status, DeviceStatus::Warning);
        assert_eq!(beat.rtt_ms, Some(85));
    }

    #[test]
    fn a_detail_over_200_characters_is_refused() {
        let long = "あ".repeat(MAX_DEVICE_DETAIL_CHARS + 1);
        let refused = check_beat(&body(serde_json::json!({"status": "ok", "detail": long})))
            .expect_err("too long");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let fits = "あ".repeat(MAX_DEVICE_DETAIL_CHARS);
        assert!(check_beat(&body(serde_json::json!({"status": "ok", "detail": fits}))).is_ok());
    }

    #[test]
    fn a_negative_rtt_is_refused() {
        assert!(check_beat(&body(serde_json::json!({"status": "ok", "rtt_ms": -1}))).is_err());
    }
}
