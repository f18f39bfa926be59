//! Complaints filed since an instant: what the manager's board lists when it opens, so a
//! complaint filed before the board was open (or while its stream was down) is not missed.
//!
//! A complaint is a call whose *current* classification carries the complaint flag; one
//! re-filed without the flag is no longer a complaint. Its instant is the current
//! revision's `updated_at`. Only who and what are read — never the note — so the result
//! can go to the board as it is. [`Store::complaints_since`] answers newest first, at most
//! [`MAX_COMPLAINTS`].
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! let since = chrono::Utc::now() - chrono::Duration::hours(8);
//! for complaint in store.complaints_since(since, 50).await? {
//!     println!("{} {} {}", complaint.updated_at, complaint.call_id, complaint.operator);
//! }
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::classification::Outcome;
use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::timefmt::{from_sqlite_text, to_sqlite_text, truncate_to_millis};

/// The most complaints one call of [`Store::complaints_since`] returns.
pub const MAX_COMPLAINTS: u32 = 200;

/// A call whose current classification is a complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Complaint {
    pub call_id: String,
    /// The operator who filed the current classification.
    pub operator: String,
    pub category: String,
    pub outcome: Outcome,
    /// When the current classification was filed.
    pub updated_at: DateTime<Utc>,
}

/// One statement for both backends (sqlx binds `$N` on SQLite too). The flag is compared
/// with a bound `true`, which sqlx sends as BOOLEAN to PostgreSQL and as 1 to SQLite
/// (INTEGER 0/1 there): a literal `TRUE` would not match SQLite's partial index
/// `classifications_complaint (… WHERE complaint = 1)`, a bound 1 does, and PostgreSQL
/// refuses to compare BOOLEAN with an integer literal.
const SINCE: &str = "\
SELECT call_id, operator, category, outcome, updated_at
FROM classifications
WHERE complaint = $1 AND updated_at >= $2
ORDER BY updated_at DESC, call_id DESC
LIMIT $3";

impl Store {
    /// The complaints whose current classification was filed at or after `since` (kept to
    /// the millisecond), newest first, at most `limit` (capped at [`MAX_COMPLAINTS`]).
    pub async fn complaints_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Complaint>, StoreError> {
        let limit = i64::from(limit.min(MAX_COMPLAINTS));
        let rows: Vec<(String, String, String, String, DateTime<Utc>)> = match self.pool() {
            Pool::Sqlite(pool) => {
                let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(SINCE)
                    .bind(true)
                    .bind(to_sqlite_text(since))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                rows.into_iter()
                    .map(|(call_id, operator, category, outcome, updated_at)| {
                        let updated_at = from_sqlite_text(&updated_at).ok_or_else(|| {
                            StoreError::CorruptRow {
                                id: call_id.clone(),
                                column: "classifications.updated_at",
                            }
                        })?;
                        Ok((call_id, operator, category, outcome, updated_at))
                    })
                    .collect::<Result<_, StoreError>>()?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(SINCE)
                    .bind(true)
                    .bind(truncate_to_millis(since))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(call_id, operator, category, outcome, updated_at)| {
                let outcome = outcome.parse().map_err(|_| StoreError::CorruptRow {
                    id: call_id.clone(),
                    column: "classifications.outcome",
                })?;
                Ok(Complaint {
                    call_id,
                    operator,
                    category,
                    outcome,
                    updated_at,
                })
            })
            .collect()
    }
}
