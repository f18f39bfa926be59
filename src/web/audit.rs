//! The audit log over HTTP (managers and admins), and the one way handlers write to it.
//!
//! - `GET /api/v1/audit?from&to&login&action&page&per_page` lists the log newest first as
//!   JSON; `format=csv` exports every entry the filter selects (page and per_page ignored)
//!   as an attachment, UTF-8 with a BOM and CRLF like the reports, times in the hotline's
//!   time zone. Exporting is itself an access: it is logged (`audit.export`) before the file
//!   is produced.
//! - [`record_access`] is what a handler calls before it hands out personal data: it writes
//!   who, what, which and from where, and answers 503 when the log cannot be written, so
//!   that an access the log cannot hold does not happen.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, SecondsFormat, Utc};
use madoguchi_store::audit::{actions, is_action_name, MAX_AUDIT_NAME_CHARS, MAX_AUDIT_TEXT_CHARS};
use madoguchi_store::{AuditEntry, AuditQuery, AuditRecord, MAX_AUDIT_PAGE};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::auth::{Authenticated, ManagerOrAdmin};
use super::AppState;

const MAX_PER_PAGE: u32 = 500;
/// The most entries one CSV export holds; a larger selection must be narrowed by date.
const MAX_EXPORT_ENTRIES: i64 = 100_000;

/// The peer address as the request's connection info gives it (absent in a router built
/// without it).
pub(super) type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// Appends one access by `caller` to the audit log. `Err` is the 503 to answer instead of
/// the data.
#[allow(clippy::result_large_err)] // the error is the response itself, returned at once
pub(super) async fn record_access(
    state: &AppState,
    caller: &Authenticated,
    peer: &Peer,
    action: &str,
    subject: Option<&str>,
    detail: Option<String>,
) -> Result<(), Response> {
    let entry = AuditEntry {
        at: Utc::now(),
        login: caller.login.clone(),
        role: caller.role,
        action: action.to_owned(),
        subject: subject.map(str::to_owned),
        detail,
        source: peer
            .as_ref()
            .map(|Extension(ConnectInfo(addr))| addr.ip().to_string()),
    };
    match state.store.audit(&entry).await {
        Ok(id) => {
            tracing::debug!(id, action, "access audited");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, action, "writing the audit log failed; access refused");
            Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the access could not be written to the audit log",
            ))
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries at or after this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Entries before this instant (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// Only this person's entries.
    login: Option<String>,
    /// Only this action, e.g. `recording.listen`.
    action: Option<String>,
    /// Page number from 1 (JSON only).
    page: Option<u32>,
    /// Entries per page, 1–500 (default 50; JSON only).
    per_page: Option<u32>,
    /// `json` (default) or `csv` (every selected entry, as an attachment).
    format: Option<String>,
}

/// One access.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    id: i64,
    at: DateTime<Utc>,
    login: String,
    /// agent, manager or admin.
    role: String,
    /// e.g. `recording.listen`, `recording.download`, `audit.export`.
    action: String,
    /// What was accessed, e.g. the call id.
    subject: Option<String>,
    detail: Option<String>,
    /// The address the request came from.
    source: Option<String>,
}

impl From<AuditRecord> for AuditView {
    fn from(record: AuditRecord) -> AuditView {
        let e = record.entry;
        AuditView {
            id: record.id,
            at: e.at,
            login: e.login,
            role: e.role.to_string(),
            action: e.action,
            subject: e.subject,
            detail: e.detail,
            source: e.source,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLogPage {
    page: u32,
    per_page: u32,
    total: i64,
    entries: Vec<AuditView>,
}

/// The audit log, newest first: who accessed which personal data, when and from where.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams),
    responses(
        (status = 200, body = AuditLogPage,
            description = "JSON, or with format=csv an attachment (UTF-8 with BOM)"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 503, body = ApiError)))]
pub(super) async fn audit_log(
    ManagerOrAdmin(caller): ManagerOrAdmin,
    State(state): State<AppState>,
    peer: Peer,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let page = p.page.unwrap_or(1);
    let per_page = p.per_page.unwrap_or(50);
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        return error(
            StatusCode::BAD_REQUEST,
            format!("page must be >= 1 and per_page within 1..={MAX_PER_PAGE}"),
        );
    }
    if let (Some(from), Some(to)) = (p.from, p.to) {
        if from >= to {
            return error(StatusCode::BAD_REQUEST, "from must be before to");
        }
    }
    let login = p.login.filter(|l| !l.is_empty());
    if login
        .as_deref()
        .is_some_and(|l| l.chars().count() > MAX_AUDIT_NAME_CHARS)
    {
        return error(StatusCode::BAD_REQUEST, "login is too long");
    }
    let action = p.action.filter(|a| !a.is_empty());
    if action.as_deref().is_some_and(|a| !is_action_name(a)) {
        return error(
            StatusCode::BAD_REQUEST,
            "action must be lowercase letters, digits, '.' or '_' (e.g. recording.listen)",
        );
    }
    let query = AuditQuery {
        from: p.from,
        to: p.to,
        login,
        action,
        limit: per_page,
        offset: u64::from(page - 1) * u64::from(per_page),
    };
    match p.format.as_deref().unwrap_or("json") {
        "json" => match state.store.audit_entries(&query).await {
            Ok(found) => Json(AuditLogPage {
                page,
                per_page,
                total: found.total,
                entries: found.items.into_iter().map(AuditView::from).collect(),
            })
            .into_response(),
            Err(e) => store_unavailable(&e),
        },
        "csv" => export_csv(&state, &caller, &peer, query).await,
        _ => error(StatusCode::BAD_REQUEST, "format must be json or csv"),
    }
}

fn store_unavailable(e: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "reading the audit log failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// The filter of an export, for its own audit entry (logins and action names only).
fn export_detail(q: &AuditQuery) -> String {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut parts = vec!["format=csv".to_owned()];
    parts.extend(q.from.map(|t| format!("from={}", at(t))));
    parts.extend(q.to.map(|t| format!("to={}", at(t))));
    parts.extend(q.login.as_ref().map(|l| format!("login={l}")));
    parts.extend(q.action.as_ref().map(|a| format!("action={a}")));
    parts.join(" ").chars().take(MAX_AUDIT_TEXT_CHARS).collect()
}

async fn export_csv(
    state: &AppState,
    caller: &Authenticated,
    peer: &Peer,
    mut query: AuditQuery,
) -> Response {
    let detail = export_detail(&query);
    // The export is logged first: an export the log cannot hold is not made.
    if let Err(refused) = record_access(
        state,
        caller,
        peer,
        actions::AUDIT_EXPORT,
        None,
        Some(detail),
    )
    .await
    {
        return refused;
    }
    // Entries written while the pages are read land after this bound, so the pages neither
    // repeat nor skip an entry.
    let now = Utc::now() + chrono::Duration::milliseconds(1);
    query.to = Some(query.to.map_or(now, |to| to.min(now)));
    query.limit = MAX_AUDIT_PAGE;
    query.offset = 0;
    let mut records = Vec::new();
    loop {
        let page = match state.store.audit_entries(&query).await {
            Ok(page) => page,
            Err(e) => return store_unavailable(&e),
        };
        if page.total > MAX_EXPORT_ENTRIES {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "{} entries match; an export holds at most {MAX_EXPORT_ENTRIES}: narrow from/to",
                    page.total
                ),
            );
        }
        let got = page.items.len();
        records.extend(page.items);
        if got < MAX_AUDIT_PAGE as usize || records.len() as i64 >= page.total {
            break;
        }
        query.offset += got as u64;
    }
    let bytes = match write_csv(&records, state.time_zone) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(error = %e, "writing the audit CSV failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the export could not be written",
            );
        }
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// The entries as CSV for Excel: BOM, CRLF, one heading row, times with the hotline's
/// offset.
fn write_csv(records: &[AuditRecord], tz: chrono_tz::Tz) -> Result<Vec<u8>, csv::Error> {
    let mut out = madoguchi_report::csv_file::BOM.to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record([
            "id", "at", "login", "role", "action", "subject", "detail", "source",
        ])?;
        for r in records {
            let e = &r.entry;
            let at =
                e.at.with_timezone(&tz)
                    .to_rfc3339_opts(SecondsFormat::Millis, false);
            let text = |value: &Option<String>| cell(value.as_deref().unwrap_or_default());
            w.write_record([
                r.id.to_string(),
                at,
                cell(&e.login),
                e.role.to_string(),
                cell(&e.action),
                text(&e.subject),
                text(&e.detail),
                text(&e.source),
            ])?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// A text cell Excel will not run as a formula: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return gets an apostrophe in front.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use madoguchi_store::Role;

    fn record(id: i64, subject: &str) -> AuditRecord {
        AuditRecord {
            id,
            entry: AuditEntry {
                at: DateTime::from_timestamp(1_767_573_000, 0).expect("in range"),
                login: "sato".into(),
                role: Role::Manager,
                action: actions::RECORDING_LISTEN.into(),
                subject: Some(subject.into()),
                detail: None,
                source: Some("192.0.2.7".into()),
            },
        }
    }

    #[test]
    fn the_csv_has_a_bom_crlf_and_local_times() {
        let bytes = write_csv(&[record(7, "c-1")], chrono_tz::Asia::Tokyo).expect("written");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        assert_eq!(
            text,
            "id,at,login,role,action,subject,detail,source\r\n\
             7,2026-01-05T09:30:00.000+09:00,sato,manager,recording.listen,c-1,,192.0.2.7\r\n"
        );
    }

    #[test]
    fn a_cell_that_looks_like_a_formula_is_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("c-1"), "c-1");
        assert_eq!(cell("2001:db8::7"), "2001:db8::7");
    }

    #[test]
    fn an_export_names_its_filter_within_the_detail_limit() {
        let q = AuditQuery {
            from: DateTime::from_timestamp(1_767_573_000, 0),
            login: Some("x".repeat(MAX_AUDIT_NAME_CHARS)),
            action: Some("a".repeat(MAX_AUDIT_NAME_CHARS)),
            to: DateTime::from_timestamp(1_767_659_400, 0),
            ..AuditQuery::default()
        };
        let detail = export_detail(&q);
        assert!(detail.starts_with("format=csv from=2026-01-05T00:30:00.000Z to="));
        assert!(detail.chars().count() <= MAX_AUDIT_TEXT_CHARS);
        assert_eq!(export_detail(&AuditQuery::default()), "format=csv");
    }
}
