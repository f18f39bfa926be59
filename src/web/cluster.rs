//! `GET /api/v1/cluster`: the nodes sharing this database and whether each is alive, so an
//! operator console can reconnect to another node when its own one goes away
//! (docs/continuity-design.md §3 "Consoles").
//!
//! The answer comes from the node table (`Store::nodes`), freshness by the database's clock.
//! On SQLite there is one node only: this one, with no advertised address.
//!
//! ```text
//! GET /api/v1/cluster
//! {"node": "a", "nodes": [{"node_id": "a", "http_url": "http://127.0.0.1:8081",
//!   "alive": true, "silent_s": 0.4}, …]}
//! ```

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use madoguchi_store::{Backend, NodeStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::api::{error, ApiError};
use super::AppState;

/// How long a node may be silent before it counts as dead (`--cluster-dead-after-seconds`,
/// the reaper's limit), added to the router as an `Extension` by the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadAfter(pub Duration);

/// Without the extension: three missed 2 s heartbeats (docs/continuity-design.md §3).
const DEFAULT_DEAD_AFTER: Duration = Duration::from_secs(6);

/// The nodes as a console sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    /// The id of the node that answered.
    node: String,
    /// Every known node, freshest first (this one included).
    nodes: Vec<NodeView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeView {
    node_id: String,
    /// Where browsers reach the node (`--advertise-http`), if it said.
    http_url: Option<String>,
    /// Heard from within the dead limit (`--cluster-dead-after-seconds`, 6 s).
    alive: bool,
    /// Seconds since its last heartbeat, by the database's clock.
    silent_s: f64,
}

impl NodeView {
    fn of(status: &NodeStatus, dead_after: Duration) -> NodeView {
        NodeView {
            node_id: status.info.node_id.clone(),
            http_url: status.info.http_url.clone(),
            alive: status.silent_for < dead_after,
            silent_s: status.silent_for.as_secs_f64(),
        }
    }
}

/// The nodes sharing this database and whether each is alive, for consoles that fail over
/// (any signed-in user).
#[utoipa::path(get, path = "/api/v1/cluster",
    responses((status = 200, body = ClusterView), (status = 401, body = ApiError),
        (status = 503, body = ApiError)))]
pub async fn cluster(
    State(state): State<AppState>,
    dead_after: Option<Extension<DeadAfter>>,
) -> Response {
    let dead_after = dead_after.map_or(DEFAULT_DEAD_AFTER, |Extension(DeadAfter(d))| d);
    let node = state.counter.node_id.clone();
    if state.store.backend() != Backend::Postgres {
        return Json(ClusterView {
            nodes: vec![NodeView {
                node_id: node.clone(),
                http_url: None,
                alive: true,
                silent_s: 0.0,
            }],
            node,
        })
        .into_response();
    }
    match state.store.nodes().await {
        Ok(nodes) => Json(view(node, &nodes, dead_after)).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "reading the nodes failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

fn view(node: String, nodes: &[NodeStatus], dead_after: Duration) -> ClusterView {
    ClusterView {
        node,
        nodes: nodes
            .iter()
            .map(|status| NodeView::of(status, dead_after))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use madoguchi_store::NodeInfo;

    fn status(id: &str, silent_ms: u64) -> NodeStatus {
        NodeStatus {
            info: NodeInfo {
                node_id: id.to_owned(),
                instance: format!("{id}-run"),
                sip_addr: None,
                http_url: Some(format!("http://{id}.example")),
            },
            silent_for: Duration::from_millis(silent_ms),
            last_alive_at: Utc::now(),
        }
    }

    #[test]
    fn a_node_is_alive_until_it_has_been_silent_for_the_dead_limit() {
        let nodes = [status("a", 500), status("b", 5_999), status("c", 6_000)];
        let view = view("a".to_owned(), &nodes, Duration::from_secs(6));
        let alive: Vec<bool> = view.nodes.iter().map(|n| n.alive).collect();
        assert_eq!(alive, [true, true, false]);
        assert_eq!(view.node, "a");
        assert_eq!(view.nodes[2].http_url.as_deref(), Some("http://c.example"));
    }
}
