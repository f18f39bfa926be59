//! SQLite queries behind the [`crate::classification`] methods of `Store`.

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::classification::{next_revision, ClassificationRow, FileOutcome, NewClassification};
use crate::error::StoreError;
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

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
    created_at: String,
    updated_at: String,
}

impl Row {
    fn decode(self) -> Result<ClassificationRow, StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: self.call_id.clone(),
            column,
        };
        let created_at = from_sqlite_text(&self.created_at)
            .ok_or_else(|| corrupt("classifications.created_at"))?;
        let updated_at = from_sqlite_text(&self.updated_at)
            .ok_or_else(|| corrupt("classifications.updated_at"))?;
        Ok(ClassificationRow {
            call_id: self.call_id,
            category: self.category,
            outcome: self.outcome,
            complaint: self.complaint,
            escalated: self.escalated,
            faq_id: self.faq_id,
            note: self.note,
            operator: self.operator,
            revision: self.revision,
            created_at,
            updated_at,
        })
    }
}

const COLUMNS: &str = "call_id, category, outcome, complaint, escalated, faq_id, note, operator, \
                       revision, created_at, updated_at";

async fn get_on(
    conn: &mut SqliteConnection,
    call_id: &str,
) -> Result<Option<ClassificationRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM classifications WHERE call_id = ?1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(call_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Row::decode).transpose()
}

pub(crate) async fn get(
    pool: &SqlitePool,
    call_id: &str,
) -> Result<Option<ClassificationRow>, StoreError> {
    let mut conn = pool.acquire().await?;
    get_on(&mut conn, call_id).await
}

pub(crate) async fn get_many(
    pool: &SqlitePool,
    call_ids: &[String],
) -> Result<Vec<ClassificationRow>, StoreError> {
    let mut rows = Vec::new();
    // SQLite allows 32766 variables per statement; stay far below.
    for chunk in call_ids.chunks(500) {
        let placeholders = (1..=chunk.len())
            .map(|n| format!("?{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT {COLUMNS} FROM classifications WHERE call_id IN ({placeholders})");
        let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(pool).await? {
            rows.push(row.decode()?);
        }
    }
    Ok(rows)
}

pub(crate) async fn history(
    pool: &SqlitePool,
    call_id: &str,
) -> Result<Vec<ClassificationRow>, StoreError> {
    // A revision's created_at is the first filing's: the history row of revision 1.
    let rows = sqlx::query_as::<_, Row>(
        "SELECT h.call_id, h.category, h.outcome, h.complaint, h.escalated, h.faq_id, h.note,
                h.operator, h.revision, first.at AS created_at, h.at AS updated_at
         FROM classification_history h
         JOIN classification_history first ON first.call_id = h.call_id AND first.revision = 1
         WHERE h.call_id = ?1 ORDER BY h.revision",
    )
    .bind(call_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Row::decode).collect()
}

pub(crate) async fn file(
    pool: &SqlitePool,
    new: &NewClassification,
    now: DateTime<Utc>,
) -> Result<FileOutcome, StoreError> {
    // IMMEDIATE: this transaction reads before it writes; a deferred one could fail to
    // upgrade its lock instead of waiting for another writer.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if let Some(faq_id) = new.faq_id {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM faq WHERE id = ?1")
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
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
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
    .bind(to_sqlite_text(current.created_at))
    .bind(to_sqlite_text(current.updated_at))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO classification_history (call_id, revision, category, outcome, complaint,
                                             escalated, faq_id, note, operator, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
    .bind(to_sqlite_text(current.updated_at))
    .execute(&mut *tx)
    .await?;
    let before = previous.as_ref().and_then(|p| p.faq_id);
    if before != current.faq_id {
        if let Some(id) = before {
            sqlx::query("UPDATE faq SET uses = max(uses - 1, 0) WHERE id = ?1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(id) = current.faq_id {
            sqlx::query("UPDATE faq SET uses = uses + 1 WHERE id = ?1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(FileOutcome::Filed { current, previous })
}
