//! Bulk loading of generated history, for the month generator (`madoguchi seed month`) and
//! the report benchmark: classifications and counter cases written many to a transaction,
//! as [`Store::insert_calls`] does for call records.
//!
//! These bypass the one-at-a-time paths ([`Store::classify`], [`Store::add_counter_case`]) and
//! their checks, keeping only what the schema enforces: they are for data a program made, not
//! for what a person files. Rows whose key exists already are skipped, so a seed run can be
//! repeated.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! use madoguchi_store::{NewClassification, Outcome, SeededClassification};
//! let filing = NewClassification {
//!     call_id: "seed-1".into(), category: "イ".into(), outcome: Outcome::ResolvedFaq,
//!     complaint: false, escalated: false, faq_id: None, note: None, operator: "op1".into(),
//! };
//! store.seed_classifications(&[SeededClassification { filing, at: chrono::Utc::now() }]).await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};

use crate::classification::NewClassification;
use crate::counter::CounterCase;
use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::{seed_postgres, seed_sqlite};

/// A call's first (and only) classification, filed at `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededClassification {
    pub filing: NewClassification,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Stores each classification as revision 1 (with its history row), all in one
    /// transaction; a call classified already keeps its classification.
    pub async fn seed_classifications(
        &self,
        rows: &[SeededClassification],
    ) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => seed_sqlite::classifications(pool, rows).await,
            Pool::Postgres(pool) => seed_postgres::classifications(pool, rows).await,
        }
    }

    /// Stores counter cases with the ids and instants given, all in one transaction; an id
    /// stored already is skipped.
    pub async fn seed_counter_cases(&self, cases: &[CounterCase]) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => seed_sqlite::counter_cases(pool, cases).await,
            Pool::Postgres(pool) => seed_postgres::counter_cases(pool, cases).await,
        }
    }
}
