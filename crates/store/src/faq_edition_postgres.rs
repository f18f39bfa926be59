//! PostgreSQL queries behind the [`crate::faq_edition`] methods of `Store`. The latest
//! edition is small (a few hundred entries), so its search is ILIKE on the edition rows.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;

use crate::error::StoreError;
use crate::faq::{like_escaped, FaqEntry};
use crate::faq_edition::{edition_label, EditionEntry, FaqEdition};
use crate::timefmt::truncate_to_millis;

#[derive(sqlx::FromRow)]
struct EditionRow {
    number: i64,
    label: String,
    published_at: DateTime<Utc>,
    published_by: String,
    note: Option<String>,
    entries: i64,
}

impl From<EditionRow> for FaqEdition {
    fn from(r: EditionRow) -> FaqEdition {
        FaqEdition {
            number: r.number,
            label: r.label,
            published_at: r.published_at,
            published_by: r.published_by,
            note: r.note,
            entries: r.entries,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    faq_id: i64,
    question: String,
    answer: String,
    category: Option<String>,
}

impl From<EntryRow> for EditionEntry {
    fn from(r: EntryRow) -> EditionEntry {
        EditionEntry {
            faq_id: r.faq_id,
            question: r.question,
            answer: r.answer,
            category: r.category,
        }
    }
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    id: i64,
    question: String,
    answer: String,
    category: Option<String>,
    uses: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<FoundRow> for FaqEntry {
    fn from(r: FoundRow) -> FaqEntry {
        FaqEntry {
            id: r.id,
            question: r.question,
            answer: r.answer,
            category: r.category,
            uses: r.uses,
            created_at: r.created_at,
            updated_at: r.updated_at,
            active: true,
        }
    }
}

const LIST: &str = "SELECT e.number, e.label, e.published_at, e.published_by, e.note,
        (SELECT COUNT(*) FROM faq_edition_entries x WHERE x.edition = e.number) AS entries
    FROM faq_editions e";

/// `None` when there is no active entry to publish.
pub(crate) async fn publish(
    pool: &PgPool,
    by: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<FaqEdition>, StoreError> {
    let mut tx = pool.begin().await?;
    // Two publishers must not both read the same latest number.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('madoguchi faq publish'))")
        .execute(&mut *tx)
        .await?;
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM faq WHERE active")
        .fetch_one(&mut *tx)
        .await?;
    if active == 0 {
        return Ok(None);
    }
    let number: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM faq_editions")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO faq_editions (number, label, published_at, published_by, note)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(number)
    .bind(edition_label(number))
    .bind(truncate_to_millis(now))
    .bind(by)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO faq_edition_entries (edition, faq_id, question, answer, category)
         SELECT $1, id, question, answer, category FROM faq WHERE active",
    )
    .bind(number)
    .execute(&mut *tx)
    .await?;
    let sql = format!("{LIST} WHERE e.number = $1");
    let row = sqlx::query_as::<_, EditionRow>(sqlx::AssertSqlSafe(sql))
        .bind(number)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(row.into()))
}

pub(crate) async fn list(pool: &PgPool) -> Result<Vec<FaqEdition>, StoreError> {
    let sql = format!("{LIST} ORDER BY e.number");
    let rows = sqlx::query_as::<_, EditionRow>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(FaqEdition::from).collect())
}

pub(crate) async fn entries(pool: &PgPool, number: i64) -> Result<Vec<EditionEntry>, StoreError> {
    // COLLATE "C": the same code-point order as SQLite's default BINARY collation.
    let rows = sqlx::query_as::<_, EntryRow>(
        "SELECT faq_id, question, answer, category FROM faq_edition_entries
         WHERE edition = $1 ORDER BY category IS NULL, category COLLATE \"C\", faq_id",
    )
    .bind(number)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(EditionEntry::from).collect())
}

pub(crate) async fn search_latest(
    pool: &PgPool,
    terms: &[&str],
    limit: i64,
) -> Result<Option<Vec<FaqEntry>>, StoreError> {
    let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(number) FROM faq_editions")
        .fetch_one(pool)
        .await?;
    let Some(latest) = latest else {
        return Ok(None);
    };
    // $1 is the limit, $2 the edition, then one ILIKE pattern per term (ILIKE's default
    // escape character is the backslash).
    let mut filters = vec![String::from("e.edition = $2")];
    let mut in_question = Vec::new();
    for (i, _) in terms.iter().enumerate() {
        let n = i + 3;
        filters.push(format!("(e.question ILIKE ${n} OR e.answer ILIKE ${n})"));
        in_question.push(format!("e.question ILIKE ${n}"));
    }
    let mut order = vec![String::from("faq.uses DESC")];
    if !in_question.is_empty() {
        order.push(format!("({}) DESC", in_question.join(" AND ")));
    }
    order.push(String::from("faq.id"));
    let sql = format!(
        "SELECT faq.id, e.question, e.answer, e.category, faq.uses, faq.created_at,
                faq.updated_at
         FROM faq_edition_entries e JOIN faq ON faq.id = e.faq_id
         WHERE {filters} ORDER BY {order} LIMIT $1",
        filters = filters.join(" AND "),
        order = order.join(", "),
    );
    let mut query = sqlx::query_as::<_, FoundRow>(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .bind(latest);
    for term in terms {
        query = query.bind(like_escaped(term));
    }
    let rows = query.fetch_all(pool).await?;
    Ok(Some(rows.into_iter().map(FaqEntry::from).collect()))
}
