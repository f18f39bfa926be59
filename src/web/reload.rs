//! `POST /api/v1/admin/reload` (admins): reads the dialplan again from the file given at
//! start-up, with its prompts, and puts it in force for new calls — or refuses it with every
//! error found and keeps the one in force (`crate::reload`). The request is audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use madoguchi_store::Role;

use super::api::{error, ApiError};
use super::audit::{record_access, Peer};
use super::auth::Authenticated;
use super::AppState;
use crate::reload::{Loaded, Refused, ReloadLink, ReloadOutcome};

/// The audit log's name for a reload asked for over HTTP.
pub const DIALPLAN_RELOAD: &str = "dialplan.reload";

/// Reload the dialplan and its prompts. Calls in progress go on under the dialplan they
/// started with; new calls follow the new one. A dialplan with errors (or a prompt that
/// does not decode) is refused with 422 and the list of errors, and the one in force stays.
#[utoipa::path(post, path = "/api/v1/admin/reload",
    responses((status = 200, body = Loaded, description = "the new dialplan is in force"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = Refused, description = "refused; the dialplan in force stays"),
        (status = 503, body = ApiError)))]
pub async fn reload(
    caller: Authenticated,
    State(state): State<AppState>,
    peer: Peer,
    link: Option<Extension<ReloadLink>>,
) -> Response {
    if let Err(refused) = caller.require(&[Role::Admin]) {
        return refused;
    }
    let Some(Extension(link)) = link else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "reloading is not available",
        );
    };
    if let Err(refused) = record_access(&state, &caller, &peer, DIALPLAN_RELOAD, None, None).await {
        return refused;
    }
    match link.reload().await {
        ReloadOutcome::Loaded(loaded) => Json(loaded).into_response(),
        ReloadOutcome::Refused(refused) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response()
        }
        ReloadOutcome::Stopping => error(StatusCode::SERVICE_UNAVAILABLE, "engine stopping"),
    }
}
