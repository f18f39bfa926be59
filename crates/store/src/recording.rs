//! Call recordings: which WAV file holds a call, and what came of it — length, size,
//! SHA-256, the spans the operator paused, and whether it closed cleanly.
//!
//! The engine drives a recording's row through two writes (migrations `0009_recordings`):
//! [`Store::recording_started`] when the file is created (status `recording`), then
//! [`Store::recording_finished`] when it is closed (`complete`, `failed`), or — after a
//! crash — once the engine has repaired the file found by [`Store::recordings_in_progress`]
//! at start (`interrupted`). Both writes are idempotent so a retry after a lost answer is
//! harmless: the first start and the first finish win. The HTTP side reads a row with
//! [`Store::recording`] and serves `file`, which is relative to the recordings folder.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::RecordingError> {
//! use madoguchi_store::{FinishedRecording, NewRecording, RecordingStatus};
//! let now = chrono::Utc::now();
//! store.recording_started(&NewRecording {
//!     call_id: "c-1".into(), file: "2026/01/05/c-1.wav".into(), started_at: now,
//!     node_id: "node1".into(),
//! }).await?;
//! store.recording_finished("c-1", &FinishedRecording {
//!     ended_at: now + chrono::Duration::seconds(95), duration_ms: 95_000, bytes: 3_040_044,
//!     sha256: Some("ab".repeat(32)), paused: vec![], status: RecordingStatus::Complete,
//!     error: None,
//! }).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Component, Path};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::timefmt::{from_sqlite_text, to_sqlite_text, truncate_to_millis};

/// The longest failure text kept with a recording, in characters (longer ones are cut).
pub const MAX_RECORDING_ERROR_CHARS: usize = 500;
/// The longest relative file name accepted, in bytes.
pub const MAX_RECORDING_FILE_BYTES: usize = 500;

/// Where a recording stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    /// The file is being written.
    Recording,
    /// Closed cleanly: the file is whole and its checksum known.
    Complete,
    /// The engine stopped while recording; the file was repaired up to its last checkpoint.
    Interrupted,
    /// Writing failed (disk full, I/O error): the file holds what was written before.
    Failed,
}

impl RecordingStatus {
    pub const ALL: [RecordingStatus; 4] = [
        RecordingStatus::Recording,
        RecordingStatus::Complete,
        RecordingStatus::Interrupted,
        RecordingStatus::Failed,
    ];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::Recording => "recording",
            RecordingStatus::Complete => "complete",
            RecordingStatus::Interrupted => "interrupted",
            RecordingStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for RecordingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is none of [`RecordingStatus::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown recording status {0:?}")]
pub struct UnknownRecordingStatus(pub String);

impl FromStr for RecordingStatus {
    type Err = UnknownRecordingStatus;

    fn from_str(s: &str) -> Result<RecordingStatus, UnknownRecordingStatus> {
        RecordingStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownRecordingStatus(s.to_owned()))
    }
}

/// A span the recording was paused for (silence in the file), as offsets from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PausedSpan {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// A recording that has just started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecording {
    /// The call record's id.
    pub call_id: String,
    /// The WAV file, relative to the recordings folder (`2026/01/05/c-1.wav`).
    pub file: String,
    pub started_at: DateTime<Utc>,
    /// The node writing the file (its folder holds it).
    pub node_id: String,
}

/// How a recording ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishedRecording {
    pub ended_at: DateTime<Utc>,
    /// The length of the audio, paused spans included.
    pub duration_ms: i64,
    /// The file's size.
    pub bytes: i64,
    /// Lowercase hex SHA-256 of the file; required when `status` is `Complete`.
    pub sha256: Option<String>,
    /// In order, within the recording.
    pub paused: Vec<PausedSpan>,
    /// Anything but `Recording`.
    pub status: RecordingStatus,
    /// What went wrong, for `Failed` (and `Interrupted`, if the repair says); no personal
    /// data. Cut to [`MAX_RECORDING_ERROR_CHARS`].
    pub error: Option<String>,
}

/// A stored recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub call_id: String,
    /// Relative to the recordings folder.
    pub file: String,
    pub started_at: DateTime<Utc>,
    /// `None` while recording, like the three figures after it.
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub status: RecordingStatus,
    pub error: Option<String>,
    pub paused: Vec<PausedSpan>,
    pub node_id: String,
}

/// Why a recording write was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("the call id is empty")]
    EmptyCallId,
    #[error("the recording file must be a relative path inside the recordings folder")]
    BadFile,
    #[error("sha256 must be 64 lowercase hex digits")]
    BadSha256,
    #[error("a complete recording needs its sha256")]
    MissingSha256,
    #[error("duration and size cannot be negative")]
    NegativeFigure,
    #[error("a paused span must start at or after 0 and end at or after its start")]
    BadPausedSpan,
    #[error("a finished recording cannot have the status `recording`")]
    StillRecording,
    #[error("no recording was started for this call")]
    NotStarted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `file` names something inside the folder it is joined to: relative, and made of
/// plain names only (no `..`, `.`, root or drive prefix), within the length limit.
pub fn is_contained_file(file: &str) -> bool {
    !file.is_empty()
        && file.len() <= MAX_RECORDING_FILE_BYTES
        && !file.contains('\0')
        && !file.contains('\\')
        && Path::new(file)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        // `Path::components` drops a `.` in the middle and trailing slashes; refuse them too.
        && !file.split('/').any(|part| part.is_empty() || part == "." || part == "..")
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl NewRecording {
    fn check(&self) -> Result<(), RecordingError> {
        if self.call_id.is_empty() {
            return Err(RecordingError::EmptyCallId);
        }
        if !is_contained_file(&self.file) {
            return Err(RecordingError::BadFile);
        }
        Ok(())
    }
}

impl FinishedRecording {
    /// The error text as stored: trimmed, blank dropped, cut to the limit.
    fn checked_error(&self) -> Result<Option<String>, RecordingError> {
        if self.status == RecordingStatus::Recording {
            return Err(RecordingError::StillRecording);
        }
        if self.duration_ms < 0 || self.bytes < 0 {
            return Err(RecordingError::NegativeFigure);
        }
        match &self.sha256 {
            Some(hex) if !is_sha256_hex(hex) => return Err(RecordingError::BadSha256),
            None if self.status == RecordingStatus::Complete => {
                return Err(RecordingError::MissingSha256)
            }
            _ => {}
        }
        if self
            .paused
            .iter()
            .any(|span| span.from_ms < 0 || span.to_ms < span.from_ms)
        {
            return Err(RecordingError::BadPausedSpan);
        }
        Ok(self
            .error
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| text.chars().take(MAX_RECORDING_ERROR_CHARS).collect()))
    }
}

/// A time column as each backend decodes it: checked text on SQLite, timestamptz on
/// PostgreSQL. Lets one row type serve both.
pub(crate) trait StoredTime {
    fn utc(&self) -> Option<DateTime<Utc>>;
}

impl StoredTime for String {
    fn utc(&self) -> Option<DateTime<Utc>> {
        from_sqlite_text(self)
    }
}

impl StoredTime for DateTime<Utc> {
    fn utc(&self) -> Option<DateTime<Utc>> {
        Some(*self)
    }
}

#[derive(sqlx::FromRow)]
struct Row<T> {
    call_id: String,
    file: String,
    started_at: T,
    ended_at: Option<T>,
    duration_ms: Option<i64>,
    bytes: Option<i64>,
    sha256: Option<String>,
    status: String,
    error: Option<String>,
    paused: Json<Vec<PausedSpan>>,
    node_id: String,
}

impl<T: StoredTime> Row<T> {
    fn decode(self) -> Result<Recording, StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: self.call_id.clone(),
            column,
        };
        let started_at = self
            .started_at
            .utc()
            .ok_or_else(|| corrupt("recordings.started_at"))?;
        let ended_at = match &self.ended_at {
            None => None,
            Some(at) => Some(at.utc().ok_or_else(|| corrupt("recordings.ended_at"))?),
        };
        let status = self
            .status
            .parse()
            .map_err(|_| corrupt("recordings.status"))?;
        Ok(Recording {
            call_id: self.call_id,
            file: self.file,
            started_at,
            ended_at,
            duration_ms: self.duration_ms,
            bytes: self.bytes,
            sha256: self.sha256,
            status,
            error: self.error,
            paused: self.paused.0,
            node_id: self.node_id,
        })
    }
}

// sqlx binds `$N` on SQLite too, so one statement serves both.
const COLUMNS: &str = "call_id, file, started_at, ended_at, duration_ms, bytes, sha256, status, \
                       error, paused, node_id";
const START: &str = "INSERT INTO recordings (call_id, file, started_at, status, node_id) \
                     VALUES ($1, $2, $3, 'recording', $4) ON CONFLICT (call_id) DO NOTHING";
const FINISH: &str = "UPDATE recordings SET ended_at = $2, duration_ms = $3, bytes = $4, \
                      sha256 = $5, paused = $6, status = $7, error = $8 \
                      WHERE call_id = $1 AND status = 'recording'";
const EXISTS: &str = "SELECT COUNT(*) FROM recordings WHERE call_id = $1";

impl Store {
    /// Stores a recording that has just started, unless its call has one already (a
    /// resend): `true` when this call stored it.
    pub async fn recording_started(&self, new: &NewRecording) -> Result<bool, RecordingError> {
        new.check()?;
        let done = match self.pool() {
            Pool::Sqlite(pool) => sqlx::query(START)
                .bind(&new.call_id)
                .bind(&new.file)
                .bind(to_sqlite_text(new.started_at))
                .bind(&new.node_id)
                .execute(pool)
                .await
                .map_err(StoreError::from)?
                .rows_affected(),
            Pool::Postgres(pool) => sqlx::query(START)
                .bind(&new.call_id)
                .bind(&new.file)
                .bind(truncate_to_millis(new.started_at))
                .bind(&new.node_id)
                .execute(pool)
                .await
                .map_err(StoreError::from)?
                .rows_affected(),
        };
        Ok(done == 1)
    }

    /// Marks the call's recording finished: `true` when this call did, `false` when it was
    /// finished already (the first finish is kept). [`RecordingError::NotStarted`] when the
    /// call has no recording.
    pub async fn recording_finished(
        &self,
        call_id: &str,
        finished: &FinishedRecording,
    ) -> Result<bool, RecordingError> {
        let error = finished.checked_error()?;
        let paused = Json(&finished.paused);
        // The same statements on both backends; only the timestamp's bound type differs.
        macro_rules! finish_on {
            ($pool:expr, $ended_at:expr) => {{
                let mut tx = $pool.begin().await.map_err(StoreError::from)?;
                let updated = sqlx::query(FINISH)
                    .bind(call_id)
                    .bind($ended_at)
                    .bind(finished.duration_ms)
                    .bind(finished.bytes)
                    .bind(&finished.sha256)
                    .bind(paused)
                    .bind(finished.status.as_str())
                    .bind(&error)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?
                    .rows_affected();
                let rows: i64 = sqlx::query_scalar(EXISTS)
                    .bind(call_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                tx.commit().await.map_err(StoreError::from)?;
                (updated, rows)
            }};
        }
        let (updated, rows) = match self.pool() {
            Pool::Sqlite(pool) => finish_on!(pool, to_sqlite_text(finished.ended_at)),
            Pool::Postgres(pool) => finish_on!(pool, truncate_to_millis(finished.ended_at)),
        };
        match (updated, rows) {
            (0, 0) => Err(RecordingError::NotStarted),
            (0, _) => Ok(false),
            _ => Ok(true),
        }
    }

    /// The recordings of `node_id` still marked `recording`, oldest first: at start, the ones
    /// a crash left open (the files are on this node's disk; another node sharing the
    /// database repairs its own).
    pub async fn recordings_in_progress(
        &self,
        node_id: &str,
    ) -> Result<Vec<Recording>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE status = 'recording' AND node_id = $1 \
             ORDER BY started_at, call_id"
        );
        match self.pool() {
            Pool::Sqlite(pool) => {
                let rows: Vec<Row<String>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(node_id)
                    .fetch_all(pool)
                    .await?;
                rows.into_iter().map(Row::decode).collect()
            }
            Pool::Postgres(pool) => {
                let rows: Vec<Row<DateTime<Utc>>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(node_id)
                    .fetch_all(pool)
                    .await?;
                rows.into_iter().map(Row::decode).collect()
            }
        }
    }

    /// The call's recording, if it has one.
    pub async fn recording(&self, call_id: &str) -> Result<Option<Recording>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM recordings WHERE call_id = $1");
        match self.pool() {
            Pool::Sqlite(pool) => {
                let row: Option<Row<String>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(call_id)
                    .fetch_optional(pool)
                    .await?;
                row.map(Row::decode).transpose()
            }
            Pool::Postgres(pool) => {
                let row: Option<Row<DateTime<Utc>>> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(call_id)
                    .fetch_optional(pool)
                    .await?;
                row.map(Row::decode).transpose()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_names_are_contained() {
        assert!(is_contained_file("c-1.wav"));
        assert!(is_contained_file("2026/01/05/c-1.wav"));
    }

    #[test]
    fn names_leaving_the_folder_are_not() {
        for file in [
            "",
            "/etc/passwd",
            "../secret.wav",
            "2026/../../secret.wav",
            "a/./b.wav",
            "./b.wav",
            "a//b.wav",
            "a/",
            "a\\..\\b.wav",
            "a\0b.wav",
        ] {
            assert!(!is_contained_file(file), "{file:?}");
        }
        assert!(!is_contained_file(
            &"a".repeat(MAX_RECORDING_FILE_BYTES + 1)
        ));
    }

    #[test]
    fn status_names_round_trip() {
        for status in RecordingStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("done".parse::<RecordingStatus>().is_err());
    }

    fn finished(status: RecordingStatus) -> FinishedRecording {
        FinishedRecording {
            ended_at: DateTime::from_timestamp(0, 0).expect("epoch"),
            duration_ms: 1_000,
            bytes: 16_044,
            sha256: Some("0f".repeat(32)),
            paused: vec![],
            status,
            error: None,
        }
    }

    #[test]
    fn a_finish_is_checked_before_it_is_written() {
        let bad = |f: FinishedRecording| f.checked_error().expect_err("refused");
        assert!(matches!(
            bad(finished(RecordingStatus::Recording)),
            RecordingError::StillRecording
        ));
        let mut upper = finished(RecordingStatus::Complete);
        upper.sha256 = Some("0F".repeat(32));
        assert!(matches!(bad(upper), RecordingError::BadSha256));
        let mut none = finished(RecordingStatus::Complete);
        none.sha256 = None;
        assert!(matches!(bad(none), RecordingError::MissingSha256));
        let mut backwards = finished(RecordingStatus::Complete);
        backwards.paused = vec![PausedSpan {
            from_ms: 500,
            to_ms: 400,
        }];
        assert!(matches!(bad(backwards), RecordingError::BadPausedSpan));
        let mut negative = finished(RecordingStatus::Failed);
        negative.bytes = -1;
        assert!(matches!(bad(negative), RecordingError::NegativeFigure));
    }

    #[test]
    fn a_failure_needs_no_checksum_and_its_text_is_cut() {
        let mut failed = finished(RecordingStatus::Failed);
        failed.sha256 = None;
        failed.error = Some(format!(
            "  {}  ",
            "満".repeat(MAX_RECORDING_ERROR_CHARS + 10)
        ));
        let error = failed.checked_error().expect("accepted");
        assert_eq!(
            error.map(|e| e.chars().count()),
            Some(MAX_RECORDING_ERROR_CHARS)
        );
        failed.error = Some("   ".into());
        assert_eq!(failed.checked_error().expect("accepted"), None);
    }
}
