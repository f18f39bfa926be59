//! FAQ editions over HTTP (`madoguchi_store::faq_edition`):
//! - `POST /api/v1/faq/editions` with an optional `{"note": "…"}` (managers and admins)
//!   publishes the active entries as the next edition (初版, 第2版, …);
//! - `GET /api/v1/faq/editions` lists them (any signed-in user); with `?next=true`
//!   (managers and admins) also the edition publishing now would make: its number, label,
//!   entry count and changes since the latest edition — the FAQ editor's "unpublished
//!   changes" and the name its confirmation gives;
//! - `GET /api/v1/faq/editions/{n}?format=json|md|xlsx` returns one: JSON (edition, entries,
//!   changes since edition n-1) by default, or the files handed to the city as an
//!   attachment (`crate::faq_export`).
//!
//! Editions are immutable: there is no route that changes or deletes one.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use madoguchi_store::{
    edition_changes, edition_label, EditionChanges, EditionEntry, FaqEdition, FaqEditionError,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::auth::{Authenticated, ManagerOrAdmin};
use super::AppState;
use crate::faq_export::{self, FaqExport};

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PublishBody {
    /// Why this edition (shown in the exports), up to 1,000 characters.
    note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EditionList {
    #[schema(value_type = Vec<Object>)]
    editions: Vec<FaqEdition>,
    /// With `next=true` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<NextEdition>,
}

/// What publishing now would make, from the live active entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextEdition {
    number: i64,
    /// 「初版」 or 「第N版」.
    label: String,
    /// Active entries: what the edition would hold (0: publishing is refused).
    entries: i64,
    /// Since the latest edition (all added before the first one).
    #[schema(value_type = Object)]
    changes: EditionChanges,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Managers and admins: also the edition publishing now would make.
    next: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EditionDetail {
    #[schema(value_type = Object)]
    edition: FaqEdition,
    #[schema(value_type = Vec<Object>)]
    entries: Vec<EditionEntry>,
    #[schema(value_type = Object)]
    changes: EditionChanges,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default), `md` or `xlsx`.
    format: Option<String>,
}

fn store_unavailable(err: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %err, "FAQ edition store access failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// Publishes the active FAQ entries as the next edition (managers and admins).
#[utoipa::path(post, path = "/api/v1/faq/editions", request_body = PublishBody,
    responses((status = 201, body = Object), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn publish(
    State(state): State<AppState>,
    ManagerOrAdmin(caller): ManagerOrAdmin,
    body: Option<Json<PublishBody>>,
) -> Response {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    match state
        .store
        .publish_faq_edition(&caller.login, body.note.as_deref(), Utc::now())
        .await
    {
        Ok(edition) => {
            tracing::info!(number = edition.number, login = %caller.login, "FAQ edition published");
            (StatusCode::CREATED, Json(edition)).into_response()
        }
        Err(FaqEditionError::NothingToPublish) => error(
            StatusCode::CONFLICT,
            "there are no active FAQ entries to publish",
        ),
        Err(e @ FaqEditionError::NoteTooLong { .. }) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Err(FaqEditionError::Store(e)) => store_unavailable(&e),
    }
}

/// Every published edition, oldest first (with `next=true`, the one publishing would make).
#[utoipa::path(get, path = "/api/v1/faq/editions", params(ListParams),
    responses((status = 200, body = EditionList), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let want_next = params.next.unwrap_or(false);
    if want_next && !caller.is_manager() {
        return error(
            StatusCode::FORBIDDEN,
            "the next FAQ edition is for managers",
        );
    }
    let editions = match state.store.faq_editions().await {
        Ok(editions) => editions,
        Err(e) => return store_unavailable(&e),
    };
    let next = if want_next {
        match next_edition(&state, editions.last()).await {
            Ok(next) => Some(next),
            Err(e) => return store_unavailable(&e),
        }
    } else {
        None
    };
    Json(EditionList { editions, next }).into_response()
}

/// The edition after `latest`: the live active entries compared with `latest`'s.
async fn next_edition(
    state: &AppState,
    latest: Option<&FaqEdition>,
) -> Result<NextEdition, madoguchi_store::StoreError> {
    let previous = match latest {
        Some(latest) => state.store.faq_edition_entries(latest.number).await?,
        None => Vec::new(),
    };
    let live: Vec<EditionEntry> = state
        .store
        .list_faq()
        .await?
        .into_iter()
        .filter(|entry| entry.active)
        .map(|entry| EditionEntry {
            faq_id: entry.id,
            question: entry.question,
            answer: entry.answer,
            category: entry.category,
        })
        .collect();
    let number = latest.map_or(1, |latest| latest.number + 1);
    Ok(NextEdition {
        number,
        label: edition_label(number),
        entries: live.len() as i64,
        changes: edition_changes(&previous, &live),
    })
}

/// One edition as JSON, Markdown or XLSX, with its changes since the previous edition.
#[utoipa::path(get, path = "/api/v1/faq/editions/{n}",
    params(("n" = i64, Path, description = "edition number"), ExportParams),
    responses((status = 200, body = EditionDetail), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get_edition(
    State(state): State<AppState>,
    Path(number): Path<i64>,
    params: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let format = params.format.unwrap_or_else(|| "json".to_owned());
    if !matches!(format.as_str(), "json" | "md" | "xlsx") {
        return error(StatusCode::BAD_REQUEST, "format must be json, md or xlsx");
    }
    let loaded = async {
        let Some(edition) = state.store.faq_edition(number).await? else {
            return Ok(None);
        };
        let entries = state.store.faq_edition_entries(number).await?;
        let changes = state.store.faq_edition_changes(number).await?;
        Ok::<_, madoguchi_store::StoreError>(Some((edition, entries, changes)))
    };
    let (edition, entries, changes) = match loaded.await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such FAQ edition"),
        Err(e) => return store_unavailable(&e),
    };
    if format == "json" {
        return Json(EditionDetail {
            edition,
            entries,
            changes,
        })
        .into_response();
    }
    let export = FaqExport {
        edition: &edition,
        entries: &entries,
        changes: &changes,
        categories: &state.categories,
        time_zone: state.time_zone,
    };
    let (bytes, content_type, extension) = if format == "md" {
        (
            faq_export::markdown(&export).into_bytes(),
            "text/markdown; charset=utf-8",
            "md",
        )
    } else {
        match faq_export::xlsx(&export) {
            Ok(bytes) => (
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ),
            Err(e) => {
                tracing::error!(error = %e, "FAQ edition XLSX failed");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "XLSX rendering failed");
            }
        }
    };
    let disposition = format!("attachment; filename=\"faq-edition-{number}.{extension}\"");
    let disposition = match HeaderValue::from_str(&disposition) {
        Ok(value) => value,
        Err(_) => HeaderValue::from_static("attachment"),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}
