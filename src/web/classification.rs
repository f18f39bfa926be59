//! Classifying calls: `POST /api/v1/calls/{id}/classification` (the console's wrap-up form
//! and scripts alike), `GET` of the same, the configured categories, and the operator's
//! own calls of the day with their classification status.
//!
//! The body is checked field by field so a 422 names the field (`{"error": "category: …",
//! "field": "category"}`): `category` must be a configured code (the dialplan's
//! `[[categories]]`), `outcome` one of the store's [`Outcome`]s, `faq_id` an existing FAQ
//! entry, `note` at most [`MAX_NOTE_CHARS`] characters. The call may still be in progress
//! (records are written when a call ends); an id neither stored nor live is 404. Agents
//! classify only calls they took; managers and admins any.
//!
//! A filing that raises the complaint flag is published on `AppState::complaints` as a
//! [`ComplaintFiled`], for whoever tells the managers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Days, Utc};
use madoguchi_store::{
    CallQuery, CallRecord, Classification, ClassificationError, NewClassification, Outcome,
    PageStart, MAX_NOTE_CHARS, MAX_PAGE_SIZE,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::api::{error, ApiError};
use super::auth::Authenticated;
use super::live::EngineRequest;
use super::AppState;

/// A complaint or trouble flag just raised on a call: the managers are to hear of it at
/// once. Carries no note or caller number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComplaintFiled {
    pub call_id: String,
    /// The operator who filed it.
    pub operator: String,
    pub category: String,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
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
    tracing::warn!(error = %err, "classification store access failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// The fields of a classification, checked; `Err` is the 422 to send.
#[derive(Debug)]
struct Fields {
    category: String,
    outcome: Outcome,
    complaint: bool,
    escalated: bool,
    faq_id: Option<i64>,
    note: Option<String>,
}

#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn check_fields(body: &Map<String, Value>, categories: &[String]) -> Result<Fields, Response> {
    let category = match body.get("category") {
        Some(Value::String(code)) if categories.iter().any(|c| c == code) => code.clone(),
        Some(Value::String(code)) => {
            return Err(invalid(
                "category",
                format!(
                    "{code:?} is not a configured category (one of {})",
                    categories.join(" ")
                ),
            ))
        }
        Some(_) => return Err(invalid("category", "must be a string")),
        None => return Err(invalid("category", "is required")),
    };
    let names = || {
        Outcome::ALL
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let outcome = match body.get("outcome") {
        Some(Value::String(name)) => name
            .parse::<Outcome>()
            .map_err(|_| invalid("outcome", format!("{name:?} is not one of {}", names())))?,
        Some(_) => return Err(invalid("outcome", "must be a string")),
        None => return Err(invalid("outcome", "is required")),
    };
    let flag = |field: &str| match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(field, "must be true or false")),
    };
    let complaint = flag("complaint")?;
    let escalated = flag("escalated")?;
    let faq_id = match body.get("faq_id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .filter(|id| *id > 0)
                .ok_or_else(|| invalid("faq_id", "must be a positive integer"))?,
        ),
        Some(_) => return Err(invalid("faq_id", "must be an integer or null")),
    };
    let note = match body.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.chars().count() > MAX_NOTE_CHARS => {
            return Err(invalid(
                "note",
                format!("is longer than {MAX_NOTE_CHARS} characters"),
            ))
        }
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(invalid("note", "must be a string or null")),
    };
    Ok(Fields {
        category,
        outcome,
        complaint,
        escalated,
        faq_id,
        note,
    })
}

/// Whether `caller` may classify the call `call_id` that has no record yet (records are
/// written when calls end): its operator may while on it or right after it; a manager may
/// classify any call the engine has in progress.
fn may_classify_in_progress(state: &AppState, caller: &Authenticated, call_id: &str) -> bool {
    let live = state.engine.live.borrow();
    let taken_by = |login: &str| {
        live.operators
            .iter()
            .any(|o| o.login == login && o.call_id.as_deref() == Some(call_id))
    };
    if taken_by(&caller.login) {
        return true;
    }
    caller.is_manager()
        && (live
            .operators
            .iter()
            .any(|o| o.call_id.as_deref() == Some(call_id))
            || live
                .queues
                .iter()
                .any(|q| q.waiting.iter().any(|w| w.call_id == call_id)))
}

/// Files the classification of a call (replacing an earlier one; every filing is kept in
/// the history). The call may be in progress.
#[utoipa::path(post, path = "/api/v1/calls/{id}/classification",
    params(("id" = String, Path, description = "call id")),
    request_body(content = Object, description = r#"{"category": "イ", "outcome": "resolved_faq", "complaint": false, "escalated": false, "faq_id": null, "note": "…"}"#),
    responses((status = 200, description = "the stored classification", body = Object),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, description = "a field is invalid; `field` names it", body = Object)))]
pub async fn classify(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(call_id): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let Value::Object(body) = body else {
        return error(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    };
    let codes: Vec<String> = state.categories.iter().map(|c| c.code.clone()).collect();
    let fields = match check_fields(&body, &codes) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let record = match state.store.get_call(&call_id).await {
        Ok(record) => record,
        Err(e) => return store_unavailable(&e),
    };
    match &record {
        None if !may_classify_in_progress(&state, &caller, &call_id) => {
            return error(StatusCode::NOT_FOUND, "no such call")
        }
        Some(record)
            if !caller.is_manager() && record.operator.as_deref() != Some(&caller.login) =>
        {
            return error(
                StatusCode::FORBIDDEN,
                "agents classify only the calls they took",
            )
        }
        _ => {}
    }
    let new = NewClassification {
        call_id: call_id.clone(),
        category: fields.category,
        outcome: fields.outcome,
        complaint: fields.complaint,
        escalated: fields.escalated,
        faq_id: fields.faq_id,
        note: fields.note,
        operator: caller.login.clone(),
    };
    let filed = match state.store.classify(&new, Utc::now()).await {
        Ok(filed) => filed,
        Err(ClassificationError::UnknownFaq(id)) => {
            return invalid("faq_id", format!("no FAQ entry has id {id}"))
        }
        Err(ClassificationError::NoteTooLong) => {
            return invalid(
                "note",
                format!("is longer than {MAX_NOTE_CHARS} characters"),
            )
        }
        Err(ClassificationError::BadCategory) => return invalid("category", "is invalid"),
        Err(ClassificationError::BadCallId) => return error(StatusCode::NOT_FOUND, "no such call"),
        Err(ClassificationError::Store(e)) => return store_unavailable(&e),
    };
    let stored = filed.classification.clone();
    tracing::info!(call = %call_id, login = %caller.login, revision = stored.revision, "call classified");
    if filed.raised_complaint() {
        tracing::info!(call = %call_id, "complaint filed");
        // Nobody listening is fine: the flag is stored either way.
        let _ = state.complaints.send(ComplaintFiled {
            call_id,
            operator: stored.operator.clone(),
            category: stored.category.clone(),
            outcome: stored.outcome,
            at: stored.updated_at,
        });
    }
    // The operator filed: their wrap-up (if this call's) is over and calls come again.
    let _ = state
        .engine
        .requests
        .send(EngineRequest::ClassificationFiled {
            login: stored.operator.clone(),
        })
        .await;
    Json(stored).into_response()
}

/// The current classification of a call.
#[utoipa::path(get, path = "/api/v1/calls/{id}/classification",
    params(("id" = String, Path, description = "call id")),
    responses((status = 200, body = Object), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn get_classification(
    caller: Authenticated,
    State(state): State<AppState>,
    Path(call_id): Path<String>,
    peer: super::audit::Peer,
) -> Response {
    // Agents read the classifications of the calls they took (the access matrix test found
    // this open); the call in progress has no record yet and no classification either.
    if !caller.is_manager() {
        match state.store.get_call(&call_id).await {
            Ok(Some(record)) if record.operator.as_deref() == Some(&caller.login) => {}
            Ok(Some(_)) => {
                return error(
                    StatusCode::FORBIDDEN,
                    "agents read only the classifications of the calls they took",
                )
            }
            Ok(None) if may_classify_in_progress(&state, &caller, &call_id) => {}
            Ok(None) => return error(StatusCode::NOT_FOUND, "no such call"),
            Err(e) => return store_unavailable(&e),
        }
    }
    match state.store.classification(&call_id).await {
        Ok(Some(found)) => {
            // The note is personal data; category and outcome alone are not.
            if found.note.is_some() {
                let audited = super::audit::record_access(
                    &state,
                    &caller,
                    &peer,
                    madoguchi_store::audit::actions::CLASSIFICATION_VIEW,
                    Some(&call_id),
                    None,
                )
                .await;
                if let Err(refused) = audited {
                    return refused;
                }
            }
            Json(found).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "this call has no classification"),
        Err(e) => store_unavailable(&e),
    }
}

/// A call record as JSON with its classification (`null` when none is filed yet): what
/// `GET /api/v1/calls/{id}` answers.
pub async fn call_with_classification(state: &AppState, call: CallRecord) -> Response {
    let classification = match state.store.classification(&call.id).await {
        Ok(found) => found,
        Err(e) => return store_unavailable(&e),
    };
    let mut value = match serde_json::to_value(&call) {
        Ok(value) => value,
        Err(e) => return store_unavailable(&e),
    };
    if let Value::Object(fields) = &mut value {
        fields.insert(
            "classification".into(),
            serde_json::to_value(classification).unwrap_or(Value::Null),
        );
    }
    Json(value).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    code: String,
    label: String,
}

/// The inquiry categories calls are classified by, in report order.
#[utoipa::path(get, path = "/api/v1/categories",
    responses((status = 200, body = Vec<CategoryView>), (status = 401, body = ApiError)))]
pub async fn categories(State(state): State<AppState>) -> Json<Vec<CategoryView>> {
    Json(
        state
            .categories
            .iter()
            .map(|c| CategoryView {
                code: c.code.clone(),
                label: c.label.clone(),
            })
            .collect(),
    )
}

/// One of the operator's calls of the day.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnCall {
    id: String,
    /// Personal data: the operator saw it during the call.
    caller: String,
    arrived_at: DateTime<Utc>,
    connected_at: Option<DateTime<Utc>>,
    ended_at: DateTime<Utc>,
    waited_ms: Option<i64>,
    talk_ms: Option<i64>,
    disposition: String,
    queue: Option<String>,
    menu_choice: Option<String>,
    transfer_target: Option<String>,
    classified: bool,
    #[schema(value_type = Option<Object>)]
    classification: Option<Classification>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnCalls {
    /// The local date (the hotline's time zone).
    date: String,
    calls: Vec<OwnCall>,
}

/// The caller's own calls of today (local date of the hotline's time zone), newest first,
/// each with its classification status.
#[utoipa::path(get, path = "/api/v1/agents/me/calls",
    responses((status = 200, body = OwnCalls), (status = 401, body = ApiError)))]
pub async fn my_calls(
    State(state): State<AppState>,
    caller: Authenticated,
    peer: super::audit::Peer,
) -> Response {
    let today = Utc::now().with_timezone(&state.time_zone).date_naive();
    let local_start = |date: chrono::NaiveDate| {
        date.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(state.time_zone).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(from), Some(to)) = (
        local_start(today),
        today.checked_add_days(Days::new(1)).and_then(local_start),
    ) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "no local midnight today");
    };
    let query = CallQuery {
        from: Some(from),
        to: Some(to),
        operator: Some(caller.login.clone()),
        limit: MAX_PAGE_SIZE,
        start: PageStart::Offset(0),
        ..CallQuery::default()
    };
    let page = match state.store.list_calls(&query).await {
        Ok(page) => page,
        Err(e) => return store_unavailable(&e),
    };
    if !page.items.is_empty() {
        // The operator's own calls, but with the callers' numbers: audited like any list.
        let detail = format!("own calls={}", page.items.len());
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
    let ids: Vec<String> = page.items.iter().map(|c| c.id.clone()).collect();
    let mut filed = match state.store.classifications(&ids).await {
        Ok(found) => found,
        Err(e) => return store_unavailable(&e),
    };
    let calls = page
        .items
        .into_iter()
        .map(|call| {
            let classification = filed
                .iter()
                .position(|c| c.call_id == call.id)
                .map(|i| filed.swap_remove(i));
            OwnCall {
                classified: classification.is_some(),
                classification,
                id: call.id,
                caller: call.caller,
                arrived_at: call.arrived_at,
                connected_at: call.connected_at,
                ended_at: call.ended_at,
                waited_ms: call.waited_ms,
                talk_ms: call.talk_ms,
                disposition: call.disposition.as_str().to_owned(),
                queue: call.queue,
                menu_choice: call.menu_choice,
                transfer_target: call.transfer_target,
            }
        })
        .collect();
    Json(OwnCalls {
        date: today.format("%Y-%m-%d").to_string(),
        calls,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> Vec<String> {
        ["ア", "イ", "ケ"].iter().map(|s| s.to_string()).collect()
    }

    fn check(json: Value) -> Result<Fields, (StatusCode, String)> {
        let Value::Object(body) = json else {
            panic!("test bodies are objects")
        };
        check_fields(&body, &codes()).map_err(|r| (r.status(), String::new()))
    }

    fn refused_field(json: Value) -> StatusCode {
        check(json).expect_err("refused").0
    }

    #[test]
    fn a_complete_body_is_accepted() {
        let fields = check(serde_json::json!({
            "category": "イ", "outcome": "resolved_faq", "complaint": true,
            "faq_id": 3, "note": "申請方法を案内"
        }))
        .expect("valid");
        assert_eq!(fields.outcome, Outcome::ResolvedFaq);
        assert!(fields.complaint && !fields.escalated);
        assert_eq!(fields.faq_id, Some(3));
    }

    #[test]
    fn flags_faq_and_note_may_be_left_out() {
        let fields =
            check(serde_json::json!({"category": "ア", "outcome": "other"})).expect("valid");
        assert!(!fields.complaint);
        assert_eq!((fields.faq_id, fields.note), (None, None));
    }

    #[test]
    fn an_unconfigured_category_is_422() {
        assert_eq!(
            refused_field(serde_json::json!({"category": "サ", "outcome": "other"})),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn an_unknown_outcome_is_422() {
        assert_eq!(
            refused_field(serde_json::json!({"category": "ア", "outcome": "solved"})),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn a_string_complaint_flag_is_422() {
        assert_eq!(
            refused_field(
                serde_json::json!({"category": "ア", "outcome": "other", "complaint": "yes"})
            ),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn a_fractional_or_negative_faq_id_is_422() {
        for id in [serde_json::json!(1.5), serde_json::json!(-1)] {
            assert_eq!(
                refused_field(
                    serde_json::json!({"category": "ア", "outcome": "other", "faq_id": id})
                ),
                StatusCode::UNPROCESSABLE_ENTITY
            );
        }
    }

    #[test]
    fn a_blank_note_is_no_note() {
        let fields = check(serde_json::json!({"category": "ア", "outcome": "other", "note": "  "}))
            .expect("valid");
        assert_eq!(fields.note, None);
    }
}
