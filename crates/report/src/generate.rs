//! A realistic month of hotline history, generated deterministically from a seed: call
//! records, their classifications and counter cases, for trying the reports, the
//! benchmark (100,000 calls) and the tests. `madoguchi seed month` writes one to a database.
//!
//! What makes it realistic:
//! - arrivals follow a day profile (the 08:30 opening rush, peaks at 10:00 and 14:00, a lunch
//!   dip, a thin evening) and a week profile (Mondays busiest, weekends and holidays quiet);
//!   a few calls come before opening and after closing, and the year-end break still gets
//!   some — those get the closed branch's record and nothing else, as the engine writes them;
//! - whether the hotline is open comes from its calendar, so holidays and closures are
//!   exactly the dialplan's;
//! - the busier the moment, the longer the waits and the more abandons and overflows;
//!   abandons carry their wait, a share of them under five seconds;
//! - answered calls get a category from the city's usual mix (card applications and hand-over
//!   most), a talk time that depends on it, sometimes a transfer to the city line — which
//!   connects only while the city office's calendar is open — and a classification (a few are
//!   left unclassified, as in real life) and, for most, a measured wrap-up: the operator's
//!   queue limit when the timer ran out, shorter when the classification was filed first;
//! - counter cases fall in the counter's opening hours with the usual mix of kinds;
//! - when the dialplan declares other languages, a few callers choose one, and those who
//!   waited past the language's wait were served by any operator (its fallback).
//!
//! The same spec and seed give the same month, byte for byte, with this version of `rand`.
//!
//! ```
//! use madoguchi_report::generate::{generate, MonthSpec};
//! # let hotline = madoguchi_report::generate::tests_support::hotline();
//! let spec = MonthSpec::new(madoguchi_report::Period::parse_month("2025-06").unwrap(), &hotline);
//! let month = generate(&MonthSpec { calls: 500, seed: 7, ..spec });
//! assert_eq!(month.calls.len(), 500);
//! ```

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use madoguchi_calendar::{Calendar, CalendarStatus};
use madoguchi_store::{
    CallRecord, CounterCase, CounterKind, CounterOutcome, Disposition, HangupSide,
    NewClassification, Outcome, SeededClassification, WrapUp,
};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::DayType;
use crate::period::Period;

/// The city's nine categories and their usual share of answered calls, in percent.
const CATEGORY_MIX: [(&str, f64); 9] = [
    ("ア", 9.0),
    ("イ", 26.0),
    ("ウ", 19.0),
    ("エ", 12.0),
    ("オ", 10.0),
    ("カ", 8.0),
    ("キ", 6.0),
    ("ク", 3.0),
    ("ケ", 7.0),
];

/// Counter-case kinds and their share, in percent.
const KIND_MIX: [(CounterKind, f64); 7] = [
    (CounterKind::NewApplication, 30.0),
    (CounterKind::Renewal, 20.0),
    (CounterKind::LossReissue, 8.0),
    (CounterKind::HealthInsuranceLink, 12.0),
    (CounterKind::PublicFundsAccount, 10.0),
    (CounterKind::OtherLinking, 5.0),
    (CounterKind::EApplicationHelp, 15.0),
];

const OUTCOME_MIX: [(CounterOutcome, f64); 4] = [
    (CounterOutcome::Completed, 80.0),
    (CounterOutcome::ContinuedLater, 10.0),
    (CounterOutcome::Referred, 7.0),
    (CounterOutcome::NotPossible, 3.0),
];

/// What to generate.
#[derive(Clone, Debug)]
pub struct MonthSpec<'a> {
    /// The month (any period works; the profiles are per day).
    pub period: Period,
    /// Call records to make, closed-branch records included.
    pub calls: usize,
    /// Counter cases to make.
    pub counter_cases: usize,
    pub seed: u64,
    /// Decides open or closed for every call (the hotline entry's calendar).
    pub hotline: &'a Calendar,
    /// When transfers to the city line can connect; `None`: always.
    pub city: Option<&'a Calendar>,
    /// When counter cases happen; `None`: the hotline's hours.
    pub counter: Option<&'a Calendar>,
    /// Queue names; the first takes most calls.
    pub queues: Vec<String>,
    /// Category codes; the city's nine get their usual mix, others an even one.
    pub categories: Vec<String>,
    /// The overflow and transfer target.
    pub target: String,
    /// Operator logins answering the calls.
    pub operators: Vec<String>,
    /// Counter staff logins.
    pub counter_staff: Vec<String>,
    pub node_id: String,
    /// The queues' wrap-up limit: the longest a measured wrap-up lasts.
    pub wrap_up: std::time::Duration,
    /// Languages callers may choose besides the default (e.g. "en"), with how long such a
    /// caller waits for an operator who speaks it before any operator may answer.
    pub languages: Vec<(String, std::time::Duration)>,
}

impl<'a> MonthSpec<'a> {
    /// 3,000 calls, 250 counter cases, seed 1, the reference dialplan's queues, target,
    /// categories and three operators.
    pub fn new(period: Period, hotline: &'a Calendar) -> MonthSpec<'a> {
        MonthSpec {
            period,
            calls: 3_000,
            counter_cases: 250,
            seed: 1,
            hotline,
            city: None,
            counter: None,
            queues: vec!["card".into(), "general".into()],
            categories: CATEGORY_MIX.iter().map(|(c, _)| (*c).to_owned()).collect(),
            target: "city_line".into(),
            operators: vec!["op1".into(), "op2".into(), "op3".into()],
            counter_staff: vec!["counter1".into(), "counter2".into()],
            node_id: "seed".into(),
            wrap_up: crate::model::DEFAULT_WRAP_UP,
            languages: Vec::new(),
        }
    }
}

/// A generated month, ready for `insert_calls`, `seed_classifications`,
/// `seed_counter_cases` and `seed_wrap_ups`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GeneratedMonth {
    /// In arrival order.
    pub calls: Vec<CallRecord>,
    pub classifications: Vec<SeededClassification>,
    pub counter_cases: Vec<CounterCase>,
    /// Measured wrap-ups of answered calls (not all: some were cut off by a restart).
    pub wrap_ups: Vec<WrapUp>,
}

/// Relative call volume by local hour (index 0 = 00:00–01:00).
const HOUR_PROFILE: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.04, 0.55, 1.0, 1.1, 0.9, 0.6, 0.85, 0.95, 0.85, 0.75, 0.6,
    0.45, 0.35, 0.06, 0.03, 0.0, 0.0,
];

fn day_weight(date: NaiveDate) -> f64 {
    let by_type = match DayType::of(date) {
        DayType::Holiday => 0.5,
        DayType::Saturday => 0.55,
        DayType::Sunday => 0.45,
        DayType::Weekday => match date.weekday() {
            Weekday::Mon => 1.35,
            Weekday::Tue => 1.1,
            Weekday::Fri => 1.05,
            _ => 1.0,
        },
    };
    // Notices sent at the start of the month bring calls in its first days.
    let start_of_month = if date.day() <= 5 { 1.15 } else { 1.0 };
    by_type * start_of_month
}

/// Quarter-hours of the period with their weight, load (relative busyness) and status.
struct Slot {
    start: DateTime<Utc>,
    weight: f64,
    /// HOUR_PROFILE × day weight: 1.0 is an ordinary peak.
    load: f64,
}

fn slots(spec: &MonthSpec<'_>) -> Vec<Slot> {
    let tz = spec.hotline.tz;
    let mut out = Vec::new();
    for date in spec.period.days() {
        let day = day_weight(date);
        for quarter in 0..96u32 {
            let Some(local) = date.and_hms_opt(quarter / 4, (quarter % 4) * 15, 0) else {
                continue;
            };
            let Some(start) = tz.from_local_datetime(&local).earliest() else {
                continue;
            };
            let load = HOUR_PROFILE[(quarter / 4) as usize] * day;
            let start = start.with_timezone(&Utc);
            // Closed days still ring a little: people call before reading the notice.
            let weight = match spec.hotline.status_at(start) {
                CalendarStatus::Open { .. } | CalendarStatus::ClosedHours { .. } => load,
                _ => load * 0.15,
            };
            if weight > 0.0 {
                out.push(Slot {
                    start,
                    weight,
                    load,
                });
            }
        }
    }
    out
}

/// Generates the month `spec` describes.
pub fn generate(spec: &MonthSpec<'_>) -> GeneratedMonth {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let slots = slots(spec);
    let mut month = GeneratedMonth::default();
    if let Ok(pick) = WeightedIndex::new(slots.iter().map(|s| s.weight)) {
        let mut arrivals: Vec<(DateTime<Utc>, f64)> = (0..spec.calls)
            .map(|_| {
                let slot = &slots[pick.sample(&mut rng)];
                let offset = Duration::milliseconds(rng.gen_range(0..900_000));
                (slot.start + offset, slot.load)
            })
            .collect();
        arrivals.sort_by_key(|(at, _)| *at);
        let stem = format!("seed{}-{}", spec.seed, spec.period.first.format("%Y%m%d"));
        for (n, (at, load)) in arrivals.into_iter().enumerate() {
            let id = format!("{stem}-{:06}", n + 1);
            let call = CallMaker {
                spec,
                rng: &mut rng,
            }
            .call(id, at, load);
            if let Some(c) = call.1 {
                month.classifications.push(c);
            }
            month.calls.push(call.0);
        }
    }
    month.counter_cases = counter_cases(spec, &mut rng);
    month.wrap_ups = wrap_ups(spec, &month.calls);
    choose_languages(spec, &mut month.calls);
    month
}

/// Share of queued callers who choose another language (the first declared one mostly).
const OTHER_LANGUAGE: f64 = 0.04;

/// Gives a few queued calls another language. Its own random stream, like the wrap-ups', so
/// the calls of a seed stay what they were.
fn choose_languages(spec: &MonthSpec<'_>, calls: &mut [CallRecord]) {
    if spec.languages.is_empty() {
        return;
    }
    let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x4c41_4e47);
    for call in calls.iter_mut().filter(|c| c.queue.is_some()) {
        if !rng.gen_bool(OTHER_LANGUAGE) {
            continue;
        }
        let index = if rng.gen_bool(0.8) {
            0
        } else {
            rng.gen_range(0..spec.languages.len())
        };
        let (code, after) = &spec.languages[index];
        call.language = Some(code.clone());
        let after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        if call.operator.is_some() && call.waited_ms.is_some_and(|w| w > after_ms) {
            call.language_fallback = Some(madoguchi_store::LanguageFallbackUsed::Any);
        }
    }
}

/// Share of answered calls whose wrap-up was measured (the rest lost to restarts).
const WRAP_UP_MEASURED: f64 = 0.97;
/// Share of measured wrap-ups that ran to the queue's limit; the others ended when the
/// operator filed the classification.
const WRAP_UP_RAN_OUT: f64 = 0.55;

/// The answered calls' wrap-ups. Their own random stream, so that the calls and cases of a
/// seed stay what they were before wrap-ups were generated.
fn wrap_ups(spec: &MonthSpec<'_>, calls: &[CallRecord]) -> Vec<WrapUp> {
    let mut rng = StdRng::seed_from_u64(spec.seed ^ 0x5752_4150);
    let limit = i64::try_from(spec.wrap_up.as_millis()).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    for call in calls
        .iter()
        .filter(|c| c.operator.is_some() && c.talk_ms.is_some())
    {
        if !rng.gen_bool(WRAP_UP_MEASURED) {
            continue;
        }
        let wrap_up_ms = if limit == 0 || rng.gen_bool(WRAP_UP_RAN_OUT) {
            limit
        } else {
            rng.gen_range(limit / 5..limit)
        };
        out.push(WrapUp {
            call_id: call.id.clone(),
            ended_at: call.ended_at + Duration::milliseconds(wrap_up_ms),
            wrap_up_ms,
        });
    }
    out
}

struct CallMaker<'s, 'a, 'r> {
    spec: &'s MonthSpec<'a>,
    rng: &'r mut StdRng,
}

impl CallMaker<'_, '_, '_> {
    fn call(
        &mut self,
        id: String,
        at: DateTime<Utc>,
        load: f64,
    ) -> (CallRecord, Option<SeededClassification>) {
        let mut call = blank(&id, at, self.caller(), &self.spec.node_id);
        let closed = match self.spec.hotline.status_at(at) {
            CalendarStatus::Open { .. } => None,
            CalendarStatus::ClosedHours { .. } => Some(Disposition::ClosedHours),
            CalendarStatus::ClosedHoliday { .. } => Some(Disposition::ClosedHoliday),
            CalendarStatus::ClosedYearEnd { .. } => Some(Disposition::ClosedYearEnd),
            CalendarStatus::ClosedSpecial { .. } => Some(Disposition::ClosedSpecial),
        };
        if let Some(disposition) = closed {
            // The closed announcement, then the engine hangs up.
            call.answered_at = Some(at + Duration::seconds(1));
            call.ended_at = at + Duration::milliseconds(self.rng.gen_range(14_000..24_000));
            call.branch = Some(disposition.as_str().to_owned());
            call.disposition = disposition;
            call.hangup_side = Some(HangupSide::Engine);
            return (call, None);
        }
        call.branch = Some("open".into());
        call.answered_at = Some(at + Duration::seconds(1));
        let roll: f64 = self.rng.gen();
        if roll < 0.03 {
            // Hung up during the greeting, before the queue.
            call.disposition = Disposition::CallerHangup;
            call.hangup_side = Some(HangupSide::Caller);
            call.ended_at = at + Duration::milliseconds(self.rng.gen_range(3_000..15_000));
            return (call, None);
        }
        if roll < 0.032 {
            call.queue = self.spec.queues.first().cloned();
            call.disposition = Disposition::Interrupted;
            call.hangup_side = Some(HangupSide::Engine);
            call.ended_at = at + Duration::seconds(30);
            return (call, None);
        }
        let (queue, choice) = self.queue();
        call.queue = queue;
        call.menu_choice = Some(choice.clone());
        call.dtmf = vec![choice];
        let joined = at + Duration::seconds(12); // greeting and menu
        let outcome: f64 = self.rng.gen();
        let overflow_p = 0.01 + 0.03 * (load - 0.8).max(0.0);
        let abandon_p = overflow_p + 0.05 + 0.08 * load;
        if outcome < overflow_p {
            self.overflow(&mut call, joined);
            (call, None)
        } else if outcome < abandon_p {
            self.abandon(&mut call, joined);
            (call, None)
        } else {
            let classification = self.answer(&mut call, joined, load);
            (call, classification)
        }
    }

    fn caller(&mut self) -> String {
        let prefix = ["090", "080", "070", "046"][self.rng.gen_range(0..4)];
        format!("{prefix}{:08}", self.rng.gen_range(0..100_000_000u32))
    }

    fn queue(&mut self) -> (Option<String>, String) {
        let queues = &self.spec.queues;
        let index = if queues.len() > 1 && self.rng.gen_bool(0.22) {
            self.rng.gen_range(1..queues.len())
        } else {
            0
        };
        (queues.get(index).cloned(), (index + 1).to_string())
    }

    fn overflow(&mut self, call: &mut CallRecord, joined: DateTime<Utc>) {
        // Nobody logged in (no wait) or the maximum wait of 10 minutes reached.
        let waited = if self.rng.gen_bool(0.3) { 0 } else { 600_000 };
        let left = joined + Duration::milliseconds(waited);
        call.disposition = Disposition::Overflowed;
        call.waited_ms = Some(waited);
        call.transfer_target = Some(self.spec.target.clone());
        let result = self.transfer_result(left);
        call.ended_at = left
            + match result {
                "answered" => Duration::seconds(self.rng.gen_range(60..400)),
                _ => Duration::seconds(20),
            };
        call.transfer_result = Some(result.to_owned());
        call.hangup_side = Some(HangupSide::Caller);
    }

    fn abandon(&mut self, call: &mut CallRecord, joined: DateTime<Utc>) {
        // A fifth give up within seconds; the rest after an exponential wait.
        let waited = if self.rng.gen_bool(0.2) {
            self.rng.gen_range(500..5_000)
        } else {
            5_000 + exponential(self.rng, 55_000.0)
        };
        call.disposition = Disposition::Abandoned;
        call.waited_ms = Some(waited);
        call.ended_at = joined + Duration::milliseconds(waited);
        call.hangup_side = Some(HangupSide::Caller);
    }

    fn answer(
        &mut self,
        call: &mut CallRecord,
        joined: DateTime<Utc>,
        load: f64,
    ) -> Option<SeededClassification> {
        let waited = exponential(self.rng, 4_000.0 + 22_000.0 * load * load).min(590_000);
        let connected = joined + Duration::milliseconds(waited);
        let (category, talk_mean_s) = self.category();
        let talk = (lognormal(self.rng, talk_mean_s, 0.5) * 1000.0) as i64;
        let talk = talk.clamp(20_000, 3_600_000);
        let operator = pick(self.rng, &self.spec.operators, "op1");
        call.disposition = Disposition::Answered;
        call.waited_ms = Some(waited);
        call.operator = Some(operator.clone());
        call.connected_at = Some(connected);
        call.talk_ms = Some(talk);
        call.ended_at = connected + Duration::milliseconds(talk);
        call.hangup_side = Some(if self.rng.gen_bool(0.7) {
            HangupSide::Caller
        } else {
            HangupSide::Engine
        });
        // Questions about the city's own office go to it more often than the rest.
        let transfer_p = if category == "ク" { 0.6 } else { 0.04 };
        let mut outcome = self.outcome();
        if self.rng.gen_bool(transfer_p) {
            let result = self.transfer_result(call.ended_at);
            call.disposition = Disposition::Transferred;
            call.transfer_target = Some(self.spec.target.clone());
            call.transfer_result = Some(result.to_owned());
            if result == "answered" {
                outcome = Outcome::TransferredCity;
                call.ended_at += Duration::seconds(self.rng.gen_range(60..300));
            }
        }
        if self.rng.gen_bool(0.04) {
            return None; // the operator never filed it
        }
        Some(SeededClassification {
            filing: NewClassification {
                call_id: call.id.clone(),
                category,
                outcome,
                complaint: self.rng.gen_bool(0.005),
                escalated: false,
                faq_id: None,
                note: None,
                operator,
            },
            at: call.ended_at + Duration::seconds(self.rng.gen_range(3..10)),
        })
    }

    /// A category code and the mean talk time for it, in seconds.
    fn category(&mut self) -> (String, f64) {
        let codes = &self.spec.categories;
        if codes.is_empty() {
            return ("ケ".to_owned(), 200.0);
        }
        let weights: Vec<f64> = codes
            .iter()
            .map(|c| {
                CATEGORY_MIX
                    .iter()
                    .find(|(code, _)| code == c)
                    .map_or(10.0, |(_, w)| *w)
            })
            .collect();
        let index = WeightedIndex::new(&weights)
            .map(|w| w.sample(self.rng))
            .unwrap_or(0);
        let code = codes[index].clone();
        let mean = match code.as_str() {
            "イ" | "エ" => 300.0,
            "オ" => 340.0,
            "カ" | "キ" => 260.0,
            "ア" | "ク" => 180.0,
            _ => 220.0,
        };
        (code, mean)
    }

    fn outcome(&mut self) -> Outcome {
        match self.rng.gen_range(0..100) {
            0..=84 => Outcome::ResolvedFaq,
            85..=92 => Outcome::ReferredOtherAgency,
            93..=95 => Outcome::CallbackNeeded,
            _ => Outcome::Other,
        }
    }

    /// Whether a transfer at `at` connects: only while the city office is open, and even
    /// then not always.
    fn transfer_result(&mut self, at: DateTime<Utc>) -> &'static str {
        let open = self
            .spec
            .city
            .is_none_or(|c| matches!(c.status_at(at), CalendarStatus::Open { .. }));
        if !open {
            return "closed";
        }
        match self.rng.gen_range(0..100) {
            0..=91 => "answered",
            92..=96 => "busy",
            _ => "no_answer",
        }
    }
}

fn blank(id: &str, at: DateTime<Utc>, caller: String, node_id: &str) -> CallRecord {
    CallRecord {
        id: id.to_owned(),
        sip_call_id: format!("{id}@seed.invalid"),
        caller,
        called: "hotline".into(),
        arrived_at: at,
        answered_at: None,
        ended_at: at,
        entry: Some("hotline".into()),
        branch: None,
        disposition: Disposition::Completed,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: Some("bye".into()),
        queue: None,
        waited_ms: None,
        operator: None,
        connected_at: None,
        talk_ms: None,
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: node_id.to_owned(),
        events: vec![],
    }
}

fn counter_cases(spec: &MonthSpec<'_>, rng: &mut StdRng) -> Vec<CounterCase> {
    let calendar = spec.counter.unwrap_or(spec.hotline);
    let open: Vec<(DateTime<Utc>, f64)> = slots(spec)
        .into_iter()
        .filter(|s| matches!(calendar.status_at(s.start), CalendarStatus::Open { .. }))
        .map(|s| (s.start, s.load.max(0.1)))
        .collect();
    let Ok(slot_index) = WeightedIndex::new(open.iter().map(|(_, w)| *w)) else {
        return Vec::new();
    };
    let kinds = WeightedIndex::new(KIND_MIX.iter().map(|(_, w)| *w));
    let outcomes = WeightedIndex::new(OUTCOME_MIX.iter().map(|(_, w)| *w));
    let (Ok(kinds), Ok(outcomes)) = (kinds, outcomes) else {
        return Vec::new();
    };
    let mut cases: Vec<CounterCase> = (0..spec.counter_cases)
        .map(|_| {
            let (start, _) = open[slot_index.sample(rng)];
            let kind = KIND_MIX[kinds.sample(rng)].0;
            let staff = pick(rng, &spec.counter_staff, "counter1");
            CounterCase {
                id: String::new(),
                at: start + Duration::milliseconds(rng.gen_range(0..900_000)),
                kind,
                outcome: OUTCOME_MIX[outcomes.sample(rng)].0,
                seat: format!("窓口{}", rng.gen_range(1..=2)),
                fee_payment_confirmed: kind.needs_fee_confirmation().then(|| rng.gen_bool(0.9)),
                staff,
                note: None,
                node_id: spec.node_id.clone(),
            }
        })
        .collect();
    cases.sort_by_key(|c| c.at);
    let stem = format!(
        "cc_seed{}-{}",
        spec.seed,
        spec.period.first.format("%Y%m%d")
    );
    for (n, case) in cases.iter_mut().enumerate() {
        case.id = format!("{stem}-{:05}", n + 1);
    }
    cases
}

/// One of `names` at random, or `fallback` when there are none.
fn pick(rng: &mut StdRng, names: &[String], fallback: &str) -> String {
    match names.len() {
        0 => fallback.to_owned(),
        n => names[rng.gen_range(0..n)].clone(),
    }
}

/// An exponential draw with the given mean, in whole milliseconds.
fn exponential(rng: &mut StdRng, mean_ms: f64) -> i64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    (-mean_ms * u.ln()) as i64
}

/// A log-normal draw with the given mean and shape `sigma`.
fn lognormal(rng: &mut StdRng, mean: f64, sigma: f64) -> f64 {
    // Box–Muller for a standard normal.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let mu = mean.ln() - sigma * sigma / 2.0;
    (mu + sigma * z).exp()
}

/// The hotline, city office and counter calendars of the reference dialplan, for examples
/// and tests.
#[doc(hidden)]
pub mod tests_support {
    use madoguchi_calendar::{
        Calendar, Closure, ClosureKind, DateRule, HolidayPolicy, HoursRule, TimeRange, WeekdaySet,
    };

    fn range(text: &str) -> TimeRange {
        // Constant, valid ranges.
        text.parse().unwrap_or_else(|_| TimeRange::all_day())
    }

    fn year_end() -> Closure {
        Closure {
            days: DateRule::YearlyRange {
                from: (12, 29),
                to: (1, 3),
            },
            kind: ClosureKind::YearEnd,
            label: "年末年始".into(),
        }
    }

    /// 08:30–20:00 every day, holidays included, closed 12/29–1/3.
    pub fn hotline() -> Calendar {
        Calendar {
            name: "hotline".into(),
            tz: chrono_tz::Asia::Tokyo,
            hours: vec![HoursRule {
                days: DateRule::Weekdays(WeekdaySet::ALL),
                ranges: vec![range("08:30-20:00")],
            }],
            holidays: HolidayPolicy::Open,
            closures: vec![year_end()],
            special_hours: vec![],
        }
    }

    /// Weekdays 08:30–17:15, closed on holidays and 12/29–1/3.
    pub fn city_office() -> Calendar {
        Calendar {
            name: "city_office".into(),
            tz: chrono_tz::Asia::Tokyo,
            hours: vec![HoursRule {
                days: DateRule::Weekdays(WeekdaySet::range(
                    chrono::Weekday::Mon,
                    chrono::Weekday::Fri,
                )),
                ranges: vec![range("08:30-17:15")],
            }],
            holidays: HolidayPolicy::Closed,
            closures: vec![year_end()],
            special_hours: vec![],
        }
    }

    /// Weekdays 08:30–17:15 and the 2nd and 4th Saturday 08:30–12:00.
    pub fn counter() -> Calendar {
        let mut counter = city_office();
        counter.name = "counter".into();
        counter.hours.push(HoursRule {
            days: DateRule::Any(vec![
                DateRule::NthWeekday {
                    n: 2,
                    weekday: chrono::Weekday::Sat,
                },
                DateRule::NthWeekday {
                    n: 4,
                    weekday: chrono::Weekday::Sat,
                },
            ]),
            ranges: vec![range("08:30-12:00")],
        });
        counter
    }
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
