//! SQLite queries behind the [`crate::counter`] methods of `Store`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::counter::CounterQuery;
use crate::counter::{corrected, CaseDetails, CaseRow, Corrector, CounterCase, CounterError};
use crate::error::StoreError;
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    at: String,
    kind: String,
    outcome: String,
    seat: String,
    fee_payment_confirmed: Option<bool>,
    staff: String,
    note: Option<String>,
    node_id: String,
}

impl Row {
    fn decode(self) -> Result<CaseRow, StoreError> {
        let at = from_sqlite_text(&self.at).ok_or_else(|| StoreError::CorruptRow {
            id: self.id.clone(),
            column: "counter_cases.at",
        })?;
        Ok(CaseRow {
            id: self.id,
            at,
            kind: self.kind,
            outcome: self.outcome,
            seat: self.seat,
            fee_payment_confirmed: self.fee_payment_confirmed,
            staff: self.staff,
            note: self.note,
            node_id: self.node_id,
        })
    }
}

const COLUMNS: &str = "id, at, kind, outcome, seat, fee_payment_confirmed, staff, note, node_id";

const FILTER: &str = "WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) \
                      AND (?3 IS NULL OR staff = ?3)";

pub(crate) async fn insert(pool: &SqlitePool, case: &CounterCase) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO counter_cases (id, at, kind, outcome, seat, fee_payment_confirmed, staff,
                                    note, node_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(&case.id)
    .bind(to_sqlite_text(case.at))
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

async fn get_on(conn: &mut SqliteConnection, id: &str) -> Result<Option<CaseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM counter_cases WHERE id = ?1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::decode).transpose()
}

pub(crate) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<CaseRow>, StoreError> {
    let mut conn = pool.acquire().await?;
    get_on(&mut conn, id).await
}

/// The page, the total and the counts by kind name, from one read transaction.
pub(crate) async fn list(
    pool: &SqlitePool,
    q: &CounterQuery,
) -> Result<(Vec<CaseRow>, i64, Vec<(String, i64)>), StoreError> {
    let from = q.from.map(to_sqlite_text);
    let to = q.to.map(to_sqlite_text);
    // A deferred transaction reads one snapshot in WAL mode.
    let mut tx = pool.begin().await?;
    let by_kind: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT kind, COUNT(*) FROM counter_cases {FILTER} GROUP BY kind"
    )))
    .bind(&from)
    .bind(&to)
    .bind(&q.staff)
    .fetch_all(&mut *tx)
    .await?;
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM counter_cases {FILTER} ORDER BY at DESC, id DESC LIMIT ?4 OFFSET ?5"
    )))
    .bind(&from)
    .bind(&to)
    .bind(&q.staff)
    .bind(q.clamped_limit())
    .bind(q.clamped_offset())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let total = by_kind.iter().map(|(_, n)| n).sum();
    let rows = rows
        .into_iter()
        .map(Row::decode)
        .collect::<Result<_, _>>()?;
    Ok((rows, total, by_kind))
}

pub(crate) async fn correct(
    pool: &SqlitePool,
    id: &str,
    details: &CaseDetails,
    by: Corrector<'_>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Option<CounterCase>, CounterError> {
    // IMMEDIATE: this transaction reads before it writes; a deferred one could fail to
    // upgrade its lock instead of waiting for another writer.
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::from)?;
    let Some(before) = get_on(&mut tx, id).await? else {
        return Ok(None);
    };
    let after = corrected(before, details, by, now, tz)?;
    sqlx::query(
        "UPDATE counter_cases SET kind = ?2, outcome = ?3, seat = ?4, fee_payment_confirmed = ?5,
                                  note = ?6
         WHERE id = ?1",
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
