//! SQLite queries behind [`crate::Store::report_figures`].

use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};

use crate::error::StoreError;
use crate::report::{
    CategoryRow, CounterRow, Dialect, FreeWaitingRow, LanguageRow, ReportFigures, ReportQuery,
    SlotRow, TransferRow, CATEGORY_SQL, COUNTER_SQL, FREE_WAITING_SQL, LANGUAGE_SQL, TRANSFER_SQL,
};
use crate::timefmt::to_sqlite_text;

// Timestamps are checked RFC 3339 text, so the period bounds compare as text (and use the
// arrived_at index); strftime('%s') reads the same text as seconds since the epoch.
const DIALECT: Dialect = Dialect {
    slot: "CAST(strftime('%s', arrived_at) AS INTEGER) / 900",
    int: "INTEGER",
    from: "?1",
    to: "?2",
    threshold: "?3",
    short: "?4",
};

pub(crate) async fn figures(
    pool: &SqlitePool,
    q: &ReportQuery,
) -> Result<ReportFigures, StoreError> {
    let (from, to) = (to_sqlite_text(q.from), to_sqlite_text(q.to));
    // One read transaction: every table of the report sees the same snapshot.
    let mut tx = pool.begin().await?;
    let slots = sqlx::query_as::<_, SlotRow>(sqlx::AssertSqlSafe(DIALECT.slot_sql()))
        .bind(&from)
        .bind(&to)
        .bind(q.answered_within_ms())
        .bind(q.short_abandon_ms())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(SlotRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let categories = period_rows::<CategoryRow>(&mut tx, CATEGORY_SQL, &from, &to)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let transfers = period_rows::<TransferRow>(&mut tx, TRANSFER_SQL, &from, &to)
        .await?
        .into_iter()
        .map(TransferRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let counter = period_rows::<CounterRow>(&mut tx, COUNTER_SQL, &from, &to)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let languages = period_rows::<LanguageRow>(&mut tx, LANGUAGE_SQL, &from, &to)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let free_waiting =
        sqlx::query_as::<_, FreeWaitingRow>(sqlx::AssertSqlSafe(DIALECT.fill(FREE_WAITING_SQL)))
            .bind(&from)
            .bind(&to)
            .fetch_one(&mut *tx)
            .await?
            .into();
    tx.commit().await?;
    Ok(ReportFigures {
        slots,
        categories,
        transfers,
        counter,
        languages,
        free_waiting,
        devices: Vec::new(),
    })
}

/// The rows of a report query whose only parameters are the period's bounds.
async fn period_rows<R>(
    conn: &mut SqliteConnection,
    sql: &str,
    from: &str,
    to: &str,
) -> Result<Vec<R>, sqlx::Error>
where
    R: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin,
{
    sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(DIALECT.fill(sql)))
        .bind(from)
        .bind(to)
        .fetch_all(conn)
        .await
}
