//! The HTTP edge (axum): health, Prometheus metrics, the call-record API and its OpenAPI
//! document. Handlers translate between HTTP and the store; they hold no call state.

mod alerts;
mod api;
mod assets;
mod audit;
mod auth;
mod classification;
mod cluster;
mod console;
mod counter;
mod counter_hours;
mod csrf;
mod devices;
mod faq;
mod faq_editions;
mod live;
mod login_throttle;
mod monitor;
mod recording_control;
mod recordings;
mod reload;
mod reports;
mod security_headers;
mod staffing;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use madoguchi_dialplan::Category;
use madoguchi_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

pub use auth::AuthState;
pub use classification::ComplaintFiled;
pub use cluster::DeadAfter;
pub use counter_hours::CounterDesk;
pub use csrf::{origin_allowed, TrustedOrigins};
pub use live::{EngineLink, EngineRequest};
pub use security_headers::served_over_https;
pub use staffing::QueueWrapUps;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: PrometheusHandle,
    pub engine: EngineLink,
    /// Sign-in settings and failed-attempt counts.
    pub auth: Arc<AuthState>,
    /// The dialplan's inquiry categories, in report order.
    pub categories: Arc<[Category]>,
    /// The hotline's time zone: "today" for an operator's own calls.
    pub time_zone: chrono_tz::Tz,
    /// Complaints as they are filed, for whoever tells the managers at once.
    pub complaints: broadcast::Sender<ComplaintFiled>,
    /// Each queue's configured wrap-up, added to measured talk time for staffing.
    pub wrap_ups: Arc<QueueWrapUps>,
    /// The in-person counter: its calendar, time zone and this node's id for its cases.
    pub counter: Arc<CounterDesk>,
    /// The folder the recordings table's file names are relative to (`--recordings-dir`).
    pub recordings_dir: Arc<Path>,
    /// The counter's devices: their hours and the silent/back alerts for managers.
    pub devices: Arc<crate::devices::DeviceWatch>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/ws/agent", get(console::upgrade))
        .route("/ws/sip", get(crate::net::ws_sip::upgrade))
        .nest("/api/v1", api::router(&state))
        .merge(assets::router())
        // Inside the headers layer, so a refusal carries the headers too.
        .layer(axum::middleware::from_fn(csrf::same_origin_only))
        // nosniff, no framing, no caching of API data: see `security_headers`.
        .layer(axum::middleware::from_fn(
            security_headers::security_headers,
        ))
        .with_state(state)
}

async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> String {
    state.metrics.render()
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
