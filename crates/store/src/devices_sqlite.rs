//! SQLite queries behind the [`crate::devices`] methods of `Store`.

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::devices::{
    beat_events, millis, BeatEvents, BeatWrite, Before, Device, DeviceBeatsHour, DeviceRow,
    EventRow,
};
use crate::error::StoreError;
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

fn time(text: &str, id: &str, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
    from_sqlite_text(text).ok_or_else(|| StoreError::CorruptRow {
        id: id.to_owned(),
        column,
    })
}

fn opt_time(
    text: Option<&str>,
    id: &str,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.map(|t| time(t, id, column)).transpose()
}

#[derive(sqlx::FromRow)]
struct Raw {
    id: String,
    label: String,
    location: String,
    kind: String,
    silent_after_s: i64,
    created_at: String,
    revoked_at: Option<String>,
    last_seen_at: Option<String>,
    last_rtt_ms: Option<i64>,
    last_status: Option<String>,
    last_detail: Option<String>,
    silent_since: Option<String>,
}

impl Raw {
    fn decode(self) -> Result<DeviceRow, StoreError> {
        let id = self.id.as_str();
        Ok(DeviceRow {
            created_at: time(&self.created_at, id, "devices.created_at")?,
            revoked_at: opt_time(self.revoked_at.as_deref(), id, "devices.revoked_at")?,
            last_seen_at: opt_time(self.last_seen_at.as_deref(), id, "devices.last_seen_at")?,
            silent_since: opt_time(self.silent_since.as_deref(), id, "devices.silent_since")?,
            id: self.id,
            label: self.label,
            location: self.location,
            kind: self.kind,
            silent_after_s: self.silent_after_s,
            last_rtt_ms: self.last_rtt_ms,
            last_status: self.last_status,
            last_detail: self.last_detail,
        })
    }
}

const COLUMNS: &str = "id, label, location, kind, silent_after_s, created_at, revoked_at, \
                       last_seen_at, last_rtt_ms, last_status, last_detail, silent_since";

pub(crate) async fn insert(pool: &SqlitePool, d: &Device, hash: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO devices (id, label, location, kind, token_hash, silent_after_s, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&d.id)
    .bind(&d.label)
    .bind(&d.location)
    .bind(&d.kind)
    .bind(hash)
    .bind(i64::from(d.silent_after_s))
    .bind(to_sqlite_text(d.created_at))
    .execute(pool)
    .await?;
    Ok(())
}

/// `(exists, revoked by this call)`.
pub(crate) async fn revoke(
    pool: &SqlitePool,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(bool, bool), StoreError> {
    let revoked =
        sqlx::query("UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
            .bind(id)
            .bind(to_sqlite_text(now))
            .execute(pool)
            .await?
            .rows_affected();
    if revoked > 0 {
        return Ok((true, true));
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM devices WHERE id = ?1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok((exists.is_some(), false))
}

pub(crate) async fn by_token(
    pool: &SqlitePool,
    hash: &str,
) -> Result<Option<DeviceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL");
    let row = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(pool)
        .await?;
    row.map(Raw::decode).transpose()
}

pub(crate) async fn all(pool: &SqlitePool) -> Result<Vec<DeviceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM devices ORDER BY id");
    let rows = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(Raw::decode).collect()
}

/// The hour's row first: it is a write, so the deferred transaction takes the write lock at
/// once (no read-then-upgrade deadlock), and it checks the device exists and is not revoked.
const UPSERT_HOUR: &str = "\
INSERT INTO device_beats_hourly (device, hour, beats, rtt_beats, rtt_sum_ms, rtt_max_ms)
SELECT id, ?2, 1, ?3, ?4, ?5 FROM devices WHERE id = ?1 AND revoked_at IS NULL
ON CONFLICT (device, hour) DO UPDATE SET
    beats = device_beats_hourly.beats + 1,
    rtt_beats = device_beats_hourly.rtt_beats + excluded.rtt_beats,
    rtt_sum_ms = device_beats_hourly.rtt_sum_ms + excluded.rtt_sum_ms,
    rtt_max_ms = max(coalesce(device_beats_hourly.rtt_max_ms, excluded.rtt_max_ms),
                     coalesce(excluded.rtt_max_ms, device_beats_hourly.rtt_max_ms))";

const INSERT_EVENT: &str = "\
INSERT INTO device_events (device, at, kind, status, detail, silent_ms, node_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// `None` when the device is unknown or revoked (nothing written).
pub(crate) async fn beat(
    pool: &SqlitePool,
    b: &BeatWrite<'_>,
) -> Result<Option<(DeviceRow, BeatEvents)>, StoreError> {
    let mut tx = pool.begin().await?;
    let upserted = sqlx::query(UPSERT_HOUR)
        .bind(b.id)
        .bind(to_sqlite_text(b.hour))
        .bind(i64::from(b.rtt_ms.is_some()))
        .bind(b.rtt_ms.unwrap_or(0))
        .bind(b.rtt_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if upserted == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    let before = read_before(&mut tx, b.id).await?;
    let events = beat_events(b.id, &before, b)?;
    let sql = format!(
        "UPDATE devices SET last_seen_at = ?2, last_rtt_ms = ?3, last_status = ?4,
                            last_detail = ?5, silent_since = NULL
         WHERE id = ?1 RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .bind(b.id)
        .bind(to_sqlite_text(b.at))
        .bind(b.rtt_ms)
        .bind(b.status.as_str())
        .bind(b.detail)
        .fetch_one(&mut *tx)
        .await?
        .decode()?;
    if let Some(gap) = events.was_silent {
        insert_event(&mut tx, b, "back", None, None, Some(millis(gap))).await?;
    }
    if events.status_changed_from.is_some() {
        insert_event(
            &mut tx,
            b,
            "status",
            Some(b.status.as_str()),
            b.detail,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some((row, events)))
}

async fn read_before(conn: &mut SqliteConnection, id: &str) -> Result<Before, StoreError> {
    type Row = (Option<String>, Option<String>, Option<String>);
    let (last_seen_at, last_status, silent_since): Row =
        sqlx::query_as("SELECT last_seen_at, last_status, silent_since FROM devices WHERE id = ?1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Before {
        last_seen_at: opt_time(last_seen_at.as_deref(), id, "devices.last_seen_at")?,
        last_status,
        silent_since: opt_time(silent_since.as_deref(), id, "devices.silent_since")?,
    })
}

async fn insert_event(
    conn: &mut SqliteConnection,
    b: &BeatWrite<'_>,
    kind: &str,
    status: Option<&str>,
    detail: Option<&str>,
    silent_ms: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(INSERT_EVENT)
        .bind(b.id)
        .bind(to_sqlite_text(b.at))
        .bind(kind)
        .bind(status)
        .bind(detail)
        .bind(silent_ms)
        .bind(b.node_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn mark_silent(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    node_id: &str,
) -> Result<Vec<DeviceRow>, StoreError> {
    let mut tx = pool.begin().await?;
    // The text instants compare in time order; the threshold is computed per row in the
    // same text form.
    let sql = format!(
        "UPDATE devices SET silent_since = ?1
         WHERE silent_since IS NULL AND revoked_at IS NULL AND last_seen_at IS NOT NULL
           AND last_seen_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?1,
                                       printf('-%d seconds', silent_after_s))
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .bind(to_sqlite_text(now))
        .fetch_all(&mut *tx)
        .await?;
    let mut flipped = Vec::with_capacity(rows.len());
    for raw in rows {
        let row = raw.decode()?;
        let since_beat = row.last_seen_at.map(|seen| millis(now - seen));
        sqlx::query(INSERT_EVENT)
            .bind(&row.id)
            .bind(to_sqlite_text(now))
            .bind("silent")
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(since_beat)
            .bind(node_id)
            .execute(&mut *tx)
            .await?;
        flipped.push(row);
    }
    tx.commit().await?;
    flipped.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(flipped)
}

#[derive(sqlx::FromRow)]
struct RawEvent {
    id: i64,
    device: String,
    at: String,
    kind: String,
    status: Option<String>,
    detail: Option<String>,
    silent_ms: Option<i64>,
    node_id: String,
}

pub(crate) async fn events(
    pool: &SqlitePool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<EventRow>, StoreError> {
    let rows: Vec<RawEvent> = sqlx::query_as(
        "SELECT id, device, at, kind, status, detail, silent_ms, node_id FROM device_events
         WHERE at >= ?1 AND at < ?2 ORDER BY at, id",
    )
    .bind(to_sqlite_text(from))
    .bind(to_sqlite_text(to))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(EventRow {
                at: time(&r.at, &r.id.to_string(), "device_events.at")?,
                id: r.id,
                device: r.device,
                kind: r.kind,
                status: r.status,
                detail: r.detail,
                silent_ms: r.silent_ms,
                node_id: r.node_id,
            })
        })
        .collect()
}

pub(crate) async fn beats_hourly(
    pool: &SqlitePool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DeviceBeatsHour>, StoreError> {
    type Row = (String, String, i64, i64, i64, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT device, hour, beats, rtt_beats, rtt_sum_ms, rtt_max_ms FROM device_beats_hourly
         WHERE hour >= ?1 AND hour < ?2 ORDER BY device, hour",
    )
    .bind(to_sqlite_text(from))
    .bind(to_sqlite_text(to))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(device, hour, beats, rtt_beats, rtt_sum_ms, rtt_max_ms)| {
            let count = |v: i64| u64::try_from(v).unwrap_or(0);
            Ok(DeviceBeatsHour {
                hour: time(&hour, &device, "device_beats_hourly.hour")?,
                device,
                beats: count(beats),
                rtt_beats: count(rtt_beats),
                rtt_sum_ms: count(rtt_sum_ms),
                rtt_max_ms: rtt_max_ms.map(count),
            })
        })
        .collect()
}
