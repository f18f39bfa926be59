//! Several nodes on one PostgreSQL database (issue 8): who the nodes are and whether they
//! are alive, each node's published live state, and the news bus between nodes.
//!
//! A node starts by claiming its id ([`Store::claim_node`]: refused while another run of
//! the same id still beats), closes what its previous run left open, then beats
//! ([`Store::heartbeat`]), publishes its live state ([`Store::publish_live`]) and listens to
//! the others ([`ClusterBus`]). Every few seconds it asks for dead nodes that left calls
//! open and closes them ([`Store::dead_nodes_with_open_calls`], [`Store::reap_node`]).
//! Liveness is judged by the database's clock (`nodes.seen_at`), so clock skew between
//! nodes cannot fake a death.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! use std::time::Duration;
//! use madoguchi_store::{NodeClaim, NodeInfo};
//! let me = NodeInfo { node_id: "node1".into(), instance: "9f3c…".into(),
//!                     sip_addr: Some("127.0.0.1:5070".into()), http_url: None };
//! match store.claim_node(&me, Duration::from_secs(6)).await? {
//!     NodeClaim::Claimed => {}
//!     NodeClaim::HeldBy { .. } => panic!("node1 runs elsewhere"),
//! }
//! for dead in store.dead_nodes_with_open_calls(Duration::from_secs(6)).await? {
//!     store.reap_node(&dead).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! SQLite is one node: claims, the node table and the reaper work, live state is not kept
//! and there is no bus.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::record::CallRecord;
use crate::store::{Pool, Store};

pub use crate::cluster_bus::ClusterBus;

/// A node as the others see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub node_id: String,
    /// A random id per run: two processes started with one `--node-id` are told apart.
    pub instance: String,
    /// Where the node takes SIP from other nodes, e.g. `127.0.0.1:5070` (UDP).
    pub sip_addr: Option<String>,
    /// The node's web address, e.g. `http://127.0.0.1:8081`, for consoles that fail over.
    pub http_url: Option<String>,
}

/// A row of the node table with its freshness by the database's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    pub info: NodeInfo,
    /// Seconds since its last heartbeat, by the database's clock.
    pub silent_for: Duration,
    pub last_alive_at: DateTime<Utc>,
}

/// Whether this run may use its node id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeClaim {
    /// No other live run holds the id (or the last one is dead): ours now.
    Claimed,
    /// Another run with this id beat within `dead_after`: refuse to start.
    HeldBy {
        instance: String,
        silent_for: Duration,
    },
}

/// What [`Store::reap_node_counted`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Open calls closed with an `interrupted` / `node_lost` record.
    pub closed: usize,
    /// Journal rows dropped without a record: their SIP Call-ID is on another node (a
    /// failover retry of one call, which that node records).
    pub retries_dropped: usize,
}

/// What a node hears from the others.
#[derive(Clone, Debug, PartialEq)]
pub enum BusEvent {
    /// A node published new live state: read it with [`Store::live_states`].
    Live { node_id: String },
    /// A call record was stored (by any node, ours included): personal data stripped —
    /// caller, Call-ID and DTMF empty, no events.
    Record(Box<CallRecord>),
    /// The connection was lost and is back: news may have been missed, resync from tables.
    Reconnected,
}

impl Store {
    /// Claims `node.node_id` for this run (writes `instance`, addresses and the database's
    /// now as `seen_at`) unless another instance beat within `dead_after`. PostgreSQL and
    /// SQLite. The node's `last_alive_at` (its previous run's last heartbeat, which
    /// [`Store::close_open_calls`] reads) is left as it is; a node seen for the first time
    /// gets no later one than its oldest open call, so a claim never moves the end of calls
    /// a crash cut.
    pub async fn claim_node(
        &self,
        node: &NodeInfo,
        dead_after: Duration,
    ) -> Result<NodeClaim, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => crate::cluster_sqlite::claim_node(pool, node, dead_after).await,
            Pool::Postgres(pool) => {
                crate::cluster_postgres::claim_node(pool, node, dead_after).await
            }
        }
    }

    /// Gives the node id back at an orderly stop, so the next run (a restart) claims it at
    /// once instead of waiting `dead_after` for this run's heartbeat to go stale. Only this
    /// run's own claim is released; a crash releases nothing, and the wait then tells a
    /// restart from a twin.
    pub async fn release_node(&self, node_id: &str, instance: &str) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => {
                sqlx::query("UPDATE nodes SET instance = '' WHERE node_id = ?1 AND instance = ?2")
                    .bind(node_id)
                    .bind(instance)
                    .execute(pool)
                    .await?;
            }
            Pool::Postgres(pool) => {
                sqlx::query("UPDATE nodes SET instance = '' WHERE node_id = $1 AND instance = $2")
                    .bind(node_id)
                    .bind(instance)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every node known to the database, freshest first.
    pub async fn nodes(&self) -> Result<Vec<NodeStatus>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => crate::cluster_sqlite::nodes(pool).await,
            Pool::Postgres(pool) => crate::cluster_postgres::nodes(pool).await,
        }
    }

    /// Nodes silent for longer than `dead_after` (database clock) that still have open
    /// calls in the journal, ordered by id: the reaper closes them with
    /// [`Store::reap_node`]. A node with journal rows but no row in the node table (it
    /// never beat) counts as dead too.
    pub async fn dead_nodes_with_open_calls(
        &self,
        dead_after: Duration,
    ) -> Result<Vec<String>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => crate::cluster_sqlite::dead_nodes(pool, dead_after).await,
            Pool::Postgres(pool) => crate::cluster_postgres::dead_nodes(pool, dead_after).await,
        }
    }

    /// A survivor closes a dead node's open calls (see [`Store::close_open_calls`]) under an
    /// advisory lock, dropping journal rows whose SIP Call-ID another node has (a failover
    /// retry of one call). Returns the records written.
    pub async fn reap_node(&self, node_id: &str) -> Result<usize, StoreError> {
        Ok(self.reap_node_counted(node_id).await?.closed)
    }

    /// [`Store::reap_node`], also counting the failover retries it dropped (for a metric).
    /// One transaction; on PostgreSQL under a per-node advisory lock, so two reapers (or a
    /// reaper and the node's own restart) close each call once.
    pub async fn reap_node_counted(&self, node_id: &str) -> Result<Reaped, StoreError> {
        let reaped = match self.pool() {
            Pool::Sqlite(pool) => crate::cluster_sqlite::reap(pool, node_id).await?,
            Pool::Postgres(pool) => crate::cluster_postgres::reap(pool, node_id).await?,
        };
        if reaped.retries_dropped > 0 {
            tracing::info!(
                node = %node_id,
                dropped = reaped.retries_dropped,
                "open calls another node also took (failover retries) dropped without a record"
            );
        }
        Ok(reaped)
    }

    /// Stores this node's live state (JSON) and notifies the others. PostgreSQL only; a
    /// no-op on SQLite.
    pub async fn publish_live(
        &self,
        node_id: &str,
        state: &serde_json::Value,
    ) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(_) => Ok(()),
            Pool::Postgres(pool) => {
                crate::cluster_postgres::publish_live(pool, node_id, state).await
            }
        }
    }

    /// Every node's last published live state, with seconds since it was published (database
    /// clock), ordered by node id. Always empty on SQLite.
    pub async fn live_states(
        &self,
    ) -> Result<Vec<(String, Duration, serde_json::Value)>, StoreError> {
        match self.pool() {
            Pool::Sqlite(_) => Ok(Vec::new()),
            Pool::Postgres(pool) => crate::cluster_postgres::live_states(pool).await,
        }
    }
}

/// Seconds (as the database computed them) to a `Duration`; negative or odd values (a
/// clock step) count as zero.
pub(crate) fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO)
}

/// Whether another run holds the id: a different, non-empty instance that beat recently.
pub(crate) fn claim_verdict(
    ours: &str,
    theirs: Option<(String, Duration)>,
    dead_after: Duration,
) -> NodeClaim {
    match theirs {
        Some((instance, silent_for))
            if !instance.is_empty() && instance != ours && silent_for <= dead_after =>
        {
            NodeClaim::HeldBy {
                instance,
                silent_for,
            }
        }
        _ => NodeClaim::Claimed,
    }
}
