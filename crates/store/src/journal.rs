//! Crash safety: the open-call journal and the node heartbeat.
//!
//! When a call arrives, the engine hands the record writer an [`OpenCall`] note, stored as a
//! `call_journal` row; the call's final record removes that row in the transaction that
//! stores the record (see `insert_call_in` in both backends). Meanwhile the node refreshes
//! its `nodes.last_alive_at` every few seconds ([`Store::heartbeat`]). After a crash the
//! journal rows left behind are exactly the calls that were cut, and
//! [`Store::close_open_calls`] turns them into `interrupted` records ending at the node's
//! last heartbeat, the last moment it is known to have been alive.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! // At start-up, before serving and before the first heartbeat of this run:
//! let closed = store.close_open_calls("node1").await?;
//! println!("{closed} calls cut by the last stop were closed as interrupted");
//! # Ok(()) }
//! ```
//!
//! Everything is keyed by node so that a surviving node can close a dead node's calls the
//! same way. Every step is idempotent: a crash during recovery, then another start, ends
//! with the same records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use crate::error::StoreError;
use crate::record::{CallEvent, CallRecord, Disposition, HangupSide, InvalidRecord};
use crate::store::{Pool, Store};
use crate::timefmt::{from_sqlite_text, to_sqlite_text, truncate_to_millis};

/// The hang-up cause on records of calls a node's stop cut (the node crashed or was
/// killed); an orderly shutdown's interrupted calls say `shutdown`.
pub const NODE_LOST_CAUSE: &str = "node_lost";

/// A call in progress, as its record will name it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OpenCall {
    /// The engine's call id: the record's id.
    pub id: String,
    pub node_id: String,
    pub sip_call_id: String,
    /// Personal data: never log it at INFO or above.
    pub caller: String,
    pub called: String,
    pub arrived_at: DateTime<Utc>,
}

/// What the record writer writes, in the order the engine produced it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// A call arrived: journal it as open.
    Opened(OpenCall),
    /// A call ended: store its record (and close its journal row).
    Record(Box<CallRecord>),
}

impl Entry {
    pub fn call_id(&self) -> &str {
        match self {
            Entry::Opened(open) => &open.id,
            Entry::Record(record) => &record.id,
        }
    }

    pub fn is_record(&self) -> bool {
        matches!(self, Entry::Record(_))
    }
}

impl OpenCall {
    /// What a database could not hold, as [`CallRecord::validate`] checks for records.
    pub fn validate(&self) -> Result<(), InvalidRecord> {
        if self.id.is_empty() {
            return Err(InvalidRecord::EmptyId);
        }
        let texts = [
            ("id", &self.id),
            ("node_id", &self.node_id),
            ("sip_call_id", &self.sip_call_id),
            ("caller", &self.caller),
            ("called", &self.called),
        ];
        for (field, text) in texts {
            if text.contains('\0') {
                return Err(InvalidRecord::NulCharacter { field });
            }
        }
        if !(1..=9999).contains(&chrono::Datelike::year(&self.arrived_at)) {
            return Err(InvalidRecord::TimestampOutOfRange {
                field: "arrived_at",
            });
        }
        Ok(())
    }

    /// The record of this call when its node stopped at `last_alive`: interrupted, ended at
    /// the later of `last_alive` and the arrival (a call that arrived after the last
    /// heartbeat ended, as far as anyone knows, when it arrived).
    pub fn interrupted_record(&self, last_alive: Option<DateTime<Utc>>) -> CallRecord {
        let ended_at = last_alive.map_or(self.arrived_at, |at| at.max(self.arrived_at));
        CallRecord {
            id: self.id.clone(),
            sip_call_id: self.sip_call_id.clone(),
            caller: self.caller.clone(),
            called: self.called.clone(),
            arrived_at: self.arrived_at,
            answered_at: None,
            ended_at,
            entry: None,
            branch: None,
            disposition: Disposition::Interrupted,
            dtmf: Vec::new(),
            hangup_side: Some(HangupSide::Engine),
            hangup_cause: Some(NODE_LOST_CAUSE.to_owned()),
            queue: None,
            waited_ms: None,
            operator: None,
            connected_at: None,
            talk_ms: None,
            transfer_target: None,
            transfer_result: None,
            menu_choice: None,
            answer_mode: None,
            answered_by: None,
            unanswered_ms: None,
            answered_ms: None,
            language: None,
            language_fallback: None,
            node_id: self.node_id.clone(),
            events: vec![CallEvent {
                seq: 0,
                at: ended_at,
                kind: "ended".to_owned(),
                detail: serde_json::json!({
                    "disposition": Disposition::Interrupted.as_str(),
                    "cause": NODE_LOST_CAUSE,
                }),
            }],
        }
    }
}

// The journal row is only written while the call has no record: a note replayed from the
// spool after its record was stored must not reopen the call.
const SQLITE_OPEN: &str = "\
INSERT INTO call_journal (id, node_id, sip_call_id, caller, called, arrived_at)
SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM calls WHERE id = ?1)
ON CONFLICT (id) DO NOTHING";

const PG_OPEN: &str = "\
INSERT INTO call_journal (id, node_id, sip_call_id, caller, called, arrived_at)
SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM calls WHERE id = $1)
ON CONFLICT (id) DO NOTHING";

pub(crate) async fn sqlite_open_in(
    conn: &mut SqliteConnection,
    open: &OpenCall,
) -> Result<(), StoreError> {
    sqlx::query(SQLITE_OPEN)
        .bind(&open.id)
        .bind(&open.node_id)
        .bind(&open.sip_call_id)
        .bind(&open.caller)
        .bind(&open.called)
        .bind(to_sqlite_text(open.arrived_at))
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn pg_open_in(conn: &mut PgConnection, open: &OpenCall) -> Result<(), StoreError> {
    sqlx::query(PG_OPEN)
        .bind(&open.id)
        .bind(&open.node_id)
        .bind(&open.sip_call_id)
        .bind(&open.caller)
        .bind(&open.called)
        .bind(truncate_to_millis(open.arrived_at))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SqliteOpenRow {
    id: String,
    node_id: String,
    sip_call_id: String,
    caller: String,
    called: String,
    arrived_at: String,
}

#[derive(sqlx::FromRow)]
struct PgOpenRow {
    id: String,
    node_id: String,
    sip_call_id: String,
    caller: String,
    called: String,
    arrived_at: DateTime<Utc>,
}

const SQLITE_LIST: &str = "\
SELECT id, node_id, sip_call_id, caller, called, arrived_at FROM call_journal
WHERE node_id = ?1 ORDER BY arrived_at, id";

const PG_LIST: &str = "\
SELECT id, node_id, sip_call_id, caller, called, arrived_at FROM call_journal
WHERE node_id = $1 ORDER BY arrived_at, id";

impl Store {
    /// Stores entries in one transaction, in order: all or none. Records are idempotent on
    /// their id as in [`Store::insert_calls`]; an [`Entry::Opened`] note for a call that
    /// already has a record, or is already journaled, changes nothing. On PostgreSQL each
    /// record stored is announced to the other nodes at commit ([`crate::BusEvent::Record`]).
    pub async fn write_entries(&self, entries: &[Entry]) -> Result<(), StoreError> {
        for entry in entries {
            let checked = match entry {
                Entry::Opened(open) => open.validate(),
                Entry::Record(record) => record.validate(),
            };
            checked.map_err(|reason| StoreError::InvalidRecord {
                id: entry.call_id().to_owned(),
                reason,
            })?;
        }
        match self.pool() {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for entry in entries {
                    match entry {
                        Entry::Opened(open) => sqlite_open_in(&mut tx, open).await?,
                        Entry::Record(record) => {
                            crate::sqlite::insert_call_in(&mut tx, record).await?;
                        }
                    }
                }
                tx.commit().await?;
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let mut stored = Vec::new();
                for entry in entries {
                    match entry {
                        Entry::Opened(open) => pg_open_in(&mut tx, open).await?,
                        Entry::Record(record) => {
                            if crate::postgres::insert_call_in(&mut tx, record).await? {
                                stored.push(&**record);
                            }
                        }
                    }
                }
                // Delivered by PostgreSQL at commit, never after a rollback.
                crate::cluster_postgres::notify_records(&mut tx, &stored).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The calls `node_id` has journaled as in progress, oldest first.
    pub async fn open_calls(&self, node_id: &str) -> Result<Vec<OpenCall>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => sqlite_open_calls_in(&mut *pool.acquire().await?, node_id).await,
            Pool::Postgres(pool) => pg_open_calls_in(&mut *pool.acquire().await?, node_id).await,
        }
    }

    /// Records that `node_id` is alive at `at` (every few seconds while it runs). `at` is the
    /// node's clock, kept as the end time of calls a crash cuts; the database's own clock is
    /// stored beside it (`seen_at`), by which other nodes judge whether this one is alive.
    pub async fn heartbeat(&self, node_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO nodes (node_id, last_alive_at, seen_at)
                     VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                     ON CONFLICT (node_id) DO UPDATE
                     SET last_alive_at = excluded.last_alive_at, seen_at = excluded.seen_at",
                )
                .bind(node_id)
                .bind(to_sqlite_text(at))
                .execute(pool)
                .await?;
            }
            Pool::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO nodes (node_id, last_alive_at, seen_at) VALUES ($1, $2, now())
                     ON CONFLICT (node_id) DO UPDATE
                     SET last_alive_at = excluded.last_alive_at, seen_at = excluded.seen_at",
                )
                .bind(node_id)
                .bind(truncate_to_millis(at))
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The last heartbeat of `node_id`; `None` when it never sent one.
    pub async fn last_alive(&self, node_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => sqlite_last_alive_in(&mut *pool.acquire().await?, node_id).await,
            Pool::Postgres(pool) => pg_last_alive_in(&mut *pool.acquire().await?, node_id).await,
        }
    }

    /// Closes the calls `node_id` left open when it stopped: each becomes an `interrupted`
    /// record (hang-up cause [`NODE_LOST_CAUSE`]) ending at the node's last heartbeat, and
    /// its journal row goes, in one transaction. A journal row whose SIP Call-ID another
    /// node has (a failover retry of one call) goes without a record. Run it before the
    /// node's first heartbeat of a new run (or from another node once `node_id` is known
    /// dead: [`Store::reap_node`], the same). Returns how many calls were closed; running it
    /// again closes nothing more.
    pub async fn close_open_calls(&self, node_id: &str) -> Result<usize, StoreError> {
        Ok(self.reap_node_counted(node_id).await?.closed)
    }
}

pub(crate) async fn sqlite_open_calls_in(
    conn: &mut SqliteConnection,
    node_id: &str,
) -> Result<Vec<OpenCall>, StoreError> {
    let rows: Vec<SqliteOpenRow> = sqlx::query_as(SQLITE_LIST)
        .bind(node_id)
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let arrived_at =
                from_sqlite_text(&r.arrived_at).ok_or_else(|| StoreError::CorruptRow {
                    id: r.id.clone(),
                    column: "call_journal.arrived_at",
                })?;
            Ok(OpenCall {
                id: r.id,
                node_id: r.node_id,
                sip_call_id: r.sip_call_id,
                caller: r.caller,
                called: r.called,
                arrived_at,
            })
        })
        .collect()
}

pub(crate) async fn pg_open_calls_in(
    conn: &mut PgConnection,
    node_id: &str,
) -> Result<Vec<OpenCall>, StoreError> {
    let rows: Vec<PgOpenRow> = sqlx::query_as(PG_LIST)
        .bind(node_id)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| OpenCall {
            id: r.id,
            node_id: r.node_id,
            sip_call_id: r.sip_call_id,
            caller: r.caller,
            called: r.called,
            arrived_at: r.arrived_at,
        })
        .collect())
}

pub(crate) async fn sqlite_last_alive_in(
    conn: &mut SqliteConnection,
    node_id: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT last_alive_at FROM nodes WHERE node_id = ?1")
            .bind(node_id)
            .fetch_optional(conn)
            .await?;
    text.map(|t| {
        from_sqlite_text(&t).ok_or_else(|| StoreError::CorruptRow {
            id: node_id.to_owned(),
            column: "nodes.last_alive_at",
        })
    })
    .transpose()
}

pub(crate) async fn pg_last_alive_in(
    conn: &mut PgConnection,
    node_id: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT last_alive_at FROM nodes WHERE node_id = $1")
            .bind(node_id)
            .fetch_optional(conn)
            .await?,
    )
}
