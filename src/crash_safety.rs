//! Crash safety at the edge: what a node does at start-up before it takes calls, and the
//! heartbeat it keeps while it runs.
//!
//! ```text
//!  start:  open the spool ─▶ store what it holds ─▶ close this node's journaled calls
//!          (records of a database outage)          as interrupted at the last heartbeat
//!          ─▶ first heartbeat ─▶ take calls
//!  run:    heartbeat every HEARTBEAT_EVERY; the record writer journals each call that
//!          arrives and spools records while the database is away
//! ```
//! The order matters: a call whose real record waits in the spool must get that record,
//! not an "interrupted" one, and the last heartbeat must be the previous run's.
//!
//! Several nodes on one database (issue 8): before recovery a node claims its node id
//! ([`claim_node`]), since recovery closes that id's open calls and no other live run may be
//! using it; an orderly stop gives the id back (`Store::release_node`). While it runs, the
//! reaper ([`spawn_reaper`]) closes the open calls of nodes that stopped beating.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use madoguchi_store::{replay_spool, NodeClaim, NodeInfo, Spool, Store, StoreError};

/// How often a running node says it is alive: the end time of calls a crash cuts is at most
/// this much earlier than the crash.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// A heartbeat that takes longer is abandoned (the database is away); the next one tries.
const HEARTBEAT_LIMIT: Duration = Duration::from_secs(5);
/// How often the reaper looks for dead nodes with open calls.
pub const REAP_EVERY: Duration = Duration::from_secs(2);
/// How often start-up looks again at a node id another run held.
const CLAIM_POLL: Duration = Duration::from_millis(500);

/// Why this run may not take its node id.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(
        "another madoguchi is running as node {node_id} (its last heartbeat {silent_for:?} ago); \
         give each node its own --node-id"
    )]
    Twin {
        node_id: String,
        silent_for: Duration,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What start-up recovery did.
#[derive(Debug)]
pub struct Recovered {
    /// The spool, emptied, for the record writer.
    pub spool: Spool,
    /// Spooled entries written to the database.
    pub replayed: usize,
    /// Calls cut by the last stop, closed as interrupted.
    pub closed: usize,
}

/// Stores what the spool in `spool_dir` holds, then closes this node's calls the last stop
/// cut. Idempotent: a crash in the middle and another start give the same records.
pub async fn recover(
    store: &Store,
    spool_dir: &Path,
    node_id: &str,
) -> Result<Recovered, StoreError> {
    let mut spool = Spool::open(spool_dir).map_err(StoreError::Spool)?;
    let replayed = replay_spool(store, &mut spool).await?;
    if replayed > 0 {
        tracing::warn!(
            entries = replayed,
            spool = %spool.path().display(),
            "call records spooled during a database outage were stored"
        );
    }
    let closed = store.close_open_calls(node_id).await?;
    if closed > 0 {
        tracing::warn!(
            calls = closed,
            "calls cut by the last stop were recorded as interrupted at its last heartbeat"
        );
    }
    Ok(Recovered {
        spool,
        replayed,
        closed,
    })
}

/// Writes this node's heartbeat now, then every [`HEARTBEAT_EVERY`], for as long as the
/// process lives. Failures (the database is away) are logged once per outage.
pub fn spawn_heartbeat(store: Store, node_id: String) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            let beat = store.heartbeat(&node_id, Utc::now());
            match tokio::time::timeout(HEARTBEAT_LIMIT, beat).await {
                Ok(Ok(())) => {
                    if failing {
                        tracing::info!("node heartbeat stored again");
                    }
                    failing = false;
                }
                Ok(Err(error)) if !failing => {
                    tracing::warn!(%error, "node heartbeat not stored");
                    failing = true;
                }
                Err(_) if !failing => {
                    tracing::warn!("node heartbeat timed out");
                    failing = true;
                }
                _ => {}
            }
        }
    });
}

/// Claims `node.node_id` for this run, before recovery: recovery closes that id's open calls,
/// so no other live run may hold it. The claim leaves the previous run's last heartbeat as
/// it is (recovery ends the cut calls there). An id released by an orderly stop, never seen
/// or silent for over `dead_after` (database clock) is taken at once; one that beat recently
/// is watched for up to `dead_after` (a restart right after `kill -9` waits out the old run's
/// last beats) and refused if it keeps beating: a twin.
pub async fn claim_node(
    store: &Store,
    node: &NodeInfo,
    dead_after: Duration,
) -> Result<(), ClaimError> {
    let deadline = Instant::now() + dead_after + CLAIM_POLL;
    let mut waiting = false;
    loop {
        match store.claim_node(node, dead_after).await? {
            NodeClaim::Claimed => return Ok(()),
            NodeClaim::HeldBy { silent_for, .. } if Instant::now() >= deadline => {
                return Err(ClaimError::Twin {
                    node_id: node.node_id.clone(),
                    silent_for,
                })
            }
            NodeClaim::HeldBy { silent_for, .. } => {
                if !waiting {
                    tracing::info!(
                        node = %node.node_id,
                        silent_for_ms = silent_for.as_millis() as u64,
                        "node id beat recently: waiting to see whether its run is still alive"
                    );
                    waiting = true;
                }
            }
        }
        tokio::time::sleep(CLAIM_POLL).await;
    }
}

/// Every [`REAP_EVERY`], closes the open calls of nodes silent for over `dead_after`
/// (database clock) as interrupted (`node_lost`), so a survivor's records and board account
/// for calls a dead node cut. PostgreSQL clusters only; never this node's own calls.
pub fn spawn_reaper(store: Store, own_node: String, dead_after: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REAP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            let dead = tokio::time::timeout(
                HEARTBEAT_LIMIT,
                store.dead_nodes_with_open_calls(dead_after),
            )
            .await;
            let dead = match dead {
                Ok(Ok(dead)) => {
                    failing = false;
                    dead
                }
                Ok(Err(error)) if !failing => {
                    tracing::warn!(%error, "cannot look for dead nodes");
                    failing = true;
                    continue;
                }
                Err(_) if !failing => {
                    tracing::warn!("looking for dead nodes timed out");
                    failing = true;
                    continue;
                }
                _ => continue,
            };
            for node in dead.iter().filter(|n| **n != own_node) {
                match store.reap_node_counted(node).await {
                    Ok(reaped) if reaped.closed + reaped.retries_dropped > 0 => {
                        metrics::counter!("madoguchi_cluster_reaped_calls_total")
                            .increment(reaped.closed as u64);
                        // A proxy's retry on another node: one call, recorded there.
                        metrics::counter!("madoguchi_cluster_retries_dropped_total")
                            .increment(reaped.retries_dropped as u64);
                        tracing::warn!(
                            node = %node,
                            records = reaped.closed,
                            retries_dropped = reaped.retries_dropped,
                            "a dead node's open calls were recorded as interrupted"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(node = %node, %error, "cannot close a dead node's calls")
                    }
                }
            }
        }
    });
}
