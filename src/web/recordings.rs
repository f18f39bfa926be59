//! Call recordings over HTTP (managers and admins only: a recording is personal data).
//!
//! - `GET /api/v1/calls/{id}/recording` answers with the WAV (`audio/wav`), with
//!   `Accept-Ranges: bytes` and single-range requests (RFC 9110 §14) so a browser's
//!   `<audio>` element can seek: `bytes=a-b`, `a-` and `-n` get a 206 with `Content-Range`,
//!   an unsatisfiable range a 416; several ranges, another unit or a malformed header are
//!   ignored and the whole file is sent (as §14.2 allows). `?download=1` adds
//!   `Content-Disposition: attachment; filename="call-<id>.wav"`.
//!   A request that starts at byte 0 (no `Range`, or one starting at 0) is a new listen or
//!   download and is written to the audit log first (`recording.listen` /
//!   `recording.download`); the requests a player makes while seeking are not. 404 when the
//!   call has no recording or its file is gone, 409 while it is still being recorded.
//! - `GET /api/v1/calls/{id}/recording/meta` answers with the recording's row (status,
//!   duration, size, checksum, paused spans): no audio and no personal data, so not audited.
//!
//! The file comes only from the recordings row joined to the configured folder
//! (`--recordings-dir`): a name that is not a plain relative path, or that resolves (through
//! a symbolic link) outside the folder, is refused.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use madoguchi_store::audit::actions;
use madoguchi_store::recording::is_contained_file;
use madoguchi_store::{PausedSpan, Recording, RecordingStatus};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};
use utoipa::{IntoParams, ToSchema};

use super::api::{error, ApiError};
use super::audit::{record_access, Peer};
use super::auth::ManagerOrAdmin;
use super::AppState;

/// How much of the file one body chunk carries.
const CHUNK_BYTES: usize = 64 * 1024;

/// What a `Range` header asks of a file of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RangeRequest {
    /// No usable range: the whole file, 200.
    Whole,
    /// Bytes `start..=end`, 206.
    Part { start: u64, end: u64 },
    /// No byte of the file is in the range: 416.
    Unsatisfiable,
}

/// Reads a `Range` header value for a file of `len` bytes (RFC 9110 §14.1.2). Only one
/// `bytes` range is served; anything else is read as no range at all.
fn parse_range(value: &str, len: u64) -> RangeRequest {
    let Some((unit, set)) = value.trim().split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match number(last) {
            None => RangeRequest::Whole,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
        },
        // `a-`: from a to the end.
        (false, true) => match number(first) {
            None => RangeRequest::Whole,
            Some(start) if start >= len => RangeRequest::Unsatisfiable,
            Some(start) => RangeRequest::Part {
                start,
                end: len - 1,
            },
        },
        // `a-b`: b past the end means the end; b before a makes the header invalid.
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if end >= start => {
                if start >= len {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Part {
                        start,
                        end: end.min(len - 1),
                    }
                }
            }
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

/// Why a recording's file cannot be served.
#[derive(Debug, PartialEq, Eq)]
enum FileProblem {
    /// The folder or the file does not exist (or cannot be read).
    Missing,
    /// The name is not a plain relative path, or it resolves outside the folder.
    Outside,
}

/// The file `name` inside `folder`, resolved through any symbolic links; refused when it
/// is not inside the folder once resolved.
async fn resolve(folder: &Path, name: &str) -> Result<PathBuf, FileProblem> {
    if !is_contained_file(name) {
        return Err(FileProblem::Outside);
    }
    let root = tokio::fs::canonicalize(folder)
        .await
        .map_err(|_| FileProblem::Missing)?;
    let path = tokio::fs::canonicalize(root.join(name))
        .await
        .map_err(|_| FileProblem::Missing)?;
    if !path.starts_with(&root) {
        return Err(FileProblem::Outside);
    }
    Ok(path)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordingParams {
    /// `1` or `true`: as an attachment (`call-<id>.wav`), audited as a download.
    download: Option<String>,
}

/// A call's recording as WAV, seekable with `Range` requests.
#[utoipa::path(get, path = "/api/v1/calls/{id}/recording",
    params(("id" = String, Path, description = "call id"), RecordingParams),
    responses(
        (status = 200, description = "The whole WAV file (audio/wav)"),
        (status = 206, description = "One byte range of it, with Content-Range"),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError, description = "No recording, or its file is missing"),
        (status = 409, body = ApiError, description = "Still being recorded"),
        (status = 416, description = "The range is outside the file"),
        (status = 503, body = ApiError)))]
pub(super) async fn recording(
    ManagerOrAdmin(caller): ManagerOrAdmin,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    params: Result<Query<RecordingParams>, QueryRejection>,
    method: Method,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let download = match params.download.as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return error(StatusCode::BAD_REQUEST, "download must be 1 or 0"),
    };
    let row = match find(&state, &id).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    if row.status == RecordingStatus::Recording {
        return error(
            StatusCode::CONFLICT,
            "the call is still being recorded; try again when it has ended",
        );
    }
    let path = match resolve(&state.recordings_dir, &row.file).await {
        Ok(path) => path,
        Err(problem) => return file_problem(&id, problem),
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(_) => return file_problem(&id, FileProblem::Missing),
    };
    let len = match file.metadata().await {
        Ok(meta) if meta.is_file() => meta.len(),
        _ => return file_problem(&id, FileProblem::Missing),
    };
    let etag = row
        .sha256
        .as_deref()
        .and_then(|sha| HeaderValue::from_str(&format!("\"{sha}\"")).ok());
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        // A range is only for the file the client has seen (RFC 9110 §13.1.5).
        .filter(|_| if_range_holds(&headers, etag.as_ref()))
        .map_or(RangeRequest::Whole, |v| parse_range(v, len));
    let (status, start, end) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, len.checked_sub(1)),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, Some(end)),
        RangeRequest::Unsatisfiable => {
            let mut response = error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "the range is outside the file",
            );
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    // A listen (or download) begins at byte 0; a player seeking asks for later bytes.
    if start == 0 && method != Method::HEAD {
        let action = if download {
            actions::RECORDING_DOWNLOAD
        } else {
            actions::RECORDING_LISTEN
        };
        if let Err(refused) = record_access(&state, &caller, &peer, action, Some(&id), None).await {
            return refused;
        }
    }
    let length = end.map_or(0, |end| end - start + 1);
    if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
        return file_problem(&id, FileProblem::Missing);
    }
    let mut response = Response::new(stream_body(file.take(length)));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    if let (StatusCode::PARTIAL_CONTENT, Some(end)) = (status, end) {
        tracing::debug!(call_id = %id, start, end, len, "recording range served");
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
            h.insert(header::CONTENT_RANGE, value);
        }
    }
    if download {
        let name = format!("attachment; filename=\"call-{}.wav\"", file_stem(&id));
        if let Ok(value) = HeaderValue::from_str(&name) {
            h.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

/// Whether a range request may be served as one: no `If-Range`, or one naming the file's
/// current entity tag. (No `Last-Modified` is sent, so a date never matches.)
fn if_range_holds(headers: &HeaderMap, etag: Option<&HeaderValue>) -> bool {
    match headers.get(header::IF_RANGE) {
        None => true,
        Some(condition) => etag.is_some_and(|etag| etag == condition),
    }
}

/// The call id as a file name: characters other than ASCII letters, digits, `.`, `_` and
/// `-` become `_`.
fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file's bytes as a body, read a chunk at a time (never the whole file in memory).
fn stream_body(reader: impl AsyncRead + Unpin + Send + 'static) -> Body {
    let chunks = futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let mut buffer = vec![0; CHUNK_BYTES];
        match reader.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), Some(reader)))
            }
            // The error ends the body; the client sees a short response.
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(chunks)
}

/// The call's recording row, or the response saying why there is none.
async fn find(state: &AppState, id: &str) -> Result<Recording, Response> {
    match state.store.recording(id).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, "this call has no recording")),
        Err(e) => {
            tracing::warn!(error = %e, "reading a recording failed");
            Err(error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable"))
        }
    }
}

fn file_problem(call_id: &str, problem: FileProblem) -> Response {
    match problem {
        FileProblem::Missing => {
            tracing::warn!(call_id, "a recording's file is missing");
            error(StatusCode::NOT_FOUND, "the recording's file is missing")
        }
        FileProblem::Outside => {
            tracing::warn!(
                call_id,
                "a recording's file name leaves the recordings folder; refused"
            );
            error(
                StatusCode::NOT_FOUND,
                "the recording's file is not in the recordings folder",
            )
        }
    }
}

/// A recording's row, without the file name.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingMeta {
    call_id: String,
    /// recording, complete, interrupted or failed.
    status: String,
    started_at: DateTime<Utc>,
    /// `null` while recording, like the figures after it.
    ended_at: Option<DateTime<Utc>>,
    duration_ms: Option<i64>,
    bytes: Option<i64>,
    /// Lowercase hex SHA-256 of the file.
    sha256: Option<String>,
    /// Spans paused (silent in the file), as offsets from its start.
    #[schema(value_type = Vec<Object>)]
    paused: Vec<PausedSpan>,
    /// Why recording failed, if it did.
    error: Option<String>,
    node_id: String,
    /// Whether the file is in the recordings folder on this node, ready to play.
    file_present: bool,
}

/// A call's recording: status, duration, size, checksum and paused spans.
#[utoipa::path(get, path = "/api/v1/calls/{id}/recording/meta",
    params(("id" = String, Path, description = "call id")),
    responses((status = 200, body = RecordingMeta), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 503, body = ApiError)))]
pub(super) async fn recording_meta(
    _manager: ManagerOrAdmin,
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let row = match find(&state, &id).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let file_present = match resolve(&state.recordings_dir, &row.file).await {
        Ok(path) => tokio::fs::metadata(&path)
            .await
            .is_ok_and(|meta| meta.is_file()),
        Err(_) => false,
    };
    Json(RecordingMeta {
        call_id: row.call_id,
        status: row.status.to_string(),
        started_at: row.started_at,
        ended_at: row.ended_at,
        duration_ms: row.duration_ms,
        bytes: row.bytes,
        sha256: row.sha256,
        paused: row.paused,
        error: row.error,
        node_id: row.node_id,
        file_present,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEN: u64 = 1_000;

    fn part(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Part { start, end }
    }

    #[test]
    fn a_closed_range_is_served_as_asked_and_clamped_to_the_end() {
        assert_eq!(parse_range("bytes=0-499", LEN), part(0, 499));
        assert_eq!(parse_range("bytes=500-500", LEN), part(500, 500));
        assert_eq!(parse_range("bytes=900-5000", LEN), part(900, 999));
        assert_eq!(parse_range(" Bytes = 10 - 20 ", LEN), part(10, 20));
    }

    #[test]
    fn an_open_range_runs_to_the_end() {
        assert_eq!(parse_range("bytes=0-", LEN), part(0, 999));
        assert_eq!(parse_range("bytes=999-", LEN), part(999, 999));
    }

    #[test]
    fn a_suffix_range_is_the_last_bytes_or_the_whole_file() {
        assert_eq!(parse_range("bytes=-100", LEN), part(900, 999));
        assert_eq!(parse_range("bytes=-5000", LEN), part(0, 999));
    }

    #[test]
    fn ranges_outside_the_file_are_unsatisfiable() {
        for value in ["bytes=1000-", "bytes=1000-2000", "bytes=-0"] {
            assert_eq!(
                parse_range(value, LEN),
                RangeRequest::Unsatisfiable,
                "{value}"
            );
        }
        assert_eq!(parse_range("bytes=-1", 0), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), RangeRequest::Unsatisfiable);
    }

    #[test]
    fn malformed_multiple_or_foreign_ranges_are_ignored() {
        for value in [
            "bytes=500-100",
            "bytes=0-10,20-30",
            "items=0-10",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=0x10-",
            "bytes=99999999999999999999999-",
            "0-10",
        ] {
            assert_eq!(parse_range(value, LEN), RangeRequest::Whole, "{value}");
        }
    }

    #[test]
    fn if_range_must_name_the_current_file() {
        let etag = HeaderValue::from_static("\"abc\"");
        let mut headers = HeaderMap::new();
        assert!(if_range_holds(&headers, Some(&etag)));
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"abc\""));
        assert!(if_range_holds(&headers, Some(&etag)));
        assert!(!if_range_holds(&headers, None));
        headers.insert(
            header::IF_RANGE,
            HeaderValue::from_static("Mon, 05 Jan 2026 00:00:00 GMT"),
        );
        assert!(!if_range_holds(&headers, Some(&etag)));
    }

    #[test]
    fn a_download_name_keeps_only_safe_characters() {
        assert_eq!(file_stem("node1-42.a_b"), "node1-42.a_b");
        assert_eq!(file_stem("a\"b/c\\d 通話"), "a_b_c_d___");
    }

    #[tokio::test]
    async fn only_files_inside_the_folder_resolve() {
        let base = tempfile::tempdir().expect("temp dir");
        let folder = base.path().join("recordings");
        std::fs::create_dir_all(folder.join("2026")).expect("folder");
        std::fs::write(folder.join("2026/c1.wav"), b"RIFF").expect("file");
        std::fs::write(base.path().join("secret.wav"), b"RIFF").expect("outside");
        std::os::unix::fs::symlink(base.path().join("secret.wav"), folder.join("link.wav"))
            .expect("symlink");

        let inside = resolve(&folder, "2026/c1.wav").await.expect("inside");
        assert!(inside.ends_with("recordings/2026/c1.wav"));
        for name in ["../secret.wav", "2026/../../secret.wav", "/etc/passwd"] {
            assert_eq!(
                resolve(&folder, name).await,
                Err(FileProblem::Outside),
                "{name}"
            );
        }
        assert_eq!(
            resolve(&folder, "link.wav").await,
            Err(FileProblem::Outside),
            "a link out of the folder"
        );
        assert_eq!(
            resolve(&folder, "2026/none.wav").await,
            Err(FileProblem::Missing)
        );
        assert_eq!(
            resolve(&base.path().join("absent"), "c1.wav").await,
            Err(FileProblem::Missing)
        );
    }
}
