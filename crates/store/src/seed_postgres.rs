//! PostgreSQL side of [`crate::seed`].

use sqlx::postgres::PgPool;

use crate::counter::CounterCase;
use crate::error::StoreError;
use crate::seed::SeededClassification;
use crate::timefmt::truncate_to_millis;

pub(crate) async fn classifications(
    pool: &PgPool,
    rows: &[SeededClassification],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for row in rows {
        let f = &row.filing;
        let at = truncate_to_millis(row.at);
        let inserted = sqlx::query(
            "INSERT INTO classifications (call_id, category, outcome, complaint, escalated,
                                          faq_id, note, operator, revision, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)
             ON CONFLICT (call_id) DO NOTHING",
        )
        .bind(&f.call_id)
        .bind(&f.category)
        .bind(f.outcome.as_str())
        .bind(f.complaint)
        .bind(f.escalated)
        .bind(f.faq_id)
        .bind(&f.note)
        .bind(&f.operator)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            continue;
        }
        sqlx::query(
            "INSERT INTO classification_history (call_id, revision, category, outcome, complaint,
                                                 escalated, faq_id, note, operator, at)
             VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&f.call_id)
        .bind(&f.category)
        .bind(f.outcome.as_str())
        .bind(f.complaint)
        .bind(f.escalated)
        .bind(f.faq_id)
        .bind(&f.note)
        .bind(&f.operator)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn counter_cases(pool: &PgPool, cases: &[CounterCase]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for case in cases {
        sqlx::query(
            "INSERT INTO counter_cases (id, at, kind, outcome, seat, fee_payment_confirmed, staff,
                                        note, node_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO NOTHING",
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
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
