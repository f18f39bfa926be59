//! Report figures: the aggregates the monthly and final reports are built from, computed in
//! SQL that runs on SQLite and PostgreSQL alike.
//!
//! [`Store::report_figures`] reads the calls, classifications and counter cases of one
//! period `[from, to)` — UTC instants: the caller turns local dates into instants — in one
//! read transaction, and returns plain sums:
//! - [`SlotFigures`] per quarter-hour and queue. The report groups them into days, hour bands
//!   and day types in its own time zone: every zone's offset is a multiple of 15 minutes, so
//!   a quarter-hour never straddles a local hour, and the SQL needs no time-zone database
//!   (SQLite has none).
//! - [`CategoryFigures`] per inquiry category of the calls operators answered.
//! - [`TransferFigures`] per transfer target, result and origin.
//! - [`CounterFigures`] per counter-case kind and outcome.
//! - [`LanguageFigures`] per caller language (issue 9), [`FreeWaitingFigures`] for the calls
//!   that waited unanswered (free for the caller), and the counter devices'
//!   [`DeviceFigures`] (read by [`Store::device_figures`], after the transaction).
//!
//! # What counts as what
//! A call is *offered* when it reached a queue. An offered call is exactly one of:
//! *answered* (an operator took it) — then *transferred* when a transfer from it was answered
//! by the target, *handled* otherwise —, *abandoned* (the caller hung up waiting),
//! *overflowed* (sent to the overflow target), or none of these (the engine stopped, the
//! caller left during a transfer step, asked to be called back …). Calls that arrived while closed are those whose
//! disposition is one of the four `closed_*`.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::StoreError> {
//! use chrono::{TimeZone, Utc};
//! use madoguchi_store::ReportQuery;
//! let june = ReportQuery::new(
//!     Utc.with_ymd_and_hms(2025, 5, 31, 15, 0, 0).unwrap(), // 2025-06-01 00:00 JST
//!     Utc.with_ymd_and_hms(2025, 6, 30, 15, 0, 0).unwrap(),
//! );
//! let figures = store.report_figures(&june).await?;
//! let offered: i64 = figures.slots.iter().map(|s| s.offered).sum();
//! # Ok(()) }
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::devices::DeviceFigures;
use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::{report_postgres, report_sqlite};

/// The length of a [`SlotFigures`] slot, in seconds.
pub const SLOT_SECONDS: i64 = 900;

/// The service-level threshold when none is given: answered within 20 s.
pub const DEFAULT_ANSWERED_WITHIN: Duration = Duration::from_secs(20);
/// Abandons quicker than this are left out of the service level when none is given: 5 s.
pub const DEFAULT_SHORT_ABANDON: Duration = Duration::from_secs(5);

/// The period and thresholds of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    /// First instant of the period.
    pub from: DateTime<Utc>,
    /// The instant after the period (exclusive).
    pub to: DateTime<Utc>,
    /// A call answered after waiting at most this long was answered in time.
    pub answered_within: Duration,
    /// An abandon after waiting less than this is a short abandon.
    pub short_abandon: Duration,
}

impl ReportQuery {
    /// `[from, to)` with the default thresholds (20 s, 5 s).
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> ReportQuery {
        ReportQuery {
            from,
            to,
            answered_within: DEFAULT_ANSWERED_WITHIN,
            short_abandon: DEFAULT_SHORT_ABANDON,
        }
    }

    pub(crate) fn answered_within_ms(&self) -> i64 {
        millis(self.answered_within)
    }

    pub(crate) fn short_abandon_ms(&self) -> i64 {
        millis(self.short_abandon)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Everything a report is computed from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportFigures {
    /// Ordered by slot, then queue (calls without a queue first).
    pub slots: Vec<SlotFigures>,
    /// Ordered by category code; `None` (answered but never classified) first.
    pub categories: Vec<CategoryFigures>,
    /// Ordered by target, result, origin.
    pub transfers: Vec<TransferFigures>,
    /// Ordered by kind, then outcome.
    pub counter: Vec<CounterFigures>,
    /// Calls of open hours by language; `None` (the dialplan's default language) first.
    pub languages: Vec<LanguageFigures>,
    pub free_waiting: FreeWaitingFigures,
    /// Every device registered during the period, by id.
    pub devices: Vec<DeviceFigures>,
}

/// The calls that arrived in one quarter-hour, for one queue (or none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SlotFigures {
    /// The first instant of the slot (a multiple of [`SLOT_SECONDS`] since the Unix epoch).
    pub start: DateTime<Utc>,
    /// The queue the calls reached; `None` for calls that reached none.
    pub queue: Option<String>,
    /// Every call, answered or not.
    pub calls: i64,
    pub closed_hours: i64,
    pub closed_holiday: i64,
    pub closed_year_end: i64,
    pub closed_special: i64,
    /// Calls that reached a queue.
    pub offered: i64,
    /// Offered calls an operator answered.
    pub answered: i64,
    /// Answered calls then transferred (the target answered).
    pub transferred: i64,
    /// Offered calls whose caller hung up while waiting.
    pub abandoned: i64,
    /// Abandoned calls that waited less than the short-abandon threshold.
    pub short_abandoned: i64,
    /// Offered calls sent to the overflow target.
    pub overflowed: i64,
    /// Offered calls that left the queue with a callback request (free waiting's limit).
    pub callbacks_requested: i64,
    /// Answered calls that waited at most the service-level threshold.
    pub answered_in_time: i64,
    /// Sum of the waits of answered calls, in milliseconds.
    pub answered_wait_ms: i64,
    /// Sum of the talk times of answered calls, in milliseconds.
    pub talk_ms: i64,
    /// Answered calls whose wrap-up was measured (`crate::wrap_up`).
    pub wrap_ups: i64,
    /// Sum of those measured wrap-ups, in milliseconds.
    pub wrap_up_ms: i64,
    /// Calls of any origin (operator, overflow, dialplan step) whose transfer the target answered.
    pub transfers_answered: i64,
}

impl SlotFigures {
    /// Answered calls that were not transferred.
    pub fn handled(&self) -> i64 {
        self.answered - self.transferred
    }
}

/// Answered calls of one inquiry category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CategoryFigures {
    /// The category code; `None` for answered calls nobody classified.
    pub category: Option<String>,
    /// Answered and not transferred.
    pub handled: i64,
    /// Answered, then transferred (the target answered).
    pub transferred: i64,
}

/// The calls of open hours in one caller language (closed-branch calls choose none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LanguageFigures {
    /// The chosen language's code; `None` for callers who chose none (the default language).
    pub language: Option<String>,
    pub calls: i64,
    /// Calls that reached a queue.
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    /// Sum of the waits of answered calls, in milliseconds.
    pub answered_wait_ms: i64,
    /// Calls served by any operator after waiting for one who speaks the language.
    pub fell_back_to_any: i64,
    /// Calls sent to the interpretation target instead.
    pub sent_to_target: i64,
}

/// Free waiting (issue 9 §1): calls of entries with `answer = "operator"`, whose caller
/// waits in early media and pays only from our 200 OK.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FreeWaitingFigures {
    /// Calls of an entry with `answer = "operator"`.
    pub operator_mode_calls: i64,
    /// Of those, answered when an operator picked up.
    pub answered_by_operator: i64,
    /// Of those, answered when a transfer target picked up.
    pub answered_by_target: i64,
    /// Of those, answered by the engine because the early-media limit was reached.
    pub answered_at_early_limit: i64,
    /// Of those, never answered (the caller left, or a refusal while waiting).
    pub never_answered: i64,
    /// Of those, the calls with a measured unanswered time and its sum, in milliseconds.
    pub unanswered_calls: i64,
    pub unanswered_ms: i64,
    /// Of those, the calls with a measured answered time and its sum, in milliseconds.
    pub answered_calls: i64,
    pub answered_ms: i64,
    /// Every call (of either mode) that ended with a callback request.
    pub callbacks_requested: i64,
}

/// Where a transfer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOrigin {
    /// An operator transferred the call.
    Operator,
    /// The queue overflowed to its target.
    Overflow,
    /// A transfer step of the dialplan (e.g. a menu choice).
    Dialplan,
}

impl TransferOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferOrigin::Operator => "operator",
            TransferOrigin::Overflow => "overflow",
            TransferOrigin::Dialplan => "dialplan",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<TransferOrigin> {
        [
            TransferOrigin::Operator,
            TransferOrigin::Overflow,
            TransferOrigin::Dialplan,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// Transfer attempts to one target with one result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransferFigures {
    pub target: String,
    /// "answered", "busy", "no_answer", "failed", "closed", "caller_hangup" …; `None` when
    /// the record has none.
    pub result: Option<String>,
    pub origin: TransferOrigin,
    pub calls: i64,
}

/// Counter cases of one kind with one outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CounterFigures {
    /// The stored kind, e.g. "loss_reissue".
    pub kind: String,
    /// The stored outcome, e.g. "completed".
    pub outcome: String,
    pub cases: i64,
    /// Cases whose fee payment was confirmed (loss re-issues only).
    pub fee_payment_confirmed: i64,
}

impl Store {
    /// The figures of the period and thresholds `q` says, read in one transaction so that
    /// the tables agree with each other.
    pub async fn report_figures(&self, q: &ReportQuery) -> Result<ReportFigures, StoreError> {
        let mut figures = match self.pool() {
            Pool::Sqlite(pool) => report_sqlite::figures(pool, q).await?,
            Pool::Postgres(pool) => report_postgres::figures(pool, q).await?,
        };
        // Device rows are not call history: a beat arriving between the two reads changes
        // no call figure, so they need not share the transaction.
        figures.devices = self.device_figures(q.from, q.to).await?;
        Ok(figures)
    }
}

// The SQL both backends share. Only the slot expression, the placeholders and the casts
// differ; `COUNT(*) FILTER (WHERE …)` is standard and SQLite has it since 3.30.

/// The slot columns; `{slot}` is the backend's "seconds since the epoch / 900" and
/// `{int}` its 64-bit integer type. `{threshold}` and `{short}` are placeholders.
pub(crate) const SLOT_COLUMNS: &str = "
    {slot} AS slot, queue,
    COUNT(*) AS calls,
    COUNT(*) FILTER (WHERE disposition = 'closed_hours') AS closed_hours,
    COUNT(*) FILTER (WHERE disposition = 'closed_holiday') AS closed_holiday,
    COUNT(*) FILTER (WHERE disposition = 'closed_year_end') AS closed_year_end,
    COUNT(*) FILTER (WHERE disposition = 'closed_special') AS closed_special,
    COUNT(queue) AS offered,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL) AS answered,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL
                       AND transfer_target IS NOT NULL AND transfer_result = 'answered') AS transferred,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NULL
                       AND disposition = 'abandoned') AS abandoned,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NULL
                       AND disposition = 'abandoned' AND waited_ms < {short}) AS short_abandoned,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NULL
                       AND disposition = 'overflowed') AS overflowed,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NULL
                       AND disposition = 'callback_requested') AS callbacks_requested,
    COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL
                       AND waited_ms <= {threshold}) AS answered_in_time,
    CAST(COALESCE(SUM(waited_ms) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL), 0)
         AS {int}) AS answered_wait_ms,
    CAST(COALESCE(SUM(talk_ms) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL), 0)
         AS {int}) AS talk_ms,
    COUNT(w.wrap_up_ms) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL) AS wrap_ups,
    CAST(COALESCE(SUM(w.wrap_up_ms) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL), 0)
         AS {int}) AS wrap_up_ms,
    COUNT(*) FILTER (WHERE transfer_target IS NOT NULL AND transfer_result = 'answered')
        AS transfers_answered";

/// Answered calls by category; `{from}`/`{to}` are placeholders.
pub(crate) const CATEGORY_SQL: &str = "
    SELECT cl.category AS category,
           COUNT(*) FILTER (WHERE c.transfer_target IS NULL
                              OR COALESCE(c.transfer_result, '') <> 'answered') AS handled,
           COUNT(*) FILTER (WHERE c.transfer_target IS NOT NULL
                              AND c.transfer_result = 'answered') AS transferred
    FROM calls c LEFT JOIN classifications cl ON cl.call_id = c.id
    WHERE c.arrived_at >= {from} AND c.arrived_at < {to}
      AND c.queue IS NOT NULL AND c.operator IS NOT NULL
    GROUP BY cl.category
    ORDER BY cl.category IS NOT NULL, cl.category";

/// Transfers by target, result and origin.
pub(crate) const TRANSFER_SQL: &str = "
    SELECT transfer_target AS target, transfer_result AS result,
           CASE WHEN operator IS NOT NULL THEN 'operator'
                WHEN disposition = 'overflowed' THEN 'overflow'
                ELSE 'dialplan' END AS origin,
           COUNT(*) AS calls
    FROM calls
    WHERE arrived_at >= {from} AND arrived_at < {to} AND transfer_target IS NOT NULL
    GROUP BY 1, 2, 3
    ORDER BY target, transfer_result IS NOT NULL, transfer_result, origin";

/// Counter cases by kind and outcome.
pub(crate) const COUNTER_SQL: &str = "
    SELECT kind, outcome, COUNT(*) AS cases,
           COUNT(*) FILTER (WHERE fee_payment_confirmed IS TRUE) AS fee_payment_confirmed
    FROM counter_cases
    WHERE at >= {from} AND at < {to}
    GROUP BY kind, outcome
    ORDER BY kind, outcome";

/// Calls of open hours by language; `{int}` as in [`SLOT_COLUMNS`].
pub(crate) const LANGUAGE_SQL: &str = "
    SELECT language,
           COUNT(*) AS calls,
           COUNT(queue) AS offered,
           COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NOT NULL) AS answered,
           COUNT(*) FILTER (WHERE queue IS NOT NULL AND operator IS NULL
                              AND disposition = 'abandoned') AS abandoned,
           CAST(COALESCE(SUM(waited_ms) FILTER (WHERE queue IS NOT NULL
                                                  AND operator IS NOT NULL), 0)
                AS {int}) AS answered_wait_ms,
           COUNT(*) FILTER (WHERE language_fallback = 'any') AS fell_back_to_any,
           COUNT(*) FILTER (WHERE language_fallback = 'target') AS sent_to_target
    FROM calls
    WHERE arrived_at >= {from} AND arrived_at < {to}
      AND disposition NOT IN ('closed_hours', 'closed_holiday', 'closed_year_end',
                              'closed_special')
    GROUP BY language
    ORDER BY language IS NOT NULL, language";

/// The free-waiting sums: one row, zeros for an empty period.
pub(crate) const FREE_WAITING_SQL: &str = "
    SELECT COUNT(*) FILTER (WHERE answer_mode = 'operator') AS operator_mode_calls,
           COUNT(*) FILTER (WHERE answer_mode = 'operator' AND answered_by = 'operator')
               AS answered_by_operator,
           COUNT(*) FILTER (WHERE answer_mode = 'operator' AND answered_by = 'target')
               AS answered_by_target,
           COUNT(*) FILTER (WHERE answer_mode = 'operator' AND answered_by = 'early_limit')
               AS answered_at_early_limit,
           COUNT(*) FILTER (WHERE answer_mode = 'operator' AND answered_by IS NULL)
               AS never_answered,
           COUNT(unanswered_ms) FILTER (WHERE answer_mode = 'operator') AS unanswered_calls,
           CAST(COALESCE(SUM(unanswered_ms) FILTER (WHERE answer_mode = 'operator'), 0)
                AS {int}) AS unanswered_ms,
           COUNT(answered_ms) FILTER (WHERE answer_mode = 'operator') AS answered_calls,
           CAST(COALESCE(SUM(answered_ms) FILTER (WHERE answer_mode = 'operator'), 0)
                AS {int}) AS answered_ms,
           COUNT(*) FILTER (WHERE disposition = 'callback_requested') AS callbacks_requested
    FROM calls
    WHERE arrived_at >= {from} AND arrived_at < {to}";

#[derive(sqlx::FromRow)]
pub(crate) struct LanguageRow {
    pub language: Option<String>,
    pub calls: i64,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub answered_wait_ms: i64,
    pub fell_back_to_any: i64,
    pub sent_to_target: i64,
}

impl From<LanguageRow> for LanguageFigures {
    fn from(r: LanguageRow) -> LanguageFigures {
        LanguageFigures {
            language: r.language,
            calls: r.calls,
            offered: r.offered,
            answered: r.answered,
            abandoned: r.abandoned,
            answered_wait_ms: r.answered_wait_ms,
            fell_back_to_any: r.fell_back_to_any,
            sent_to_target: r.sent_to_target,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FreeWaitingRow {
    pub operator_mode_calls: i64,
    pub answered_by_operator: i64,
    pub answered_by_target: i64,
    pub answered_at_early_limit: i64,
    pub never_answered: i64,
    pub unanswered_calls: i64,
    pub unanswered_ms: i64,
    pub answered_calls: i64,
    pub answered_ms: i64,
    pub callbacks_requested: i64,
}

impl From<FreeWaitingRow> for FreeWaitingFigures {
    fn from(r: FreeWaitingRow) -> FreeWaitingFigures {
        FreeWaitingFigures {
            operator_mode_calls: r.operator_mode_calls,
            answered_by_operator: r.answered_by_operator,
            answered_by_target: r.answered_by_target,
            answered_at_early_limit: r.answered_at_early_limit,
            never_answered: r.never_answered,
            unanswered_calls: r.unanswered_calls,
            unanswered_ms: r.unanswered_ms,
            answered_calls: r.answered_calls,
            answered_ms: r.answered_ms,
            callbacks_requested: r.callbacks_requested,
        }
    }
}

/// A row of the transfer query, before its origin is checked.
#[derive(sqlx::FromRow)]
pub(crate) struct TransferRow {
    pub target: String,
    pub result: Option<String>,
    pub origin: String,
    pub calls: i64,
}

impl TransferRow {
    pub(crate) fn decode(self) -> Result<TransferFigures, StoreError> {
        let origin = TransferOrigin::parse(&self.origin).ok_or(StoreError::CorruptRow {
            id: self.target.clone(),
            column: "report.transfer_origin",
        })?;
        Ok(TransferFigures {
            target: self.target,
            result: self.result,
            origin,
            calls: self.calls,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CategoryRow {
    pub category: Option<String>,
    pub handled: i64,
    pub transferred: i64,
}

impl From<CategoryRow> for CategoryFigures {
    fn from(r: CategoryRow) -> CategoryFigures {
        CategoryFigures {
            category: r.category,
            handled: r.handled,
            transferred: r.transferred,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CounterRow {
    pub kind: String,
    pub outcome: String,
    pub cases: i64,
    pub fee_payment_confirmed: i64,
}

impl From<CounterRow> for CounterFigures {
    fn from(r: CounterRow) -> CounterFigures {
        CounterFigures {
            kind: r.kind,
            outcome: r.outcome,
            cases: r.cases,
            fee_payment_confirmed: r.fee_payment_confirmed,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SlotRow {
    pub slot: i64,
    pub queue: Option<String>,
    pub calls: i64,
    pub closed_hours: i64,
    pub closed_holiday: i64,
    pub closed_year_end: i64,
    pub closed_special: i64,
    pub offered: i64,
    pub answered: i64,
    pub transferred: i64,
    pub abandoned: i64,
    pub short_abandoned: i64,
    pub overflowed: i64,
    pub callbacks_requested: i64,
    pub answered_in_time: i64,
    pub answered_wait_ms: i64,
    pub talk_ms: i64,
    pub wrap_ups: i64,
    pub wrap_up_ms: i64,
    pub transfers_answered: i64,
}

impl SlotRow {
    pub(crate) fn decode(self) -> Result<SlotFigures, StoreError> {
        let start = self
            .slot
            .checked_mul(SLOT_SECONDS)
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or(StoreError::CorruptRow {
                id: self.slot.to_string(),
                column: "report.slot",
            })?;
        Ok(SlotFigures {
            start,
            queue: self.queue,
            calls: self.calls,
            closed_hours: self.closed_hours,
            closed_holiday: self.closed_holiday,
            closed_year_end: self.closed_year_end,
            closed_special: self.closed_special,
            offered: self.offered,
            answered: self.answered,
            transferred: self.transferred,
            abandoned: self.abandoned,
            short_abandoned: self.short_abandoned,
            overflowed: self.overflowed,
            callbacks_requested: self.callbacks_requested,
            answered_in_time: self.answered_in_time,
            answered_wait_ms: self.answered_wait_ms,
            talk_ms: self.talk_ms,
            wrap_ups: self.wrap_ups,
            wrap_up_ms: self.wrap_up_ms,
            transfers_answered: self.transfers_answered,
        })
    }
}

/// Fills the shared SQL's `{…}` fragments for one backend.
pub(crate) struct Dialect {
    pub slot: &'static str,
    pub int: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub threshold: &'static str,
    pub short: &'static str,
}

impl Dialect {
    pub(crate) fn slot_sql(&self) -> String {
        let columns = SLOT_COLUMNS
            .replace("{slot}", self.slot)
            .replace("{int}", self.int)
            .replace("{threshold}", self.threshold)
            .replace("{short}", self.short);
        format!(
            "SELECT {columns} FROM calls LEFT JOIN call_wrap_ups w ON w.call_id = calls.id \
             WHERE arrived_at >= {} AND arrived_at < {} \
             GROUP BY 1, 2 ORDER BY slot, queue IS NOT NULL, queue",
            self.from, self.to
        )
    }

    pub(crate) fn fill(&self, sql: &str) -> String {
        sql.replace("{from}", self.from)
            .replace("{to}", self.to)
            .replace("{int}", self.int)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Dialect = Dialect {
        slot: "S",
        int: "I",
        from: "F",
        to: "T",
        threshold: "TH",
        short: "SH",
    };

    #[test]
    fn every_fragment_of_the_slot_query_is_filled() {
        assert!(!PLAIN.slot_sql().contains('{'));
    }

    #[test]
    fn every_fragment_of_the_other_queries_is_filled() {
        for sql in [
            CATEGORY_SQL,
            TRANSFER_SQL,
            COUNTER_SQL,
            LANGUAGE_SQL,
            FREE_WAITING_SQL,
        ] {
            assert!(!PLAIN.fill(sql).contains('{'), "{sql}");
        }
    }

    #[test]
    fn a_transfer_origin_round_trips_through_its_text() {
        for origin in [
            TransferOrigin::Operator,
            TransferOrigin::Overflow,
            TransferOrigin::Dialplan,
        ] {
            assert_eq!(TransferOrigin::parse(origin.as_str()), Some(origin));
        }
    }

    #[test]
    fn a_slot_beyond_the_calendar_is_a_corrupt_row_not_a_panic() {
        let row = SlotRow {
            slot: i64::MAX,
            queue: None,
            calls: 0,
            closed_hours: 0,
            closed_holiday: 0,
            closed_year_end: 0,
            closed_special: 0,
            offered: 0,
            answered: 0,
            transferred: 0,
            abandoned: 0,
            short_abandoned: 0,
            overflowed: 0,
            callbacks_requested: 0,
            answered_in_time: 0,
            answered_wait_ms: 0,
            talk_ms: 0,
            wrap_ups: 0,
            wrap_up_ms: 0,
            transfers_answered: 0,
        };
        assert!(matches!(row.decode(), Err(StoreError::CorruptRow { .. })));
    }
}
