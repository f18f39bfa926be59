//! SQLite queries behind the [`crate::faq_edition`] methods of `Store`. The latest edition
//! is small (a few hundred entries), so its search is LIKE on the edition rows.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;

use crate::error::StoreError;
use crate::faq::{like_escaped, FaqEntry};
use crate::faq_edition::{edition_label, EditionEntry, FaqEdition};
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

#[derive(sqlx::FromRow)]
struct EditionRow {
    number: i64,
    label: String,
    published_at: String,
    published_by: String,
    note: Option<String>,
    entries: i64,
}

impl EditionRow {
    fn decode(self) -> Result<FaqEdition, StoreError> {
        let published_at =
            from_sqlite_text(&self.published_at).ok_or_else(|| StoreError::CorruptRow {
                id: format!("faq edition {}", self.number),
                column: "published_at",
            })?;
        Ok(FaqEdition {
            number: self.number,
            label: self.label,
            published_at,
            published_by: self.published_by,
            note: self.note,
            entries: self.entries,
        })
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
    created_at: String,
    updated_at: String,
}

impl FoundRow {
    fn decode(self) -> Result<FaqEntry, StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: format!("faq {}", self.id),
            column,
        };
        let created_at = from_sqlite_text(&self.created_at).ok_or_else(|| corrupt("created_at"))?;
        let updated_at = from_sqlite_text(&self.updated_at).ok_or_else(|| corrupt("updated_at"))?;
        Ok(FaqEntry {
            id: self.id,
            question: self.question,
            answer: self.answer,
            category: self.category,
            uses: self.uses,
            created_at,
            updated_at,
            active: true,
        })
    }
}

const LIST: &str = "SELECT e.number, e.label, e.published_at, e.published_by, e.note,
        (SELECT COUNT(*) FROM faq_edition_entries x WHERE x.edition = e.number) AS entries
    FROM faq_editions e";

/// `None` when there is no active entry to publish.
pub(crate) async fn publish(
    pool: &SqlitePool,
    by: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<FaqEdition>, StoreError> {
    // IMMEDIATE: two publishers must not both read the same latest number.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM faq WHERE active = 1")
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
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(number)
    .bind(edition_label(number))
    .bind(to_sqlite_text(now))
    .bind(by)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO faq_edition_entries (edition, faq_id, question, answer, category)
         SELECT ?1, id, question, answer, category FROM faq WHERE active = 1",
    )
    .bind(number)
    .execute(&mut *tx)
    .await?;
    let sql = format!("{LIST} WHERE e.number = ?1");
    let row = sqlx::query_as::<_, EditionRow>(sqlx::AssertSqlSafe(sql))
        .bind(number)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    row.decode().map(Some)
}

pub(crate) async fn list(pool: &SqlitePool) -> Result<Vec<FaqEdition>, StoreError> {
    let sql = format!("{LIST} ORDER BY e.number");
    let rows = sqlx::query_as::<_, EditionRow>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(EditionRow::decode).collect()
}

pub(crate) async fn entries(
    pool: &SqlitePool,
    number: i64,
) -> Result<Vec<EditionEntry>, StoreError> {
    let rows = sqlx::query_as::<_, EntryRow>(
        "SELECT faq_id, question, answer, category FROM faq_edition_entries
         WHERE edition = ?1 ORDER BY category IS NULL, category, faq_id",
    )
    .bind(number)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(EditionEntry::from).collect())
}

pub(crate) async fn search_latest(
    pool: &SqlitePool,
    terms: &[&str],
    limit: i64,
) -> Result<Option<Vec<FaqEntry>>, StoreError> {
    let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(number) FROM faq_editions")
        .fetch_one(pool)
        .await?;
    let Some(latest) = latest else {
        return Ok(None);
    };
    // ?1 is the limit, ?2 the edition, then one LIKE pattern per term.
    let mut filters = vec![String::from("e.edition = ?2")];
    let mut in_question = Vec::new();
    for (i, _) in terms.iter().enumerate() {
        let n = i + 3;
        filters.push(format!(
            "(e.question LIKE ?{n} ESCAPE '\\' OR e.answer LIKE ?{n} ESCAPE '\\')"
        ));
        in_question.push(format!("e.question LIKE ?{n} ESCAPE '\\'"));
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
         WHERE {filters} ORDER BY {order} LIMIT ?1",
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
    rows.into_iter()
        .map(FoundRow::decode)
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
