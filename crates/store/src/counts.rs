//! Today's counters: how many calls arrived since an instant, and how the queue ended them.
//!
//! The engine keeps these counters live while it runs; [`Store::call_counts_since`] seeds
//! them at start (since local midnight), so a restart does not reset the board to zero.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::record::Disposition;
use crate::store::{Pool, Store};
use crate::timefmt::{to_sqlite_text, truncate_to_millis};

/// Calls that arrived in a period, by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionCounts {
    /// Every call record, whatever its disposition (closed-hours calls included).
    pub calls: i64,
    /// Calls that reached a queue.
    pub offered: i64,
    /// Calls an operator answered (transferred by the operator afterwards included).
    pub answered: i64,
    pub abandoned: i64,
    pub overflowed: i64,
    pub transferred: i64,
    /// Calls that ended with the caller asking to be called back (the dialplan's `callback`
    /// step); the manager's list of people to call.
    pub callbacks: i64,
}

/// One statement for both backends: sqlx binds `$N` on SQLite too, and both have
/// `FILTER` on aggregates. The (arrived_at, id) index serves the range.
const CALL_COUNTS_SINCE: &str = "\
SELECT COUNT(*),
       COUNT(*) FILTER (WHERE queue IS NOT NULL),
       COUNT(*) FILTER (WHERE operator IS NOT NULL),
       COUNT(*) FILTER (WHERE disposition = $2),
       COUNT(*) FILTER (WHERE disposition = $3),
       COUNT(*) FILTER (WHERE disposition = $4),
       COUNT(*) FILTER (WHERE disposition = $5)
FROM calls WHERE arrived_at >= $1";

type Counts = (i64, i64, i64, i64, i64, i64, i64);

impl Store {
    /// Counts the calls that arrived at or after `since` (kept to the millisecond), by
    /// disposition, in one query.
    pub async fn call_counts_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<DispositionCounts, StoreError> {
        let dispositions = [
            Disposition::Abandoned,
            Disposition::Overflowed,
            Disposition::Transferred,
            Disposition::CallbackRequested,
        ];
        let (calls, offered, answered, abandoned, overflowed, transferred, callbacks) =
            match self.pool() {
                Pool::Sqlite(pool) => {
                    let mut query =
                        sqlx::query_as::<_, Counts>(CALL_COUNTS_SINCE).bind(to_sqlite_text(since));
                    for d in dispositions {
                        query = query.bind(d.as_str());
                    }
                    query.fetch_one(pool).await?
                }
                Pool::Postgres(pool) => {
                    let mut query = sqlx::query_as::<_, Counts>(CALL_COUNTS_SINCE)
                        .bind(truncate_to_millis(since));
                    for d in dispositions {
                        query = query.bind(d.as_str());
                    }
                    query.fetch_one(pool).await?
                }
            };
        Ok(DispositionCounts {
            calls,
            offered,
            answered,
            abandoned,
            overflowed,
            transferred,
            callbacks,
        })
    }
}
