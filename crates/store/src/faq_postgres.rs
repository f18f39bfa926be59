//! PostgreSQL queries behind the [`crate::faq`] methods of `Store`: substring search with
//! ILIKE, which the `pg_trgm` GIN indexes serve for terms of 3+ characters (shorter terms
//! scan the small table), ranked by `pg_trgm`'s similarity of the question to the query.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgPool};

use crate::error::StoreError;
use crate::faq::{like_escaped, FaqEntry, FaqUpdate, ImportSummary, NewFaq};
use crate::timefmt::truncate_to_millis;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    question: String,
    answer: String,
    category: Option<String>,
    uses: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    active: bool,
}

impl From<Row> for FaqEntry {
    fn from(r: Row) -> FaqEntry {
        FaqEntry {
            id: r.id,
            question: r.question,
            answer: r.answer,
            category: r.category,
            uses: r.uses,
            created_at: r.created_at,
            updated_at: r.updated_at,
            active: r.active,
        }
    }
}

const COLUMNS: &str = "faq.id, faq.question, faq.answer, faq.category, faq.uses, \
                       faq.created_at, faq.updated_at, faq.active";

pub(crate) async fn insert(
    pool: &PgPool,
    question: &str,
    answer: &str,
    category: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FaqEntry, StoreError> {
    let mut conn = pool.acquire().await?;
    insert_on(&mut conn, question, answer, category, now).await
}

async fn insert_on(
    conn: &mut PgConnection,
    question: &str,
    answer: &str,
    category: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FaqEntry, StoreError> {
    let sql = format!(
        "INSERT INTO faq (question, answer, category, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(question)
        .bind(answer)
        .bind(category)
        .bind(truncate_to_millis(now))
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.into())
}

pub(crate) async fn update(
    pool: &PgPool,
    id: i64,
    update: &FaqUpdate,
    now: DateTime<Utc>,
) -> Result<Option<FaqEntry>, StoreError> {
    let sql = format!(
        "UPDATE faq SET question = $2, answer = $3, category = $4, active = $5, updated_at = $6
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&update.question)
        .bind(&update.answer)
        .bind(&update.category)
        .bind(update.active)
        .bind(truncate_to_millis(now))
        .fetch_optional(pool)
        .await?;
    Ok(row.map(FaqEntry::from))
}

pub(crate) async fn get(pool: &PgPool, id: i64) -> Result<Option<FaqEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM faq WHERE id = $1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(FaqEntry::from))
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<FaqEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM faq ORDER BY id");
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(FaqEntry::from).collect())
}

pub(crate) async fn search(
    pool: &PgPool,
    terms: &[&str],
    limit: i64,
) -> Result<Vec<FaqEntry>, StoreError> {
    // $1 is the limit, $2 the whole query for the similarity rank, then one ILIKE pattern
    // per term (ILIKE's default escape character is the backslash).
    let mut filters = vec![String::from("faq.active")];
    let mut in_question = Vec::new();
    for (i, _) in terms.iter().enumerate() {
        let n = i + 3;
        filters.push(format!(
            "(faq.question ILIKE ${n} OR faq.answer ILIKE ${n})"
        ));
        in_question.push(format!("faq.question ILIKE ${n}"));
    }
    let mut order = vec![String::from("faq.uses DESC")];
    if !in_question.is_empty() {
        order.push(format!("({}) DESC", in_question.join(" AND ")));
    }
    order.push(String::from("public.similarity(faq.question, $2) DESC"));
    order.push(String::from("faq.id"));
    let sql = format!(
        "SELECT {COLUMNS} FROM faq WHERE {filters} ORDER BY {order} LIMIT $1",
        filters = filters.join(" AND "),
        order = order.join(", "),
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .bind(terms.join(" "));
    for term in terms {
        query = query.bind(like_escaped(term));
    }
    let rows = query.fetch_all(pool).await?;
    Ok(rows.into_iter().map(FaqEntry::from).collect())
}

pub(crate) async fn import(
    pool: &PgPool,
    entries: &[NewFaq],
    now: DateTime<Utc>,
) -> Result<ImportSummary, StoreError> {
    let mut tx = pool.begin().await?;
    // Two imports at once would both insert a new question; one at a time per database.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('madoguchi faq import'))")
        .execute(&mut *tx)
        .await?;
    let mut summary = ImportSummary::default();
    for entry in entries {
        let existing: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, answer, category FROM faq WHERE question = $1 ORDER BY id LIMIT 1",
        )
        .bind(&entry.question)
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            None => {
                insert_on(
                    &mut tx,
                    &entry.question,
                    &entry.answer,
                    entry.category.as_deref(),
                    now,
                )
                .await?;
                summary.added += 1;
            }
            Some((_, answer, category)) if answer == entry.answer && category == entry.category => {
                summary.unchanged += 1;
            }
            Some((id, _, _)) => {
                sqlx::query(
                    "UPDATE faq SET answer = $2, category = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(&entry.answer)
                .bind(&entry.category)
                .bind(truncate_to_millis(now))
                .execute(&mut *tx)
                .await?;
                summary.updated += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(summary)
}
