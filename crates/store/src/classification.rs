//! Call classifications: what an operator files for each call during wrap-up (inquiry
//! category, outcome, complaint and escalation flags, the FAQ entry used, a free note).
//!
//! A classification is keyed by call id and does not need the call record: records are
//! written when a call ends, and operators may classify before that. There is one per
//! call; filing again replaces it (its `revision` goes up, `created_at` stays, `updated_at`
//! moves) and every filing is kept in `classification_history`. The FAQ entry linked by
//! the current classification counts in that entry's `uses`; changing the link moves the
//! count, in the same transaction.
//!
//! Category codes are configuration (the dialplan's `[[categories]]`): the caller of
//! [`Store::classify`] checks them; the store checks everything else.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::ClassificationError> {
//! use madoguchi_store::{NewClassification, Outcome};
//! let filed = store.classify(&NewClassification {
//!     call_id: "c-1".into(), category: "イ".into(), outcome: Outcome::ResolvedFaq,
//!     complaint: false, escalated: false, faq_id: None, note: None, operator: "suzuki".into(),
//! }, chrono::Utc::now()).await?;
//! assert_eq!(filed.classification.revision, 1);
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::{classification_postgres, classification_sqlite};

/// The longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// The longest call id accepted (the engine's are far shorter).
const MAX_CALL_ID_LEN: usize = 200;
/// The longest category code accepted.
const MAX_CATEGORY_LEN: usize = 64;

/// How a call ended for the caller, as the city's report counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered from the FAQ.
    ResolvedFaq,
    /// Transferred to the city line.
    TransferredCity,
    /// The caller was told which other agency to call.
    ReferredOtherAgency,
    /// Someone calls back.
    CallbackNeeded,
    Other,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::ResolvedFaq,
        Outcome::TransferredCity,
        Outcome::ReferredOtherAgency,
        Outcome::CallbackNeeded,
        Outcome::Other,
    ];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::ResolvedFaq => "resolved_faq",
            Outcome::TransferredCity => "transferred_city",
            Outcome::ReferredOtherAgency => "referred_other_agency",
            Outcome::CallbackNeeded => "callback_needed",
            Outcome::Other => "other",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An outcome name that is none of [`Outcome::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome {0:?}")]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Outcome, UnknownOutcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

/// What an operator files for a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClassification {
    pub call_id: String,
    /// A configured category code (checked by the caller).
    pub category: String,
    pub outcome: Outcome,
    /// Complaint or trouble: managers are told at once.
    pub complaint: bool,
    /// Handed up to a supervisor or the city.
    pub escalated: bool,
    /// The FAQ entry used; it must exist.
    pub faq_id: Option<i64>,
    /// Free text, at most [`MAX_NOTE_CHARS`] characters; personal data.
    pub note: Option<String>,
    /// Who filed it.
    pub operator: String,
}

/// A stored classification (the current one of a call, or one revision of its history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub call_id: String,
    pub category: String,
    pub outcome: Outcome,
    pub complaint: bool,
    pub escalated: bool,
    pub faq_id: Option<i64>,
    pub note: Option<String>,
    pub operator: String,
    /// 1 for the first filing, +1 for each replacement.
    pub revision: i32,
    /// When the call was first classified.
    pub created_at: DateTime<Utc>,
    /// When this revision was filed.
    pub updated_at: DateTime<Utc>,
}

/// What [`Store::classify`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filed {
    pub classification: Classification,
    /// The classification it replaced, if any.
    pub previous: Option<Classification>,
}

impl Filed {
    /// True when this filing raised the complaint flag (first filing with it, or a
    /// replacement of one without it): the moment to tell the managers.
    pub fn raised_complaint(&self) -> bool {
        self.classification.complaint && !self.previous.as_ref().is_some_and(|p| p.complaint)
    }
}

/// Why a classification was refused. Display texts name the field, never its contents.
#[derive(Debug, thiserror::Error)]
pub enum ClassificationError {
    #[error("call_id is empty or longer than {MAX_CALL_ID_LEN} characters")]
    BadCallId,
    #[error("category is empty or longer than {MAX_CATEGORY_LEN} characters")]
    BadCategory,
    #[error("note is longer than {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error("faq_id {0} does not exist")]
    UnknownFaq(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NewClassification {
    fn check(&self) -> Result<(), ClassificationError> {
        if self.call_id.is_empty() || self.call_id.len() > MAX_CALL_ID_LEN {
            return Err(ClassificationError::BadCallId);
        }
        if self.category.trim().is_empty() || self.category.chars().count() > MAX_CATEGORY_LEN {
            return Err(ClassificationError::BadCategory);
        }
        if self
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(ClassificationError::NoteTooLong);
        }
        Ok(())
    }
}

/// A classification row as both backends read it, outcome not yet parsed.
pub(crate) struct ClassificationRow {
    pub call_id: String,
    pub category: String,
    pub outcome: String,
    pub complaint: bool,
    pub escalated: bool,
    pub faq_id: Option<i64>,
    pub note: Option<String>,
    pub operator: String,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ClassificationRow {
    pub(crate) fn decode(self) -> Result<Classification, StoreError> {
        let outcome = self.outcome.parse().map_err(|_| StoreError::CorruptRow {
            id: self.call_id.clone(),
            column: "classifications.outcome",
        })?;
        Ok(Classification {
            call_id: self.call_id,
            category: self.category,
            outcome,
            complaint: self.complaint,
            escalated: self.escalated,
            faq_id: self.faq_id,
            note: self.note,
            operator: self.operator,
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// What a backend's `file` returns: the new row and the one it replaced, or the FAQ id
/// that does not exist. Returned once per filing and taken apart at once, so the size
/// difference of the variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum FileOutcome {
    Filed {
        current: ClassificationRow,
        previous: Option<ClassificationRow>,
    },
    UnknownFaq(i64),
}

/// The classification a filing writes, given the one it replaces.
pub(crate) fn next_revision(
    new: &NewClassification,
    previous: Option<&ClassificationRow>,
    now: DateTime<Utc>,
) -> ClassificationRow {
    let now = crate::timefmt::truncate_to_millis(now);
    ClassificationRow {
        call_id: new.call_id.clone(),
        category: new.category.clone(),
        outcome: new.outcome.as_str().to_owned(),
        complaint: new.complaint,
        escalated: new.escalated,
        faq_id: new.faq_id,
        note: new.note.clone(),
        operator: new.operator.clone(),
        revision: previous.map_or(1, |p| p.revision.saturating_add(1)),
        created_at: previous.map_or(now, |p| p.created_at),
        updated_at: now,
    }
}

impl Store {
    /// Files (or replaces) the classification of a call, in one transaction: the current
    /// row, a history row, and the FAQ `uses` counts. A missing FAQ entry is
    /// [`ClassificationError::UnknownFaq`] and changes nothing.
    pub async fn classify(
        &self,
        new: &NewClassification,
        now: DateTime<Utc>,
    ) -> Result<Filed, ClassificationError> {
        new.check()?;
        let outcome = match self.pool() {
            Pool::Sqlite(pool) => classification_sqlite::file(pool, new, now).await?,
            Pool::Postgres(pool) => classification_postgres::file(pool, new, now).await?,
        };
        match outcome {
            FileOutcome::Filed { current, previous } => Ok(Filed {
                classification: current.decode()?,
                previous: previous.map(ClassificationRow::decode).transpose()?,
            }),
            FileOutcome::UnknownFaq(id) => Err(ClassificationError::UnknownFaq(id)),
        }
    }

    /// The current classification of a call, if any.
    pub async fn classification(
        &self,
        call_id: &str,
    ) -> Result<Option<Classification>, StoreError> {
        let row = match self.pool() {
            Pool::Sqlite(pool) => classification_sqlite::get(pool, call_id).await?,
            Pool::Postgres(pool) => classification_postgres::get(pool, call_id).await?,
        };
        row.map(ClassificationRow::decode).transpose()
    }

    /// The current classifications of those of `call_ids` that have one, in no particular
    /// order (one query, for a page of calls).
    pub async fn classifications(
        &self,
        call_ids: &[String],
    ) -> Result<Vec<Classification>, StoreError> {
        if call_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = match self.pool() {
            Pool::Sqlite(pool) => classification_sqlite::get_many(pool, call_ids).await?,
            Pool::Postgres(pool) => classification_postgres::get_many(pool, call_ids).await?,
        };
        rows.into_iter().map(ClassificationRow::decode).collect()
    }

    /// Every filing for a call, oldest first (`created_at` is the first filing's,
    /// `updated_at` the instant of that revision).
    pub async fn classification_history(
        &self,
        call_id: &str,
    ) -> Result<Vec<Classification>, StoreError> {
        let rows = match self.pool() {
            Pool::Sqlite(pool) => classification_sqlite::history(pool, call_id).await?,
            Pool::Postgres(pool) => classification_postgres::history(pool, call_id).await?,
        };
        rows.into_iter().map(ClassificationRow::decode).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(note: Option<String>) -> NewClassification {
        NewClassification {
            call_id: "c1".into(),
            category: "イ".into(),
            outcome: Outcome::Other,
            complaint: false,
            escalated: false,
            faq_id: None,
            note,
            operator: "op".into(),
        }
    }

    #[test]
    fn outcomes_parse_from_their_names() {
        for outcome in Outcome::ALL {
            assert_eq!(outcome.as_str().parse(), Ok(outcome));
        }
        assert!("resolved".parse::<Outcome>().is_err());
    }

    #[test]
    fn a_note_of_2000_japanese_characters_is_accepted_and_2001_refused() {
        assert!(new(Some("あ".repeat(MAX_NOTE_CHARS))).check().is_ok());
        assert!(matches!(
            new(Some("あ".repeat(MAX_NOTE_CHARS + 1))).check(),
            Err(ClassificationError::NoteTooLong)
        ));
    }

    #[test]
    fn an_empty_category_is_refused() {
        let mut c = new(None);
        c.category = " ".into();
        assert!(matches!(c.check(), Err(ClassificationError::BadCategory)));
    }

    #[test]
    fn a_replacement_keeps_the_first_filing_instant_and_counts_up() {
        let t0 = DateTime::from_timestamp(1_767_225_600, 0).expect("in range");
        let first = next_revision(&new(None), None, t0);
        let t1 = t0 + chrono::TimeDelta::seconds(30);
        let second = next_revision(&new(None), Some(&first), t1);
        assert_eq!((first.revision, second.revision), (1, 2));
        assert_eq!(second.created_at, t0);
        assert_eq!(second.updated_at, t1);
    }

    fn filed(complaint: bool, previous: Option<bool>) -> Filed {
        let t0 = DateTime::from_timestamp(1_767_225_600, 0).expect("in range");
        let with = |complaint| {
            let mut c = new(None);
            c.complaint = complaint;
            next_revision(&c, None, t0).decode().expect("valid outcome")
        };
        Filed {
            classification: with(complaint),
            previous: previous.map(with),
        }
    }

    #[test]
    fn a_complaint_is_raised_once_not_again_when_refiled() {
        assert!(filed(true, None).raised_complaint());
        assert!(filed(true, Some(false)).raised_complaint());
        assert!(!filed(true, Some(true)).raised_complaint());
        assert!(!filed(false, None).raised_complaint());
    }
}
