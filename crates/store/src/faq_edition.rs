//! FAQ editions: publishing snapshots every active FAQ entry (id, question, answer,
//! category) into edition N, which is immutable from then on (the migration's triggers
//! refuse any UPDATE or DELETE). Operators search the latest edition; managers keep editing
//! the live `faq` table, which becomes the next edition when published again.
//!
//! Labels: edition 1 is 「初版」, edition N ≥ 2 is 「第N版」 ([`edition_label`]).
//! [`EditionChanges`] compares an edition with the one before it by entry id.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::FaqEditionError> {
//! let edition = store.publish_faq_edition("manager1", Some("4月の制度改正"), chrono::Utc::now()).await?;
//! assert_eq!(edition.label, if edition.number == 1 { "初版".to_owned() } else { format!("第{}版", edition.number) });
//! let hits = store.search_published_faq("暗証番号", 10).await?; // None before the first edition
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::faq::{terms, FaqEntry, MAX_FAQ_RESULTS};
use crate::store::{Pool, Store};
use crate::{faq_edition_postgres, faq_edition_sqlite};

/// The longest publication note accepted, in characters.
pub const MAX_EDITION_NOTE_CHARS: usize = 1_000;

/// A published edition (without its entries).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FaqEdition {
    /// 1, 2, … in publication order.
    pub number: i64,
    /// 「初版」 or 「第N版」.
    pub label: String,
    pub published_at: DateTime<Utc>,
    /// The login that published it.
    pub published_by: String,
    pub note: Option<String>,
    /// How many entries it holds.
    pub entries: i64,
}

/// One entry as an edition holds it; `faq_id` is the live entry's id.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EditionEntry {
    pub faq_id: i64,
    pub question: String,
    pub answer: String,
    pub category: Option<String>,
}

/// An edition's changes since the previous one (edition 1: everything is added).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EditionChanges {
    /// Entries new in this edition, by id.
    pub added: Vec<EditionEntry>,
    /// Entries whose question, answer or category changed, as they are now, by id.
    pub changed: Vec<EditionEntry>,
    /// Entries of the previous edition no longer in this one, as they were, by id.
    pub removed: Vec<EditionEntry>,
}

/// Why publishing was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaqEditionError {
    #[error("there are no active FAQ entries to publish")]
    NothingToPublish,
    #[error("note is longer than {max} characters")]
    NoteTooLong { max: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The label of edition `number`: 「初版」 for 1, 「第N版」 after.
pub fn edition_label(number: i64) -> String {
    if number <= 1 {
        "初版".to_owned()
    } else {
        format!("第{number}版")
    }
}

/// Compares two editions' entries by `faq_id`.
pub fn edition_changes(previous: &[EditionEntry], current: &[EditionEntry]) -> EditionChanges {
    let before: BTreeMap<i64, &EditionEntry> = previous.iter().map(|e| (e.faq_id, e)).collect();
    let after: BTreeMap<i64, &EditionEntry> = current.iter().map(|e| (e.faq_id, e)).collect();
    let mut changes = EditionChanges::default();
    for (id, entry) in &after {
        match before.get(id) {
            None => changes.added.push((*entry).clone()),
            Some(old) if old != entry => changes.changed.push((*entry).clone()),
            Some(_) => {}
        }
    }
    for (id, entry) in &before {
        if !after.contains_key(id) {
            changes.removed.push((*entry).clone());
        }
    }
    changes
}

impl Store {
    /// Snapshots every active entry into the next edition, numbered one past the latest.
    pub async fn publish_faq_edition(
        &self,
        by: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<FaqEdition, FaqEditionError> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > MAX_EDITION_NOTE_CHARS) {
            return Err(FaqEditionError::NoteTooLong {
                max: MAX_EDITION_NOTE_CHARS,
            });
        }
        let edition = match self.pool() {
            Pool::Sqlite(pool) => faq_edition_sqlite::publish(pool, by, note, now).await?,
            Pool::Postgres(pool) => faq_edition_postgres::publish(pool, by, note, now).await?,
        };
        edition.ok_or(FaqEditionError::NothingToPublish)
    }

    /// Every edition, oldest first.
    pub async fn faq_editions(&self) -> Result<Vec<FaqEdition>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => faq_edition_sqlite::list(pool).await,
            Pool::Postgres(pool) => faq_edition_postgres::list(pool).await,
        }
    }

    /// Edition `number`, if published.
    pub async fn faq_edition(&self, number: i64) -> Result<Option<FaqEdition>, StoreError> {
        Ok(self
            .faq_editions()
            .await?
            .into_iter()
            .find(|e| e.number == number))
    }

    /// The entries of edition `number` by category (uncategorised last), then id; empty when
    /// it does not exist.
    pub async fn faq_edition_entries(&self, number: i64) -> Result<Vec<EditionEntry>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => faq_edition_sqlite::entries(pool, number).await,
            Pool::Postgres(pool) => faq_edition_postgres::entries(pool, number).await,
        }
    }

    /// Edition `number`'s changes since edition `number - 1`.
    pub async fn faq_edition_changes(&self, number: i64) -> Result<EditionChanges, StoreError> {
        let previous = if number > 1 {
            self.faq_edition_entries(number - 1).await?
        } else {
            Vec::new()
        };
        let current = self.faq_edition_entries(number).await?;
        Ok(edition_changes(&previous, &current))
    }

    /// Searches the latest published edition like [`Store::search_faq`] searches the live
    /// entries (every term a substring of the question or the answer; most used first, then
    /// question matches, then id). The entries carry the edition's texts with the live
    /// entry's id, use count and dates. `None` when no edition has been published.
    pub async fn search_published_faq(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Option<Vec<FaqEntry>>, StoreError> {
        let terms = terms(query);
        let limit = i64::from(limit.clamp(1, MAX_FAQ_RESULTS));
        match self.pool() {
            Pool::Sqlite(pool) => faq_edition_sqlite::search_latest(pool, &terms, limit).await,
            Pool::Postgres(pool) => faq_edition_postgres::search_latest(pool, &terms, limit).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, question: &str) -> EditionEntry {
        EditionEntry {
            faq_id: id,
            question: question.to_owned(),
            answer: "回答".to_owned(),
            category: Some("イ".to_owned()),
        }
    }

    #[test]
    fn the_first_edition_is_shohan_and_later_ones_are_numbered() {
        assert_eq!(edition_label(1), "初版");
        assert_eq!(edition_label(2), "第2版");
        assert_eq!(edition_label(12), "第12版");
    }

    #[test]
    fn changes_list_added_changed_and_removed_entries_by_id() {
        let previous = [entry(1, "残る"), entry(2, "変わる"), entry(3, "消える")];
        let current = [entry(1, "残る"), entry(2, "変わった"), entry(4, "新しい")];
        let changes = edition_changes(&previous, &current);
        assert_eq!(changes.added, vec![entry(4, "新しい")]);
        assert_eq!(changes.changed, vec![entry(2, "変わった")]);
        assert_eq!(changes.removed, vec![entry(3, "消える")]);
    }

    #[test]
    fn a_changed_category_alone_counts_as_a_change() {
        let mut moved = entry(1, "同じ");
        moved.category = Some("ウ".to_owned());
        let changes = edition_changes(&[entry(1, "同じ")], &[moved.clone()]);
        assert_eq!(changes.changed, vec![moved]);
    }
}
