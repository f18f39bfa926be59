//! Queue arrivals and handling time per UTC half-hour: what staffing is planned from.
//!
//! [`Store::arrivals_by_half_hour`] counts, for each queue and each half-hour of a span,
//! the calls that reached the queue (`queue IS NOT NULL`: answered, abandoned and
//! overflowed alike — the offered load) and, of those, the calls an operator took with
//! their summed talk time. Half-hours are UTC so the caller can fold them into any local
//! week (`madoguchi_staffing::typical_week`); a month gives at most 1,488 rows per queue,
//! and the (arrived_at, id) index serves the range. Handled calls whose wrap-up the engine
//! measured (`crate::wrap_up`) come with its sum; the caller adds the queue's configured
//! wrap-up to the others.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! use chrono::{Duration, Utc};
//! let to = Utc::now();
//! for half_hour in store.arrivals_by_half_hour(to - Duration::weeks(4), to).await? {
//!     println!("{} {} {}", half_hour.queue, half_hour.start, half_hour.arrivals);
//! }
//! # Ok(()) }
//! ```

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::timefmt::{to_sqlite_text, truncate_to_millis};

/// One queue's calls in one half-hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HalfHourArrivals {
    pub queue: String,
    /// Start of the half-hour, UTC (minute 00 or 30).
    pub start: DateTime<Utc>,
    /// Calls that reached the queue.
    pub arrivals: i64,
    /// Calls an operator took (with a talk time recorded).
    pub handled: i64,
    /// Their talk time, summed, milliseconds.
    pub talk_ms: i64,
    /// Of the handled calls, those whose wrap-up was measured.
    pub wrapped: i64,
    /// Their wrap-ups, summed, milliseconds.
    pub wrap_up_ms: i64,
}

/// The one statement for both backends; only `{STAMP}`, the arrival instant as UTC text
/// `YYYY-MM-DDTHH:MM…`, differs (SQLite stores exactly that text already). sqlx binds `$N`
/// on SQLite too, and both have FILTER on aggregates.
const ARRIVALS_BY_HALF_HOUR: &str = "\
SELECT queue,
       substr(t, 1, 14) || CASE WHEN substr(t, 15, 2) < '30' THEN '00' ELSE '30' END
           AS half_hour,
       COUNT(*) AS arrivals,
       COUNT(*) FILTER (WHERE operator IS NOT NULL AND talk_ms IS NOT NULL) AS handled,
       CAST(COALESCE(SUM(talk_ms) FILTER (WHERE operator IS NOT NULL), 0) AS BIGINT)
           AS talk_ms,
       COUNT(wrap_up_ms) FILTER (WHERE operator IS NOT NULL AND talk_ms IS NOT NULL)
           AS wrapped,
       CAST(COALESCE(SUM(wrap_up_ms) FILTER (WHERE operator IS NOT NULL
                                           AND talk_ms IS NOT NULL), 0) AS BIGINT)
           AS wrap_up_ms
FROM (SELECT {STAMP} AS t, queue, operator, talk_ms, w.wrap_up_ms
      FROM calls LEFT JOIN call_wrap_ups w ON w.call_id = calls.id
      WHERE arrived_at >= $1 AND arrived_at < $2 AND queue IS NOT NULL) AS c
GROUP BY queue, half_hour
ORDER BY half_hour, queue";

const SQLITE_STAMP: &str = "arrived_at";
const POSTGRES_STAMP: &str = "to_char(arrived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI')";

type Row = (String, String, i64, i64, i64, i64, i64);

impl Store {
    /// Queue arrivals in `[from, to)` (kept to the millisecond) per queue and UTC
    /// half-hour, in time order; half-hours without a call are absent.
    pub async fn arrivals_by_half_hour(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<HalfHourArrivals>, StoreError> {
        let rows: Vec<Row> = match self.pool() {
            Pool::Sqlite(pool) => {
                let sql = ARRIVALS_BY_HALF_HOUR.replace("{STAMP}", SQLITE_STAMP);
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(to_sqlite_text(from))
                    .bind(to_sqlite_text(to))
                    .fetch_all(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                let sql = ARRIVALS_BY_HALF_HOUR.replace("{STAMP}", POSTGRES_STAMP);
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(truncate_to_millis(from))
                    .bind(truncate_to_millis(to))
                    .fetch_all(pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(
                |(queue, half_hour, arrivals, handled, talk_ms, wrapped, wrap_up_ms)| {
                    let start = NaiveDateTime::parse_from_str(&half_hour, "%Y-%m-%dT%H:%M")
                        .map_err(|_| StoreError::CorruptRow {
                            id: half_hour.clone(),
                            column: "calls.arrived_at",
                        })?
                        .and_utc();
                    Ok(HalfHourArrivals {
                        queue,
                        start,
                        arrivals,
                        handled,
                        talk_ms,
                        wrapped,
                        wrap_up_ms,
                    })
                },
            )
            .collect()
    }
}
