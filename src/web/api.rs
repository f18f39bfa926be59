//! `/api/v1`: call records, paged and filtered by date, with an OpenAPI 3.1 document.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use madoguchi_store::{CallQuery, CallRecord, Disposition, PageStart};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::SecuritySchemes;
use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "madoguchi", description = "Contact-center engine API"),
    paths(
        list_calls,
        get_call,
        super::live::queues,
        super::live::queues_stream,
        super::live::set_agent_state,
        super::live::transfer_call,
        super::auth::sign_in,
        super::auth::who_am_i,
        super::auth::sign_out,
        super::classification::classify,
        super::classification::get_classification,
        super::classification::categories,
        super::classification::my_calls,
        super::faq::search,
        super::faq::get_entry,
        super::faq::create,
        super::faq::update,
        super::faq_editions::publish,
        super::faq_editions::list,
        super::faq_editions::get_edition,
        super::alerts::complaints_stream,
        super::alerts::recent_complaints,
        super::reports::monthly,
        super::reports::final_report,
        super::staffing::week,
        super::staffing::erlang,
        super::counter::record_case,
        super::counter::list_cases,
        super::counter::get_case,
        super::counter::correct_case,
        super::counter::kinds,
        super::counter_hours::hours,
        super::recordings::recording,
        super::recordings::recording_meta,
        super::recording_control::pause,
        super::recording_control::resume,
        super::recording_control::start,
        super::monitor::start,
        super::monitor::switch,
        super::monitor::stop,
        super::audit::audit_log,
        super::reload::reload,
        super::cluster::cluster,
        super::devices::heartbeat,
        super::devices::list,
        super::devices::stream
    ),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("session_cookie" = []))
)]
struct ApiDoc;

/// Every route but the OpenAPI document and signing in needs a bearer token or a session
/// cookie (`super::auth`).
pub fn router(state: &AppState) -> Router<AppState> {
    let protected = Router::new()
        .route("/calls", get(list_calls))
        .route("/calls/{id}", get(get_call))
        .route("/calls/{id}/transfer", post(super::live::transfer_call))
        .route("/queues", get(super::live::queues))
        .route("/queues/stream", get(super::live::queues_stream))
        .route(
            "/agents/{login}/state",
            post(super::live::set_agent_state)
                .layer(axum::middleware::from_fn(super::auth::own_state_only)),
        )
        .route(
            "/session",
            get(super::auth::who_am_i).delete(super::auth::sign_out),
        )
        .route(
            "/calls/{id}/classification",
            get(super::classification::get_classification).post(super::classification::classify),
        )
        .route("/categories", get(super::classification::categories))
        .route("/complaints", get(super::alerts::recent_complaints))
        .route("/complaints/stream", get(super::alerts::complaints_stream))
        .route("/agents/me/calls", get(super::classification::my_calls))
        .route("/reports/monthly", get(super::reports::monthly))
        .route("/reports/final", get(super::reports::final_report))
        .route("/faq", get(super::faq::search).post(super::faq::create))
        .route(
            "/faq/editions",
            get(super::faq_editions::list).post(super::faq_editions::publish),
        )
        .route("/faq/editions/{n}", get(super::faq_editions::get_edition))
        .route(
            "/faq/{id}",
            get(super::faq::get_entry).put(super::faq::update),
        )
        .route(
            "/counter/cases",
            get(super::counter::list_cases).post(super::counter::record_case),
        )
        .route(
            "/counter/cases/{id}",
            get(super::counter::get_case).put(super::counter::correct_case),
        )
        .route("/counter/kinds", get(super::counter::kinds))
        .route("/counter/hours", get(super::counter_hours::hours))
        .route("/staffing", get(super::staffing::week))
        .route("/staffing/erlang", get(super::staffing::erlang))
        .route("/calls/{id}/recording", get(super::recordings::recording))
        .route(
            "/calls/{id}/recording/meta",
            get(super::recordings::recording_meta),
        )
        .route(
            "/calls/{id}/recording/pause",
            post(super::recording_control::pause),
        )
        .route(
            "/calls/{id}/recording/resume",
            post(super::recording_control::resume),
        )
        .route(
            "/calls/{id}/recording/start",
            post(super::recording_control::start),
        )
        .route(
            "/calls/{id}/monitor",
            post(super::monitor::start)
                .put(super::monitor::switch)
                .delete(super::monitor::stop),
        )
        .route("/audit", get(super::audit::audit_log))
        .route("/admin/reload", post(super::reload::reload))
        .route("/cluster", get(super::cluster::cluster))
        .route("/devices", get(super::devices::list))
        .route("/devices/stream", get(super::devices::stream))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::auth::require_auth,
        ));
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/session", post(super::auth::sign_in))
        // A device token is no user's credential: outside `require_auth`.
        .merge(super::devices::router())
        .merge(protected)
}

const MAX_PER_PAGE: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Calls that arrived at or after this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Calls that arrived before this instant (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Only calls that ended so, e.g. `callback_requested` (the board's callback counter
    /// links here).
    disposition: Option<String>,
    /// Page number from 1.
    page: Option<u32>,
    /// Records per page, 1–500 (default 50).
    per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CallPage {
    page: u32,
    per_page: u32,
    total: i64,
    #[schema(value_type = Vec<Object>)]
    calls: Vec<CallRecord>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ApiError {
    error: String,
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ApiError {
            error: message.into(),
        }),
    )
        .into_response()
}

/// Recent call records, newest first (managers and admins: the records hold caller numbers;
/// operators see their own calls at /api/v1/agents/me/calls).
#[utoipa::path(get, path = "/api/v1/calls", params(ListParams),
    responses((status = 200, body = CallPage), (status = 400, body = ApiError),
        (status = 403, body = ApiError)))]
async fn list_calls(
    super::auth::ManagerOrAdmin(caller): super::auth::ManagerOrAdmin,
    State(state): State<AppState>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
    peer: super::audit::Peer,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let page = params.page.unwrap_or(1);
    let per_page = params.per_page.unwrap_or(50);
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        return error(
            StatusCode::BAD_REQUEST,
            format!("page must be >= 1 and per_page within 1..={MAX_PER_PAGE}"),
        );
    }
    if let (Some(from), Some(to)) = (params.from, params.to) {
        if from >= to {
            return error(StatusCode::BAD_REQUEST, "from must be before to");
        }
    }
    let disposition = match params.disposition.as_deref().map(str::parse::<Disposition>) {
        None => None,
        Some(Ok(disposition)) => Some(disposition),
        Some(Err(unknown)) => return error(StatusCode::BAD_REQUEST, unknown.to_string()),
    };
    let query = CallQuery {
        from: params.from,
        to: params.to,
        disposition,
        limit: per_page,
        start: PageStart::Offset(u64::from(page - 1) * u64::from(per_page)),
        ..CallQuery::default()
    };
    match state.store.list_calls(&query).await {
        Ok(result) => {
            // The records hold caller numbers: a page that shows any is an audited access.
            if !result.items.is_empty() {
                let detail = format!(
                    "page={page} per_page={per_page} calls={}",
                    result.items.len()
                );
                let audited = super::audit::record_access(
                    &state,
                    &caller,
                    &peer,
                    madoguchi_store::audit::actions::CALL_LIST,
                    None,
                    Some(detail),
                )
                .await;
                if let Err(refused) = audited {
                    return refused;
                }
            }
            Json(CallPage {
                page,
                per_page,
                total: result.total,
                calls: result.items,
            })
            .into_response()
        }
        Err(err) => {
            tracing::warn!(error = %err, "listing calls failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

/// One call record with its events and its classification (`null` until filed). The record
/// holds the caller's number, so every read is written to the audit log (`call.view`) before
/// it is answered; 503 when the log cannot hold it.
#[utoipa::path(get, path = "/api/v1/calls/{id}", params(("id" = String, Path, description = "call id")),
    responses((status = 200, body = Object), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 503, body = ApiError)))]
async fn get_call(
    caller: super::auth::Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    peer: super::audit::Peer,
) -> Response {
    match state.store.get_call(&id).await {
        // An operator sees the calls they took; managers and admins see all.
        Ok(Some(call))
            if !caller.is_manager() && call.operator.as_deref() != Some(caller.login.as_str()) =>
        {
            error(
                StatusCode::FORBIDDEN,
                "operators see only the calls they took",
            )
        }
        Ok(Some(call)) => {
            let audited = super::audit::record_access(
                &state,
                &caller,
                &peer,
                madoguchi_store::audit::actions::CALL_VIEW,
                Some(&call.id),
                None,
            )
            .await;
            match audited {
                Ok(()) => super::classification::call_with_classification(&state, call).await,
                Err(refused) => refused,
            }
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no such call"),
        Err(err) => {
            tracing::warn!(error = %err, "reading a call failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}
