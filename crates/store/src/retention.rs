//! The database side of retention: anonymise residents' personal data written before a
//! cutoff, find and mark recordings whose files go, delete audit entries past the audit
//! retention, and leave no old values in free pages, the WAL or dead tuples.
//!
//! What goes: `calls.caller`, `calls.sip_call_id` (a Call-ID may carry the caller's
//! number) and `calls.dtmf` (digits the caller typed), every `call_events.detail` of those
//! calls, the `note` of `classifications`, `classification_history` and `counter_cases`,
//! and the recording files (the shell deletes them; the rows get `purged_at`). What stays
//! is what the reports count: times, disposition, queue, operator, transfer outcome,
//! category, outcome, complaint flag, counter kind and outcome. The counter devices' history
//! (`device_events`, `device_beats_hourly`) past the same cutoff is deleted
//! ([`Store::purge_device_history`]). Every step is idempotent.
//! The policy (what is due when) is [`crate::retention_policy`]; the job that runs these
//! steps in order is the binary's `retention` module.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! let before: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().expect("instant");
//! let counts = store.anonymise_before(before, chrono::Utc::now()).await?;
//! store.compact_after_retention().await?;
//! println!("{} calls anonymised", counts.calls);
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::timefmt::{to_sqlite_text, truncate_to_millis};

/// What one anonymisation changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnonymisedCounts {
    /// Calls whose caller number, Call-ID and DTMF input were removed.
    pub calls: u64,
    /// Events of those calls whose detail was cleared.
    pub events: u64,
    /// Classification notes cleared (current filings and their history).
    pub notes: u64,
    /// Counter case notes cleared.
    pub counter_notes: u64,
}

/// What one purge of the devices' history deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceHistoryPurged {
    /// `device_events` rows (silent, back, status).
    pub events: u64,
    /// `device_beats_hourly` rows.
    pub hours: u64,
}

/// A recording whose file is due to be deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueRecording {
    pub call_id: String,
    /// Relative to the recordings folder, as stored.
    pub file: String,
}

// One text per statement for both backends (sqlx binds `$N` on SQLite too); `'null'` and
// `'[]'` are JSON text on SQLite and become jsonb on PostgreSQL by the column's type.
const SCRUB_EVENTS: &str = "\
UPDATE call_events SET detail = 'null'
WHERE detail <> 'null'
  AND call_id IN (SELECT id FROM calls WHERE anonymised_at IS NULL AND arrived_at < $1)";
const ANONYMISE_CALLS: &str = "\
UPDATE calls SET caller = '', sip_call_id = '', dtmf = '[]', anonymised_at = $2
WHERE anonymised_at IS NULL AND arrived_at < $1";
const CLEAR_NOTES: &str =
    "UPDATE classifications SET note = NULL WHERE note IS NOT NULL AND updated_at < $1";
const CLEAR_HISTORY_NOTES: &str =
    "UPDATE classification_history SET note = NULL WHERE note IS NOT NULL AND at < $1";
const CLEAR_COUNTER_NOTES: &str =
    "UPDATE counter_cases SET note = NULL WHERE note IS NOT NULL AND at < $1";
const DUE_RECORDINGS: &str = "\
SELECT call_id, file FROM recordings
WHERE purged_at IS NULL AND status <> 'recording' AND started_at < $1
ORDER BY started_at, call_id";
const MARK_PURGED: &str =
    "UPDATE recordings SET purged_at = $2 WHERE call_id = $1 AND purged_at IS NULL";
const DELETE_AUDIT: &str = "\
DELETE FROM audit_log WHERE at < (SELECT purge_before FROM audit_log_horizon WHERE id = 1)";
/// The horizon moves to the cutoff, but never back and never to less than a year before
/// the database's clock (the triggers of migration 0011 refuse both).
const MOVE_HORIZON_SQLITE: &str = "\
UPDATE audit_log_horizon
SET purge_before = max(purge_before,
                       min($1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-365 days', '-1 seconds')))
WHERE id = 1";
const MOVE_HORIZON_POSTGRES: &str = "\
UPDATE audit_log_horizon
SET purge_before = GREATEST(purge_before, LEAST($1, now() - interval '365 days 1 second'))
WHERE id = 1";
const DELETE_DEVICE_EVENTS: &str = "DELETE FROM device_events WHERE at < $1";
/// Bound to the cutoff less an hour: an hour goes once it has wholly passed the cutoff.
const DELETE_DEVICE_HOURS: &str = "DELETE FROM device_beats_hourly WHERE hour <= $1";
/// The tables whose old tuples PostgreSQL keeps until vacuumed.
const VACUUM_POSTGRES: &str = "VACUUM calls, call_events, classifications, \
                               classification_history, counter_cases, recordings, audit_log";
/// How often a busy WAL checkpoint is retried (a reader holding an old snapshot).
const CHECKPOINT_ATTEMPTS: u32 = 50;

/// Runs the anonymising statements in one transaction; `$conv` turns an instant into the
/// backend's bind type.
macro_rules! anonymise {
    ($pool:expr, $conv:expr, $before:expr, $now:expr) => {{
        let mut tx = $pool.begin().await?;
        let before = $conv($before);
        let events = sqlx::query(SCRUB_EVENTS)
            .bind(before.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let calls = sqlx::query(ANONYMISE_CALLS)
            .bind(before.clone())
            .bind($conv($now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut notes = 0;
        for statement in [CLEAR_NOTES, CLEAR_HISTORY_NOTES] {
            notes += sqlx::query(statement)
                .bind(before.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        let counter_notes = sqlx::query(CLEAR_COUNTER_NOTES)
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        AnonymisedCounts {
            calls,
            events,
            notes,
            counter_notes,
        }
    }};
}

impl Store {
    /// Removes the personal data written before `before` (see the module doc); `now` is
    /// stored as the calls' `anonymised_at`. One transaction; running it again changes
    /// nothing and counts zero.
    pub async fn anonymise_before(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<AnonymisedCounts, StoreError> {
        Ok(match self.pool() {
            Pool::Sqlite(pool) => anonymise!(pool, to_sqlite_text, before, now),
            Pool::Postgres(pool) => anonymise!(pool, truncate_to_millis, before, now),
        })
    }

    /// Finished recordings started before `before` whose file has not been deleted yet.
    pub async fn recordings_due_for_purge(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<DueRecording>, StoreError> {
        let rows: Vec<(String, String)> = match self.pool() {
            Pool::Sqlite(pool) => {
                sqlx::query_as(DUE_RECORDINGS)
                    .bind(to_sqlite_text(before))
                    .fetch_all(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(DUE_RECORDINGS)
                    .bind(truncate_to_millis(before))
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(call_id, file)| DueRecording { call_id, file })
            .collect())
    }

    /// Notes that a recording's file is gone; `false` if it was marked already.
    pub async fn mark_recording_purged(
        &self,
        call_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let affected = match self.pool() {
            Pool::Sqlite(pool) => sqlx::query(MARK_PURGED)
                .bind(call_id)
                .bind(to_sqlite_text(now))
                .execute(pool)
                .await?
                .rows_affected(),
            Pool::Postgres(pool) => sqlx::query(MARK_PURGED)
                .bind(call_id)
                .bind(truncate_to_millis(now))
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(affected == 1)
    }

    /// Deletes the audit entries older than `before`, but none younger than a year by the
    /// database's clock; returns how many went.
    pub async fn purge_audit_log(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = match self.pool() {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(MOVE_HORIZON_SQLITE)
                    .bind(to_sqlite_text(before))
                    .execute(&mut *tx)
                    .await?;
                let deleted = sqlx::query(DELETE_AUDIT).execute(&mut *tx).await?;
                tx.commit().await?;
                deleted.rows_affected()
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(MOVE_HORIZON_POSTGRES)
                    .bind(truncate_to_millis(before))
                    .execute(&mut *tx)
                    .await?;
                let deleted = sqlx::query(DELETE_AUDIT).execute(&mut *tx).await?;
                tx.commit().await?;
                deleted.rows_affected()
            }
        };
        Ok(deleted)
    }

    /// Deletes the devices' events before `before` and their hourly beat rows of the hours
    /// that ended by then; one transaction, idempotent.
    pub async fn purge_device_history(
        &self,
        before: DateTime<Utc>,
    ) -> Result<DeviceHistoryPurged, StoreError> {
        let hours_before = before - chrono::TimeDelta::hours(1);
        let purged = match self.pool() {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let events = sqlx::query(DELETE_DEVICE_EVENTS)
                    .bind(to_sqlite_text(before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let hours = sqlx::query(DELETE_DEVICE_HOURS)
                    .bind(to_sqlite_text(hours_before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                DeviceHistoryPurged { events, hours }
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let events = sqlx::query(DELETE_DEVICE_EVENTS)
                    .bind(truncate_to_millis(before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let hours = sqlx::query(DELETE_DEVICE_HOURS)
                    .bind(truncate_to_millis(hours_before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                DeviceHistoryPurged { events, hours }
            }
        };
        Ok(purged)
    }

    /// Leaves no copy of anonymised values behind. SQLite zeroes freed content as it goes
    /// (`secure_delete`, set on every connection); this moves the WAL into the database
    /// file and truncates it, retrying while a reader holds an older snapshot. PostgreSQL
    /// vacuums the touched tables so their dead tuples are reclaimed.
    pub async fn compact_after_retention(&self) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => {
                for _ in 0..CHECKPOINT_ATTEMPTS {
                    // (busy, WAL frames, frames checkpointed)
                    let (busy, _, _): (i64, i64, i64) =
                        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                            .fetch_one(pool)
                            .await?;
                    if busy == 0 {
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                tracing::warn!(
                    "the WAL checkpoint after retention stayed busy; it is retried at the next run"
                );
                Ok(())
            }
            Pool::Postgres(pool) => {
                sqlx::raw_sql(VACUUM_POSTGRES).execute(pool).await?;
                Ok(())
            }
        }
    }
}
