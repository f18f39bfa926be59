//! Alerts for managers as they happen: a complaint flag raised on a call is pushed at once
//! to every open `GET /api/v1/complaints/stream` (Server-Sent Events), managers and admins
//! only. The alert names the call, the operator, the category and the outcome — never the
//! note or the caller's number; the manager opens the call for those.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast;

use super::auth::ManagerOrAdmin;
use super::AppState;

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
