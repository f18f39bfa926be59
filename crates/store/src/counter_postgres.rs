//! PostgreSQL queries behind the [`crate::counter`] methods of `Store`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::postgres::PgPool;

use crate::counter::CounterQuery;
use crate::counter::{corrected, CaseDetails, CaseRow, Corrector, CounterCase, CounterError};
use crate::error::StoreError;
use crate::timefmt::truncate_to_millis;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    at: DateTime<Utc>,
    kind: String,
    outcome: String,
    seat: String,
    fee_payment_confirmed: Option<bool>,
    staff: String,
    note: Option<String>,
    node_id: String,
}

impl From<Row> for CaseRow {
    fn from(r: Row) -> CaseRow {
        CaseRow {
            id: r.id,
            at: r.at,
            kind: r.kind,
            outcome: r.outcome,
            seat: r.seat,
            fee_payment_confirmed: r.fee_payment_confirmed,
            staff: r.staff,
            note: r.note,
            node_id: r.node_id,
        }
    }
}

const COLUMNS: &str = "id, at, kind, outcome, seat, fee_payment_confirmed, staff, note, node_id";

const FILTER: &str = "WHERE ($1::timestamptz IS NULL OR at >= $1) \
                      AND ($2::timestamptz IS NULL OR at < $2) \
                      AND ($3::text IS NULL OR staff = $3)";

pub(crate) async fn insert(pool: &PgPool, case: &CounterCase) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO counter_cases (id, at, kind, outcome, seat, fee_payment_confirmed, staff,
                                    note, node_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&case.id)
    .bind(truncate_to_millis(case.at))
    .bind(case.kind.as_str())
    .bind(case.outcome.as_str())
    .bind(&case.seat)
    .bind(case.fee_payment_confirmed)
    .bind(&case.staff)
    .bind(&case.note)
    .bind(&case.node_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn get(pool: &PgPool, id: &str) -> Result<Option<CaseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM counter_cases WHERE id = $1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(CaseRow::from))
}

/// The page, the total and the counts by kind name, from one snapshot.
pub(crate) async fn list(
    pool: &PgPool,
    q: &CounterQuery,
) -> Result<(Vec<CaseRow>, i64, Vec<(String, i64)>), StoreError> {
    let from = q.from.map(truncate_to_millis);
    let to = q.to.map(truncate_to_millis);
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let by_kind: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT kind, COUNT(*) FROM counter_cases {FILTER} GROUP BY kind"
    )))
    .bind(from)
    .bind(to)
    .bind(&q.staff)
    .fetch_all(&mut *tx)
    .await?;
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM counter_cases {FILTER} ORDER BY at DESC, id DESC LIMIT $4 OFFSET $5"
    )))
    .bind(from)
    .bind(to)
    .bind(&q.staff)
    .bind(q.clamped_limit())
    .bind(q.clamped_offset())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let total = by_kind.iter().map(|(_, n)| n).sum();
    Ok((
        rows.into_iter().map(CaseRow::from).collect(),
        total,
        by_kind,
    ))
}

pub(crate) async fn correct(
    pool: &PgPool,
    id: &str,
    details: &CaseDetails,
    by: Corrector<'_>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Option<CounterCase>, CounterError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    // FOR UPDATE: a second correction of the same case waits and then sees this one.
    let sql = format!("SELECT {COLUMNS} FROM counter_cases WHERE id = $1 FOR UPDATE");
    let before = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let Some(before) = before else {
        return Ok(None);
    };
    let after = corrected(before.into(), details, by, now, tz)?;
    sqlx::query(
        "UPDATE counter_cases SET kind = $2, outcome = $3, seat = $4, fee_payment_confirmed = $5,
                                  note = $6
         WHERE id = $1",
    )
    .bind(&after.id)
    .bind(after.kind.as_str())
    .bind(after.outcome.as_str())
    .bind(&after.seat)
    .bind(after.fee_payment_confirmed)
    .bind(&after.note)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(after))
}
