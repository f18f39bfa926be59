//! The PostgreSQL side of [`crate::cluster`]: node claims and liveness by the database's
//! clock, the dead-node reaper under advisory locks, live state in the UNLOGGED `node_live`
//! table, and the NOTIFY side of the news bus ([`crate::ClusterBus`] listens).
//!
//! NOTIFY channels are per database, not per schema, while a deployment (or a test) is a
//! schema: every payload is a JSON object naming the sender's `current_schema()`, and the
//! bus drops news from other schemas. Payloads stay under PostgreSQL's 8000-byte limit.

use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool};
use sqlx::types::Json;

use crate::cluster::{claim_verdict, seconds, NodeClaim, NodeInfo, NodeStatus, Reaped};
use crate::error::StoreError;
use crate::journal::{pg_last_alive_in, pg_open_calls_in};
use crate::record::CallRecord;

/// Channel of "a node published its live state"; the payload names the node.
pub(crate) const CHANNEL_LIVE: &str = "madoguchi_live";
/// Channel of "a call record was stored"; the payload holds the record without personal data.
pub(crate) const CHANNEL_CALLS: &str = "madoguchi_calls";

/// The largest record JSON announced: PostgreSQL refuses payloads of 8000 bytes or more, and
/// the envelope adds the schema name (at most 63 bytes) and a few keys.
const MAX_RECORD_JSON: usize = 7_800;

/// One advisory lock per node and schema, shared by the claim and the reaper, so a node's
/// restart and a survivor's reaping of it never interleave. 64-bit key from the text.
const LOCK_NODE: &str = "SELECT pg_advisory_xact_lock(hashtextextended(\
COALESCE(current_schema(), '') || '/madoguchi-node/' || $1, 0))";

/// The row a claim reads, with its silence by the database's clock at this moment (not the
/// transaction's start: the lock may have been waited for).
const READ_CLAIM: &str = "\
SELECT instance, EXTRACT(EPOCH FROM clock_timestamp() - seen_at)::float8
FROM nodes WHERE node_id = $1";

// `last_alive_at` of a new row: its oldest open call's arrival (so recovery ends those calls
// when they arrived, as for a node that never beat), else now.
const WRITE_CLAIM: &str = "\
INSERT INTO nodes (node_id, instance, sip_addr, http_url, seen_at, last_alive_at)
VALUES ($1, $2, $3, $4, clock_timestamp(),
        COALESCE((SELECT min(arrived_at) FROM call_journal WHERE node_id = $1),
                 date_trunc('milliseconds', clock_timestamp())))
ON CONFLICT (node_id) DO UPDATE
SET instance = excluded.instance, sip_addr = excluded.sip_addr,
    http_url = excluded.http_url, seen_at = excluded.seen_at";

pub(crate) async fn claim_node(
    pool: &PgPool,
    node: &NodeInfo,
    dead_after: Duration,
) -> Result<NodeClaim, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK_NODE)
        .bind(&node.node_id)
        .execute(&mut *tx)
        .await?;
    let row: Option<(String, f64)> = sqlx::query_as(READ_CLAIM)
        .bind(&node.node_id)
        .fetch_optional(&mut *tx)
        .await?;
    let verdict = claim_verdict(
        &node.instance,
        row.map(|(instance, secs)| (instance, seconds(secs))),
        dead_after,
    );
    if verdict == NodeClaim::Claimed {
        sqlx::query(WRITE_CLAIM)
            .bind(&node.node_id)
            .bind(&node.instance)
            .bind(&node.sip_addr)
            .bind(&node.http_url)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(verdict)
}

#[derive(sqlx::FromRow)]
struct NodeRow {
    node_id: String,
    instance: String,
    sip_addr: Option<String>,
    http_url: Option<String>,
    silent: f64,
    last_alive_at: chrono::DateTime<chrono::Utc>,
}

pub(crate) async fn nodes(pool: &PgPool) -> Result<Vec<NodeStatus>, StoreError> {
    let rows: Vec<NodeRow> = sqlx::query_as(
        "SELECT node_id, instance, sip_addr, http_url, last_alive_at,
                EXTRACT(EPOCH FROM clock_timestamp() - seen_at)::float8 AS silent
         FROM nodes ORDER BY seen_at DESC, node_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| NodeStatus {
            info: NodeInfo {
                node_id: r.node_id,
                instance: r.instance,
                sip_addr: r.sip_addr,
                http_url: r.http_url,
            },
            silent_for: seconds(r.silent),
            last_alive_at: r.last_alive_at,
        })
        .collect())
}

pub(crate) async fn dead_nodes(
    pool: &PgPool,
    dead_after: Duration,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT j.node_id FROM call_journal j
         LEFT JOIN nodes n ON n.node_id = j.node_id
         WHERE n.node_id IS NULL
            OR n.seen_at < clock_timestamp() - make_interval(secs => $1)
         ORDER BY j.node_id",
    )
    .bind(dead_after.as_secs_f64())
    .fetch_all(pool)
    .await?)
}

/// Rule 2 of the design's §3: a journaled call whose SIP Call-ID another node has stored or
/// journaled is that node's call (the proxy retried the INVITE there), so it gets no record
/// here. Limitation: two dead nodes holding one Call-ID, reaped at the same moment, drop
/// each other's row and neither call gets a record.
const DROP_RETRIES: &str = "\
DELETE FROM call_journal j
WHERE j.node_id = $1 AND j.sip_call_id <> ''
  AND (EXISTS (SELECT 1 FROM calls c WHERE c.sip_call_id = j.sip_call_id AND c.node_id <> $1)
    OR EXISTS (SELECT 1 FROM call_journal o
               WHERE o.sip_call_id = j.sip_call_id AND o.node_id <> $1))";

pub(crate) async fn reap(pool: &PgPool, node_id: &str) -> Result<Reaped, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK_NODE)
        .bind(node_id)
        .execute(&mut *tx)
        .await?;
    // Read under the lock: a reaper that waited finds the rows the first one closed gone.
    let retries_dropped = sqlx::query(DROP_RETRIES)
        .bind(node_id)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    let open = pg_open_calls_in(&mut tx, node_id).await?;
    if open.is_empty() {
        tx.commit().await?;
        return Ok(Reaped {
            closed: 0,
            retries_dropped,
        });
    }
    let last_alive = pg_last_alive_in(&mut tx, node_id).await?;
    let records: Vec<CallRecord> = open
        .iter()
        .map(|call| call.interrupted_record(last_alive))
        .collect();
    let mut stored = Vec::new();
    for record in &records {
        if crate::postgres::insert_call_in(&mut tx, record).await? {
            stored.push(record);
        }
    }
    notify_records(&mut tx, &stored).await?;
    tx.commit().await?;
    Ok(Reaped {
        closed: records.len(),
        retries_dropped,
    })
}

/// One statement: the row's upsert, then the news (sent at its commit).
const PUBLISH_LIVE: &str = "\
WITH up AS (
    INSERT INTO node_live (node_id, published_at, state) VALUES ($1, now(), $2)
    ON CONFLICT (node_id) DO UPDATE SET published_at = excluded.published_at,
                                        state = excluded.state
    RETURNING node_id)
SELECT pg_notify('madoguchi_live',
                 json_build_object('schema', COALESCE(current_schema(), ''), 'node', node_id)::text)
FROM up";

pub(crate) async fn publish_live(
    pool: &PgPool,
    node_id: &str,
    state: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(PUBLISH_LIVE)
        .bind(node_id)
        .bind(Json(state))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn live_states(
    pool: &PgPool,
) -> Result<Vec<(String, Duration, serde_json::Value)>, StoreError> {
    let rows: Vec<(String, f64, Json<serde_json::Value>)> = sqlx::query_as(
        "SELECT node_id, EXTRACT(EPOCH FROM clock_timestamp() - published_at)::float8, state
         FROM node_live ORDER BY node_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(node, secs, state)| (node, seconds(secs), state.0))
        .collect())
}

const NOTIFY_RECORDS: &str = "\
SELECT pg_notify('madoguchi_calls',
                 json_build_object('schema', COALESCE(current_schema(), ''),
                                   'record', r::json)::text)
FROM unnest($1::text[]) AS r";

/// The record as the other nodes hear of it: no caller, Call-ID, DTMF or events.
pub(crate) fn without_personal_data(record: &CallRecord) -> CallRecord {
    CallRecord {
        caller: String::new(),
        sip_call_id: String::new(),
        dtmf: Vec::new(),
        events: Vec::new(),
        ..record.clone()
    }
}

/// Queues one `madoguchi_calls` notification per record on `conn`'s transaction, in one
/// round trip; PostgreSQL delivers them at commit and drops them on rollback. A record too
/// big for a payload is not announced (logged at debug): the board misses it until the
/// next resync from the tables.
pub(crate) async fn notify_records(
    conn: &mut PgConnection,
    records: &[&CallRecord],
) -> Result<(), StoreError> {
    let mut payloads = Vec::with_capacity(records.len());
    for record in records {
        let json = serde_json::to_string(&without_personal_data(record))?;
        if json.len() > MAX_RECORD_JSON {
            tracing::debug!(id = %record.id, bytes = json.len(), "record too big to announce");
            continue;
        }
        payloads.push(json);
    }
    if payloads.is_empty() {
        return Ok(());
    }
    sqlx::query(NOTIFY_RECORDS)
        .bind(payloads)
        .execute(conn)
        .await?;
    Ok(())
}
