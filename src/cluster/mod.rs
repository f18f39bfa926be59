//! This node as one of several on one PostgreSQL database (issue 8): it publishes its live
//! state, hears the others' news, tells the engine about them, and keeps the center's merged
//! live state for the board, the API and the metrics.
//!
//! ```text
//!  engine task ──LiveState (watch)──▶ publisher ──publish_live──▶ node_live + NOTIFY
//!  ClusterBus ──BusEvent──▶ listener ──EngineRequest::{RemoteRecord, RemoteNode, ForgetNode,
//!                              │        Reseed}──▶ engine task
//!                              └──merge(local, fresh others)──▶ center (watch) ──▶ web, metrics
//! ```
//! The listener reads every node's row on each `Live` notice and at least once a second
//! (notices are lost while the bus reconnects). A node whose row is older than
//! [`merge::FRESH`] (database clock) is forgotten at the instant it goes stale, not at the
//! next poll. SQLite has no bus: nothing here starts and the center is the local state.

pub mod merge;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use madoguchi_store::{BusEvent, ClusterBus, RecordWriter, Store};
use tokio::sync::{mpsc, oneshot, watch};

use crate::engine::cluster::RemoteOperator;
use crate::engine::LiveState;
use crate::net::sip_guard::SharedGuard;
use crate::web::EngineRequest;
use merge::{NodeLive, Remote, FRESH};

/// A node publishes at least this often, so the others see it alive while nothing changes.
const PUBLISH_AT_LEAST: Duration = Duration::from_secs(1);
/// The others' rows are read at least this often (the safety net for lost notices).
const POLL: Duration = Duration::from_secs(1);
/// A database call of the cluster task that takes longer is abandoned; the next one tries.
const STORE_LIMIT: Duration = Duration::from_secs(2);
/// Bus events waiting for the listener; the bus task waits when it is full.
const BUS_EVENTS: usize = 1024;
/// After a reconnect, today's figures are re-read once this node's spooled records are
/// stored; if they are not within this, the figures are left as they are.
const RESEED_WAIT: Duration = Duration::from_secs(30);

/// What the cluster task needs from `serve`.
pub struct Cluster {
    pub store: Store,
    pub node_id: String,
    pub bus: ClusterBus,
    /// The engine's own live state.
    pub local: watch::Receiver<Arc<LiveState>>,
    /// The center's live state, written here.
    pub center: watch::Sender<Arc<LiveState>>,
    pub requests: mpsc::Sender<EngineRequest>,
    /// Other nodes' SIP sources are exempted from the flood guard as they are learnt.
    pub guard: SharedGuard,
    /// This node's record writer: a reseed waits for its spool to be stored.
    pub writer: RecordWriter,
}

/// Starts the publisher and the listener; both end when the engine task does.
pub fn spawn(cluster: Cluster) {
    tokio::spawn(publish(
        cluster.store.clone(),
        cluster.node_id.clone(),
        cluster.local.clone(),
    ));
    let (events_tx, events) = mpsc::channel(BUS_EVENTS);
    tokio::spawn(forward_bus(cluster.bus, events_tx));
    let listener = Listener {
        store: cluster.store,
        node_id: cluster.node_id,
        local: cluster.local,
        center: cluster.center,
        requests: cluster.requests,
        guard: cluster.guard,
        writer: cluster.writer,
        reseeding: None,
        remotes: BTreeMap::new(),
        sip_addrs: BTreeMap::new(),
        failing: false,
    };
    tokio::spawn(listener.run(events));
}

/// Publishes this node's live state whenever the engine changes it and at least once a
/// second.
async fn publish(store: Store, node_id: String, mut local: watch::Receiver<Arc<LiveState>>) {
    let mut failing = false;
    loop {
        if let Ok(Err(_)) = tokio::time::timeout(PUBLISH_AT_LEAST, local.changed()).await {
            return; // the engine task ended
        }
        let live = NodeLive::of(&local.borrow_and_update(), &node_id);
        let json = match serde_json::to_value(&live) {
            Ok(json) => json,
            Err(error) => {
                tracing::error!(%error, "live state not serializable");
                continue;
            }
        };
        match tokio::time::timeout(STORE_LIMIT, store.publish_live(&node_id, &json)).await {
            Ok(Ok(())) => {
                if failing {
                    tracing::info!("live state published again");
                }
                failing = false;
            }
            Ok(Err(error)) if !failing => {
                tracing::warn!(%error, "live state not published: the other nodes lose sight of this one");
                failing = true;
            }
            Err(_) if !failing => {
                tracing::warn!("publishing the live state timed out");
                failing = true;
            }
            _ => {}
        }
    }
}

/// Moves the bus's events to a channel (the listener selects over it; the bus's own
/// `recv` reconnects and need not be cancel-safe).
async fn forward_bus(mut bus: ClusterBus, events: mpsc::Sender<BusEvent>) {
    let mut failing = false;
    loop {
        match bus.recv().await {
            Ok(event) => {
                failing = false;
                if events.send(event).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "cluster bus failing: reading the other nodes by polling");
                }
                failing = true;
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Another node as last read.
struct Known {
    live: NodeLive,
    /// Its age when read, by the database's clock.
    age: Duration,
    read_at: Instant,
    /// What the engine was last told of it.
    told: Option<(SocketAddr, Vec<RemoteOperator>)>,
}

impl Known {
    fn age_now(&self) -> Duration {
        self.age + self.read_at.elapsed()
    }

    fn stale_at(&self) -> Instant {
        self.read_at + FRESH.saturating_sub(self.age)
    }
}

struct Listener {
    store: Store,
    node_id: String,
    local: watch::Receiver<Arc<LiveState>>,
    center: watch::Sender<Arc<LiveState>>,
    requests: mpsc::Sender<EngineRequest>,
    guard: SharedGuard,
    writer: RecordWriter,
    /// The running re-read of today's figures, if any.
    reseeding: Option<tokio::task::JoinHandle<()>>,
    /// Fresh other nodes by id.
    remotes: BTreeMap<String, Known>,
    /// Where each node takes SIP from peers (the node table).
    sip_addrs: BTreeMap<String, SocketAddr>,
    failing: bool,
}

impl Listener {
    async fn run(mut self, mut events: mpsc::Receiver<BusEvent>) {
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut bus_open = true;
        loop {
            let next_stale = self.remotes.values().map(Known::stale_at).min();
            // Some(true): the node table too (a restarted node may listen elsewhere).
            let mut read = None;
            // A record changes the engine's board, which comes back as a local change.
            let mut remerge = true;
            tokio::select! {
                event = events.recv(), if bus_open => match event {
                    Some(BusEvent::Record(record)) => {
                        remerge = false;
                        if record.node_id != self.node_id
                            && self.requests.send(EngineRequest::RemoteRecord(record)).await.is_err()
                        {
                            return;
                        }
                    }
                    Some(BusEvent::Live { node_id }) => {
                        if node_id != self.node_id {
                            read = Some(false);
                        }
                    }
                    Some(BusEvent::Reconnected) => {
                        tracing::info!("cluster bus reconnected: reading the other nodes and today's figures again");
                        read = Some(true);
                        // A newer re-read replaces one still running.
                        if let Some(previous) = self.reseeding.take() {
                            previous.abort();
                        }
                        self.reseeding = Some(tokio::spawn(reseed(
                            self.store.clone(),
                            self.writer.clone(),
                            self.requests.clone(),
                        )));
                    }
                    // The bus task ended: poll alone from now on.
                    None => bus_open = false,
                },
                _ = poll.tick() => read = Some(true),
                changed = self.local.changed() => if changed.is_err() {
                    return; // the engine task ended
                },
                _ = sleep_until_opt(next_stale) => {}
            }
            if let Some(nodes_too) = read {
                self.read_remotes(nodes_too).await;
            }
            let Some(expired) = self.expire().await else {
                return; // the engine task ended
            };
            if remerge || expired > 0 {
                self.publish_center();
            }
        }
    }

    /// Reads every node's published state (and the node table when `nodes_too`, or when a
    /// node is new) and tells the engine what changed.
    async fn read_remotes(&mut self, nodes_too: bool) {
        let states = match tokio::time::timeout(STORE_LIMIT, self.store.live_states()).await {
            Ok(Ok(states)) => {
                if self.failing {
                    tracing::info!("other nodes' live state read again");
                }
                self.failing = false;
                states
            }
            Ok(Err(error)) => return self.failed(&error.to_string()),
            Err(_) => return self.failed("timed out"),
        };
        let fresh: Vec<_> = states
            .into_iter()
            .filter(|(node, age, _)| *node != self.node_id && *age < FRESH)
            .collect();
        let new = |node: &String| !self.remotes.contains_key(node);
        if nodes_too || fresh.iter().any(|(node, _, _)| new(node)) {
            self.read_nodes().await;
        }
        let read_at = Instant::now();
        for (node_id, age, json) in fresh {
            let live: NodeLive = match serde_json::from_value(json) {
                Ok(live) => live,
                Err(error) => {
                    tracing::debug!(node = %node_id, %error, "unreadable live state of a node");
                    continue;
                }
            };
            let sip = self.sip_addrs.get(&node_id).copied();
            let known = self.remotes.entry(node_id.clone()).or_insert(Known {
                live: live.clone(),
                age,
                read_at,
                told: None,
            });
            known.live = live;
            known.age = age;
            known.read_at = read_at;
            let Some(sip) = sip else { continue };
            let operators = known.live.remote_operators();
            let news = Some((sip, operators.clone()));
            if known.told == news {
                continue;
            }
            if known.told.is_none() {
                tracing::info!(node = %node_id, %sip, "another node is alive");
            }
            known.told = news;
            let request = EngineRequest::RemoteNode {
                node_id,
                sip,
                operators,
            };
            if self.requests.send(request).await.is_err() {
                return;
            }
        }
    }

    /// The other nodes' SIP addresses; each one's source is trusted by the flood guard.
    async fn read_nodes(&mut self) {
        let nodes = match tokio::time::timeout(STORE_LIMIT, self.store.nodes()).await {
            Ok(Ok(nodes)) => nodes,
            Ok(Err(error)) => return self.failed(&error.to_string()),
            Err(_) => return self.failed("timed out"),
        };
        for node in nodes {
            if node.info.node_id == self.node_id {
                continue;
            }
            let sip = node.info.sip_addr.as_deref();
            let Some(sip) = sip.and_then(|a| a.parse::<SocketAddr>().ok()) else {
                continue;
            };
            if self.guard.trust_peer(sip.ip()) {
                tracing::info!(node = %node.info.node_id, source = %sip.ip(), "SIP from another node trusted by the flood guard");
            }
            self.sip_addrs.insert(node.info.node_id, sip);
        }
    }

    fn failed(&mut self, error: &str) {
        if !self.failing {
            tracing::warn!(error, "cannot read the other nodes' live state");
        }
        self.failing = true;
    }

    /// Forgets the nodes that went stale: how many; None once the engine task is gone.
    async fn expire(&mut self) -> Option<usize> {
        let now = Instant::now();
        let stale: Vec<String> = self
            .remotes
            .iter()
            .filter(|(_, known)| known.stale_at() <= now)
            .map(|(node, _)| node.clone())
            .collect();
        let count = stale.len();
        for node_id in stale {
            self.remotes.remove(&node_id);
            tracing::warn!(node = %node_id, "another node stopped publishing: its callers and operators leave the board");
            let request = EngineRequest::ForgetNode { node_id };
            self.requests.send(request).await.ok()?;
        }
        Some(count)
    }

    fn publish_center(&self) {
        let remotes: Vec<Remote<'_>> = self
            .remotes
            .iter()
            .map(|(node_id, known)| Remote {
                node_id,
                age: known.age_now(),
                live: &known.live,
            })
            .collect();
        metrics::gauge!("madoguchi_cluster_nodes_alive").set((remotes.len() + 1) as f64);
        let merged = merge::merge(&self.local.borrow(), &self.node_id, &remotes);
        self.center.send_if_modified(|center| {
            if **center == merged {
                return false;
            }
            *center = Arc::new(merged);
            true
        });
    }
}

/// Re-reads today's figures as start-up does, for the engine to replace its own with:
/// records announced while the bus was away were missed. Waits first for this node's
/// spooled records (a database outage) to be stored, so they are in what is read. Runs
/// beside the listener, which keeps reading the other nodes meanwhile. (News of a record
/// that lands within the milliseconds between the read and the engine taking the figures
/// in can count twice or not at all: a rare error of one call until the next restart.)
async fn reseed(store: Store, writer: RecordWriter, requests: mpsc::Sender<EngineRequest>) {
    let stored = tokio::time::timeout(RESEED_WAIT, async {
        while writer.stats().spooled > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    if stored.await.is_err() {
        tracing::warn!("today's figures not re-read: records still wait for the database");
        return;
    }
    let (reply, answer) = oneshot::channel();
    if requests
        .send(EngineRequest::LocalMidnight { reply })
        .await
        .is_err()
    {
        return;
    }
    let Ok((midnight, date)) = answer.await else {
        return;
    };
    let read = async {
        Ok::<_, madoguchi_store::StoreError>((
            crate::presence::load_counters(&store, midnight, date).await?,
            crate::presence::load_records_since(&store, midnight).await?,
            store.wrap_ups_since(midnight).await?,
        ))
    };
    match read.await {
        Ok((counters, records, wrap_ups)) => {
            let request = EngineRequest::Reseed {
                counters,
                records,
                wrap_ups,
            };
            let _ = requests.send(request).await;
        }
        Err(error) => {
            tracing::warn!(%error, "today's figures not re-read: the board may miss calls other nodes ended while the bus was away");
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use madoguchi_sip::guard::{GuardConfig, Rate};

    use super::*;

    const INVITE: &[u8] = b"INVITE sip:op1@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20\r\n\
Content-Length: 0\r\n\r\n";

    /// How many of 50 INVITEs from `source` the guard lets through.
    fn admitted(guard: &SharedGuard, source: IpAddr) -> usize {
        (0..50).filter(|_| guard.admit(source, INVITE)).count()
    }

    #[test]
    fn another_nodes_sip_is_never_rate_limited_once_learnt() {
        let guard = SharedGuard::new(GuardConfig {
            invite: Rate::new(1, 5),
            ..GuardConfig::default()
        });
        let peer: IpAddr = "192.0.2.20".parse().expect("an address");
        assert!(admitted(&guard, peer) <= 5, "a stranger is limited");
        assert!(guard.trust_peer(peer), "newly trusted");
        assert!(!guard.trust_peer(peer), "trusted once");
        assert_eq!(admitted(&guard, peer), 50);
        let stranger: IpAddr = "192.0.2.99".parse().expect("an address");
        assert!(admitted(&guard, stranger) <= 5, "others still are");
    }
}
