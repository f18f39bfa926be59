//! The FAQ over HTTP: `GET /api/v1/faq?q=…&limit=…` (any signed-in user: the console's
//! FAQ panel), `GET /api/v1/faq/{id}`, and for managers and admins `POST /api/v1/faq` and
//! `PUT /api/v1/faq/{id}`. Search semantics are the store's (`madoguchi_store::faq`):
//! every term occurs as a substring, most-used first.
//!
//! Once an FAQ edition is published (`super::faq_editions`), search reads the latest
//! edition's texts, so operators see what was handed to the city rather than a manager's
//! unpublished edit; managers and admins search the live entries (the draft) with
//! `draft=true`, and with `inactive=true` as well get the inactive entries the query matches
//! after the active ones (the FAQ editor lists them so that they can be switched back on).
//! Before the first edition, search reads the live entries.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use madoguchi_store::{FaqEntry, FaqError, FaqUpdate, NewFaq, MAX_FAQ_RESULTS};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::auth::{Authenticated, ManagerOrAdmin};
use super::AppState;

const DEFAULT_LIMIT: u32 = 20;
/// The longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Terms of a query beyond this many are ignored, as the store's search ignores them.
const MAX_TERMS: usize = 8;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Text to find (Japanese or not; whitespace separates terms that must all occur).
    /// Empty or absent: the active entries, most used first.
    q: Option<String>,
    /// 1–100 (default 20).
    limit: Option<u32>,
    /// Managers and admins: search the live (unpublished) entries instead of the latest
    /// published edition.
    draft: Option<bool>,
    /// With `draft=true`: the inactive entries the query matches too, by id after the
    /// active ones (within `limit`).
    inactive: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaqResults {
    #[schema(value_type = Vec<Object>)]
    entries: Vec<FaqEntry>,
}

/// What a manager writes. `category` must be a configured category code when given.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FaqBody {
    question: String,
    answer: String,
    category: Option<String>,
    /// For PUT: inactive entries are kept but not found (default true).
    active: Option<bool>,
}

fn store_unavailable(err: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %err, "FAQ store access failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
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

fn faq_error(err: FaqError) -> Response {
    match err {
        FaqError::Empty { field } => invalid(field, "is empty"),
        FaqError::TooLong { field, max } => {
            invalid(field, format!("is longer than {max} characters"))
        }
        FaqError::Store(e) => store_unavailable(&e),
    }
}

/// `Err` when `category` is given and not configured.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn check_category(state: &AppState, category: Option<&str>) -> Result<(), Response> {
    match category.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) if !state.categories.iter().any(|c| c.code == code) => Err(invalid(
            "category",
            format!("{code:?} is not a configured category"),
        )),
        _ => Ok(()),
    }
}

/// Searches the latest published FAQ edition (the live entries before the first one, or
/// with `draft=true` for managers and admins).
#[utoipa::path(get, path = "/api/v1/faq", params(SearchParams),
    responses((status = 200, body = FaqResults), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Authenticated,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_FAQ_RESULTS {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit must be within 1..={MAX_FAQ_RESULTS}"),
        );
    }
    let query = params.q.unwrap_or_default();
    if query.chars().count() > MAX_QUERY_CHARS {
        return error(
            StatusCode::BAD_REQUEST,
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
        );
    }
    let draft = params.draft.unwrap_or(false);
    if draft && !caller.is_manager() {
        return error(StatusCode::FORBIDDEN, "draft FAQ search is for managers");
    }
    let inactive = params.inactive.unwrap_or(false);
    if inactive && !draft {
        return error(StatusCode::BAD_REQUEST, "inactive=true needs draft=true");
    }
    let published = if draft {
        Ok(None)
    } else {
        state.store.search_published_faq(&query, limit).await
    };
    let entries = match published {
        Ok(Some(entries)) => Ok(entries),
        Ok(None) => state.store.search_faq(&query, limit).await,
        Err(e) => Err(e),
    };
    let entries = match entries {
        Ok(entries) if inactive => with_inactive(&state, entries, &query, limit).await,
        other => other,
    };
    match entries {
        Ok(entries) => Json(FaqResults { entries }).into_response(),
        Err(e) => store_unavailable(&e),
    }
}

/// `active` followed by the inactive entries matching `query`, by id, up to `limit` in all.
/// Inactive entries are few (retired ones), so they are filtered here rather than searched.
async fn with_inactive(
    state: &AppState,
    mut active: Vec<FaqEntry>,
    query: &str,
    limit: u32,
) -> Result<Vec<FaqEntry>, madoguchi_store::StoreError> {
    let room = (limit as usize).saturating_sub(active.len());
    if room == 0 {
        return Ok(active);
    }
    let retired = state.store.list_faq().await?;
    active.extend(
        retired
            .into_iter()
            .filter(|entry| !entry.active && matches_query(entry, query))
            .take(room),
    );
    Ok(active)
}

/// Whether every term of `query` occurs in the entry's question or answer, ignoring case:
/// the store's search semantics, for entries it does not search.
fn matches_query(entry: &FaqEntry, query: &str) -> bool {
    let question = entry.question.to_lowercase();
    let answer = entry.answer.to_lowercase();
    query.split_whitespace().take(MAX_TERMS).all(|term| {
        let term = term.to_lowercase();
        question.contains(&term) || answer.contains(&term)
    })
}

/// One FAQ entry, active or not.
#[utoipa::path(get, path = "/api/v1/faq/{id}", params(("id" = i64, Path, description = "entry id")),
    responses((status = 200, body = Object), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn get_entry(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    match state.store.get_faq(id).await {
        Ok(Some(entry)) => Json(entry).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such FAQ entry"),
        Err(e) => store_unavailable(&e),
    }
}

/// Adds an FAQ entry (managers and admins).
#[utoipa::path(post, path = "/api/v1/faq", request_body = FaqBody,
    responses((status = 201, body = Object), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = Object)))]
pub async fn create(
    State(state): State<AppState>,
    ManagerOrAdmin(caller): ManagerOrAdmin,
    body: Result<Json<FaqBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    if let Err(response) = check_category(&state, body.category.as_deref()) {
        return response;
    }
    let new = NewFaq {
        question: body.question,
        answer: body.answer,
        category: body.category,
    };
    match state.store.add_faq(&new, Utc::now()).await {
        Ok(entry) => {
            tracing::info!(id = entry.id, login = %caller.login, "FAQ entry added");
            (StatusCode::CREATED, Json(entry)).into_response()
        }
        Err(e) => faq_error(e),
    }
}

/// Replaces an FAQ entry's question, answer, category and active flag (managers and
/// admins); its use count stays.
#[utoipa::path(put, path = "/api/v1/faq/{id}", request_body = FaqBody,
    params(("id" = i64, Path, description = "entry id")),
    responses((status = 200, body = Object), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = Object)))]
pub async fn update(
    State(state): State<AppState>,
    ManagerOrAdmin(caller): ManagerOrAdmin,
    Path(id): Path<i64>,
    body: Result<Json<FaqBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    if let Err(response) = check_category(&state, body.category.as_deref()) {
        return response;
    }
    let update = FaqUpdate {
        question: body.question,
        answer: body.answer,
        category: body.category,
        active: body.active.unwrap_or(true),
    };
    match state.store.update_faq(id, &update, Utc::now()).await {
        Ok(Some(entry)) => {
            tracing::info!(id, login = %caller.login, "FAQ entry edited");
            Json(entry).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no such FAQ entry"),
        Err(e) => faq_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(question: &str, answer: &str) -> FaqEntry {
        let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("a valid instant");
        FaqEntry {
            id: 1,
            question: question.to_owned(),
            answer: answer.to_owned(),
            category: None,
            uses: 0,
            created_at: at,
            updated_at: at,
            active: false,
        }
    }

    #[test]
    fn an_inactive_entry_matches_when_every_term_is_in_its_question_or_answer() {
        let retired = entry("旧制度の電子証明書", "市役所で更新できます。");
        assert!(matches_query(&retired, ""));
        assert!(matches_query(&retired, "電子証明書　市役所"));
        assert!(!matches_query(&retired, "電子証明書 郵送"));
    }

    #[test]
    fn matching_inactive_entries_ignores_case() {
        assert!(matches_query(&entry("QR code", "Scan it"), "qr SCAN"));
    }
}
