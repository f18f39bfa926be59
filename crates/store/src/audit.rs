//! The audit log: every access by a person to personal data — listening to or downloading a
//! call's recording, exporting the log itself — appended as one row that nobody can change
//! or delete afterwards (migrations `0009_recordings` refuse UPDATE and DELETE with
//! triggers, on both backends).
//!
//! The HTTP side writes an entry *before* it hands out the data, so an access the log
//! cannot record does not happen. An entry names who (login and role), what
//! ([`actions`]), which (`subject`, e.g. the call id), from where (`source`), and a short
//! `detail` that never holds personal data. [`Store::audit_entries`] lists them newest
//! first, filtered and paged, for managers and the city's inspection.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::AuditError> {
//! use madoguchi_store::{audit::actions, AuditEntry, AuditQuery, Role};
//! store.audit(&AuditEntry {
//!     at: chrono::Utc::now(), login: "sato".into(), role: Role::Manager,
//!     action: actions::RECORDING_LISTEN.into(), subject: Some("c-1".into()),
//!     detail: None, source: Some("192.0.2.7".into()),
//! }).await?;
//! let page = store.audit_entries(&AuditQuery::default()).await?;
//! assert_eq!(page.items[0].entry.subject.as_deref(), Some("c-1"));
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::recording::StoredTime;
use crate::store::{Pool, Store};
use crate::timefmt::{to_sqlite_text, truncate_to_millis};
use crate::users::Role;

/// The largest page [`Store::audit_entries`] returns, whatever the query asks for.
pub const MAX_AUDIT_PAGE: u32 = 1_000;
/// The longest login and action, in characters.
pub const MAX_AUDIT_NAME_CHARS: usize = 64;
/// The longest subject and detail, in characters.
pub const MAX_AUDIT_TEXT_CHARS: usize = 200;
/// The longest source address, in characters.
pub const MAX_AUDIT_SOURCE_CHARS: usize = 100;

/// The actions the engine logs. Free text in the database (a new kind of access needs no
/// migration), named here so that writers and readers agree.
pub mod actions {
    /// A manager played a call's recording (the first request of a playback).
    pub const RECORDING_LISTEN: &str = "recording.listen";
    /// A manager downloaded a call's recording as a file.
    pub const RECORDING_DOWNLOAD: &str = "recording.download";
    /// Recordings were exported (e.g. with a complaint's file for the city).
    pub const RECORDING_EXPORT: &str = "recording.export";
    /// A person opened a call's record (the caller's number).
    pub const CALL_VIEW: &str = "call.view";
    /// A person listed call records (caller numbers); the detail says which page.
    pub const CALL_LIST: &str = "call.list";
    /// A person read a classification holding a note.
    pub const CLASSIFICATION_VIEW: &str = "classification.view";
    /// A person listed counter cases, some holding notes.
    pub const COUNTER_LIST: &str = "counter.list";
    /// A person opened a counter case holding a note.
    pub const COUNTER_VIEW: &str = "counter.view";
    /// The audit log was exported.
    pub const AUDIT_EXPORT: &str = "audit.export";
    /// The retention job ran (login `system`; the detail holds its counts).
    pub const RETENTION_RUN: &str = "retention.run";
}

/// One access, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Kept to the millisecond.
    pub at: DateTime<Utc>,
    pub login: String,
    pub role: Role,
    /// One of [`actions`] (lowercase letters, digits, `.` and `_`).
    pub action: String,
    /// What was accessed, e.g. the call id.
    pub subject: Option<String>,
    /// A short note (never personal data), e.g. the filter of an export.
    pub detail: Option<String>,
    /// The address the request came from.
    pub source: Option<String>,
}

/// A stored entry: its number in the log and what was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
}

/// Which entries to list: newest first by `(at, id)`, offset-paged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditQuery {
    /// Inclusive lower bound on `at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `at`.
    pub to: Option<DateTime<Utc>>,
    /// Only this person's entries.
    pub login: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Page size, clamped to `1..=MAX_AUDIT_PAGE`.
    pub limit: u32,
    pub offset: u64,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            from: None,
            to: None,
            login: None,
            action: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of entries and how many match over all pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub total: i64,
}

/// Why an entry was refused. Display texts name the rule, never the value.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the login must be 1 to {MAX_AUDIT_NAME_CHARS} characters")]
    BadLogin,
    #[error(
        "the action must be 1 to {MAX_AUDIT_NAME_CHARS} lowercase letters, digits, '.' or '_'"
    )]
    BadAction,
    #[error("subject and detail are at most {MAX_AUDIT_TEXT_CHARS} characters")]
    TextTooLong,
    #[error("the source is at most {MAX_AUDIT_SOURCE_CHARS} characters")]
    SourceTooLong,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `action` has the shape of an action name.
pub fn is_action_name(action: &str) -> bool {
    !action.is_empty()
        && action.chars().count() <= MAX_AUDIT_NAME_CHARS
        && action
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_'))
}

impl AuditEntry {
    fn check(&self) -> Result<(), AuditError> {
        let chars = |text: &str| text.chars().count();
        if self.login.is_empty() || chars(&self.login) > MAX_AUDIT_NAME_CHARS {
            return Err(AuditError::BadLogin);
        }
        if !is_action_name(&self.action) {
            return Err(AuditError::BadAction);
        }
        let long = |text: &Option<String>, limit| text.as_deref().is_some_and(|t| chars(t) > limit);
        if long(&self.subject, MAX_AUDIT_TEXT_CHARS) || long(&self.detail, MAX_AUDIT_TEXT_CHARS) {
            return Err(AuditError::TextTooLong);
        }
        if long(&self.source, MAX_AUDIT_SOURCE_CHARS) {
            return Err(AuditError::SourceTooLong);
        }
        Ok(())
    }
}

impl AuditQuery {
    fn clamped_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_AUDIT_PAGE))
    }

    fn clamped_offset(&self) -> i64 {
        // Clamped so the bind fits i64; no table holds 2^63 rows.
        i64::try_from(self.offset).unwrap_or(i64::MAX)
    }

    /// The WHERE clause of the filters present, numbered `$1…` in the order `from`, `to`,
    /// `login`, `action` (the order [`Store::audit_entries`] binds them), and the next
    /// parameter number. Absent filters leave no parameter, so no statement needs a type
    /// cast for a NULL and one text serves both backends.
    fn filter(&self) -> (String, usize) {
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut add = |condition: &str| {
            n += 1;
            conditions.push(condition.replace('?', &format!("${n}")));
        };
        if self.from.is_some() {
            add("at >= ?");
        }
        if self.to.is_some() {
            add("at < ?");
        }
        if self.login.is_some() {
            add("login = ?");
        }
        if self.action.is_some() {
            add("action = ?");
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        (clause, n + 1)
    }
}

#[derive(sqlx::FromRow)]
struct Row<T> {
    id: i64,
    at: T,
    login: String,
    role: String,
    action: String,
    subject: Option<String>,
    detail: Option<String>,
    source: Option<String>,
}

impl<T: StoredTime> Row<T> {
    fn decode(self) -> Result<AuditRecord, StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: self.id.to_string(),
            column,
        };
        let at = self.at.utc().ok_or_else(|| corrupt("audit_log.at"))?;
        let role = self.role.parse().map_err(|_| corrupt("audit_log.role"))?;
        Ok(AuditRecord {
            id: self.id,
            entry: AuditEntry {
                at,
                login: self.login,
                role,
                action: self.action,
                subject: self.subject,
                detail: self.detail,
                source: self.source,
            },
        })
    }
}

const INSERT: &str = "INSERT INTO audit_log \
                      (at, login, role, action, subject, detail, source, node_id) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
const COLUMNS: &str = "id, at, login, role, action, subject, detail, source";

/// Binds the filters [`AuditQuery::filter`] numbered, then limit and offset; `$at` turns an
/// instant into the backend's bind type.
macro_rules! bind_filter {
    ($query:expr, $q:expr, $at:expr) => {{
        let mut query = $query;
        if let Some(from) = $q.from {
            query = query.bind($at(from));
        }
        if let Some(to) = $q.to {
            query = query.bind($at(to));
        }
        if let Some(login) = &$q.login {
            query = query.bind(login.clone());
        }
        if let Some(action) = &$q.action {
            query = query.bind(action.clone());
        }
        query
    }};
}

impl Store {
    /// Appends an entry to the audit log, stamped with this store's node
    /// ([`Store::with_node_id`]); returns its id.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<i64, AuditError> {
        entry.check()?;
        let id = match self.pool() {
            Pool::Sqlite(pool) => sqlx::query_scalar(INSERT)
                .bind(to_sqlite_text(entry.at))
                .bind(&entry.login)
                .bind(entry.role.as_str())
                .bind(&entry.action)
                .bind(&entry.subject)
                .bind(&entry.detail)
                .bind(&entry.source)
                .bind(self.node_id())
                .fetch_one(pool)
                .await
                .map_err(StoreError::from)?,
            Pool::Postgres(pool) => sqlx::query_scalar(INSERT)
                .bind(truncate_to_millis(entry.at))
                .bind(&entry.login)
                .bind(entry.role.as_str())
                .bind(&entry.action)
                .bind(&entry.subject)
                .bind(&entry.detail)
                .bind(&entry.source)
                .bind(self.node_id())
                .fetch_one(pool)
                .await
                .map_err(StoreError::from)?,
        };
        Ok(id)
    }

    /// The entries `q` selects, newest first (by `at`, then `id`), with their total; the
    /// page and the total come from one snapshot.
    pub async fn audit_entries(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let (clause, next) = q.filter();
        let count = format!("SELECT COUNT(*) FROM audit_log {clause}");
        let list = format!(
            "SELECT {COLUMNS} FROM audit_log {clause} ORDER BY at DESC, id DESC \
             LIMIT ${next} OFFSET ${}",
            next + 1
        );
        match self.pool() {
            Pool::Sqlite(pool) => {
                // A deferred transaction reads one snapshot in WAL mode.
                let mut tx = pool.begin().await?;
                let total: i64 = bind_filter!(
                    sqlx::query_scalar(sqlx::AssertSqlSafe(count)),
                    q,
                    to_sqlite_text
                )
                .fetch_one(&mut *tx)
                .await?;
                let rows: Vec<Row<String>> =
                    bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(list)), q, to_sqlite_text)
                        .bind(q.clamped_limit())
                        .bind(q.clamped_offset())
                        .fetch_all(&mut *tx)
                        .await?;
                tx.commit().await?;
                let items = rows
                    .into_iter()
                    .map(Row::decode)
                    .collect::<Result<_, _>>()?;
                Ok(AuditPage { items, total })
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // One snapshot for the count and the page.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                let total: i64 = bind_filter!(
                    sqlx::query_scalar(sqlx::AssertSqlSafe(count)),
                    q,
                    truncate_to_millis
                )
                .fetch_one(&mut *tx)
                .await?;
                let rows: Vec<Row<DateTime<Utc>>> = bind_filter!(
                    sqlx::query_as(sqlx::AssertSqlSafe(list)),
                    q,
                    truncate_to_millis
                )
                .bind(q.clamped_limit())
                .bind(q.clamped_offset())
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                let items = rows
                    .into_iter()
                    .map(Row::decode)
                    .collect::<Result<_, _>>()?;
                Ok(AuditPage { items, total })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_numbers_only_the_parameters_present() {
        let all = AuditQuery {
            from: Some(DateTime::from_timestamp(0, 0).expect("epoch")),
            to: Some(DateTime::from_timestamp(60, 0).expect("in range")),
            login: Some("sato".into()),
            action: Some(actions::RECORDING_LISTEN.into()),
            ..AuditQuery::default()
        };
        assert_eq!(
            all.filter(),
            (
                "WHERE at >= $1 AND at < $2 AND login = $3 AND action = $4".to_owned(),
                5
            )
        );
        let login_only = AuditQuery {
            login: Some("sato".into()),
            ..AuditQuery::default()
        };
        assert_eq!(login_only.filter(), ("WHERE login = $1".to_owned(), 2));
        assert_eq!(AuditQuery::default().filter(), (String::new(), 1));
    }

    fn entry() -> AuditEntry {
        AuditEntry {
            at: DateTime::from_timestamp(0, 0).expect("epoch"),
            login: "sato".into(),
            role: Role::Manager,
            action: actions::RECORDING_LISTEN.into(),
            subject: Some("c-1".into()),
            detail: None,
            source: Some("192.0.2.7".into()),
        }
    }

    #[test]
    fn an_entry_is_checked_before_it_is_written() {
        assert!(entry().check().is_ok());
        let mut bad = entry();
        bad.action = "Recording Listen".into();
        assert!(matches!(bad.check(), Err(AuditError::BadAction)));
        let mut bad = entry();
        bad.login = String::new();
        assert!(matches!(bad.check(), Err(AuditError::BadLogin)));
        let mut bad = entry();
        bad.detail = Some("x".repeat(MAX_AUDIT_TEXT_CHARS + 1));
        assert!(matches!(bad.check(), Err(AuditError::TextTooLong)));
        let mut bad = entry();
        bad.source = Some("x".repeat(MAX_AUDIT_SOURCE_CHARS + 1));
        assert!(matches!(bad.check(), Err(AuditError::SourceTooLong)));
    }

    #[test]
    fn every_named_action_has_the_shape_of_one() {
        for action in [
            actions::RECORDING_LISTEN,
            actions::RECORDING_DOWNLOAD,
            actions::RECORDING_EXPORT,
            actions::CALL_VIEW,
            actions::CALL_LIST,
            actions::CLASSIFICATION_VIEW,
            actions::COUNTER_LIST,
            actions::COUNTER_VIEW,
            actions::AUDIT_EXPORT,
            actions::RETENTION_RUN,
        ] {
            assert!(is_action_name(action), "{action}");
        }
    }
}
