//! PostgreSQL queries behind [`crate::Store::report_figures`].

use sqlx::postgres::PgPool;

use crate::error::StoreError;
use crate::report::{
    CategoryRow, CounterRow, Dialect, FreeWaitingRow, LanguageRow, ReportFigures, ReportQuery,
    SlotRow, TransferRow, CATEGORY_SQL, COUNTER_SQL, FREE_WAITING_SQL, LANGUAGE_SQL, TRANSFER_SQL,
};
use crate::timefmt::truncate_to_millis;

const DIALECT: Dialect = Dialect {
    slot: "CAST(floor(extract(epoch FROM arrived_at) / 900) AS BIGINT)",
    int: "BIGINT",
    from: "$1",
    to: "$2",
    threshold: "$3",
    short: "$4",
};

pub(crate) async fn figures(pool: &PgPool, q: &ReportQuery) -> Result<ReportFigures, StoreError> {
    let (from, to) = (truncate_to_millis(q.from), truncate_to_millis(q.to));
    let mut tx = pool.begin().await?;
    // Every table of the report sees the same snapshot, and nothing is written.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let slots = sqlx::query_as::<_, SlotRow>(sqlx::AssertSqlSafe(DIALECT.slot_sql()))
        .bind(from)
        .bind(to)
        .bind(q.answered_within_ms())
        .bind(q.short_abandon_ms())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(SlotRow::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let categories =
        sqlx::query_as::<_, CategoryRow>(sqlx::AssertSqlSafe(DIALECT.fill(CATEGORY_SQL)))
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
    let transfers =
        sqlx::query_as::<_, TransferRow>(sqlx::AssertSqlSafe(DIALECT.fill(TRANSFER_SQL)))
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(TransferRow::decode)
            .collect::<Result<Vec<_>, _>>()?;
    let counter = sqlx::query_as::<_, CounterRow>(sqlx::AssertSqlSafe(DIALECT.fill(COUNTER_SQL)))
        .bind(from)
        .bind(to)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let languages =
        sqlx::query_as::<_, LanguageRow>(sqlx::AssertSqlSafe(DIALECT.fill(LANGUAGE_SQL)))
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
    let free_waiting =
        sqlx::query_as::<_, FreeWaitingRow>(sqlx::AssertSqlSafe(DIALECT.fill(FREE_WAITING_SQL)))
            .bind(from)
            .bind(to)
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
