//! The SQLite backend: a single-node deployment's default (`sqlite://madoguchi.db`).
//!
//! Connections run in WAL mode (readers never block the writer) with `synchronous = FULL`
//! (a committed record survives a power cut, see `connect`), with a busy timeout so a
//! second writer waits instead of failing, and with foreign keys enforced. Timestamps are
//! RFC 3339 text (see `timefmt`); JSON columns are text checked by `json_valid`.

use std::time::Duration;

use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Connection;

use crate::error::StoreError;
use crate::journal::NODE_LOST_CAUSE;
use crate::query::{CallQuery, Page};
use crate::record::{CallEvent, CallRecord};
use crate::rows::{self, CallColumns};
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a connection waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL, not WAL's usual NORMAL: NORMAL already survives a killed process (kill -9,
        // a panic), since committed pages sit in the WAL file in the OS cache, but a power
        // cut or kernel crash can lose the last commits. FULL fsyncs the WAL at every commit,
        // so a record the writer saw committed is on disk. The record writer commits a
        // whole batch at once, so the fsync per commit costs little (see README, "Crash
        // safety and database outages").
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        // Deleted and overwritten values are zeroed in the file, not left in free space:
        // retention must not leave caller numbers or notes readable in the database file.
        .pragma("secure_delete", "ON");
    // One connection first creates the file and switches it to WAL. Pool connections opened
    // together on a new file would race to change the journal mode, and that change does not
    // wait for the busy timeout: the loser failed with "database is locked" at start-up.
    let first = SqliteConnection::connect_with(&options)
        .await
        .map_err(StoreError::Connect)?;
    first.close().await.map_err(StoreError::Connect)?;
    // Connections are never retired: local SQLite connections cost nothing to keep, and a
    // `sqlite::memory:` database (shared cache) vanishes with its last connection.
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None);
    let pool = pool
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)?;
    migrate(&pool).await?;
    Ok(pool)
}

pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

const INSERT_CALL: &str = "\
INSERT INTO calls (id, sip_call_id, caller, called, arrived_at, answered_at, ended_at,
                   entry, branch, disposition, dtmf, hangup_side, hangup_cause, node_id,
                   queue, waited_ms, operator, connected_at, talk_ms,
                   transfer_target, transfer_result, menu_choice,
                   answer_mode, answered_by, unanswered_ms, answered_ms, language,
                   language_fallback)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
        ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
        ?23, ?24, ?25, ?26, ?27, ?28)
ON CONFLICT (id) DO NOTHING";

/// A real record beats a presumed one (design §3 rule 1): a node cut off from the database
/// may replay its record after a survivor closed the call as `node_lost`. Anonymisation is
/// reset so that retention treats the replayed personal data like any other.
const REPLACE_PRESUMED: &str = "\
UPDATE calls SET
    sip_call_id = ?2, caller = ?3, called = ?4, arrived_at = ?5, answered_at = ?6,
    ended_at = ?7, entry = ?8, branch = ?9, disposition = ?10, dtmf = ?11,
    hangup_side = ?12, hangup_cause = ?13, node_id = ?14, queue = ?15, waited_ms = ?16,
    operator = ?17, connected_at = ?18, talk_ms = ?19, transfer_target = ?20,
    transfer_result = ?21, menu_choice = ?22, answer_mode = ?23,
    answered_by = ?24, unanswered_ms = ?25, answered_ms = ?26, language = ?27,
    language_fallback = ?28, anonymised_at = NULL
WHERE id = ?1 AND hangup_cause = 'node_lost'";

const DELETE_EVENTS: &str = "DELETE FROM call_events WHERE call_id = ?1";

/// The call is over: its open-call journal row (if any) goes with the record's insert.
const DELETE_JOURNAL_ROW: &str = "DELETE FROM call_journal WHERE id = ?1";

const INSERT_EVENT: &str = "\
INSERT INTO call_events (call_id, seq, at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Stores records and their events in one transaction (one commit for a whole batch).
pub(crate) async fn insert_calls(
    pool: &SqlitePool,
    calls: &[CallRecord],
) -> Result<(), StoreError> {
    // The INSERT is the first statement, so the deferred transaction takes the write lock
    // at once and the busy timeout applies (no read-then-upgrade deadlock).
    let mut tx = pool.begin().await?;
    for call in calls {
        insert_call_in(&mut tx, call).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Stores one record and its events on `conn` (inside the caller's transaction), and
/// removes the call's open-call journal row: the call is no longer in progress. `true` when
/// the record was stored (new, or replacing a presumed `node_lost` one), `false` when an
/// existing record was kept.
pub(crate) async fn insert_call_in(
    conn: &mut SqliteConnection,
    call: &CallRecord,
) -> Result<bool, StoreError> {
    let dtmf = serde_json::to_string(&call.dtmf)?;
    let inserted = bind_columns(sqlx::query(INSERT_CALL), call, &dtmf)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query(DELETE_JOURNAL_ROW)
        .bind(&call.id)
        .execute(&mut *conn)
        .await?;
    if inserted == 0 {
        // Already stored (perhaps by a concurrent writer): the first write wins, unless it
        // is a presumed `node_lost` record and this one is real.
        if call.hangup_cause.as_deref() == Some(NODE_LOST_CAUSE) {
            return Ok(false);
        }
        let replaced = bind_columns(sqlx::query(REPLACE_PRESUMED), call, &dtmf)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if replaced == 0 {
            return Ok(false);
        }
        sqlx::query(DELETE_EVENTS)
            .bind(&call.id)
            .execute(&mut *conn)
            .await?;
    }
    for event in &call.events {
        sqlx::query(INSERT_EVENT)
            .bind(&call.id)
            .bind(event.seq)
            .bind(to_sqlite_text(event.at))
            .bind(&event.kind)
            .bind(serde_json::to_string(&event.detail)?)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Binds a record's columns in the order of `INSERT_CALL` (and `REPLACE_PRESUMED`), with the
/// DTMF list already as JSON text.
fn bind_columns<'q>(
    query: Query<'q, Sqlite, SqliteArguments>,
    call: &'q CallRecord,
    dtmf: &'q str,
) -> Query<'q, Sqlite, SqliteArguments> {
    query
        .bind(&call.id)
        .bind(&call.sip_call_id)
        .bind(&call.caller)
        .bind(&call.called)
        .bind(to_sqlite_text(call.arrived_at))
        .bind(call.answered_at.map(to_sqlite_text))
        .bind(to_sqlite_text(call.ended_at))
        .bind(&call.entry)
        .bind(&call.branch)
        .bind(call.disposition.as_str())
        .bind(dtmf)
        .bind(call.hangup_side.map(|s| s.as_str()))
        .bind(&call.hangup_cause)
        .bind(&call.node_id)
        .bind(&call.queue)
        .bind(call.waited_ms)
        .bind(&call.operator)
        .bind(call.connected_at.map(to_sqlite_text))
        .bind(call.talk_ms)
        .bind(&call.transfer_target)
        .bind(&call.transfer_result)
        .bind(&call.menu_choice)
        .bind(call.answer_mode.map(|m| m.as_str()))
        .bind(call.answered_by.map(|b| b.as_str()))
        .bind(call.unanswered_ms)
        .bind(call.answered_ms)
        .bind(&call.language)
        .bind(call.language_fallback.map(|f| f.as_str()))
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: String,
    sip_call_id: String,
    caller: String,
    called: String,
    arrived_at: String,
    answered_at: Option<String>,
    ended_at: String,
    entry: Option<String>,
    branch: Option<String>,
    disposition: String,
    dtmf: String,
    hangup_side: Option<String>,
    hangup_cause: Option<String>,
    node_id: String,
    queue: Option<String>,
    waited_ms: Option<i64>,
    operator: Option<String>,
    connected_at: Option<String>,
    talk_ms: Option<i64>,
    transfer_target: Option<String>,
    transfer_result: Option<String>,
    menu_choice: Option<String>,
    answer_mode: Option<String>,
    answered_by: Option<String>,
    unanswered_ms: Option<i64>,
    answered_ms: Option<i64>,
    language: Option<String>,
    language_fallback: Option<String>,
}

impl CallRow {
    fn decode(self) -> Result<CallColumns, StoreError> {
        let id = self.id;
        let corrupt = |column| StoreError::CorruptRow {
            id: id.clone(),
            column,
        };
        let time = |text: &str, column| from_sqlite_text(text).ok_or_else(|| corrupt(column));
        let arrived_at = time(&self.arrived_at, "arrived_at")?;
        let ended_at = time(&self.ended_at, "ended_at")?;
        let optional_time = |text: Option<&str>, column| match text {
            None => Ok(None),
            Some(text) => time(text, column).map(Some),
        };
        let answered_at = optional_time(self.answered_at.as_deref(), "answered_at")?;
        let connected_at = optional_time(self.connected_at.as_deref(), "connected_at")?;
        let dtmf = serde_json::from_str(&self.dtmf).map_err(|_| corrupt("dtmf"))?;
        Ok(CallColumns {
            id,
            sip_call_id: self.sip_call_id,
            caller: self.caller,
            called: self.called,
            arrived_at,
            answered_at,
            ended_at,
            entry: self.entry,
            branch: self.branch,
            disposition: self.disposition,
            dtmf,
            hangup_side: self.hangup_side,
            hangup_cause: self.hangup_cause,
            node_id: self.node_id,
            queue: self.queue,
            waited_ms: self.waited_ms,
            operator: self.operator,
            connected_at,
            talk_ms: self.talk_ms,
            transfer_target: self.transfer_target,
            transfer_result: self.transfer_result,
            menu_choice: self.menu_choice,
            answer_mode: self.answer_mode,
            answered_by: self.answered_by,
            unanswered_ms: self.unanswered_ms,
            answered_ms: self.answered_ms,
            language: self.language,
            language_fallback: self.language_fallback,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    call_id: String,
    seq: i32,
    at: String,
    kind: String,
    detail: String,
}

impl EventRow {
    fn decode(self) -> Result<(String, CallEvent), StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: self.call_id.clone(),
            column,
        };
        let at = from_sqlite_text(&self.at).ok_or_else(|| corrupt("call_events.at"))?;
        let detail =
            serde_json::from_str(&self.detail).map_err(|_| corrupt("call_events.detail"))?;
        let event = CallEvent {
            seq: self.seq,
            at,
            kind: self.kind,
            detail,
        };
        Ok((self.call_id, event))
    }
}

/// The `calls` columns `CallRow` reads, in one place for the get and the listing.
macro_rules! call_columns {
    () => {
        "SELECT id, sip_call_id, caller, called, arrived_at, answered_at, ended_at,
       entry, branch, disposition, dtmf, hangup_side, hangup_cause, node_id,
       queue, waited_ms, operator, connected_at, talk_ms,
       transfer_target, transfer_result, menu_choice, answer_mode, answered_by,
       unanswered_ms, answered_ms, language, language_fallback
FROM calls
"
    };
}

const GET_CALL: &str = concat!(call_columns!(), "WHERE id = ?1");

const GET_EVENTS: &str = "\
SELECT call_id, seq, at, kind, detail FROM call_events WHERE call_id = ?1 ORDER BY seq";

pub(crate) async fn get_call(
    pool: &SqlitePool,
    id: &str,
) -> Result<Option<CallRecord>, StoreError> {
    let mut tx = pool.begin().await?;
    let Some(row) = sqlx::query_as::<_, CallRow>(GET_CALL)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let events = sqlx::query_as::<_, EventRow>(GET_EVENTS)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let events = events
        .into_iter()
        .map(|e| e.decode().map(|(_, event)| event))
        .collect::<Result<Vec<_>, _>>()?;
    row.decode()?.into_record(events).map(Some)
}

/// The listing filter, shared by the page and the count so they always agree.
macro_rules! filter {
    () => {
        "WHERE (?1 IS NULL OR arrived_at >= ?1)
  AND (?2 IS NULL OR arrived_at < ?2)
  AND (?3 IS NULL OR disposition = ?3)
  AND (?4 IS NULL OR queue = ?4)
  AND (?5 IS NULL OR operator = ?5)"
    };
}

const LIST_CALLS: &str = concat!(
    call_columns!(),
    filter!(),
    // ?6/?7 is the keyset cursor; the row-value comparison matches the ORDER BY exactly.
    "
  AND (?6 IS NULL OR (arrived_at, id) < (?6, ?7))
ORDER BY arrived_at DESC, id DESC
LIMIT ?8 OFFSET ?9"
);

const COUNT_CALLS: &str = concat!("SELECT COUNT(*) FROM calls\n", filter!());

const PAGE_EVENTS: &str = "\
SELECT call_id, seq, at, kind, detail FROM call_events
WHERE call_id IN (SELECT value FROM json_each(?1))
ORDER BY call_id, seq";

pub(crate) async fn list_calls(
    pool: &SqlitePool,
    q: &CallQuery,
) -> Result<Page<CallRecord>, StoreError> {
    let limit = q.clamped_limit();
    let from = q.from.map(to_sqlite_text);
    let to = q.to.map(to_sqlite_text);
    let disposition = q.disposition.map(|d| d.as_str());
    let after = q.after();
    // One read transaction: the count, the page and its events see the same snapshot.
    let mut tx = pool.begin().await?;
    let total: i64 = sqlx::query_scalar(COUNT_CALLS)
        .bind(&from)
        .bind(&to)
        .bind(disposition)
        .bind(&q.queue)
        .bind(&q.operator)
        .fetch_one(&mut *tx)
        .await?;
    // One row more than the page tells whether a next page exists.
    let mut rows = sqlx::query_as::<_, CallRow>(LIST_CALLS)
        .bind(&from)
        .bind(&to)
        .bind(disposition)
        .bind(&q.queue)
        .bind(&q.operator)
        .bind(after.map(|c| to_sqlite_text(c.arrived_at)))
        .bind(after.map(|c| c.id.as_str()))
        .bind(limit + 1)
        .bind(q.offset())
        .fetch_all(&mut *tx)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let events = if q.with_events && !rows.is_empty() {
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        sqlx::query_as::<_, EventRow>(PAGE_EVENTS)
            .bind(serde_json::to_string(&ids)?)
            .fetch_all(&mut *tx)
            .await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let calls = rows
        .into_iter()
        .map(CallRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let events = events
        .into_iter()
        .map(EventRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let items = rows::assemble(calls, events)?;
    let next = rows::next_cursor(has_more, &items);
    Ok(Page { items, total, next })
}

pub(crate) async fn count_by_disposition(
    pool: &SqlitePool,
) -> Result<Vec<(String, i64)>, StoreError> {
    let counts = sqlx::query_as(
        "SELECT disposition, COUNT(*) FROM calls GROUP BY disposition ORDER BY disposition",
    )
    .fetch_all(pool)
    .await?;
    Ok(counts)
}
