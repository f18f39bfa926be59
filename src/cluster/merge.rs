//! What a node publishes about itself ([`NodeLive`]) and the center's live state built from
//! this node's [`LiveState`] and the other nodes' publications ([`merge`]). Pure functions:
//! the cluster task (`super`) reads and writes the table, this only computes.
//!
//! ```text
//!  A: LiveState ──NodeLive::of──▶ node_live (JSON) ──▶ B: merge(B's LiveState, [A's NodeLive])
//! ```
//! Queues merge by name; waiting callers from every node are sorted by `since` and numbered
//! again; each operator shows once, as the node it is attached to sees it; `today` and `board`
//! stay this node's (every node counts the whole center from the records, see
//! `Engine::remote_record`). A node that published longer than [`FRESH`] ago is left out.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::cluster::RemoteOperator;
use crate::engine::operators::OperatorView;
use crate::engine::{LiveState, MonitorView, QueueView, WaitingView};

/// A node whose live state is older than this (database clock) is left out of the board, and
/// its operators are not offered calls. Nodes publish at least once a second, so a live one
/// has 1.5 s of slack; a killed one leaves the others' boards within 2.5 s (under 3 s).
pub const FRESH: Duration = Duration::from_millis(2_500);

/// One node's live state as it publishes it: its own callers and operators only. No personal
/// data (the live state has none: no caller numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeLive {
    pub at: DateTime<Utc>,
    pub queues: Vec<NodeQueue>,
    pub operators: Vec<NodeOperator>,
    #[serde(default)]
    pub monitors: Vec<NodeMonitor>,
    #[serde(default)]
    pub recording_failures: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeQueue {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    pub waiting: Vec<NodeWaiter>,
    #[serde(default)]
    pub operators_available: usize,
    #[serde(default)]
    pub operators_logged_in: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeWaiter {
    pub call_id: String,
    pub since: DateTime<Utc>,
    #[serde(default)]
    pub menu_choice: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub language_wait_s: Option<u64>,
    #[serde(default)]
    pub language_fallback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeOperator {
    pub login: String,
    pub state: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    #[serde(default)]
    pub phones: usize,
    #[serde(default)]
    pub call_id: Option<String>,
    /// A console or phone of the operator is attached to this node (its home).
    #[serde(default)]
    pub attached: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeMonitor {
    pub call_id: String,
    #[serde(default)]
    pub operator: Option<String>,
    pub monitored_by: String,
    #[serde(default)]
    pub mode: Option<String>,
}

/// Another node's publication and how old it is.
#[derive(Debug, Clone, Copy)]
pub struct Remote<'a> {
    pub node_id: &'a str,
    /// Since it was published, by the database's clock.
    pub age: Duration,
    pub live: &'a NodeLive,
}

impl NodeLive {
    /// What `node_id` publishes of its live state: its callers, and the operators that are
    /// its own (mirrors of other nodes' operators are theirs to publish).
    pub fn of(live: &LiveState, node_id: &str) -> NodeLive {
        NodeLive {
            at: live.at,
            queues: live
                .queues
                .iter()
                .map(|q| NodeQueue {
                    name: q.name.clone(),
                    label: q.label.clone(),
                    waiting: q
                        .waiting
                        .iter()
                        .map(|w| NodeWaiter {
                            call_id: w.call_id.clone(),
                            since: w.since,
                            menu_choice: w.menu_choice.clone(),
                            language: w.language.clone(),
                            language_wait_s: w.language_wait_s,
                            language_fallback: w.language_fallback.clone(),
                        })
                        .collect(),
                    operators_available: q.operators_available,
                    operators_logged_in: q.operators_logged_in,
                })
                .collect(),
            operators: live
                .operators
                .iter()
                .filter(|o| o.node.is_empty() || o.node == node_id)
                .map(|o| NodeOperator {
                    login: o.login.clone(),
                    state: o.state.to_owned(),
                    reason: o.reason.clone(),
                    since: o.since,
                    phones: o.phones,
                    call_id: o.call_id.clone(),
                    attached: o.attached,
                })
                .collect(),
            monitors: live
                .monitors
                .iter()
                .map(|m| NodeMonitor {
                    call_id: m.call_id.clone(),
                    operator: m.operator.clone(),
                    monitored_by: m.monitored_by.clone(),
                    mode: m.mode.map(str::to_owned),
                })
                .collect(),
            recording_failures: live.recording_failures,
        }
    }

    /// The operators as the engine takes them for a remote node.
    pub fn remote_operators(&self) -> Vec<RemoteOperator> {
        self.operators
            .iter()
            .map(|o| RemoteOperator {
                login: o.login.clone(),
                state: operator_state(&o.state).to_owned(),
                reason: o.reason.clone(),
                attached: o.attached,
            })
            .collect()
    }
}

/// The center's live state as `local_node` shows it: its own `local` state with the fresh
/// `remotes` merged in.
pub fn merge(local: &LiveState, local_node: &str, remotes: &[Remote<'_>]) -> LiveState {
    let mut fresh: Vec<&Remote<'_>> = remotes
        .iter()
        .filter(|r| r.age < FRESH && r.node_id != local_node)
        .collect();
    // Ties (one login attached on two nodes, a race) resolve the same way every time.
    fresh.sort_by(|a, b| a.node_id.cmp(b.node_id));
    let mut merged = local.clone();
    for queue in &mut merged.queues {
        for waiter in &mut queue.waiting {
            waiter.node = local_node.to_owned();
        }
    }
    merge_queues(&mut merged, &fresh);
    merged.operators = merge_operators(local, local_node, &fresh);
    for remote in &fresh {
        merged
            .monitors
            .extend(remote.live.monitors.iter().map(|m| MonitorView {
                call_id: m.call_id.clone(),
                operator: m.operator.clone(),
                monitored_by: m.monitored_by.clone(),
                mode: m.mode.as_deref().and_then(monitor_mode),
            }));
        merged.recording_failures += remote.live.recording_failures;
    }
    merged
}

fn merge_queues(merged: &mut LiveState, fresh: &[&Remote<'_>]) {
    let at = merged.at;
    let mut mixed = HashSet::new();
    for remote in fresh {
        for theirs in &remote.live.queues {
            let index = match merged.queues.iter().position(|q| q.name == theirs.name) {
                Some(index) => index,
                None => {
                    merged.queues.push(QueueView {
                        name: theirs.name.clone(),
                        label: theirs.label.clone(),
                        waiting: Vec::new(),
                        longest_wait_s: 0,
                        operators_available: 0,
                        operators_logged_in: 0,
                    });
                    merged.queues.len() - 1
                }
            };
            let queue = &mut merged.queues[index];
            queue.operators_available += theirs.operators_available;
            queue.operators_logged_in += theirs.operators_logged_in;
            if !theirs.waiting.is_empty() {
                mixed.insert(index);
            }
            queue
                .waiting
                .extend(theirs.waiting.iter().map(|w| WaitingView {
                    call_id: w.call_id.clone(),
                    position: 0,
                    since: w.since,
                    waited_s: (at - w.since).num_seconds().max(0),
                    menu_choice: w.menu_choice.clone(),
                    language: w.language.clone(),
                    language_wait_s: w.language_wait_s,
                    language_fallback: w.language_fallback.clone(),
                    node: remote.node_id.to_owned(),
                }));
        }
    }
    // A queue only this node's callers wait in keeps the engine's order (priorities);
    // across nodes the longest waiter comes first.
    for index in mixed {
        let queue = &mut merged.queues[index];
        queue.waiting.sort_by_key(|w| w.since);
        for (i, waiter) in queue.waiting.iter_mut().enumerate() {
            waiter.position = i + 1;
        }
        queue.longest_wait_s = queue.waiting.iter().map(|w| w.waited_s).max().unwrap_or(0);
    }
}

/// Each login once: as the node it is attached to shows it (this node first), else as this
/// node knows it, else as a node that knows it shows it.
fn merge_operators(
    local: &LiveState,
    local_node: &str,
    fresh: &[&Remote<'_>],
) -> Vec<OperatorView> {
    let view = |node: &str, o: &NodeOperator| OperatorView {
        login: o.login.clone(),
        state: operator_state(&o.state),
        reason: o.reason.clone(),
        since: o.since,
        seconds_in_state: (local.at - o.since).num_seconds().max(0),
        phones: o.phones,
        call_id: o.call_id.clone(),
        node: node.to_owned(),
        attached: o.attached,
    };
    let attached_remotely = |login: &str| {
        fresh.iter().find_map(|r| {
            r.live
                .operators
                .iter()
                .find(|o| o.attached && o.login == login)
                .map(|o| view(r.node_id, o))
        })
    };
    let mut shown: HashSet<String> = HashSet::new();
    let mut operators: Vec<OperatorView> = local
        .operators
        .iter()
        .map(|mine| {
            shown.insert(mine.login.clone());
            if mine.attached {
                let mut mine = mine.clone();
                if mine.node.is_empty() {
                    mine.node = local_node.to_owned();
                }
                return mine;
            }
            attached_remotely(&mine.login).unwrap_or_else(|| mine.clone())
        })
        .collect();
    let mut unknown: Vec<OperatorView> = Vec::new();
    for remote in fresh {
        for theirs in &remote.live.operators {
            if shown.contains(&theirs.login) {
                continue;
            }
            let best =
                attached_remotely(&theirs.login).unwrap_or_else(|| view(remote.node_id, theirs));
            shown.insert(theirs.login.clone());
            unknown.push(best);
        }
    }
    unknown.sort_by(|a, b| a.login.cmp(&b.login));
    operators.extend(unknown);
    operators
}

/// The live view's state names, as `'static` strings; an unknown one reads as logged out.
fn operator_state(state: &str) -> &'static str {
    const STATES: [&str; 6] = [
        "logged_out",
        "available",
        "paused",
        "ringing",
        "on_call",
        "wrap_up",
    ];
    STATES
        .iter()
        .find(|s| **s == state)
        .copied()
        .unwrap_or("logged_out")
}

fn monitor_mode(mode: &str) -> Option<&'static str> {
    ["listen", "whisper", "barge"]
        .iter()
        .find(|m| **m == mode)
        .copied()
}

#[cfg(test)]
mod tests;
