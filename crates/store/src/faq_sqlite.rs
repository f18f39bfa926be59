//! SQLite queries behind the [`crate::faq`] methods of `Store`: FTS5 with the `trigram`
//! tokenizer (external content, kept in step by triggers) for terms of 3+ characters, LIKE
//! for shorter ones.

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnection, SqlitePool};

use crate::error::StoreError;
use crate::faq::{like_escaped, FaqEntry, FaqUpdate, ImportSummary, NewFaq, TRIGRAM};
use crate::timefmt::{from_sqlite_text, to_sqlite_text};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    question: String,
    answer: String,
    category: Option<String>,
    uses: i64,
    created_at: String,
    updated_at: String,
    active: bool,
}

impl Row {
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
            active: self.active,
        })
    }
}

const COLUMNS: &str = "faq.id, faq.question, faq.answer, faq.category, faq.uses, \
                       faq.created_at, faq.updated_at, faq.active";

pub(crate) async fn insert(
    pool: &SqlitePool,
    question: &str,
    answer: &str,
    category: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FaqEntry, StoreError> {
    let mut conn = pool.acquire().await?;
    insert_on(&mut conn, question, answer, category, now).await
}

async fn insert_on(
    conn: &mut SqliteConnection,
    question: &str,
    answer: &str,
    category: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FaqEntry, StoreError> {
    let sql = format!(
        "INSERT INTO faq (question, answer, category, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4) RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(question)
        .bind(answer)
        .bind(category)
        .bind(to_sqlite_text(now))
        .fetch_one(&mut *conn)
        .await?;
    row.decode()
}

pub(crate) async fn update(
    pool: &SqlitePool,
    id: i64,
    update: &FaqUpdate,
    now: DateTime<Utc>,
) -> Result<Option<FaqEntry>, StoreError> {
    let sql = format!(
        "UPDATE faq SET question = ?2, answer = ?3, category = ?4, active = ?5, updated_at = ?6
         WHERE id = ?1 RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&update.question)
        .bind(&update.answer)
        .bind(&update.category)
        .bind(update.active)
        .bind(to_sqlite_text(now))
        .fetch_optional(pool)
        .await?;
    row.map(Row::decode).transpose()
}

pub(crate) async fn get(pool: &SqlitePool, id: i64) -> Result<Option<FaqEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM faq WHERE id = ?1");
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(Row::decode).transpose()
}

pub(crate) async fn list(pool: &SqlitePool) -> Result<Vec<FaqEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM faq ORDER BY id");
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(Row::decode).collect()
}

/// An FTS5 phrase: the term in double quotes, inner quotes doubled, so nothing in it is
/// read as query syntax.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

pub(crate) async fn search(
    pool: &SqlitePool,
    terms: &[&str],
    limit: i64,
) -> Result<Vec<FaqEntry>, StoreError> {
    let (long, short): (Vec<&str>, Vec<&str>) =
        terms.iter().partition(|t| t.chars().count() >= TRIGRAM);
    // ?1 is the limit, the FTS expression (if any) ?2, then one LIKE pattern per term.
    let mut binds: Vec<String> = Vec::new();
    let mut from = "faq";
    let mut filters = vec![String::from("faq.active = 1")];
    let mut order = vec![String::from("faq.uses DESC")];
    if !long.is_empty() {
        let expression = long
            .iter()
            .map(|t| fts_phrase(t))
            .collect::<Vec<_>>()
            .join(" AND ");
        binds.push(expression);
        from = "faq_search JOIN faq ON faq.id = faq_search.rowid";
        filters.push(String::from("faq_search MATCH ?2"));
    }
    let mut in_question = Vec::new();
    for term in terms {
        binds.push(like_escaped(term));
        let n = binds.len() + 1;
        in_question.push(format!("faq.question LIKE ?{n} ESCAPE '\\'"));
        if short.contains(term) {
            filters.push(format!(
                "(faq.question LIKE ?{n} ESCAPE '\\' OR faq.answer LIKE ?{n} ESCAPE '\\')"
            ));
        }
    }
    if !in_question.is_empty() {
        order.push(format!("({}) DESC", in_question.join(" AND ")));
    }
    if !long.is_empty() {
        order.push(String::from("bm25(faq_search)"));
    }
    order.push(String::from("faq.id"));
    let sql = format!(
        "SELECT {COLUMNS} FROM {from} WHERE {filters} ORDER BY {order} LIMIT ?1",
        filters = filters.join(" AND "),
        order = order.join(", "),
    );
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).bind(limit);
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(pool).await?;
    rows.into_iter().map(Row::decode).collect()
}

pub(crate) async fn import(
    pool: &SqlitePool,
    entries: &[NewFaq],
    now: DateTime<Utc>,
) -> Result<ImportSummary, StoreError> {
    // IMMEDIATE: the first statement reads, and a deferred transaction upgrading to a write
    // lock later could fail at once instead of waiting for another writer.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut summary = ImportSummary::default();
    for entry in entries {
        let existing: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, answer, category FROM faq WHERE question = ?1 ORDER BY id LIMIT 1",
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
                    "UPDATE faq SET answer = ?2, category = ?3, updated_at = ?4 WHERE id = ?1",
                )
                .bind(id)
                .bind(&entry.answer)
                .bind(&entry.category)
                .bind(to_sqlite_text(now))
                .execute(&mut *tx)
                .await?;
                summary.updated += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_fts_phrase_doubles_inner_quotes() {
        assert_eq!(fts_phrase("a\"b"), "\"a\"\"b\"");
    }
}
