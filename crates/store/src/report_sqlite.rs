//! SQLite queries behind [`crate::Store::report_figures`].

use sqlx::sqlite::SqlitePool;

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
    let categories =
        sqlx::query_as::<_, CategoryRow>(sqlx::AssertSqlSafe(DIALECT.fill(CATEGORY_SQL)))
            .bind(&from)
            .bind(&to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
    let transfers =
        sqlx::query_as::<_, TransferRow>(sqlx::AssertSqlSafe(DIALECT.fill(TRANSFER_SQL)))
            .bind(&from)
            .bind(&to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(TransferRow::decode)
            .collect::<Result<Vec<_>, _>>()?;
    let counter = sqlx::query_as::<_, CounterRow>(sqlx::AssertSqlSafe(DIALECT.fill(COUNTER_SQL)))
        .bind(&from)
        .bind(&to)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let languages =
        sqlx::query_as::<_, LanguageRow>(sqlx::AssertSqlSafe(DIALECT.fill(LANGUAGE_SQL)))
            .bind(&from)
            .bind(&to)
            .fetch_all(&mut *tx)
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
