//! The live state of the center: who waits where and for how long, what each operator is
//! doing, and today's counters. Built from the engine's own state (no database query), for
//! `GET /api/v1/queues` and the push stream. Caller numbers are personal data and are not in it.

use chrono::{DateTime, NaiveDate, Utc};
use madoguchi_acd::OperatorStatus;
use madoguchi_dialplan::Dialplan;
use madoguchi_store::{CallRecord, Disposition};
use serde::Serialize;

use super::board::BoardView;
use super::operators::OperatorView;
use super::{caller_leg, Engine, Now};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveState {
    pub at: DateTime<Utc>,
    pub queues: Vec<QueueView>,
    pub operators: Vec<OperatorView>,
    pub today: Counters,
    /// Service level, ASA, AHT and rates, today and for the last 30 minutes; calls per
    /// half-hour today.
    pub board: BoardView,
    /// Recordings that could not be written since the engine started, and the last one: an
    /// alert for the board (a full disk stops recordings, never calls).
    pub recording_failures: u64,
    pub last_recording_failure: Option<RecordingFailureView>,
    /// Calls a manager listens in on, whispers to or barges in on (ringing: `mode` null).
    pub monitors: Vec<MonitorView>,
}

/// A manager on an operator's call, for the board (`operator` is monitored by `monitored_by`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MonitorView {
    pub call_id: String,
    pub operator: Option<String>,
    pub monitored_by: String,
    /// "listen", "whisper" or "barge" once the manager's phone answered; null while it rings.
    pub mode: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct RecordingFailureView {
    pub at: DateTime<Utc>,
    pub disk_full: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueView {
    pub name: String,
    pub label: Option<String>,
    /// In queue order (position 1 first).
    pub waiting: Vec<WaitingView>,
    pub longest_wait_s: i64,
    /// Members logged in and not paused (free or busy).
    pub operators_available: usize,
    /// Members logged in at all.
    pub operators_logged_in: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaitingView {
    pub call_id: String,
    pub position: usize,
    pub since: DateTime<Utc>,
    pub waited_s: i64,
    pub menu_choice: Option<String>,
    /// The language the caller chose; null for the default one.
    pub language: Option<String>,
    /// How long, from `since`, only operators speaking the caller's language are offered it
    /// (the language's `after`); null without such a wait.
    pub language_wait_s: Option<u64>,
    /// "any" once that wait ran out and any operator of the queue is offered the caller;
    /// null before (and without a language).
    pub language_fallback: Option<String>,
    /// The node the caller is on (its `--node-id`).
    pub node: String,
}

/// Calls of the current local day, counted as their records are written.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counters {
    pub date: Option<NaiveDate>,
    /// The instant that local day began: the board's links to today's records start there.
    pub since: Option<DateTime<Utc>>,
    /// Calls that reached a queue.
    pub offered: u64,
    /// Calls an operator answered.
    pub answered: u64,
    pub abandoned: u64,
    pub overflowed: u64,
    pub transferred: u64,
    /// Calls that ended with a callback request: the people a manager should call back.
    pub callbacks: u64,
    /// Every call, answered or not (closed hours included).
    pub calls: u64,
}

impl Counters {
    pub fn count(&mut self, record: &CallRecord) {
        self.calls += 1;
        if record.queue.is_some() {
            self.offered += 1;
        }
        if record.operator.is_some() {
            self.answered += 1;
        }
        match record.disposition {
            Disposition::Abandoned => self.abandoned += 1,
            Disposition::Overflowed => self.overflowed += 1,
            Disposition::Transferred => self.transferred += 1,
            Disposition::CallbackRequested => self.callbacks += 1,
            _ => {}
        }
    }
}

/// The hotline's time zone: that of the dialplan's first calendar (UTC without one).
pub fn local_tz(dialplan: &Dialplan) -> chrono_tz::Tz {
    dialplan
        .calendars()
        .first()
        .map_or(chrono_tz::UTC, |calendar| calendar.tz)
}

/// The reports' day is the hotline's local day: the time zone of the dialplan's first
/// calendar (Asia/Tokyo in the shipped ones).
pub fn local_date(dialplan: &Dialplan, at: DateTime<Utc>) -> NaiveDate {
    match dialplan.calendars().first() {
        Some(calendar) => at.with_timezone(&calendar.tz).date_naive(),
        None => at.date_naive(),
    }
}

/// The instant the local day containing `at` began, and that day.
pub fn local_midnight(dialplan: &Dialplan, at: DateTime<Utc>) -> (DateTime<Utc>, NaiveDate) {
    let date = local_date(dialplan, at);
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    let start = match dialplan.calendars().first() {
        Some(calendar) => midnight
            .and_local_timezone(calendar.tz)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
        None => Some(midnight.and_utc()),
    };
    (start.unwrap_or(at), date)
}

pub fn snapshot(engine: &Engine, now: Now) -> LiveState {
    let queues = engine
        .queues
        .ids()
        // A queue a reload removed shows while callers still wait in it.
        .filter(|id| !engine.queues.is_retired(*id) || !engine.acd.waiting(*id).is_empty())
        .map(|id| {
            let name = engine.queues.name(id).to_owned();
            let label = engine.dialplan.queue(&name).and_then(|q| q.label.clone());
            let waiting: Vec<WaitingView> = engine
                .acd
                .waiting(id)
                .iter()
                .enumerate()
                .filter_map(|(i, caller)| {
                    let call = engine.calls.get(&caller_leg(*caller))?;
                    let (_, since, menu) = call.waiting()?;
                    let language_wait = call.language_wait();
                    Some(WaitingView {
                        call_id: call.id().to_owned(),
                        position: i + 1,
                        since,
                        waited_s: (now.wall - since).num_seconds().max(0),
                        menu_choice: menu.map(str::to_owned),
                        language: call.language().map(str::to_owned),
                        language_wait_s: language_wait.map(|wait| wait.after.as_secs()),
                        language_fallback: language_wait
                            .and_then(|wait| wait.fallback())
                            .map(str::to_owned),
                        node: engine.node_id.clone(),
                    })
                })
                .collect();
            // This node's operators only: a mirror counts on its own node.
            let members = engine
                .operators
                .ids()
                .filter(|op| !engine.operators.is_mirror(*op))
                .filter_map(|op| engine.acd.operator(op))
                .filter(|op| op.membership(id).is_some());
            let (mut available, mut logged_in) = (0, 0);
            for op in members {
                match op.status() {
                    OperatorStatus::LoggedOut => {}
                    OperatorStatus::Available => {
                        available += 1;
                        logged_in += 1;
                    }
                    OperatorStatus::Paused { .. } => logged_in += 1,
                }
            }
            QueueView {
                name,
                label,
                longest_wait_s: waiting.iter().map(|w| w.waited_s).max().unwrap_or(0),
                waiting,
                operators_available: available,
                operators_logged_in: logged_in,
            }
        })
        .collect();
    LiveState {
        at: now.wall,
        queues,
        operators: engine.operators.live(now.wall, &engine.node_id),
        today: engine.counters.clone(),
        board: engine.board.view(now.wall),
        recording_failures: engine.recording_failures,
        last_recording_failure: engine.last_recording_failure,
        monitors: monitors(engine),
    }
}

fn monitors(engine: &Engine) -> Vec<MonitorView> {
    let mut views: Vec<MonitorView> = engine
        .calls
        .values()
        .filter_map(|call| {
            let (login, mode) = call.monitored_by()?;
            Some(MonitorView {
                call_id: call.id().to_owned(),
                operator: call.operator_login().map(str::to_owned),
                monitored_by: login.to_owned(),
                mode: mode.map(super::call::mode_name),
            })
        })
        .collect();
    views.sort_by(|a, b| a.call_id.cmp(&b.call_id));
    views
}
