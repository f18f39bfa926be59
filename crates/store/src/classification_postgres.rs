//! PostgreSQL queries behind the [`crate::classification`] methods of `Store`.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgPool};

use crate::classification::{next_revision, ClassificationRow, FileOutcome, NewClassification};
use crate::error::StoreError;
use crate::timefmt::truncate_to_millis;

#[derive(sqlx::FromRow)]
struct Row {
    call_id: String,
    category: String,
    outcome: String,
    complaint: bool,
    escalated: bool,
    faq_id: Option<i64>,
    note: Option<String>,
    operator: String,
    revision: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for ClassificationRow {
    fn from(r: Row) -> ClassificationRow {
        ClassificationRow {
            call_id: r.call_id,
            category: r.category,
            outcome: r.outcome,
            complaint: r.complaint,
            escalated: r.escalated,
            faq_id: r.faq_id,
            note: r.note,
            operator: r.operator,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "call_id, category, outcome, complaint, escalated, faq_id, note, operator, \
                       revision, created_at, updated_at";

async fn get_on(
    conn: &mut PgConnection,
    call_id: &str,
) -> Result<Option<ClassificationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM classifications WHERE call_id = $1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(call_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(ClassificationRow::from))
}

pub(crate) async fn get(
    pool: &PgPool,
    call_id: &str,
) -> Result<Option<ClassificationRow>, StoreError> {
    let mut conn = pool.acquire().await?;
    get_on(&mut conn, call_id).await
}

pub(crate) async fn get_many(
    pool: &PgPool,
    call_ids: &[String],
) -> Result<Vec<ClassificationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM classifications WHERE call_id = ANY($1)");
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(call_ids)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(ClassificationRow::from).collect())
}

pub(crate) async fn history(
    pool: &PgPool,
    call_id: &str,
) -> Result<Vec<ClassificationRow>, StoreError> {
    // A revision's created_at is the first filing's: the history row of revision 1.
    let rows = sqlx::query_as::<_, Row>(
        "SELECT h.call_id, h.category, h.outcome, h.complaint, h.escalated, h.faq_id, h.note,
                h.operator, h.revision, first.at AS created_at, h.at AS updated_at
         FROM classification_history h
         JOIN classification_history first ON first.call_id = h.call_id AND first.revision = 1
         WHERE h.call_id = $1 ORDER BY h.revision",
    )
    .bind(call_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ClassificationRow::from).collect())
}

pub(crate) async fn file(
    pool: &PgPool,
    new: &NewClassification,
    now: DateTime<Utc>,
) -> Result<FileOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    // Two filings for one call at once must not both see "no previous one": one call at a
    // time (the lock ends with the transaction).
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('madoguchi classification ' || $1))")
        .bind(&new.call_id)
        .execute(&mut *tx)
        .await?;
    if let Some(faq_id) = new.faq_id {
        // FOR SHARE: the entry cannot be deleted before this transaction commits.
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM faq WHERE id = $1 FOR SHARE")
            .bind(faq_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(FileOutcome::UnknownFaq(faq_id));
        }
    }
    let previous = get_on(&mut tx, &new.call_id).await?;
    let current = next_revision(new, previous.as_ref(), now);
    sqlx::query(
        "INSERT INTO classifications (call_id, category, outcome, complaint, escalated, faq_id,
                                      note, operator, revision, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (call_id) DO UPDATE SET
             category = excluded.category, outcome = excluded.outcome,
             complaint = excluded.complaint, escalated = excluded.escalated,
             faq_id = excluded.faq_id, note = excluded.note, operator = excluded.operator,
             revision = excluded.revision, updated_at = excluded.updated_at",
    )
    .bind(&current.call_id)
    .bind(&current.category)
    .bind(&current.outcome)
    .bind(current.complaint)
    .bind(current.escalated)
    .bind(current.faq_id)
    .bind(&current.note)
    .bind(&current.operator)
    .bind(current.revision)
    .bind(truncate_to_millis(current.created_at))
    .bind(truncate_to_millis(current.updated_at))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO classification_history (call_id, revision, category, outcome, complaint,
                                             escalated, faq_id, note, operator, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&current.call_id)
    .bind(current.revision)
    .bind(&current.category)
    .bind(&current.outcome)
    .bind(current.complaint)
    .bind(current.escalated)
    .bind(current.faq_id)
    .bind(&current.note)
    .bind(&current.operator)
    .bind(truncate_to_millis(current.updated_at))
    .execute(&mut *tx)
    .await?;
    let before = previous.as_ref().and_then(|p| p.faq_id);
    if before != current.faq_id {
        if let Some(id) = before {
            sqlx::query("UPDATE faq SET uses = GREATEST(uses - 1, 0) WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(id) = current.faq_id {
            sqlx::query("UPDATE faq SET uses = uses + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(FileOutcome::Filed { current, previous })
}
