//! The counter support log over HTTP: counter staff record each in-person support case
//! (`POST /api/v1/counter/cases`), list them by date range (`GET …/cases?from=&to=` or
//! `?date=`), read and correct one (`GET`/`PUT …/cases/{id}`); `GET …/counter/kinds` gives
//! the kinds and outcomes with their Japanese labels.
//!
//! Any signed-in staff member records (agent, manager or admin: no counter role). Agents see
//! and correct only the cases they recorded, and correct them only on the day they recorded
//! them (the counter's local day); managers and admins see all and correct any at any time.
//! Bodies are checked field by field so a 422 names the field (`{"error": "seat: …",
//! "field": "seat"}`), as for classifications. Every case in an answer says whether it was
//! recorded outside the counter's hours (`outside_hours`, from [`super::counter_hours`]):
//! such a case is accepted, since staff sometimes record late.
//!
//! ```text
//! POST /api/v1/counter/cases
//! {"kind": "loss_reissue", "outcome": "completed", "seat": "窓口1",
//!  "fee_payment_confirmed": true, "note": null}
//! -> 201 {"id": "cc_…", "at": "…", "kind": "loss_reissue", "kind_label": "紛失再交付", …,
//!         "outside_hours": false}
//! ```
//! Notes are personal data: they are never logged.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use madoguchi_store::{
    CaseDetails, Corrector, CounterCase, CounterError, CounterKind, CounterOutcome, CounterQuery,
    NewCounterCase, MAX_COUNTER_NOTE_CHARS, MAX_SEAT_CHARS,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::auth::Authenticated;
use super::counter_hours::{parse_date, CounterDesk};
use super::AppState;

/// The largest page of the listing.
const MAX_PER_PAGE: u32 = 500;

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
    tracing::warn!(error = %err, "counter store access failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// The answer for a refusal of the store.
fn refused(err: CounterError) -> Response {
    match err {
        CounterError::Store(e) => store_unavailable(&e),
        CounterError::NotFound => error(StatusCode::NOT_FOUND, "no such counter case"),
        CounterError::NotYours | CounterError::DayOver => {
            error(StatusCode::FORBIDDEN, err.to_string())
        }
        other => match other.field() {
            Some(field) => {
                // The store's texts start with the field name already.
                let text = other.to_string();
                let text = text.strip_prefix(&format!("{field} ")).unwrap_or(&text);
                invalid(field, text)
            }
            None => error(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
        },
    }
}

/// The case details of a request body; `Err` is the 422 naming the first bad field.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn check_details(body: &Map<String, Value>) -> Result<CaseDetails, Response> {
    let names = |all: &[&str]| all.join(", ");
    let kind = match body.get("kind") {
        Some(Value::String(name)) => name.parse::<CounterKind>().map_err(|_| {
            let all: Vec<&str> = CounterKind::ALL.iter().map(|k| k.as_str()).collect();
            invalid("kind", format!("{name:?} is not one of {}", names(&all)))
        })?,
        Some(_) => return Err(invalid("kind", "must be a string")),
        None => return Err(invalid("kind", "is required")),
    };
    let outcome = match body.get("outcome") {
        Some(Value::String(name)) => name.parse::<CounterOutcome>().map_err(|_| {
            let all: Vec<&str> = CounterOutcome::ALL.iter().map(|o| o.as_str()).collect();
            invalid("outcome", format!("{name:?} is not one of {}", names(&all)))
        })?,
        Some(_) => return Err(invalid("outcome", "must be a string")),
        None => return Err(invalid("outcome", "is required")),
    };
    let seat = match body.get("seat") {
        Some(Value::String(seat)) => seat.clone(),
        Some(_) => return Err(invalid("seat", "must be a string")),
        None => return Err(invalid("seat", "is required")),
    };
    let fee = match (
        kind.needs_fee_confirmation(),
        body.get("fee_payment_confirmed"),
    ) {
        (true, Some(Value::Bool(confirmed))) => Some(*confirmed),
        (true, _) => {
            return Err(invalid(
                "fee_payment_confirmed",
                "is required for loss_reissue: true or false",
            ))
        }
        (false, None | Some(Value::Null)) => None,
        (false, Some(_)) => {
            return Err(invalid(
                "fee_payment_confirmed",
                format!("applies only to loss_reissue, not to {kind}; leave it out"),
            ))
        }
    };
    let note = match body.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(invalid("note", "must be a string or null")),
    };
    // Seat and note lengths: the store's own check, so the rule lives in one place.
    CaseDetails {
        kind,
        outcome,
        seat,
        fee_payment_confirmed: fee,
        note,
    }
    .checked()
    .map_err(refused)
}

/// A JSON object body; `Err` is the 400 to send.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn object_body(
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Map<String, Value>, Response> {
    match body {
        Ok(Json(Value::Object(fields))) => Ok(fields),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
        Err(rejection) => Err(error(StatusCode::BAD_REQUEST, rejection.body_text())),
    }
}

/// The case details of a request: a JSON object (else 400) with valid fields (else 422).
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
fn details_of(
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<CaseDetails, Response> {
    check_details(&object_body(body)?)
}

/// A counter case as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(example = "cc_3f2a9c…")]
    id: String,
    /// When it was recorded (UTC).
    at: DateTime<Utc>,
    #[schema(example = "loss_reissue")]
    kind: String,
    #[schema(example = "紛失再交付")]
    kind_label: String,
    #[schema(example = "completed")]
    outcome: String,
    #[schema(example = "完了")]
    outcome_label: String,
    #[schema(example = "窓口1")]
    seat: String,
    /// Set for loss_reissue only.
    fee_payment_confirmed: Option<bool>,
    /// The login that recorded it.
    staff: String,
    /// Personal data.
    note: Option<String>,
    node_id: String,
    /// Recorded outside the counter's hours (staff sometimes record late); null when the
    /// dialplan has no counter calendar.
    outside_hours: Option<bool>,
}

impl CaseView {
    fn of(case: CounterCase, desk: &CounterDesk) -> CaseView {
        CaseView {
            outside_hours: desk.outside_hours(case.at),
            id: case.id,
            at: case.at,
            kind: case.kind.as_str().to_owned(),
            kind_label: case.kind.label_ja().to_owned(),
            outcome: case.outcome.as_str().to_owned(),
            outcome_label: case.outcome.label_ja().to_owned(),
            seat: case.seat,
            fee_payment_confirmed: case.fee_payment_confirmed,
            staff: case.staff,
            note: case.note,
            node_id: case.node_id,
        }
    }
}

/// Records a counter case at this instant (any signed-in staff member).
#[utoipa::path(post, path = "/api/v1/counter/cases",
    request_body(content = Object, description = r#"{"kind": "loss_reissue", "outcome": "completed", "seat": "窓口1", "fee_payment_confirmed": true, "note": null} — fee_payment_confirmed is required (true/false) for loss_reissue and must be absent or null for every other kind; seat 1–32 characters; note at most 1000"#),
    responses((status = 201, body = CaseView), (status = 400, body = ApiError),
        (status = 401, body = ApiError),
        (status = 422, description = "a field is invalid; `field` names it", body = Object)))]
pub async fn record_case(
    State(state): State<AppState>,
    caller: Authenticated,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let details = match details_of(body) {
        Ok(details) => details,
        Err(response) => return response,
    };
    let new = NewCounterCase {
        details,
        staff: caller.login.clone(),
        node_id: state.counter.node_id.clone(),
    };
    match state.store.add_counter_case(&new, Utc::now()).await {
        Ok(case) => {
            tracing::info!(case = %case.id, login = %caller.login, kind = %case.kind, "counter case recorded");
            (
                StatusCode::CREATED,
                Json(CaseView::of(case, &state.counter)),
            )
                .into_response()
        }
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Cases recorded at or after this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Cases recorded before this instant (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Instead of from/to: one local day of the counter, `YYYY-MM-DD`.
    date: Option<String>,
    /// Only this login's cases (managers; agents always get their own).
    staff: Option<String>,
    /// Page number from 1.
    page: Option<u32>,
    /// Cases per page, 1–500 (default 50).
    per_page: Option<u32>,
}

/// How many cases of one kind the range holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindCountView {
    #[schema(example = "renewal")]
    kind: String,
    #[schema(example = "更新")]
    label: String,
    count: i64,
}

/// One page of counter cases, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    page: u32,
    per_page: u32,
    /// Cases in the range, over all pages.
    total: i64,
    /// The range's cases by kind (all pages), every kind in report order.
    by_kind: Vec<KindCountView>,
    cases: Vec<CaseView>,
}

/// Counter cases newest first, by date range (or one local day), paged. Agents get the
/// cases they recorded; managers and admins everyone's (or one login's with `staff`).
#[utoipa::path(get, path = "/api/v1/counter/cases", params(ListParams),
    responses((status = 200, body = CasePage), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Authenticated,
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
    let (from, to) = match (&params.date, params.from, params.to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return error(StatusCode::BAD_REQUEST, "give either date or from/to")
        }
        (Some(text), None, None) => {
            let date = match parse_date("date", text) {
                Ok(date) => date,
                Err(response) => return response,
            };
            match state.counter.day_bounds(date) {
                Some((from, to)) => (Some(from), Some(to)),
                None => return error(StatusCode::BAD_REQUEST, "date is out of range"),
            }
        }
        (None, from, to) => (from, to),
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return error(StatusCode::BAD_REQUEST, "from must be before to");
        }
    }
    let staff = if caller.is_manager() {
        params.staff
    } else {
        if params.staff.as_ref().is_some_and(|s| *s != caller.login) {
            return error(
                StatusCode::FORBIDDEN,
                "agents see only the cases they recorded",
            );
        }
        Some(caller.login.clone())
    };
    let query = CounterQuery {
        from,
        to,
        staff,
        limit: per_page,
        offset: u64::from(page - 1) * u64::from(per_page),
    };
    let listed = match state.store.list_counter_cases(&query).await {
        Ok(listed) => listed,
        Err(e) => return store_unavailable(&e),
    };
    // Notes are personal data: a page showing any is an audited access.
    let notes = listed.items.iter().filter(|c| c.note.is_some()).count();
    if notes > 0 {
        let detail = format!("page={page} per_page={per_page} notes={notes}");
        let audited = super::audit::record_access(
            &state,
            &caller,
            &peer,
            madoguchi_store::audit::actions::COUNTER_LIST,
            None,
            Some(detail),
        )
        .await;
        if let Err(refused) = audited {
            return refused;
        }
    }
    Json(CasePage {
        page,
        per_page,
        total: listed.total,
        by_kind: listed
            .by_kind
            .into_iter()
            .map(|c| KindCountView {
                kind: c.kind.as_str().to_owned(),
                label: c.kind.label_ja().to_owned(),
                count: c.count,
            })
            .collect(),
        cases: listed
            .items
            .into_iter()
            .map(|case| CaseView::of(case, &state.counter))
            .collect(),
    })
    .into_response()
}

/// One counter case (agents: only one they recorded).
#[utoipa::path(get, path = "/api/v1/counter/cases/{id}",
    params(("id" = String, Path, description = "case id")),
    responses((status = 200, body = CaseView), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    peer: super::audit::Peer,
) -> Response {
    match state.store.counter_case(&id).await {
        Ok(Some(case)) if !caller.is_manager() && case.staff != caller.login => error(
            StatusCode::FORBIDDEN,
            "agents see only the cases they recorded",
        ),
        Ok(Some(case)) => {
            if case.note.is_some() {
                let audited = super::audit::record_access(
                    &state,
                    &caller,
                    &peer,
                    madoguchi_store::audit::actions::COUNTER_VIEW,
                    Some(&case.id),
                    None,
                )
                .await;
                if let Err(refused) = audited {
                    return refused;
                }
            }
            Json(CaseView::of(case, &state.counter)).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no such counter case"),
        Err(e) => store_unavailable(&e),
    }
}

/// Corrects a counter case: the same body as recording it, replacing kind, outcome, seat,
/// fee confirmation and note. Staff correct their own cases on the day they recorded them;
/// managers and admins any case at any time.
#[utoipa::path(put, path = "/api/v1/counter/cases/{id}",
    params(("id" = String, Path, description = "case id")),
    request_body(content = Object, description = "as for POST /api/v1/counter/cases"),
    responses((status = 200, body = CaseView), (status = 400, body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, description = "not yours, or no longer the day it was recorded", body = ApiError),
        (status = 404, body = ApiError),
        (status = 422, description = "a field is invalid; `field` names it", body = Object)))]
pub async fn correct_case(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let details = match details_of(body) {
        Ok(details) => details,
        Err(response) => return response,
    };
    let by = if caller.is_manager() {
        Corrector::Manager
    } else {
        Corrector::Staff {
            login: &caller.login,
        }
    };
    let corrected = state
        .store
        .correct_counter_case(&id, &details, by, Utc::now(), state.counter.time_zone)
        .await;
    match corrected {
        Ok(case) => {
            tracing::info!(case = %case.id, login = %caller.login, "counter case corrected");
            Json(CaseView::of(case, &state.counter)).into_response()
        }
        Err(e) => refused(e),
    }
}

/// A kind a counter case can have.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindView {
    #[schema(example = "loss_reissue")]
    code: String,
    #[schema(example = "紛失再交付")]
    label: String,
    /// Cases of this kind must say whether the fee payment was confirmed.
    fee_payment_confirmation: bool,
}

/// An outcome a counter case can have.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeView {
    #[schema(example = "completed")]
    code: String,
    #[schema(example = "完了")]
    label: String,
}

/// The kinds (in report order) and outcomes of counter cases, with the limits of the form.
#[derive(Debug, Serialize, ToSchema)]
pub struct CounterVocabulary {
    kinds: Vec<KindView>,
    outcomes: Vec<OutcomeView>,
    max_seat_chars: usize,
    max_note_chars: usize,
}

/// The kinds and outcomes of counter cases, codes with Japanese labels.
#[utoipa::path(get, path = "/api/v1/counter/kinds",
    responses((status = 200, body = CounterVocabulary), (status = 401, body = ApiError)))]
pub async fn kinds() -> Json<CounterVocabulary> {
    Json(CounterVocabulary {
        kinds: CounterKind::ALL
            .iter()
            .map(|k| KindView {
                code: k.as_str().to_owned(),
                label: k.label_ja().to_owned(),
                fee_payment_confirmation: k.needs_fee_confirmation(),
            })
            .collect(),
        outcomes: CounterOutcome::ALL
            .iter()
            .map(|o| OutcomeView {
                code: o.as_str().to_owned(),
                label: o.label_ja().to_owned(),
            })
            .collect(),
        max_seat_chars: MAX_SEAT_CHARS,
        max_note_chars: MAX_COUNTER_NOTE_CHARS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field a refused body names, or the details it was read as.
    fn check(json: Value) -> Result<CaseDetails, (StatusCode, String)> {
        let Value::Object(body) = json else {
            panic!("test bodies are objects")
        };
        check_details(&body).map_err(|response| {
            let status = response.status();
            let field = futures_util::FutureExt::now_or_never(axum::body::to_bytes(
                response.into_body(),
                usize::MAX,
            ))
            .and_then(Result::ok)
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| v["field"].as_str().map(str::to_owned))
            .unwrap_or_default();
            (status, field)
        })
    }

    fn refused_field(json: Value) -> String {
        let (status, field) = check(json).expect_err("refused");
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        field
    }

    #[test]
    fn a_complete_loss_reissue_is_accepted() {
        let details = check(serde_json::json!({
            "kind": "loss_reissue", "outcome": "completed", "seat": "窓口1",
            "fee_payment_confirmed": true, "note": "本人確認済み"
        }))
        .expect("valid");
        assert_eq!(details.kind, CounterKind::LossReissue);
        assert_eq!(details.fee_payment_confirmed, Some(true));
    }

    #[test]
    fn a_loss_reissue_without_the_fee_answer_names_that_field() {
        let body = serde_json::json!({"kind": "loss_reissue", "outcome": "completed", "seat": "1"});
        assert_eq!(refused_field(body), "fee_payment_confirmed");
    }

    #[test]
    fn a_null_fee_answer_on_a_loss_reissue_is_no_answer() {
        let body = serde_json::json!({"kind": "loss_reissue", "outcome": "completed",
            "seat": "1", "fee_payment_confirmed": null});
        assert_eq!(refused_field(body), "fee_payment_confirmed");
    }

    #[test]
    fn a_fee_answer_on_a_renewal_names_that_field() {
        let body = serde_json::json!({"kind": "renewal", "outcome": "completed", "seat": "1",
            "fee_payment_confirmed": false});
        assert_eq!(refused_field(body), "fee_payment_confirmed");
    }

    #[test]
    fn an_unknown_kind_or_outcome_names_its_field() {
        let kind = serde_json::json!({"kind": "loss", "outcome": "completed", "seat": "1"});
        assert_eq!(refused_field(kind), "kind");
        let outcome = serde_json::json!({"kind": "renewal", "outcome": "done", "seat": "1"});
        assert_eq!(refused_field(outcome), "outcome");
    }

    #[test]
    fn a_missing_or_overlong_seat_names_the_seat() {
        let missing = serde_json::json!({"kind": "renewal", "outcome": "completed"});
        assert_eq!(refused_field(missing), "seat");
        let long = serde_json::json!({"kind": "renewal", "outcome": "completed",
            "seat": "席".repeat(MAX_SEAT_CHARS + 1)});
        assert_eq!(refused_field(long), "seat");
    }

    #[test]
    fn an_overlong_note_names_the_note() {
        let body = serde_json::json!({"kind": "renewal", "outcome": "completed", "seat": "1",
            "note": "あ".repeat(MAX_COUNTER_NOTE_CHARS + 1)});
        assert_eq!(refused_field(body), "note");
    }

    #[test]
    fn a_note_that_is_not_text_names_the_note() {
        let body =
            serde_json::json!({"kind": "renewal", "outcome": "completed", "seat": "1", "note": 5});
        assert_eq!(refused_field(body), "note");
    }

    #[test]
    fn the_vocabulary_lists_seven_kinds_and_four_outcomes_in_report_order() {
        let vocabulary = futures_util::FutureExt::now_or_never(kinds())
            .expect("ready at once")
            .0;
        let codes: Vec<&str> = vocabulary.kinds.iter().map(|k| k.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "new_application",
                "renewal",
                "loss_reissue",
                "health_insurance_link",
                "public_funds_account",
                "other_linking",
                "e_application_help"
            ]
        );
        let fee: Vec<&str> = vocabulary
            .kinds
            .iter()
            .filter(|k| k.fee_payment_confirmation)
            .map(|k| k.label.as_str())
            .collect();
        assert_eq!(fee, ["紛失再交付"]);
        let outcomes: Vec<&str> = vocabulary
            .outcomes
            .iter()
            .map(|o| o.label.as_str())
            .collect();
        assert_eq!(outcomes, ["完了", "後日継続", "他窓口案内", "対応不可"]);
    }
}
