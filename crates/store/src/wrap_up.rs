//! Measured wrap-ups: how long the operator who answered a call stayed in wrap-up after it.
//!
//! A queue's `wrap_up` in the dialplan is only the longest wrap-up: filing the
//! classification ends it sooner, so the engine measures each one and stores it here, keyed
//! by the call (migrations `0008_call_wrap_ups`, which says why this is a table of its own).
//! Reports and staffing add it to the call's talk time for the handling time; the board
//! replays today's at start. Writing the same call twice keeps the first: the engine may
//! resend after a failed write, and a wrap-up once measured does not change.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! use madoguchi_store::WrapUp;
//! let now = chrono::Utc::now();
//! store.record_wrap_up(&WrapUp { call_id: "c-1".into(), ended_at: now, wrap_up_ms: 12_500 }).await?;
//! assert_eq!(store.wrap_ups_since(now - chrono::Duration::hours(1)).await?.len(), 1);
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::timefmt::{from_sqlite_text, to_sqlite_text, truncate_to_millis};

/// One call's wrap-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WrapUp {
    /// The call record's id.
    pub call_id: String,
    /// When the operator left wrap-up (kept to the millisecond).
    pub ended_at: DateTime<Utc>,
    /// From the end of the call to `ended_at`, milliseconds (≥ 0).
    pub wrap_up_ms: i64,
}

// sqlx binds `$N` on SQLite too, so one statement serves both.
const INSERT: &str = "INSERT INTO call_wrap_ups (call_id, ended_at, wrap_up_ms, node_id) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (call_id) DO NOTHING";
const SINCE: &str = "SELECT call_id, ended_at, wrap_up_ms FROM call_wrap_ups \
                     WHERE ended_at >= $1 ORDER BY ended_at, call_id";

impl Store {
    /// Stores `wrap_up` unless its call already has one, stamped with this store's node
    /// ([`Store::with_node_id`]). A negative length is stored as 0.
    pub async fn record_wrap_up(&self, wrap_up: &WrapUp) -> Result<(), StoreError> {
        self.seed_wrap_ups(std::slice::from_ref(wrap_up)).await
    }

    /// Stores many wrap-ups in one transaction (the month generator's), with the same rules
    /// as [`Store::record_wrap_up`].
    pub async fn seed_wrap_ups(&self, wrap_ups: &[WrapUp]) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for w in wrap_ups {
                    sqlx::query(INSERT)
                        .bind(&w.call_id)
                        .bind(to_sqlite_text(w.ended_at))
                        .bind(w.wrap_up_ms.max(0))
                        .bind(self.node_id())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for w in wrap_ups {
                    sqlx::query(INSERT)
                        .bind(&w.call_id)
                        .bind(truncate_to_millis(w.ended_at))
                        .bind(w.wrap_up_ms.max(0))
                        .bind(self.node_id())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The wrap-ups that ended at or after `since`, oldest first.
    pub async fn wrap_ups_since(&self, since: DateTime<Utc>) -> Result<Vec<WrapUp>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(SINCE)
                    .bind(to_sqlite_text(since))
                    .fetch_all(pool)
                    .await?;
                rows.into_iter()
                    .map(|(call_id, ended_at, wrap_up_ms)| {
                        let ended_at =
                            from_sqlite_text(&ended_at).ok_or_else(|| StoreError::CorruptRow {
                                id: call_id.clone(),
                                column: "call_wrap_ups.ended_at",
                            })?;
                        Ok(WrapUp {
                            call_id,
                            ended_at,
                            wrap_up_ms,
                        })
                    })
                    .collect()
            }
            Pool::Postgres(pool) => {
                let rows: Vec<(String, DateTime<Utc>, i64)> = sqlx::query_as(SINCE)
                    .bind(truncate_to_millis(since))
                    .fetch_all(pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(call_id, ended_at, wrap_up_ms)| WrapUp {
                        call_id,
                        ended_at,
                        wrap_up_ms,
                    })
                    .collect())
            }
        }
    }
}
