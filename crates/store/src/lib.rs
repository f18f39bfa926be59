//! The call-record store: every call leaves exactly one record, kept in SQLite (one node,
//! the default `sqlite://madoguchi.db`) or PostgreSQL (several nodes sharing a database).
//!
//! # Layout
//! - [`record`]: [`CallRecord`], [`CallEvent`] and their enums — plain data the engine builds.
//! - [`Store`]: connect (migrating on the way), insert idempotently, list, get, count.
//! - [`RecordWriter`]: the tokio task that writes records in order, retrying until stored,
//!   so signalling and media never wait on the database.
//! - [`journal`]: crash safety — the open-call journal and the node heartbeat, from which
//!   a restarted node closes the calls a crash cut.
//! - [`cluster`]: several nodes on one PostgreSQL database — node claims and liveness,
//!   published live state, the news bus (LISTEN/NOTIFY).
//! - [`spool`]: the fsync'd local file records wait in while the database is away.
//! - [`query`]: the listing filter, page position and [`Page`].
//! - [`counts`]: [`DispositionCounts`], the "today's counters" the engine starts from.
//! - [`users`]: users with hashed passwords and SIP HA1 values, operator state history and
//!   persistent SIP registrations, as further [`Store`] methods.
//! - [`arrivals`]: queue arrivals and talk time per UTC half-hour, for staffing.
//! - [`audit`]: the append-only log of every access to personal data.
//! - [`auth`]: browser sessions and API tokens (only their hashes are stored).
//! - [`classification`]: what operators file for each call, one per call, with history.
//! - [`complaints`]: the complaints filed since an instant, for the manager's board.
//! - [`counter`]: the counter support log, in-person cases by kind, corrected the same day.
//! - [`devices`]: the counter's devices, their heartbeats and silences.
//! - [`faq`]: the FAQ with substring search in Japanese text (trigram indexes).
//! - [`faq_edition`]: published, immutable FAQ editions (初版, 第N版) and their changes.
//! - [`recording`]: which WAV file holds a call's recording, and how it ended.
//! - [`retention`], [`retention_policy`]: how long personal data and the audit log are
//!   kept, and the anonymisation that removes them.
//! - [`report`]: the monthly and final reports' figures, summed in SQL on both backends.
//! - [`seed`]: bulk loading of generated history (the month generator).
//!
//! This crate is part of the IO shell: it uses tokio and sqlx, and the sans-IO core hands
//! it records as values. Schemas live in `migrations/{sqlite,postgres}` at the repository
//! root and are embedded at build time.

pub mod arrivals;
pub mod audit;
pub mod auth;
mod auth_postgres;
mod auth_sqlite;
pub mod classification;
mod classification_postgres;
mod classification_sqlite;
pub mod cluster;
mod cluster_bus;
mod cluster_postgres;
mod cluster_sqlite;
pub mod complaints;
pub mod counter;
mod counter_postgres;
mod counter_sqlite;
pub mod counts;
pub mod devices;
mod devices_postgres;
mod devices_sqlite;
mod error;
pub mod faq;
pub mod faq_edition;
mod faq_edition_postgres;
mod faq_edition_sqlite;
mod faq_postgres;
mod faq_sqlite;
pub mod journal;
mod postgres;
pub mod query;
pub mod record;
pub mod recording;
pub mod report;
mod report_postgres;
mod report_sqlite;
pub mod retention;
pub mod retention_policy;
mod rows;
pub mod seed;
mod seed_postgres;
mod seed_sqlite;
pub mod spool;
mod sqlite;
mod store;
mod timefmt;
pub mod users;
mod users_postgres;
mod users_sqlite;
pub mod wrap_up;
mod writer;

pub use arrivals::HalfHourArrivals;
pub use audit::{AuditEntry, AuditError, AuditPage, AuditQuery, AuditRecord, MAX_AUDIT_PAGE};
pub use auth::{
    ApiToken, Principal, Secret, Session, API_TOKEN_PREFIX, SESSION_IDLE_TIMEOUT, SESSION_LIFETIME,
};
pub use classification::{
    Classification, ClassificationError, Filed, NewClassification, Outcome, UnknownOutcome,
    MAX_NOTE_CHARS,
};
pub use cluster::{BusEvent, ClusterBus, NodeClaim, NodeInfo, NodeStatus, Reaped};
pub use complaints::{Complaint, MAX_COMPLAINTS};
pub use counter::{
    CaseDetails, Corrector, CounterCase, CounterError, CounterKind, CounterOutcome, CounterPage,
    CounterQuery, KindCount, NewCounterCase, UnknownCounterKind, UnknownCounterOutcome,
    MAX_COUNTER_NOTE_CHARS, MAX_COUNTER_PAGE, MAX_SEAT_CHARS,
};
pub use counts::DispositionCounts;
pub use devices::{
    Beat, BeatOutcome, Device, DeviceBeatsHour, DeviceError, DeviceEvent, DeviceEventKind,
    DeviceFigures, DeviceStatus, NewDevice, UnknownDeviceStatus, DEFAULT_DEVICE_KIND,
    DEFAULT_SILENT_AFTER_S, DEVICE_TOKEN_PREFIX, MAX_DEVICE_DETAIL_CHARS,
};
pub use error::StoreError;
pub use faq::{FaqEntry, FaqError, FaqUpdate, ImportSummary, NewFaq, MAX_FAQ_RESULTS};
pub use faq_edition::{
    edition_changes, edition_label, EditionChanges, EditionEntry, FaqEdition, FaqEditionError,
    MAX_EDITION_NOTE_CHARS,
};
pub use journal::{Entry, OpenCall, NODE_LOST_CAUSE};
pub use query::{BadCursor, CallQuery, Cursor, Page, PageStart, MAX_PAGE_SIZE};
pub use record::{
    AnswerMode, AnsweredBy, CallEvent, CallRecord, Disposition, HangupSide, InvalidRecord,
    LanguageFallbackUsed, UnknownVariant,
};
pub use recording::{
    FinishedRecording, NewRecording, PausedSpan, Recording, RecordingError, RecordingStatus,
};
pub use report::{
    CategoryFigures, CounterFigures, FreeWaitingFigures, LanguageFigures, ReportFigures,
    ReportQuery, SlotFigures, TransferFigures, TransferOrigin, DEFAULT_ANSWERED_WITHIN,
    DEFAULT_SHORT_ABANDON, SLOT_SECONDS,
};
pub use retention::{AnonymisedCounts, DeviceHistoryPurged, DueRecording};
pub use retention_policy::{RetentionCutoffs, RetentionPolicy, RetentionPolicyError};
pub use seed::SeededClassification;
pub use spool::{Spool, SpoolContents, SPOOL_FILE};
pub use store::{Backend, Store};
pub use timefmt::truncate_to_millis;
pub use users::{
    DigestAlgorithm, InvalidLogin, NewUser, OperatorStateChange, Password, Registration, Role,
    SipDirectoryEntry, UnknownRole, User, SYSTEM_LOGIN,
};
pub use wrap_up::WrapUp;
pub use writer::{
    replay_spool, RecordSink, RecordWriter, WriterConfig, WriterReport, WriterStats, WriterStopped,
    WriterTask, REJECTED_FILE,
};
