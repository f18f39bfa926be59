//! Live listen-in, whisper and barge over HTTP, for managers and admins on the board:
//! `POST /api/v1/calls/{id}/monitor` `{"mode":"listen"}` rings the signed-in manager's
//! registered SIP phone and, once it answers, mixes it into the call; `PUT …/monitor`
//! `{"mode":"whisper"}` switches who hears the manager; `DELETE …/monitor` hangs their phone
//! up (the call goes on).
//!
//! Listening in on a citizen's call is an access to personal data: each request is written to
//! the audit log (`call.monitor`, detail: the mode or `stop`) before the engine acts, and is
//! refused with 503 when the log cannot hold it.
//! 202 (the phone rings) / 204 (done), 404 for a call that is not live, 409 when it cannot be
//! done now (with the reason), 422 for an unknown mode.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use madoguchi_media::mix::MixMode;
use serde::Deserialize;
use tokio::sync::oneshot;
use utoipa::ToSchema;

use super::api::{error, ApiError};
use super::audit::{record_access, Peer};
use super::auth::ManagerOrAdmin;
use super::live::EngineRequest;
use super::AppState;
use crate::engine::{MonitorError, MonitorRequest};

/// The audit log's name for joining, switching or leaving a live call.
pub const CALL_MONITOR: &str = "call.monitor";

#[derive(Debug, Deserialize, ToSchema)]
pub struct MonitorBody {
    /// "listen" (silent), "whisper" (the operator hears the manager, the caller does not) or
    /// "barge" (a three-way call).
    mode: String,
}

fn parse_mode(mode: &str) -> Option<MixMode> {
    match mode {
        "listen" => Some(MixMode::Listen),
        "whisper" => Some(MixMode::Whisper),
        "barge" => Some(MixMode::Barge),
        _ => None,
    }
}

/// The mode a body asks for, or the response refusing it.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn mode_of(body: Result<Json<MonitorBody>, JsonRejection>) -> Result<(MixMode, String), Response> {
    let Json(body) = body.map_err(|r| error(StatusCode::BAD_REQUEST, r.body_text()))?;
    match parse_mode(&body.mode) {
        Some(mode) => Ok((mode, body.mode)),
        None => Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "mode must be \"listen\", \"whisper\" or \"barge\"",
        )),
    }
}

/// Join a live call from the signed-in manager's registered SIP phone.
#[utoipa::path(post, path = "/api/v1/calls/{id}/monitor", request_body = MonitorBody,
    params(("id" = String, Path, description = "call id")),
    responses((status = 202, description = "the manager's phone rings"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "not with an operator, already monitored, or no registered phone"),
        (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn start(
    ManagerOrAdmin(caller): ManagerOrAdmin,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    peer: Peer,
    body: Result<Json<MonitorBody>, JsonRejection>,
) -> Response {
    let (mode, name) = match mode_of(body) {
        Ok(mode) => mode,
        Err(refused) => return refused,
    };
    if let Err(refused) = record_access(
        &state,
        &caller,
        &peer,
        CALL_MONITOR,
        Some(&call_id),
        Some(name),
    )
    .await
    {
        return refused;
    }
    let request = MonitorRequest::Start {
        supervisor: caller.login.clone(),
        mode,
    };
    ask(&state, call_id, request, StatusCode::ACCEPTED).await
}

/// Switch between listening, whispering and barging in.
#[utoipa::path(put, path = "/api/v1/calls/{id}/monitor", request_body = MonitorBody,
    params(("id" = String, Path, description = "call id")),
    responses((status = 204, description = "switched"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "nobody monitors the call"),
        (status = 422, body = ApiError), (status = 503, body = ApiError)))]
pub async fn switch(
    ManagerOrAdmin(caller): ManagerOrAdmin,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    peer: Peer,
    body: Result<Json<MonitorBody>, JsonRejection>,
) -> Response {
    let (mode, name) = match mode_of(body) {
        Ok(mode) => mode,
        Err(refused) => return refused,
    };
    if let Err(refused) = record_access(
        &state,
        &caller,
        &peer,
        CALL_MONITOR,
        Some(&call_id),
        Some(name),
    )
    .await
    {
        return refused;
    }
    ask(
        &state,
        call_id,
        MonitorRequest::Mode(mode),
        StatusCode::NO_CONTENT,
    )
    .await
}

/// Leave the call: the manager's phone is hung up, the call goes on.
#[utoipa::path(delete, path = "/api/v1/calls/{id}/monitor",
    params(("id" = String, Path, description = "call id")),
    responses((status = 204, description = "the manager left"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "nobody monitors the call"),
        (status = 503, body = ApiError)))]
pub async fn stop(
    ManagerOrAdmin(caller): ManagerOrAdmin,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    peer: Peer,
) -> Response {
    let stop = Some("stop".to_owned());
    if let Err(refused) =
        record_access(&state, &caller, &peer, CALL_MONITOR, Some(&call_id), stop).await
    {
        return refused;
    }
    ask(
        &state,
        call_id,
        MonitorRequest::Stop,
        StatusCode::NO_CONTENT,
    )
    .await
}

async fn ask(
    state: &AppState,
    call_id: String,
    request: MonitorRequest,
    done: StatusCode,
) -> Response {
    let (reply, answer) = oneshot::channel();
    let sent = state
        .engine
        .requests
        .send(EngineRequest::Monitor {
            call_id,
            request,
            reply,
        })
        .await;
    if sent.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping");
    }
    match answer.await {
        Ok(Ok(())) => done.into_response(),
        Ok(Err(e @ MonitorError::UnknownCall(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_modes_parse_and_nothing_else() {
        assert_eq!(parse_mode("listen"), Some(MixMode::Listen));
        assert_eq!(parse_mode("whisper"), Some(MixMode::Whisper));
        assert_eq!(parse_mode("barge"), Some(MixMode::Barge));
        assert_eq!(parse_mode("Listen"), None);
        assert_eq!(parse_mode(""), None);
    }
}
