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

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use madoguchi_store::{replay_spool, Spool, Store, StoreError};

/// How often a running node says it is alive: the end time of calls a crash cuts is at most
/// this much earlier than the crash.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// A heartbeat that takes longer is abandoned (the database is away); the next one tries.
const HEARTBEAT_LIMIT: Duration = Duration::from_secs(5);

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
