//! The SQLite side of [`crate::cluster`]: one node, so only the node table (claims,
//! liveness) and closing open calls. Writes take the database lock at `BEGIN IMMEDIATE`, so
//! a claim or a reap reads what it then writes with no other writer in between.

use std::time::Duration;

use sqlx::sqlite::SqlitePool;

use crate::cluster::{claim_verdict, seconds, NodeClaim, NodeInfo, NodeStatus, Reaped};
use crate::error::StoreError;
use crate::journal::{sqlite_last_alive_in, sqlite_open_calls_in};
use crate::timefmt::from_sqlite_text;

/// Seconds from a stored `seen_at` to the database's now.
macro_rules! silent_secs {
    ($column:literal) => {
        concat!("(julianday('now') - julianday(", $column, ")) * 86400.0")
    };
}

const READ_CLAIM: &str = concat!(
    "SELECT instance, ",
    silent_secs!("seen_at"),
    " FROM nodes WHERE node_id = ?1"
);

// As on PostgreSQL: a new row's `last_alive_at` is its oldest open call's arrival, else now.
const WRITE_CLAIM: &str = "\
INSERT INTO nodes (node_id, instance, sip_addr, http_url, seen_at, last_alive_at)
VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        COALESCE((SELECT min(arrived_at) FROM call_journal WHERE node_id = ?1),
                 strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))
ON CONFLICT (node_id) DO UPDATE
SET instance = excluded.instance, sip_addr = excluded.sip_addr,
    http_url = excluded.http_url, seen_at = excluded.seen_at";

pub(crate) async fn claim_node(
    pool: &SqlitePool,
    node: &NodeInfo,
    dead_after: Duration,
) -> Result<NodeClaim, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
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
    last_alive_at: String,
}

pub(crate) async fn nodes(pool: &SqlitePool) -> Result<Vec<NodeStatus>, StoreError> {
    let rows: Vec<NodeRow> = sqlx::query_as(concat!(
        "SELECT node_id, instance, sip_addr, http_url, last_alive_at, ",
        silent_secs!("seen_at"),
        " AS silent FROM nodes ORDER BY seen_at DESC, node_id"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let last_alive_at =
                from_sqlite_text(&r.last_alive_at).ok_or_else(|| StoreError::CorruptRow {
                    id: r.node_id.clone(),
                    column: "nodes.last_alive_at",
                })?;
            Ok(NodeStatus {
                info: NodeInfo {
                    node_id: r.node_id,
                    instance: r.instance,
                    sip_addr: r.sip_addr,
                    http_url: r.http_url,
                },
                silent_for: seconds(r.silent),
                last_alive_at,
            })
        })
        .collect()
}

pub(crate) async fn dead_nodes(
    pool: &SqlitePool,
    dead_after: Duration,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(concat!(
        "SELECT DISTINCT j.node_id FROM call_journal j
         LEFT JOIN nodes n ON n.node_id = j.node_id
         WHERE n.node_id IS NULL OR ",
        silent_secs!("n.seen_at"),
        " > ?1 ORDER BY j.node_id"
    ))
    .bind(dead_after.as_secs_f64())
    .fetch_all(pool)
    .await?)
}

/// Rule 2 of the design's §3, as in `cluster_postgres`.
const DROP_RETRIES: &str = "\
DELETE FROM call_journal
WHERE node_id = ?1 AND sip_call_id <> ''
  AND (EXISTS (SELECT 1 FROM calls c
               WHERE c.sip_call_id = call_journal.sip_call_id AND c.node_id <> ?1)
    OR EXISTS (SELECT 1 FROM call_journal o
               WHERE o.sip_call_id = call_journal.sip_call_id AND o.node_id <> ?1))";

pub(crate) async fn reap(pool: &SqlitePool, node_id: &str) -> Result<Reaped, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let retries_dropped = sqlx::query(DROP_RETRIES)
        .bind(node_id)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
    let open = sqlite_open_calls_in(&mut tx, node_id).await?;
    let last_alive = if open.is_empty() {
        None
    } else {
        sqlite_last_alive_in(&mut tx, node_id).await?
    };
    for call in &open {
        crate::sqlite::insert_call_in(&mut tx, &call.interrupted_record(last_alive)).await?;
    }
    tx.commit().await?;
    Ok(Reaped {
        closed: open.len(),
        retries_dropped,
    })
}
