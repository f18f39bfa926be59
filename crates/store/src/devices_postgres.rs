//! PostgreSQL queries behind the [`crate::devices`] methods of `Store`.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgPool};

use crate::devices::{
    beat_events, millis, BeatEvents, BeatWrite, Before, Device, DeviceBeatsHour, DeviceRow,
    EventRow,
};
use crate::error::StoreError;
use crate::timefmt::truncate_to_millis;

#[derive(sqlx::FromRow)]
struct Raw {
    id: String,
    label: String,
    location: String,
    kind: String,
    silent_after_s: i32,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    last_rtt_ms: Option<i64>,
    last_status: Option<String>,
    last_detail: Option<String>,
    silent_since: Option<DateTime<Utc>>,
}

impl From<Raw> for DeviceRow {
    fn from(r: Raw) -> DeviceRow {
        DeviceRow {
            id: r.id,
            label: r.label,
            location: r.location,
            kind: r.kind,
            silent_after_s: i64::from(r.silent_after_s),
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            last_seen_at: r.last_seen_at,
            last_rtt_ms: r.last_rtt_ms,
            last_status: r.last_status,
            last_detail: r.last_detail,
            silent_since: r.silent_since,
        }
    }
}

const COLUMNS: &str = "id, label, location, kind, silent_after_s, created_at, revoked_at, \
                       last_seen_at, last_rtt_ms, last_status, last_detail, silent_since";

pub(crate) async fn insert(pool: &PgPool, d: &Device, hash: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO devices (id, label, location, kind, token_hash, silent_after_s, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&d.id)
    .bind(&d.label)
    .bind(&d.location)
    .bind(&d.kind)
    .bind(hash)
    .bind(i32::try_from(d.silent_after_s).unwrap_or(i32::MAX))
    .bind(truncate_to_millis(d.created_at))
    .execute(pool)
    .await?;
    Ok(())
}

/// `(exists, revoked by this call)`.
pub(crate) async fn revoke(
    pool: &PgPool,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(bool, bool), StoreError> {
    let revoked =
        sqlx::query("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(truncate_to_millis(now))
            .execute(pool)
            .await?
            .rows_affected();
    if revoked > 0 {
        return Ok((true, true));
    }
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM devices WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok((exists.is_some(), false))
}

pub(crate) async fn by_token(pool: &PgPool, hash: &str) -> Result<Option<DeviceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE token_hash = $1 AND revoked_at IS NULL");
    let row = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(DeviceRow::from))
}

pub(crate) async fn all(pool: &PgPool) -> Result<Vec<DeviceRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM devices ORDER BY id");
    let rows = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(DeviceRow::from).collect())
}

/// Checks the device exists and is not revoked while counting the beat (as on SQLite).
const UPSERT_HOUR: &str = "\
INSERT INTO device_beats_hourly (device, hour, beats, rtt_beats, rtt_sum_ms, rtt_max_ms)
SELECT id, $2, 1, $3, $4, $5 FROM devices WHERE id = $1 AND revoked_at IS NULL
ON CONFLICT (device, hour) DO UPDATE SET
    beats = device_beats_hourly.beats + 1,
    rtt_beats = device_beats_hourly.rtt_beats + excluded.rtt_beats,
    rtt_sum_ms = device_beats_hourly.rtt_sum_ms + excluded.rtt_sum_ms,
    rtt_max_ms = GREATEST(device_beats_hourly.rtt_max_ms, excluded.rtt_max_ms)";

const INSERT_EVENT: &str = "\
INSERT INTO device_events (device, at, kind, status, detail, silent_ms, node_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `None` when the device is unknown or revoked (nothing written).
pub(crate) async fn beat(
    pool: &PgPool,
    b: &BeatWrite<'_>,
) -> Result<Option<(DeviceRow, BeatEvents)>, StoreError> {
    let mut tx = pool.begin().await?;
    let upserted = sqlx::query(UPSERT_HOUR)
        .bind(b.id)
        .bind(b.hour)
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
    // FOR UPDATE: a concurrent `mark_silent` waits for this beat, and sees it.
    let before = read_before(&mut tx, b.id).await?;
    let events = beat_events(b.id, &before, b)?;
    let sql = format!(
        "UPDATE devices SET last_seen_at = $2, last_rtt_ms = $3, last_status = $4,
                            last_detail = $5, silent_since = NULL
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .bind(b.id)
        .bind(b.at)
        .bind(b.rtt_ms)
        .bind(b.status.as_str())
        .bind(b.detail)
        .fetch_one(&mut *tx)
        .await?;
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
    Ok(Some((DeviceRow::from(row), events)))
}

async fn read_before(conn: &mut PgConnection, id: &str) -> Result<Before, StoreError> {
    type Row = (Option<DateTime<Utc>>, Option<String>, Option<DateTime<Utc>>);
    let (last_seen_at, last_status, silent_since): Row = sqlx::query_as(
        "SELECT last_seen_at, last_status, silent_since FROM devices WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Before {
        last_seen_at,
        last_status,
        silent_since,
    })
}

async fn insert_event(
    conn: &mut PgConnection,
    b: &BeatWrite<'_>,
    kind: &str,
    status: Option<&str>,
    detail: Option<&str>,
    silent_ms: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(INSERT_EVENT)
        .bind(b.id)
        .bind(b.at)
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
    pool: &PgPool,
    now: DateTime<Utc>,
    node_id: &str,
) -> Result<Vec<DeviceRow>, StoreError> {
    let mut tx = pool.begin().await?;
    // Under READ COMMITTED a concurrent caller blocks on the rows this UPDATE locked, then
    // re-checks `silent_since IS NULL` on the committed row and skips it: one flip each.
    let sql = format!(
        "UPDATE devices SET silent_since = $1
         WHERE silent_since IS NULL AND revoked_at IS NULL AND last_seen_at IS NOT NULL
           AND last_seen_at < $1 - make_interval(secs => silent_after_s)
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query_as::<_, Raw>(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
    let mut flipped = Vec::with_capacity(rows.len());
    for raw in rows {
        let row = DeviceRow::from(raw);
        let since_beat = row.last_seen_at.map(|seen| millis(now - seen));
        sqlx::query(INSERT_EVENT)
            .bind(&row.id)
            .bind(now)
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
    at: DateTime<Utc>,
    kind: String,
    status: Option<String>,
    detail: Option<String>,
    silent_ms: Option<i64>,
    node_id: String,
}

pub(crate) async fn events(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<EventRow>, StoreError> {
    let rows: Vec<RawEvent> = sqlx::query_as(
        "SELECT id, device, at, kind, status, detail, silent_ms, node_id FROM device_events
         WHERE at >= $1 AND at < $2 ORDER BY at, id",
    )
    .bind(truncate_to_millis(from))
    .bind(truncate_to_millis(to))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventRow {
            id: r.id,
            device: r.device,
            at: r.at,
            kind: r.kind,
            status: r.status,
            detail: r.detail,
            silent_ms: r.silent_ms,
            node_id: r.node_id,
        })
        .collect())
}

pub(crate) async fn beats_hourly(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DeviceBeatsHour>, StoreError> {
    type Row = (String, DateTime<Utc>, i64, i64, i64, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT device, hour, beats, rtt_beats, rtt_sum_ms, rtt_max_ms FROM device_beats_hourly
         WHERE hour >= $1 AND hour < $2 ORDER BY device, hour",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(
            |(device, hour, beats, rtt_beats, rtt_sum_ms, rtt_max_ms)| DeviceBeatsHour {
                device,
                hour,
                beats: count(beats),
                rtt_beats: count(rtt_beats),
                rtt_sum_ms: count(rtt_sum_ms),
                rtt_max_ms: rtt_max_ms.map(count),
            },
        )
        .collect())
}
