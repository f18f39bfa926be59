//! The HTTP edge (axum): health, Prometheus metrics, the call-record API and its OpenAPI
//! document. Handlers translate between HTTP and the store; they hold no call state.

mod api;
mod live;

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use madoguchi_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

pub use live::{EngineLink, EngineRequest};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: PrometheusHandle,
    pub engine: EngineLink,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api::router())
        .with_state(state)
}

async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> String {
    state.metrics.render()
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
