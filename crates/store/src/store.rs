//! [`Store`]: one handle over either backend, chosen by the database URL.
//!
//! An enum over the two pools rather than `sqlx::Any`, so each backend keeps its exact
//! column types (timestamptz and jsonb on PostgreSQL, checked text on SQLite). Cloning is
//! cheap (the pools are reference-counted); every method is one short transaction.
//!
//! ```no_run
//! # async fn demo() -> Result<(), madoguchi_store::StoreError> {
//! use madoguchi_store::{CallQuery, Store};
//! let store = Store::connect("sqlite://madoguchi.db").await?; // created and migrated
//! let page = store.list_calls(&CallQuery::default()).await?;
//! println!("{} calls", page.total);
//! # Ok(()) }
//! ```

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::error::StoreError;
use crate::query::{CallQuery, Page};
use crate::record::CallRecord;
use crate::{postgres, sqlite};

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The call-record store.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Stamped on the rows this store writes for a person or an operator (audit entries,
    /// operator state changes, wrap-ups): which node wrote them. `""` until set.
    node_id: Arc<str>,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// Connects and runs the migrations. `sqlite://path` (or `sqlite:path`) creates the file
    /// if missing (not its directory); `sqlite::memory:` lives as long as the store;
    /// `postgres://` and `postgresql://` connect to an existing database.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => {
                let options =
                    SqliteConnectOptions::from_str(url).map_err(StoreError::InvalidOptions)?;
                Store::connect_sqlite(options).await
            }
            Some("postgres" | "postgresql") => {
                let options =
                    PgConnectOptions::from_str(url).map_err(StoreError::InvalidOptions)?;
                Store::connect_postgres(options).await
            }
            other => Err(StoreError::UnsupportedUrl {
                // Only the scheme: the rest of a URL may hold a password.
                scheme: other.unwrap_or_default().to_owned(),
            }),
        }
    }

    /// Connects to SQLite with explicit options; WAL, busy timeout, foreign keys and
    /// create-if-missing are applied on top of them.
    pub async fn connect_sqlite(options: SqliteConnectOptions) -> Result<Store, StoreError> {
        let pool = sqlite::connect(options).await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            node_id: Arc::from(""),
        })
    }

    /// Connects to PostgreSQL with explicit options (e.g. a `search_path`).
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Store, StoreError> {
        let pool = postgres::connect(options).await?;
        Ok(Store {
            pool: Pool::Postgres(pool),
            node_id: Arc::from(""),
        })
    }

    /// This store, stamping `node_id` on the audit entries, operator state changes and
    /// wrap-ups it writes (call records carry their own `node_id`). Clones keep it.
    pub fn with_node_id(mut self, node_id: &str) -> Store {
        self.node_id = Arc::from(node_id);
        self
    }

    /// The node stamped on the rows this store writes (see [`Store::with_node_id`]).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The pool, for the per-topic modules (`users`) that add methods to `Store`.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations; already applied ones are skipped, so running it again
    /// (or from a second node) is harmless. `connect` already calls it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::migrate(pool).await,
            Pool::Postgres(pool) => postgres::migrate(pool).await,
        }
    }

    /// Stores a record and its events in one transaction. Idempotent on `call.id`: when a
    /// record with that id exists, nothing changes (the first write wins) and this is `Ok`.
    /// Timestamps are kept to the millisecond.
    pub async fn insert_call(&self, call: &CallRecord) -> Result<(), StoreError> {
        self.insert_calls(std::slice::from_ref(call)).await
    }

    /// Stores several records in one transaction: all or none. Each is idempotent on its id
    /// as in [`Store::insert_call`]. One commit per batch is what lets the record writer keep
    /// up with more than a thousand calls a second on SQLite.
    pub async fn insert_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        for call in calls {
            call.validate()
                .map_err(|reason| StoreError::InvalidRecord {
                    id: call.id.clone(),
                    reason,
                })?;
        }
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::insert_calls(pool, calls).await,
            Pool::Postgres(pool) => postgres::insert_calls(pool, calls).await,
        }
    }

    /// Calls newest first (by `arrived_at`, then `id`), filtered and paged as `q` says,
    /// with the total number of matching calls.
    pub async fn list_calls(&self, q: &CallQuery) -> Result<Page<CallRecord>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::list_calls(pool, q).await,
            Pool::Postgres(pool) => postgres::list_calls(pool, q).await,
        }
    }

    /// One call with its events in `seq` order; `None` when no call has that id.
    pub async fn get_call(&self, id: &str) -> Result<Option<CallRecord>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::get_call(pool, id).await,
            Pool::Postgres(pool) => postgres::get_call(pool, id).await,
        }
    }

    /// `(disposition, number of calls)` for every disposition present, ordered by name.
    pub async fn count_by_disposition(&self) -> Result<Vec<(String, i64)>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::count_by_disposition(pool).await,
            Pool::Postgres(pool) => postgres::count_by_disposition(pool).await,
        }
    }

    /// Waits for checked-out connections to return, then closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_naming_only_the_scheme() {
        let err = Store::connect("mysql://root:secret@db/calls")
            .await
            .expect_err("mysql is not a supported backend");
        assert!(matches!(err, StoreError::UnsupportedUrl { ref scheme } if scheme == "mysql"));
        assert!(!err.to_string().contains("secret"));
    }

    #[tokio::test]
    async fn a_url_without_scheme_is_refused() {
        let err = Store::connect("madoguchi.db")
            .await
            .expect_err("a bare path is not a URL");
        assert!(matches!(err, StoreError::UnsupportedUrl { ref scheme } if scheme.is_empty()));
    }

    #[tokio::test]
    async fn an_in_memory_store_keeps_its_data_across_calls() {
        use crate::record::Disposition;
        use chrono::TimeZone;

        let store = Store::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite opens");
        assert_eq!(store.backend(), Backend::Sqlite);
        let at = chrono::Utc
            .timestamp_opt(1_767_225_600, 0)
            .single()
            .expect("in range");
        let record = CallRecord {
            id: "m1".into(),
            sip_call_id: "x@y".into(),
            caller: "03".into(),
            called: "hotline".into(),
            arrived_at: at,
            answered_at: None,
            ended_at: at,
            entry: None,
            branch: None,
            disposition: Disposition::NoRoute,
            dtmf: vec![],
            hangup_side: None,
            hangup_cause: None,
            queue: None,
            waited_ms: None,
            operator: None,
            connected_at: None,
            talk_ms: None,
            transfer_target: None,
            transfer_result: None,
            menu_choice: None,
            answer_mode: None,
            answered_by: None,
            unanswered_ms: None,
            answered_ms: None,
            language: None,
            language_fallback: None,
            node_id: "n1".into(),
            events: vec![],
        };
        store.insert_call(&record).await.expect("insert");
        store.migrate().await.expect("already migrated");
        assert_eq!(store.get_call("m1").await.expect("get"), Some(record));
    }
}
