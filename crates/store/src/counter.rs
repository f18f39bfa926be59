//! The counter support log (窓口の申請支援): every in-person support case counter staff
//! record — its kind (new application, renewal, loss re-issue …), the outcome, the seat, for a
//! loss re-issue whether the fee payment was confirmed, and a free note — for the monthly
//! report's breakdown by kind.
//!
//! A case is recorded once ([`Store::add_counter_case`]) and may be corrected afterwards
//! ([`Store::correct_counter_case`]): by the staff member who recorded it on the same local
//! day, by a manager at any time (see [`may_correct`]). A correction replaces kind, outcome,
//! seat, fee confirmation and note; the instant, the staff member and the node stay.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::CounterError> {
//! use madoguchi_store::{CaseDetails, CounterKind, CounterOutcome, NewCounterCase};
//! let case = store.add_counter_case(&NewCounterCase {
//!     details: CaseDetails {
//!         kind: CounterKind::LossReissue, outcome: CounterOutcome::Completed,
//!         seat: "窓口2".into(), fee_payment_confirmed: Some(true), note: None,
//!     },
//!     staff: "tanaka".into(), node_id: "node1".into(),
//! }, chrono::Utc::now()).await?;
//! assert!(case.id.starts_with("cc_"));
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rand::RngCore;
use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::{counter_postgres, counter_sqlite};

/// The longest seat name accepted, in characters.
pub const MAX_SEAT_CHARS: usize = 32;
/// The longest note accepted, in characters.
pub const MAX_COUNTER_NOTE_CHARS: usize = 1_000;
/// The largest page [`Store::list_counter_cases`] returns, whatever the query asks for.
pub const MAX_COUNTER_PAGE: u32 = 1_000;

/// What a counter case was about, in the order of the city's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterKind {
    /// 新規申請
    NewApplication,
    /// 更新
    Renewal,
    /// 紛失再交付: needs the fee payment confirmed (or explicitly not).
    LossReissue,
    /// 健康保険証利用登録
    HealthInsuranceLink,
    /// 公金受取口座登録
    PublicFundsAccount,
    /// その他の紐づけ
    OtherLinking,
    /// 電子申請支援
    EApplicationHelp,
}

impl CounterKind {
    pub const ALL: [CounterKind; 7] = [
        CounterKind::NewApplication,
        CounterKind::Renewal,
        CounterKind::LossReissue,
        CounterKind::HealthInsuranceLink,
        CounterKind::PublicFundsAccount,
        CounterKind::OtherLinking,
        CounterKind::EApplicationHelp,
    ];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            CounterKind::NewApplication => "new_application",
            CounterKind::Renewal => "renewal",
            CounterKind::LossReissue => "loss_reissue",
            CounterKind::HealthInsuranceLink => "health_insurance_link",
            CounterKind::PublicFundsAccount => "public_funds_account",
            CounterKind::OtherLinking => "other_linking",
            CounterKind::EApplicationHelp => "e_application_help",
        }
    }

    /// The Japanese label of the city's report.
    pub fn label_ja(self) -> &'static str {
        match self {
            CounterKind::NewApplication => "新規申請",
            CounterKind::Renewal => "更新",
            CounterKind::LossReissue => "紛失再交付",
            CounterKind::HealthInsuranceLink => "健康保険証利用登録",
            CounterKind::PublicFundsAccount => "公金受取口座登録",
            CounterKind::OtherLinking => "その他の紐づけ",
            CounterKind::EApplicationHelp => "電子申請支援",
        }
    }

    /// Whether a case of this kind must say if the fee payment was confirmed.
    pub fn needs_fee_confirmation(self) -> bool {
        self == CounterKind::LossReissue
    }
}

impl fmt::Display for CounterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is none of [`CounterKind::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown counter case kind {0:?}")]
pub struct UnknownCounterKind(pub String);

impl FromStr for CounterKind {
    type Err = UnknownCounterKind;

    fn from_str(s: &str) -> Result<CounterKind, UnknownCounterKind> {
        CounterKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownCounterKind(s.to_owned()))
    }
}

/// How a counter case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterOutcome {
    /// 完了
    Completed,
    /// 後日継続: the resident comes back.
    ContinuedLater,
    /// 他窓口案内: sent to another desk.
    Referred,
    /// 対応不可
    NotPossible,
}

impl CounterOutcome {
    pub const ALL: [CounterOutcome; 4] = [
        CounterOutcome::Completed,
        CounterOutcome::ContinuedLater,
        CounterOutcome::Referred,
        CounterOutcome::NotPossible,
    ];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            CounterOutcome::Completed => "completed",
            CounterOutcome::ContinuedLater => "continued_later",
            CounterOutcome::Referred => "referred",
            CounterOutcome::NotPossible => "not_possible",
        }
    }

    /// The Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            CounterOutcome::Completed => "完了",
            CounterOutcome::ContinuedLater => "後日継続",
            CounterOutcome::Referred => "他窓口案内",
            CounterOutcome::NotPossible => "対応不可",
        }
    }
}

impl fmt::Display for CounterOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An outcome name that is none of [`CounterOutcome::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown counter case outcome {0:?}")]
pub struct UnknownCounterOutcome(pub String);

impl FromStr for CounterOutcome {
    type Err = UnknownCounterOutcome;

    fn from_str(s: &str) -> Result<CounterOutcome, UnknownCounterOutcome> {
        CounterOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownCounterOutcome(s.to_owned()))
    }
}

/// What staff say about a case: recorded, and replaced as a whole by a correction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseDetails {
    pub kind: CounterKind,
    pub outcome: CounterOutcome,
    /// The counter seat (窓口1 …); trimmed, 1 to [`MAX_SEAT_CHARS`] characters.
    pub seat: String,
    /// Required (true or false) for [`CounterKind::LossReissue`], `None` for every other kind.
    pub fee_payment_confirmed: Option<bool>,
    /// Free text, at most [`MAX_COUNTER_NOTE_CHARS`] characters; blank is no note.
    /// Personal data.
    pub note: Option<String>,
}

impl CaseDetails {
    /// The details as stored (seat and note trimmed, a blank note dropped), or the first
    /// rule they break.
    pub fn checked(&self) -> Result<CaseDetails, CounterError> {
        let seat = self.seat.trim();
        if seat.is_empty() || seat.chars().count() > MAX_SEAT_CHARS {
            return Err(CounterError::BadSeat);
        }
        match (
            self.kind.needs_fee_confirmation(),
            self.fee_payment_confirmed,
        ) {
            (true, None) => return Err(CounterError::FeeConfirmationRequired),
            (false, Some(_)) => {
                return Err(CounterError::FeeConfirmationNotApplicable { kind: self.kind })
            }
            _ => {}
        }
        let note = self
            .note
            .as_deref()
            .map(str::trim)
            .filter(|note| !note.is_empty());
        if note.is_some_and(|note| note.chars().count() > MAX_COUNTER_NOTE_CHARS) {
            return Err(CounterError::NoteTooLong);
        }
        Ok(CaseDetails {
            kind: self.kind,
            outcome: self.outcome,
            seat: seat.to_owned(),
            fee_payment_confirmed: self.fee_payment_confirmed,
            note: note.map(str::to_owned),
        })
    }
}

/// A case to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCounterCase {
    pub details: CaseDetails,
    /// Who recorded it (login).
    pub staff: String,
    /// The node that recorded it.
    pub node_id: String,
}

/// A stored counter case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CounterCase {
    pub id: String,
    /// When it was recorded (UTC, to the millisecond).
    pub at: DateTime<Utc>,
    pub kind: CounterKind,
    pub outcome: CounterOutcome,
    pub seat: String,
    pub fee_payment_confirmed: Option<bool>,
    pub staff: String,
    pub note: Option<String>,
    pub node_id: String,
}

/// Who asks to correct a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corrector<'a> {
    /// A manager or admin: any case, any time.
    Manager,
    /// Counter staff: their own cases, on the day they recorded them.
    Staff { login: &'a str },
}

/// Why a case was refused. Display texts name the rule, never a note.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error("seat must be 1 to {MAX_SEAT_CHARS} characters")]
    BadSeat,
    #[error("a loss re-issue must say whether the fee payment was confirmed (true or false)")]
    FeeConfirmationRequired,
    #[error("fee_payment_confirmed applies only to loss_reissue, not to {kind}")]
    FeeConfirmationNotApplicable { kind: CounterKind },
    #[error("note is longer than {MAX_COUNTER_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error("staff is empty")]
    NoStaff,
    #[error("no counter case has this id")]
    NotFound,
    #[error("staff correct only the cases they recorded")]
    NotYours,
    #[error("staff correct their cases only on the day they recorded them")]
    DayOver,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CounterError {
    /// The request field the error is about, for a 422 naming it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            CounterError::BadSeat => Some("seat"),
            CounterError::FeeConfirmationRequired
            | CounterError::FeeConfirmationNotApplicable { .. } => Some("fee_payment_confirmed"),
            CounterError::NoteTooLong => Some("note"),
            _ => None,
        }
    }
}

/// Whether `by` may correct `case` at `now`; "the same day" is the local date in `tz` (the
/// counter's time zone).
pub fn may_correct(
    case: &CounterCase,
    by: Corrector<'_>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<(), CounterError> {
    match by {
        Corrector::Manager => Ok(()),
        Corrector::Staff { login } if login != case.staff => Err(CounterError::NotYours),
        Corrector::Staff { .. } => {
            let day = |at: DateTime<Utc>| at.with_timezone(&tz).date_naive();
            if day(case.at) == day(now) {
                Ok(())
            } else {
                Err(CounterError::DayOver)
            }
        }
    }
}

/// Which cases to list: newest first by `(at, id)`, offset-paged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterQuery {
    /// Inclusive lower bound on `at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `at`.
    pub to: Option<DateTime<Utc>>,
    /// Only the cases this login recorded.
    pub staff: Option<String>,
    /// Page size, clamped to `1..=MAX_COUNTER_PAGE`.
    pub limit: u32,
    pub offset: u64,
}

impl Default for CounterQuery {
    fn default() -> Self {
        CounterQuery {
            from: None,
            to: None,
            staff: None,
            limit: 50,
            offset: 0,
        }
    }
}

impl CounterQuery {
    pub(crate) fn clamped_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_COUNTER_PAGE))
    }

    pub(crate) fn clamped_offset(&self) -> i64 {
        // Clamped so the bind fits i64; no table holds 2^63 rows.
        i64::try_from(self.offset).unwrap_or(i64::MAX)
    }
}

/// How many cases of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub kind: CounterKind,
    pub count: i64,
}

/// One page of cases, with what the whole filtered range holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CounterPage {
    pub items: Vec<CounterCase>,
    /// Cases matching the filter, over all pages.
    pub total: i64,
    /// Cases matching the filter by kind, every kind in [`CounterKind::ALL`] order (zeros
    /// included).
    pub by_kind: Vec<KindCount>,
}

/// A case row as both backends read it, kind and outcome not yet parsed.
pub(crate) struct CaseRow {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub outcome: String,
    pub seat: String,
    pub fee_payment_confirmed: Option<bool>,
    pub staff: String,
    pub note: Option<String>,
    pub node_id: String,
}

impl CaseRow {
    pub(crate) fn decode(self) -> Result<CounterCase, StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: self.id.clone(),
            column,
        };
        let kind = self
            .kind
            .parse()
            .map_err(|_| corrupt("counter_cases.kind"))?;
        let outcome = self
            .outcome
            .parse()
            .map_err(|_| corrupt("counter_cases.outcome"))?;
        Ok(CounterCase {
            id: self.id,
            at: self.at,
            kind,
            outcome,
            seat: self.seat,
            fee_payment_confirmed: self.fee_payment_confirmed,
            staff: self.staff,
            note: self.note,
            node_id: self.node_id,
        })
    }
}

/// Every kind in report order with its count from `found` (kinds a backend does not
/// know are dropped: the table's CHECK keeps them out).
pub(crate) fn counts_in_order(found: Vec<(String, i64)>) -> Vec<KindCount> {
    CounterKind::ALL
        .into_iter()
        .map(|kind| KindCount {
            kind,
            count: found
                .iter()
                .find(|(name, _)| name == kind.as_str())
                .map_or(0, |(_, n)| *n),
        })
        .collect()
}

/// A new case id: `cc_` and 96 random bits in hex, unique across nodes without a sequence.
fn new_case_id() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("cc_{}", hex::encode(bytes))
}

impl Store {
    /// Records a case at `at` (kept to the millisecond) under a new id; returns it as
    /// stored.
    pub async fn add_counter_case(
        &self,
        new: &NewCounterCase,
        at: DateTime<Utc>,
    ) -> Result<CounterCase, CounterError> {
        let details = new.details.checked()?;
        if new.staff.trim().is_empty() {
            return Err(CounterError::NoStaff);
        }
        let case = CounterCase {
            id: new_case_id(),
            at: crate::timefmt::truncate_to_millis(at),
            kind: details.kind,
            outcome: details.outcome,
            seat: details.seat,
            fee_payment_confirmed: details.fee_payment_confirmed,
            staff: new.staff.clone(),
            note: details.note,
            node_id: new.node_id.clone(),
        };
        match self.pool() {
            Pool::Sqlite(pool) => counter_sqlite::insert(pool, &case).await?,
            Pool::Postgres(pool) => counter_postgres::insert(pool, &case).await?,
        }
        Ok(case)
    }

    /// One case; `None` when no case has that id.
    pub async fn counter_case(&self, id: &str) -> Result<Option<CounterCase>, StoreError> {
        let row = match self.pool() {
            Pool::Sqlite(pool) => counter_sqlite::get(pool, id).await?,
            Pool::Postgres(pool) => counter_postgres::get(pool, id).await?,
        };
        row.map(CaseRow::decode).transpose()
    }

    /// Cases newest first (by `at`, then `id`), filtered and paged as `q` says, with the
    /// total and the counts by kind of the whole filtered range.
    pub async fn list_counter_cases(&self, q: &CounterQuery) -> Result<CounterPage, StoreError> {
        let (rows, total, by_kind) = match self.pool() {
            Pool::Sqlite(pool) => counter_sqlite::list(pool, q).await?,
            Pool::Postgres(pool) => counter_postgres::list(pool, q).await?,
        };
        Ok(CounterPage {
            items: rows
                .into_iter()
                .map(CaseRow::decode)
                .collect::<Result<_, _>>()?,
            total,
            by_kind: counts_in_order(by_kind),
        })
    }

    /// Replaces the details of case `id` if `by` may correct it at `now` (see
    /// [`may_correct`]; `tz` is the counter's time zone), in one transaction. Returns the
    /// case as it is now.
    pub async fn correct_counter_case(
        &self,
        id: &str,
        details: &CaseDetails,
        by: Corrector<'_>,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<CounterCase, CounterError> {
        let details = details.checked()?;
        let corrected = match self.pool() {
            Pool::Sqlite(pool) => counter_sqlite::correct(pool, id, &details, by, now, tz).await?,
            Pool::Postgres(pool) => {
                counter_postgres::correct(pool, id, &details, by, now, tz).await?
            }
        };
        corrected.ok_or(CounterError::NotFound)
    }
}

/// The case after a correction that passed [`may_correct`], from its row before.
pub(crate) fn corrected(
    before: CaseRow,
    details: &CaseDetails,
    by: Corrector<'_>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<CounterCase, CounterError> {
    let before = before.decode()?;
    may_correct(&before, by, now, tz)?;
    Ok(CounterCase {
        kind: details.kind,
        outcome: details.outcome,
        seat: details.seat.clone(),
        fee_payment_confirmed: details.fee_payment_confirmed,
        note: details.note.clone(),
        ..before
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn details(kind: CounterKind, fee: Option<bool>) -> CaseDetails {
        CaseDetails {
            kind,
            outcome: CounterOutcome::Completed,
            seat: "窓口1".into(),
            fee_payment_confirmed: fee,
            note: None,
        }
    }

    fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("a valid JST instant")
            .with_timezone(&Utc)
    }

    fn case_by(staff: &str, at: DateTime<Utc>) -> CounterCase {
        CounterCase {
            id: "cc_1".into(),
            at,
            kind: CounterKind::Renewal,
            outcome: CounterOutcome::Completed,
            seat: "窓口1".into(),
            fee_payment_confirmed: None,
            staff: staff.into(),
            note: None,
            node_id: "node1".into(),
        }
    }

    #[test]
    fn kinds_and_outcomes_parse_from_their_names() {
        for kind in CounterKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        for outcome in CounterOutcome::ALL {
            assert_eq!(outcome.as_str().parse(), Ok(outcome));
        }
        assert!("loss".parse::<CounterKind>().is_err());
        assert!("done".parse::<CounterOutcome>().is_err());
    }

    #[test]
    fn the_kinds_carry_the_report_labels_in_report_order() {
        let labels: Vec<&str> = CounterKind::ALL.iter().map(|k| k.label_ja()).collect();
        assert_eq!(
            labels,
            [
                "新規申請",
                "更新",
                "紛失再交付",
                "健康保険証利用登録",
                "公金受取口座登録",
                "その他の紐づけ",
                "電子申請支援"
            ]
        );
    }

    #[test]
    fn a_loss_reissue_without_the_fee_answer_is_refused() {
        assert!(matches!(
            details(CounterKind::LossReissue, None).checked(),
            Err(CounterError::FeeConfirmationRequired)
        ));
    }

    #[test]
    fn a_loss_reissue_with_the_fee_unconfirmed_is_accepted() {
        assert!(details(CounterKind::LossReissue, Some(false))
            .checked()
            .is_ok());
    }

    #[test]
    fn another_kind_with_a_fee_answer_is_refused() {
        let refused = details(CounterKind::Renewal, Some(true)).checked();
        assert!(matches!(
            refused,
            Err(CounterError::FeeConfirmationNotApplicable {
                kind: CounterKind::Renewal
            })
        ));
    }

    #[test]
    fn a_seat_is_trimmed_and_must_have_1_to_32_characters() {
        let mut d = details(CounterKind::Renewal, None);
        d.seat = "　窓口3 ".into();
        assert_eq!(d.checked().expect("valid").seat, "窓口3");
        d.seat = " ".into();
        assert!(matches!(d.checked(), Err(CounterError::BadSeat)));
        d.seat = "席".repeat(MAX_SEAT_CHARS);
        assert!(d.checked().is_ok());
        d.seat = "席".repeat(MAX_SEAT_CHARS + 1);
        assert!(matches!(d.checked(), Err(CounterError::BadSeat)));
    }

    #[test]
    fn a_note_of_1000_characters_is_accepted_and_1001_refused() {
        let mut d = details(CounterKind::Renewal, None);
        d.note = Some("あ".repeat(MAX_COUNTER_NOTE_CHARS));
        assert!(d.checked().is_ok());
        d.note = Some("あ".repeat(MAX_COUNTER_NOTE_CHARS + 1));
        assert!(matches!(d.checked(), Err(CounterError::NoteTooLong)));
    }

    #[test]
    fn a_blank_note_is_no_note() {
        let mut d = details(CounterKind::Renewal, None);
        d.note = Some(" \n ".into());
        assert_eq!(d.checked().expect("valid").note, None);
    }

    #[test]
    fn errors_name_the_field_they_are_about() {
        assert_eq!(CounterError::BadSeat.field(), Some("seat"));
        assert_eq!(
            CounterError::FeeConfirmationRequired.field(),
            Some("fee_payment_confirmed")
        );
        assert_eq!(CounterError::NoteTooLong.field(), Some("note"));
        assert_eq!(CounterError::NotYours.field(), None);
    }

    #[test]
    fn staff_correct_their_own_case_until_local_midnight() {
        let tz = chrono_tz::Asia::Tokyo;
        let case = case_by("tanaka", jst(2026, 6, 10, 9, 0));
        let me = Corrector::Staff { login: "tanaka" };
        assert!(may_correct(&case, me, jst(2026, 6, 10, 23, 59), tz).is_ok());
        assert!(matches!(
            may_correct(&case, me, jst(2026, 6, 11, 0, 0), tz),
            Err(CounterError::DayOver)
        ));
    }

    #[test]
    fn the_day_is_the_counter_day_not_the_utc_day() {
        // 08:30 JST is 23:30 UTC the day before: still the same counter day at 10:00 JST.
        let tz = chrono_tz::Asia::Tokyo;
        let case = case_by("tanaka", jst(2026, 6, 10, 8, 30));
        let me = Corrector::Staff { login: "tanaka" };
        assert!(may_correct(&case, me, jst(2026, 6, 10, 10, 0), tz).is_ok());
    }

    #[test]
    fn staff_cannot_correct_a_colleagues_case() {
        let tz = chrono_tz::Asia::Tokyo;
        let case = case_by("tanaka", jst(2026, 6, 10, 9, 0));
        assert!(matches!(
            may_correct(
                &case,
                Corrector::Staff { login: "sato" },
                jst(2026, 6, 10, 9, 5),
                tz
            ),
            Err(CounterError::NotYours)
        ));
    }

    #[test]
    fn managers_correct_any_case_any_day() {
        let tz = chrono_tz::Asia::Tokyo;
        let case = case_by("tanaka", jst(2026, 6, 10, 9, 0));
        assert!(may_correct(&case, Corrector::Manager, jst(2026, 9, 1, 9, 0), tz).is_ok());
    }

    #[test]
    fn counts_come_for_every_kind_in_report_order() {
        let counts = counts_in_order(vec![("loss_reissue".into(), 2), ("renewal".into(), 5)]);
        assert_eq!(counts.len(), CounterKind::ALL.len());
        assert_eq!(counts[1].count, 5);
        assert_eq!(counts[2].count, 2);
        assert_eq!(counts[0].count, 0);
    }

    #[test]
    fn case_ids_are_distinct_and_prefixed() {
        let (a, b) = (new_case_id(), new_case_id());
        assert_ne!(a, b);
        assert!(a.starts_with("cc_") && a.len() == 3 + 24);
    }
}
