//! Pausing and resuming a call's recording over HTTP, for operators on SIP phones (the
//! browser console does the same over its socket) and for scripts:
//! `POST /api/v1/calls/{id}/recording/pause`, `…/resume` and `…/start` (a call recorded on
//! demand). An agent acts on the call they are talking on; managers and admins on any.
//! 204 when done, 404 for a call that is not live (or not the agent's), 409 when the
//! recording cannot do that now (not recorded, already paused, …).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use super::api::{error, ApiError};
use super::auth::Authenticated;
use super::live::EngineRequest;
use super::AppState;
use crate::engine::console::ConsoleError;
use crate::engine::RecordingAction;

/// Silence from now on (the caller reads out a card number or PIN).
#[utoipa::path(post, path = "/api/v1/calls/{id}/recording/pause",
    params(("id" = String, Path, description = "call id")),
    responses((status = 204, description = "paused"), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn pause(
    caller: Authenticated,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
) -> Response {
    act(&state, &caller, call_id, RecordingAction::Pause).await
}

/// Record again after a pause.
#[utoipa::path(post, path = "/api/v1/calls/{id}/recording/resume",
    params(("id" = String, Path, description = "call id")),
    responses((status = 204, description = "recording again"), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn resume(
    caller: Authenticated,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
) -> Response {
    act(&state, &caller, call_id, RecordingAction::Resume).await
}

/// Start recording a call whose dialplan says `recording = "on_demand"`.
#[utoipa::path(post, path = "/api/v1/calls/{id}/recording/start",
    params(("id" = String, Path, description = "call id")),
    responses((status = 204, description = "recording"), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn start(
    caller: Authenticated,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
) -> Response {
    act(&state, &caller, call_id, RecordingAction::Start).await
}

async fn act(
    state: &AppState,
    caller: &Authenticated,
    call_id: String,
    action: RecordingAction,
) -> Response {
    let login = (!caller.is_manager()).then(|| caller.login.clone());
    let (reply, answer) = oneshot::channel();
    let request = EngineRequest::Recording {
        call_id,
        login,
        action,
        reply,
    };
    if state.engine.requests.send(request).await.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping");
    }
    match answer.await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e @ ConsoleError::NotYourCall(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping"),
    }
}
