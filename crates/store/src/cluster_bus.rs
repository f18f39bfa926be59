//! [`ClusterBus`]: the news between nodes, over PostgreSQL LISTEN on `madoguchi_live` and
//! `madoguchi_calls` (see `cluster_postgres` for what is sent, and when).
//!
//! The bus has a connection of its own (a one-connection pool with the store's connect
//! options, so the same database, user and `search_path`), never one of the store's pool.
//! NOTIFY reaches every listener of the database; payloads name their schema and news from
//! another schema (another deployment, or a parallel test) is dropped here.
//!
//! What is sent while the connection is down is lost, so after every reconnect the bus
//! yields [`BusEvent::Reconnected`] once: the listener then reads the tables again.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! use madoguchi_store::{BusEvent, ClusterBus};
//! let Some(mut bus) = ClusterBus::listen(&store).await? else { return Ok(()) }; // SQLite
//! loop {
//!     match bus.recv().await? {
//!         BusEvent::Live { node_id } => { let _ = store.live_states().await?; }
//!         BusEvent::Record(record) => println!("{} stored", record.id),
//!         BusEvent::Reconnected => { /* resync from the tables */ }
//!     }
//! }
//! # }
//! ```

use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPoolOptions};

use crate::cluster::BusEvent;
use crate::cluster_postgres::{CHANNEL_CALLS, CHANNEL_LIVE};
use crate::error::StoreError;
use crate::record::CallRecord;
use crate::store::{Pool, Store};

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The first pause after a failed reconnect, doubled up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// The news bus: a dedicated PostgreSQL connection listening for the other nodes' news.
pub struct ClusterBus {
    options: PgConnectOptions,
    /// The store's `current_schema()`: news from other schemas is not ours.
    schema: String,
    /// `None` while disconnected: the next [`ClusterBus::recv`] reconnects.
    listener: Option<PgListener>,
    retry: Duration,
}

#[derive(Deserialize)]
struct LivePayload {
    schema: String,
    node: String,
}

#[derive(Deserialize)]
struct CallsPayload {
    schema: String,
    record: Box<CallRecord>,
}

impl ClusterBus {
    /// Listens on the store's database. `Ok(None)` on SQLite (one node, no bus). Fails
    /// when the first connection fails; later losses are handled by [`ClusterBus::recv`].
    pub async fn listen(store: &Store) -> Result<Option<ClusterBus>, StoreError> {
        let Pool::Postgres(pool) = store.pool() else {
            return Ok(None);
        };
        let schema: String = sqlx::query_scalar("SELECT COALESCE(current_schema(), '')")
            .fetch_one(pool)
            .await?;
        let options = (*pool.connect_options()).clone();
        let listener = connect(&options).await?;
        Ok(Some(ClusterBus {
            options,
            schema,
            listener: Some(listener),
            retry: RETRY_FIRST,
        }))
    }

    /// The next event; reconnects by itself (yielding [`BusEvent::Reconnected`] once the
    /// connection is back). While the database is away it keeps retrying, pausing up to
    /// 5 s between attempts, and logs the outage once. sqlx does not say whether its
    /// listener survives a cancelled wait, so run the bus in a task of its own rather than
    /// in a `select!` with other work.
    pub async fn recv(&mut self) -> Result<BusEvent, StoreError> {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match connect(&self.options).await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        if self.retry > RETRY_FIRST {
                            tracing::info!("cluster bus connected again");
                        }
                        self.retry = RETRY_FIRST;
                        return Ok(BusEvent::Reconnected);
                    }
                    Err(error) => {
                        if self.retry == RETRY_FIRST {
                            tracing::warn!(%error, "cluster bus cannot reconnect; retrying");
                        }
                        tokio::time::sleep(self.retry).await;
                        self.retry = (self.retry * 2).min(RETRY_MAX);
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(event) = self.decode(&notification) {
                        return Ok(event);
                    }
                }
                // sqlx dropped the lost connection and already opened a new one, listening
                // again on both channels.
                Ok(None) => return Ok(BusEvent::Reconnected),
                // A failed reconnect, or an error the connection may not survive (a
                // terminated backend sends one before closing): start from a new one.
                Err(error) => {
                    tracing::debug!(%error, "cluster bus connection lost");
                    self.listener = None;
                }
            }
        }
    }

    fn decode(&self, notification: &PgNotification) -> Option<BusEvent> {
        let payload = notification.payload();
        let event = match notification.channel() {
            CHANNEL_LIVE => serde_json::from_str::<LivePayload>(payload)
                .ok()
                .filter(|p| p.schema == self.schema)
                .map(|p| BusEvent::Live { node_id: p.node }),
            CHANNEL_CALLS => serde_json::from_str::<CallsPayload>(payload)
                .ok()
                .filter(|p| p.schema == self.schema)
                .map(|p| BusEvent::Record(p.record)),
            _ => None,
        };
        if event.is_none() {
            // Another schema's news, or a payload this version cannot read.
            tracing::trace!(channel = notification.channel(), "cluster news ignored");
        }
        event
    }
}

/// A listener on its own one-connection pool, subscribed to both channels.
async fn connect(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen_all([CHANNEL_LIVE, CHANNEL_CALLS]).await?;
    Ok(listener)
}
