//! The FAQ operators consult during a call: entries (question, answer, category), searched
//! in Japanese text, most-used first.
//!
//! Japanese has no spaces between words, so search is by substring: every
//! whitespace-separated term of a query must occur in the question or the answer. Terms of
//! 3 or more characters go through a trigram index (SQLite FTS5 `trigram`, PostgreSQL
//! `pg_trgm`); shorter terms, which have no trigram, are matched with LIKE / ILIKE on the
//! table, which is small. Results come most-used first ([`FaqEntry::uses`] counts the
//! classifications that link the entry), then entries whose question matches before those
//! matched only in the answer, then by the backend's relevance, then by id.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::FaqError> {
//! use madoguchi_store::NewFaq;
//! let now = chrono::Utc::now();
//! store.add_faq(&NewFaq::new("暗証番号を忘れた", "市役所の窓口で再設定できます。", Some("オ")), now).await?;
//! let hits = store.search_faq("暗証番号", 10).await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::{faq_postgres, faq_sqlite};

/// The longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 1_000;
/// The longest answer accepted, in characters.
pub const MAX_ANSWER_CHARS: usize = 10_000;
/// The most results one search returns.
pub const MAX_FAQ_RESULTS: u32 = 100;
/// Terms of a query beyond this many are ignored (a pasted paragraph is not a query).
const MAX_TERMS: usize = 8;
/// The shortest term the trigram indexes can serve.
pub(crate) const TRIGRAM: usize = 3;

/// A stored FAQ entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FaqEntry {
    pub id: i64,
    pub question: String,
    pub answer: String,
    /// A category code of the dialplan, if the entry belongs to one.
    pub category: Option<String>,
    /// How many call classifications link this entry.
    pub uses: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Inactive entries are kept (classifications link them) but not found by search.
    pub active: bool,
}

/// What [`Store::add_faq`] and [`Store::import_faq`] need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFaq {
    pub question: String,
    pub answer: String,
    pub category: Option<String>,
}

impl NewFaq {
    pub fn new(question: &str, answer: &str, category: Option<&str>) -> NewFaq {
        NewFaq {
            question: question.to_owned(),
            answer: answer.to_owned(),
            category: category.map(str::to_owned),
        }
    }
}

/// A full replacement of an entry's editable fields ([`Store::update_faq`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaqUpdate {
    pub question: String,
    pub answer: String,
    pub category: Option<String>,
    pub active: bool,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// New questions.
    pub added: usize,
    /// Questions that existed with another answer or category.
    pub updated: usize,
    /// Questions that existed exactly so.
    pub unchanged: usize,
}

/// Why an FAQ entry was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Trims the texts and checks their lengths; an empty category becomes `None`.
pub(crate) fn checked(
    question: &str,
    answer: &str,
    category: Option<&str>,
) -> Result<(String, String, Option<String>), FaqError> {
    let question = question.trim();
    let answer = answer.trim();
    for (field, text, max) in [
        ("question", question, MAX_QUESTION_CHARS),
        ("answer", answer, MAX_ANSWER_CHARS),
    ] {
        if text.is_empty() {
            return Err(FaqError::Empty { field });
        }
        if text.chars().count() > max {
            return Err(FaqError::TooLong { field, max });
        }
    }
    let category = category
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Ok((question.to_owned(), answer.to_owned(), category))
}

/// The terms of a query: split on any white space (the ideographic space U+3000 too),
/// at most [`MAX_TERMS`].
pub(crate) fn terms(query: &str) -> Vec<&str> {
    query.split_whitespace().take(MAX_TERMS).collect()
}

/// `term` for a LIKE pattern with `\` as the escape character.
pub(crate) fn like_escaped(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Adds an entry (texts trimmed; empty or overlong ones refused).
    pub async fn add_faq(&self, new: &NewFaq, now: DateTime<Utc>) -> Result<FaqEntry, FaqError> {
        let (question, answer, category) =
            checked(&new.question, &new.answer, new.category.as_deref())?;
        let entry = match self.pool() {
            Pool::Sqlite(pool) => {
                faq_sqlite::insert(pool, &question, &answer, category.as_deref(), now).await?
            }
            Pool::Postgres(pool) => {
                faq_postgres::insert(pool, &question, &answer, category.as_deref(), now).await?
            }
        };
        Ok(entry)
    }

    /// Replaces an entry's texts, category and active flag; `None` when no entry has `id`.
    /// `uses` and `created_at` are kept.
    pub async fn update_faq(
        &self,
        id: i64,
        update: &FaqUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<FaqEntry>, FaqError> {
        let (question, answer, category) =
            checked(&update.question, &update.answer, update.category.as_deref())?;
        let checked = FaqUpdate {
            question,
            answer,
            category,
            active: update.active,
        };
        let entry = match self.pool() {
            Pool::Sqlite(pool) => faq_sqlite::update(pool, id, &checked, now).await?,
            Pool::Postgres(pool) => faq_postgres::update(pool, id, &checked, now).await?,
        };
        Ok(entry)
    }

    /// One entry, active or not.
    pub async fn get_faq(&self, id: i64) -> Result<Option<FaqEntry>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => faq_sqlite::get(pool, id).await,
            Pool::Postgres(pool) => faq_postgres::get(pool, id).await,
        }
    }

    /// Every entry, active or not, by id.
    pub async fn list_faq(&self) -> Result<Vec<FaqEntry>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => faq_sqlite::list(pool).await,
            Pool::Postgres(pool) => faq_postgres::list(pool).await,
        }
    }

    /// Active entries in which every term of `query` occurs (in the question or the
    /// answer), in the order of the module docs; at most `limit` (1 to
    /// [`MAX_FAQ_RESULTS`]). An empty query lists the active entries, most used first.
    pub async fn search_faq(&self, query: &str, limit: u32) -> Result<Vec<FaqEntry>, StoreError> {
        let terms = terms(query);
        let limit = i64::from(limit.clamp(1, MAX_FAQ_RESULTS));
        match self.pool() {
            Pool::Sqlite(pool) => faq_sqlite::search(pool, &terms, limit).await,
            Pool::Postgres(pool) => faq_postgres::search(pool, &terms, limit).await,
        }
    }

    /// Adds or updates entries in one transaction (all or none), matching by the exact
    /// (trimmed) question: an existing question gets the new answer and category, keeping
    /// its id and uses. Every entry is checked first.
    pub async fn import_faq(
        &self,
        entries: &[NewFaq],
        now: DateTime<Utc>,
    ) -> Result<ImportSummary, FaqError> {
        let checked = entries
            .iter()
            .map(|e| {
                checked(&e.question, &e.answer, e.category.as_deref()).map(
                    |(question, answer, category)| NewFaq {
                        question,
                        answer,
                        category,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let summary = match self.pool() {
            Pool::Sqlite(pool) => faq_sqlite::import(pool, &checked, now).await?,
            Pool::Postgres(pool) => faq_postgres::import(pool, &checked, now).await?,
        };
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_on_ideographic_spaces_too() {
        assert_eq!(
            terms("マイナ　カード  申請"),
            vec!["マイナ", "カード", "申請"]
        );
    }

    #[test]
    fn a_query_of_spaces_has_no_terms() {
        assert!(terms(" \u{3000} ").is_empty());
    }

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_escaped("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn texts_are_trimmed_and_an_empty_category_is_none() {
        let (q, a, c) = checked(" 質問 ", "\n回答\n", Some(" ")).expect("valid");
        assert_eq!((q.as_str(), a.as_str(), c), ("質問", "回答", None));
    }

    #[test]
    fn an_empty_answer_is_refused_naming_the_field() {
        let err = checked("質問", "  ", None).expect_err("empty answer");
        assert!(matches!(err, FaqError::Empty { field: "answer" }), "{err}");
    }

    #[test]
    fn question_length_counts_characters_not_bytes() {
        let at_limit = "あ".repeat(MAX_QUESTION_CHARS);
        assert!(checked(&at_limit, "a", None).is_ok());
        let over = "あ".repeat(MAX_QUESTION_CHARS + 1);
        assert!(matches!(
            checked(&over, "a", None),
            Err(FaqError::TooLong {
                field: "question",
                ..
            })
        ));
    }
}
