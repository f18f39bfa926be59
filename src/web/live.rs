//! The live queue state and the operator controls: `GET /api/v1/queues`, its push stream
//! (Server-Sent Events), `POST /api/v1/agents/{login}/state` and
//! `POST /api/v1/calls/{id}/transfer`.
//!
//! The engine task publishes a snapshot into a `watch` channel whenever something changes;
//! readers take the latest one, so a hundred dashboards cost the engine nothing and the
//! database is never asked. Changes go to the engine task as requests with a reply channel.
//! With several nodes the queues and their stream show the whole center (`crate::cluster`
//! merges the other nodes' callers and operators in); consoles keep this node's snapshot.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::{self, Stream};
use madoguchi_sip::LegId;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use utoipa::ToSchema;

use super::api::{error, ApiError};
use super::AppState;
use crate::engine::cluster::RemoteOperator;
use crate::engine::console::{ConsoleCommand, ConsoleError, ConsoleEvent, ConsoleView};
use crate::engine::{
    Counters, DirectoryEntry, LiveState, OperatorError, RecordingAction, StatusRequest,
    TransferError,
};
use crate::net::rtp::WebRtcRequest;

/// What the HTTP edge asks of the engine task.
pub enum EngineRequest {
    Status {
        login: String,
        request: StatusRequest,
        reply: oneshot::Sender<Result<(), OperatorError>>,
    },
    Transfer {
        call_id: String,
        target: String,
        reply: oneshot::Sender<Result<(), TransferError>>,
    },
    /// `login` filed a classification: a wrap-up of theirs ends now.
    ClassificationFiled { login: String },
    /// The users as the store has them now (refreshed periodically).
    Directory(Vec<DirectoryEntry>),
    /// A leg id for a console's media, before the media runtime opens it.
    ReserveConsoleLeg { reply: oneshot::Sender<LegId> },
    /// `login`'s console has its audio up on `leg`.
    ConsoleAttach {
        login: String,
        leg: LegId,
        reply: oneshot::Sender<Result<(), ConsoleError>>,
    },
    /// `login`'s console signed out, or its audio is gone.
    ConsoleDetach { login: String },
    /// `login`'s console, if it has its audio up, and its call (a reconnecting socket asks).
    ConsoleView {
        login: String,
        reply: oneshot::Sender<Option<ConsoleView>>,
    },
    Console {
        login: String,
        command: ConsoleCommand,
        reply: oneshot::Sender<Result<(), ConsoleError>>,
    },
    /// A manager joins a call from their phone, switches mode, or leaves.
    Monitor {
        call_id: String,
        request: crate::engine::MonitorRequest,
        reply: oneshot::Sender<Result<(), crate::engine::MonitorError>>,
    },
    /// Put a checked dialplan and its prompts in force for new calls (`crate::reload`).
    Reload {
        dialplan: Arc<madoguchi_dialplan::Dialplan>,
        prompts: Arc<crate::engine::PromptIndex>,
        reply: oneshot::Sender<crate::engine::ReloadSummary>,
    },
    /// Start, pause or resume a call's recording (`login`: its operator; None: a manager).
    Recording {
        call_id: String,
        login: Option<String>,
        action: RecordingAction,
        reply: oneshot::Sender<Result<(), ConsoleError>>,
    },
    /// Another node stored a call record (`crate::cluster`): it counts on this board too.
    RemoteRecord(Box<madoguchi_store::CallRecord>),
    /// Another node is alive with these operators; it takes calls from peers at `sip`.
    RemoteNode {
        node_id: String,
        sip: SocketAddr,
        operators: Vec<RemoteOperator>,
    },
    /// Another node stopped publishing: its operators are offered no calls.
    ForgetNode { node_id: String },
    /// The start of the local day (today's figures are re-read from it).
    LocalMidnight {
        reply: oneshot::Sender<(DateTime<Utc>, NaiveDate)>,
    },
    /// Today's figures re-read from the store, replacing the board's (the news bus lost
    /// some while it reconnected).
    Reseed {
        counters: Counters,
        records: Vec<madoguchi_store::CallRecord>,
        wrap_ups: Vec<madoguchi_store::WrapUp>,
    },
}

/// The web side of the engine task.
#[derive(Clone)]
pub struct EngineLink {
    pub requests: mpsc::Sender<EngineRequest>,
    pub live: watch::Receiver<Arc<LiveState>>,
    /// The whole center's live state: this node's alone unless it is one of several.
    pub center: watch::Receiver<Arc<LiveState>>,
    /// Every console's events; each console's socket keeps its own operator's.
    pub console: broadcast::Sender<Arc<ConsoleEvent>>,
    /// Browser audio legs, opened and closed by the media runtime.
    pub webrtc: mpsc::UnboundedSender<WebRtcRequest>,
}

/// The latest snapshot with wait times brought up to this instant.
fn current(live: &watch::Receiver<Arc<LiveState>>) -> LiveState {
    let mut state = (**live.borrow()).clone();
    let now = Utc::now();
    for queue in &mut state.queues {
        for caller in &mut queue.waiting {
            caller.waited_s = (now - caller.since).num_seconds().max(0);
        }
        queue.longest_wait_s = queue.waiting.iter().map(|w| w.waited_s).max().unwrap_or(0);
    }
    for operator in &mut state.operators {
        operator.seconds_in_state = (now - operator.since).num_seconds().max(0);
    }
    state.at = now;
    state
}

/// Callers waiting in each queue with their wait, operators by state with the time in it, and
/// today's counters. Caller numbers are not included.
#[utoipa::path(get, path = "/api/v1/queues",
    responses((status = 200, description = "live state", body = Object)))]
pub async fn queues(State(state): State<AppState>) -> Response {
    Json(current(&state.engine.center)).into_response()
}

/// The same state pushed as Server-Sent Events (`event: state`) on every change, and at
/// least every 5 s so wait times move on a wall display.
#[utoipa::path(get, path = "/api/v1/queues/stream",
    responses((status = 200, description = "text/event-stream of live states")))]
pub async fn queues_stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut live = state.engine.center.clone();
    live.mark_changed();
    let events = stream::unfold(live, |mut live| async move {
        // A closed channel (engine stopped) ends the stream.
        if let Ok(Err(_)) = tokio::time::timeout(Duration::from_secs(5), live.changed()).await {
            return None;
        }
        let snapshot = current(&live);
        let event = Event::default()
            .event("state")
            .json_data(&snapshot)
            .unwrap_or_else(|_| Event::default().event("error"));
        Some((Ok(event), live))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StateChange {
    /// "available", "paused" or "logged_out".
    state: String,
    /// For "paused": break, lunch, training, meeting or no_answer.
    reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct StateChanged {
    login: String,
    state: String,
}

/// Changes an operator's status (also ends a wrap-up early with "available").
#[utoipa::path(post, path = "/api/v1/agents/{login}/state", request_body = StateChange,
    params(("login" = String, Path, description = "operator login")),
    responses((status = 200, body = StateChanged), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn set_agent_state(
    State(state): State<AppState>,
    Path(login): Path<String>,
    body: Result<Json<StateChange>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(change) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let request = match (change.state.as_str(), change.reason) {
        ("available", _) => StatusRequest::Available,
        ("logged_out", _) => StatusRequest::LoggedOut,
        ("paused", reason) => StatusRequest::Paused {
            reason: reason.unwrap_or_else(|| "break".to_owned()),
        },
        (other, _) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("state {other:?} is not one of available, paused, logged_out"),
            )
        }
    };
    let (reply, answer) = oneshot::channel();
    let sent = state
        .engine
        .requests
        .send(EngineRequest::Status {
            login: login.clone(),
            request,
            reply,
        })
        .await;
    if sent.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping");
    }
    match answer.await {
        Ok(Ok(())) => Json(StateChanged {
            login,
            state: change.state,
        })
        .into_response(),
        Ok(Err(e @ OperatorError::UnknownLogin(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e @ OperatorError::UnknownReason(_))) => {
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping"),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// A dialplan target, e.g. "city_line".
    target: String,
}

/// Blind transfer of a call that is with an operator to a dialplan target.
#[utoipa::path(post, path = "/api/v1/calls/{id}/transfer", request_body = TransferRequest,
    params(("id" = String, Path, description = "call id")),
    responses((status = 202, description = "transfer started"), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn transfer_call(
    caller: super::auth::Authenticated,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    body: Result<Json<TransferRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    // An agent transfers the call they are on, not another operator's; managers and admins
    // any. (A call no operator is on is left to the engine: 404 or 409.)
    let someone_elses = || {
        state.engine.live.borrow().operators.iter().any(|o| {
            o.state == "on_call"
                && o.call_id.as_deref() == Some(call_id.as_str())
                && o.login != caller.login
        })
    };
    if !caller.is_manager() && someone_elses() {
        return error(
            StatusCode::FORBIDDEN,
            "agents transfer only the call they are on",
        );
    }
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let (reply, answer) = oneshot::channel();
    let sent = state
        .engine
        .requests
        .send(EngineRequest::Transfer {
            call_id,
            target: body.target,
            reply,
        })
        .await;
    if sent.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping");
    }
    match answer.await {
        Ok(Ok(())) => StatusCode::ACCEPTED.into_response(),
        Ok(Err(e @ TransferError::UnknownCall(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e @ TransferError::UnknownTarget(_))) => {
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping"),
    }
}
