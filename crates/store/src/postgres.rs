//! The PostgreSQL backend, for multi-node deployments sharing one database.
//!
//! Timestamps are `timestamptz` (written truncated to milliseconds, like SQLite), JSON
//! columns are `jsonb`. A `search_path` given in the connect options (`options=-c
//! search_path=…` in the URL, or `PgConnectOptions::options`) selects the schema, which is
//! how tests isolate themselves.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::query::Query;
use sqlx::types::Json;

use crate::error::StoreError;
use crate::journal::NODE_LOST_CAUSE;
use crate::query::{CallQuery, Page};
use crate::record::{CallEvent, CallRecord};
use crate::rows::{self, CallColumns};
use crate::timefmt::truncate_to_millis;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a query waits for a pooled connection (or a new one) before failing.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub(crate) async fn connect(options: PgConnectOptions) -> Result<PgPool, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        // sqlx retries a refused connection until this deadline (30 s by default). While
        // the server is down that is how long each write waits before the record writer
        // may spool, and each API request before it may answer 503: keep it short.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(StoreError::Connect)?;
    migrate(&pool).await?;
    Ok(pool)
}

pub(crate) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
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
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
        $15, $16, $17, $18, $19, $20, $21, $22,
        $23, $24, $25, $26, $27, $28)
ON CONFLICT (id) DO NOTHING";

/// A real record beats a presumed one (design §3 rule 1): a node cut off from the database
/// may replay its record after a survivor closed the call as `node_lost`. Anonymisation is
/// reset so that retention treats the replayed personal data like any other.
const REPLACE_PRESUMED: &str = "\
UPDATE calls SET
    sip_call_id = $2, caller = $3, called = $4, arrived_at = $5, answered_at = $6,
    ended_at = $7, entry = $8, branch = $9, disposition = $10, dtmf = $11,
    hangup_side = $12, hangup_cause = $13, node_id = $14, queue = $15, waited_ms = $16,
    operator = $17, connected_at = $18, talk_ms = $19, transfer_target = $20,
    transfer_result = $21, menu_choice = $22, answer_mode = $23,
    answered_by = $24, unanswered_ms = $25, answered_ms = $26, language = $27,
    language_fallback = $28, anonymised_at = NULL
WHERE id = $1 AND hangup_cause = 'node_lost'";

const DELETE_EVENTS: &str = "DELETE FROM call_events WHERE call_id = $1";

/// The call is over: its open-call journal row (if any) goes with the record's insert.
const DELETE_JOURNAL_ROW: &str = "DELETE FROM call_journal WHERE id = $1";

const INSERT_EVENT: &str = "\
INSERT INTO call_events (call_id, seq, at, kind, detail) VALUES ($1, $2, $3, $4, $5)";

/// Stores records and their events in one transaction (one commit for a whole batch), and
/// announces each one stored to the other nodes.
pub(crate) async fn insert_calls(pool: &PgPool, calls: &[CallRecord]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let mut stored = Vec::new();
    for call in calls {
        if insert_call_in(&mut tx, call).await? {
            stored.push(call);
        }
    }
    // Delivered by PostgreSQL at commit, never after a rollback.
    crate::cluster_postgres::notify_records(&mut tx, &stored).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores one record and its events on `conn` (inside the caller's transaction), and
/// removes the call's open-call journal row: the call is no longer in progress. `true` when
/// the record was stored (new, or replacing a presumed `node_lost` one), `false` when an
/// existing record was kept.
pub(crate) async fn insert_call_in(
    conn: &mut PgConnection,
    call: &CallRecord,
) -> Result<bool, StoreError> {
    let inserted = bind_columns(sqlx::query(INSERT_CALL), call)
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
        let replaced = bind_columns(sqlx::query(REPLACE_PRESUMED), call)
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
            .bind(truncate_to_millis(event.at))
            .bind(&event.kind)
            .bind(Json(&event.detail))
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Binds a record's columns in the order of `INSERT_CALL` (and `REPLACE_PRESUMED`).
fn bind_columns<'q>(
    query: Query<'q, Postgres, PgArguments>,
    call: &'q CallRecord,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(&call.id)
        .bind(&call.sip_call_id)
        .bind(&call.caller)
        .bind(&call.called)
        .bind(truncate_to_millis(call.arrived_at))
        .bind(call.answered_at.map(truncate_to_millis))
        .bind(truncate_to_millis(call.ended_at))
        .bind(&call.entry)
        .bind(&call.branch)
        .bind(call.disposition.as_str())
        .bind(Json(&call.dtmf))
        .bind(call.hangup_side.map(|s| s.as_str()))
        .bind(&call.hangup_cause)
        .bind(&call.node_id)
        .bind(&call.queue)
        .bind(call.waited_ms)
        .bind(&call.operator)
        .bind(call.connected_at.map(truncate_to_millis))
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
    arrived_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: DateTime<Utc>,
    entry: Option<String>,
    branch: Option<String>,
    disposition: String,
    dtmf: Json<Vec<String>>,
    hangup_side: Option<String>,
    hangup_cause: Option<String>,
    node_id: String,
    queue: Option<String>,
    waited_ms: Option<i64>,
    operator: Option<String>,
    connected_at: Option<DateTime<Utc>>,
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
    fn decode(self) -> CallColumns {
        CallColumns {
            id: self.id,
            sip_call_id: self.sip_call_id,
            caller: self.caller,
            called: self.called,
            arrived_at: self.arrived_at,
            answered_at: self.answered_at,
            ended_at: self.ended_at,
            entry: self.entry,
            branch: self.branch,
            disposition: self.disposition,
            dtmf: self.dtmf.0,
            hangup_side: self.hangup_side,
            hangup_cause: self.hangup_cause,
            node_id: self.node_id,
            queue: self.queue,
            waited_ms: self.waited_ms,
            operator: self.operator,
            connected_at: self.connected_at,
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
        }
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    call_id: String,
    seq: i32,
    at: DateTime<Utc>,
    kind: String,
    detail: Json<serde_json::Value>,
}

impl EventRow {
    fn decode(self) -> (String, CallEvent) {
        let event = CallEvent {
            seq: self.seq,
            at: self.at,
            kind: self.kind,
            detail: self.detail.0,
        };
        (self.call_id, event)
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

const GET_CALL: &str = concat!(call_columns!(), "WHERE id = $1");

const GET_EVENTS: &str = "\
SELECT call_id, seq, at, kind, detail FROM call_events WHERE call_id = $1 ORDER BY seq";

pub(crate) async fn get_call(pool: &PgPool, id: &str) -> Result<Option<CallRecord>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
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
    let events = events.into_iter().map(|e| e.decode().1).collect();
    row.decode().into_record(events).map(Some)
}

/// The listing filter, shared by the page and the count so they always agree. The casts
/// type the parameters when they are NULL.
macro_rules! filter {
    () => {
        "WHERE ($1::timestamptz IS NULL OR arrived_at >= $1)
  AND ($2::timestamptz IS NULL OR arrived_at < $2)
  AND ($3::text IS NULL OR disposition = $3)
  AND ($4::text IS NULL OR queue = $4)
  AND ($5::text IS NULL OR operator = $5)"
    };
}

const LIST_CALLS: &str = concat!(
    call_columns!(),
    filter!(),
    // $6/$7 is the keyset cursor; the row-value comparison matches the ORDER BY exactly.
    "
  AND ($6::timestamptz IS NULL OR (arrived_at, id) < ($6, $7::text))
ORDER BY arrived_at DESC, id DESC
LIMIT $8 OFFSET $9"
);

const COUNT_CALLS: &str = concat!("SELECT COUNT(*) FROM calls\n", filter!());

const PAGE_EVENTS: &str = "\
SELECT call_id, seq, at, kind, detail FROM call_events
WHERE call_id = ANY($1)
ORDER BY call_id, seq";

pub(crate) async fn list_calls(
    pool: &PgPool,
    q: &CallQuery,
) -> Result<Page<CallRecord>, StoreError> {
    let limit = q.clamped_limit();
    let from = q.from.map(truncate_to_millis);
    let to = q.to.map(truncate_to_millis);
    let disposition = q.disposition.map(|d| d.as_str());
    let after = q.after();
    // One snapshot for the count, the page and its events.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let total: i64 = sqlx::query_scalar(COUNT_CALLS)
        .bind(from)
        .bind(to)
        .bind(disposition)
        .bind(&q.queue)
        .bind(&q.operator)
        .fetch_one(&mut *tx)
        .await?;
    let mut rows = sqlx::query_as::<_, CallRow>(LIST_CALLS)
        .bind(from)
        .bind(to)
        .bind(disposition)
        .bind(&q.queue)
        .bind(&q.operator)
        .bind(after.map(|c| truncate_to_millis(c.arrived_at)))
        .bind(after.map(|c| c.id.as_str()))
        .bind(limit + 1)
        .bind(q.offset())
        .fetch_all(&mut *tx)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let events = if q.with_events && !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        sqlx::query_as::<_, EventRow>(PAGE_EVENTS)
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let calls = rows.into_iter().map(CallRow::decode).collect();
    let events = events.into_iter().map(EventRow::decode).collect();
    let items = rows::assemble(calls, events)?;
    let next = rows::next_cursor(has_more, &items);
    Ok(Page { items, total, next })
}

pub(crate) async fn count_by_disposition(pool: &PgPool) -> Result<Vec<(String, i64)>, StoreError> {
    let counts = sqlx::query_as(
        "SELECT disposition, COUNT(*) FROM calls GROUP BY disposition ORDER BY disposition COLLATE \"C\"",
    )
    .fetch_all(pool)
    .await?;
    Ok(counts)
}
