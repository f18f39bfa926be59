//! Listing calls: the filter, the page position and the page that comes back.
//!
//! Calls are listed newest first by `(arrived_at, id)`, both descending, so the order is
//! total even when two calls arrive in the same millisecond. A page starts either at an
//! offset (simple, for page numbers) or after a keyset [`Cursor`] (stable while new calls
//! keep arriving, and cheap however deep the page).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::record::Disposition;
use crate::timefmt;

/// The largest page [`crate::Store::list_calls`] returns, whatever `limit` asks for.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Which calls to list. `Default` lists the newest 50 calls, without events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallQuery {
    /// Inclusive lower bound on `arrived_at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `arrived_at`.
    pub to: Option<DateTime<Utc>>,
    pub disposition: Option<Disposition>,
    /// Only calls that waited in this queue.
    #[serde(default)]
    pub queue: Option<String>,
    /// Only calls answered by this operator (login).
    #[serde(default)]
    pub operator: Option<String>,
    /// Page size, clamped to `1..=MAX_PAGE_SIZE`.
    pub limit: u32,
    pub start: PageStart,
    /// Also load each call's events (one extra query per page). Without it `events` is empty.
    pub with_events: bool,
}

impl Default for CallQuery {
    fn default() -> Self {
        CallQuery {
            from: None,
            to: None,
            disposition: None,
            queue: None,
            operator: None,
            limit: 50,
            start: PageStart::Offset(0),
            with_events: false,
        }
    }
}

impl CallQuery {
    pub(crate) fn clamped_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_PAGE_SIZE))
    }

    pub(crate) fn offset(&self) -> i64 {
        match self.start {
            // Clamped so the bind fits i64; no table holds 2^63 rows.
            PageStart::Offset(n) => i64::try_from(n).unwrap_or(i64::MAX),
            PageStart::After(_) => 0,
        }
    }

    pub(crate) fn after(&self) -> Option<&Cursor> {
        match &self.start {
            PageStart::Offset(_) => None,
            PageStart::After(cursor) => Some(cursor),
        }
    }
}

/// Where a page begins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStart {
    /// Skip this many calls of the filtered, ordered list.
    Offset(u64),
    /// The calls strictly older (in list order) than this one.
    After(Cursor),
}

/// A position in the newest-first list: the last call of the previous page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub arrived_at: DateTime<Utc>,
    pub id: String,
}

impl Cursor {
    /// Opaque text for an API (`?after=`): the millisecond timestamp, then the id.
    pub fn to_token(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}_{}",
            timefmt::to_sqlite_text(self.arrived_at),
            self.id
        )
    }
}

/// A cursor token that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed page cursor")]
pub struct BadCursor;

impl FromStr for Cursor {
    type Err = BadCursor;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        // The timestamp holds no '_', so the first one separates it from the id.
        let (at, id) = token.split_once('_').ok_or(BadCursor)?;
        let arrived_at = timefmt::from_sqlite_text(at).ok_or(BadCursor)?;
        if id.is_empty() {
            return Err(BadCursor);
        }
        Ok(Cursor {
            arrived_at,
            id: id.to_owned(),
        })
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items match the filter, over all pages.
    pub total: i64,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cursor_token_round_trips_with_underscores_in_the_id() {
        let cursor = Cursor {
            arrived_at: Utc
                .with_ymd_and_hms(2026, 1, 5, 8, 30, 0)
                .single()
                .expect("valid date"),
            id: "node_1_call_42".into(),
        };
        assert_eq!(cursor.to_token().parse::<Cursor>(), Ok(cursor));
    }

    #[test]
    fn a_token_without_separator_is_rejected() {
        assert_eq!("2026-01-05T08:30:00.000Z".parse::<Cursor>(), Err(BadCursor));
    }

    #[test]
    fn a_token_with_an_empty_id_is_rejected() {
        assert_eq!(
            "2026-01-05T08:30:00.000Z_".parse::<Cursor>(),
            Err(BadCursor)
        );
    }

    #[test]
    fn a_token_with_a_bad_time_is_rejected() {
        assert_eq!("soon_c1".parse::<Cursor>(), Err(BadCursor));
    }

    #[test]
    fn limit_is_clamped_to_at_least_one_and_at_most_the_maximum() {
        let zero = CallQuery {
            limit: 0,
            ..CallQuery::default()
        };
        let huge = CallQuery {
            limit: u32::MAX,
            ..CallQuery::default()
        };
        assert_eq!(zero.clamped_limit(), 1);
        assert_eq!(huge.clamped_limit(), i64::from(MAX_PAGE_SIZE));
    }

    #[test]
    fn an_offset_beyond_i64_is_clamped_not_wrapped() {
        let q = CallQuery {
            start: PageStart::Offset(u64::MAX),
            ..CallQuery::default()
        };
        assert_eq!(q.offset(), i64::MAX);
    }

    #[test]
    fn a_cursor_page_has_no_offset() {
        let q = CallQuery {
            start: PageStart::After(Cursor {
                arrived_at: Utc.timestamp_opt(0, 0).single().expect("epoch"),
                id: "c".into(),
            }),
            ..CallQuery::default()
        };
        assert_eq!(q.offset(), 0);
        assert!(q.after().is_some());
    }
}
