//! Routing: which entry takes a call, which branch its calendar gives at the call's instant,
//! and the full list of steps the call will run.
//!
//! A [`Route`] is computed once per incoming call from the Request-URI user, the instant the
//! INVITE arrived (passed in, never read from a clock) and a draw in `[0, 1)` from the
//! engine's seeded RNG (for a `recording` share), then started as a
//! [`FlowRunner`](crate::FlowRunner).
//!
//! The open branch runs a prelude before its own steps: the entry's `greeting`, then the
//! recording notice (when the call's [`RecordingDecision`] may record), then every notice whose
//! date rule matches the local date. Closed branches run their steps as written and are never
//! recorded.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use madoguchi_calendar::{holiday_on, CalendarStatus};
use std::sync::Arc;

use crate::flow::FlowRunner;
use crate::model::{Branch, Entry, Match, Step, Steps};
use crate::recording::RecordingDecision;
use crate::Dialplan;

/// What a call gets: its entry, branch, local time and steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The entry's name (for the call record).
    pub entry: String,
    /// The calendar that decided the branch.
    pub calendar: String,
    pub branch: Branch,
    /// The calendar's full answer (closing time, next opening, closure label).
    pub status: CalendarStatus,
    /// The call's instant in the calendar's time zone.
    pub local_time: DateTime<Tz>,
    /// The national holiday on the local date, whatever the branch.
    pub holiday: Option<&'static str>,
    /// Names of the notices played (open branch only).
    pub notices: Vec<String>,
    /// The entry's recording decision for this call; always `Off` on a closed branch
    /// (announcement-only calls are not recorded). A queue may replace it
    /// ([`crate::Queue::recording_at_join`]); the notice is among the steps when it may record.
    pub recording: RecordingDecision,
    /// Prelude and branch steps, in the order the call runs them.
    pub steps: Steps,
    /// Ringing (180) before the engine answers; zero answers at once.
    pub ring: std::time::Duration,
    /// The entry's answer mode (operator mode ignores `ring`).
    pub answer: crate::model::AnswerMode,
}

impl Route {
    /// A runner for this call's steps.
    pub fn start(&self) -> FlowRunner {
        FlowRunner::new(self.branch, self.steps.clone())
    }
}

pub(crate) fn branch_of(status: &CalendarStatus) -> Branch {
    match status {
        CalendarStatus::Open { .. } => Branch::Open,
        CalendarStatus::ClosedHours { .. } => Branch::ClosedHours,
        CalendarStatus::ClosedHoliday { .. } => Branch::ClosedHoliday,
        CalendarStatus::ClosedYearEnd { .. } => Branch::ClosedYearEnd,
        CalendarStatus::ClosedSpecial { .. } => Branch::ClosedSpecial,
    }
}

/// The entry for `user`: exact matches first, then prefixes and `*` in file order.
pub(crate) fn find_entry<'a>(entries: &'a [Entry], user: &str) -> Option<&'a Entry> {
    entries
        .iter()
        .find(|e| matches!(e.pattern, Match::Exact(_)) && e.pattern.matches(user))
        .or_else(|| entries.iter().find(|e| e.pattern.matches(user)))
}

pub(crate) fn route(
    dialplan: &Dialplan,
    user: &str,
    at: DateTime<Utc>,
    draw: f64,
) -> Option<Route> {
    let entry = find_entry(&dialplan.entries, user)?;
    // The checker guarantees the calendar exists; a miss would be a bug, answered as no route.
    let calendar = dialplan.calendar(&entry.calendar)?;
    let status = calendar.status_at(at);
    let local_time = calendar.local(at);
    let date = local_time.date_naive();
    let branch = branch_of(&status);
    let recording = match branch {
        Branch::Open => entry.recording.decide(draw),
        _ => RecordingDecision::Off,
    };

    let (steps, notices) = if branch == Branch::Open {
        let notices: Vec<_> = dialplan
            .notices
            .iter()
            .filter(|n| n.entries.is_empty() || n.entries.contains(&entry.name))
            .filter(|n| n.days.matches(date))
            .collect();
        let mut steps: Vec<Step> = Vec::new();
        steps.extend(
            entry
                .greeting
                .iter()
                .map(|p| Step::Play { prompt: p.clone() }),
        );
        if recording.needs_notice() {
            steps.extend(
                entry
                    .recording_notice
                    .iter()
                    .map(|p| Step::Play { prompt: p.clone() }),
            );
        }
        steps.extend(notices.iter().map(|n| Step::Play {
            prompt: n.prompt.clone(),
        }));
        steps.extend(entry.branches.open.iter().cloned());
        (
            Arc::from(steps),
            notices.iter().map(|n| n.name.clone()).collect(),
        )
    } else {
        // The checker guarantees a reachable closed branch has steps; hang up otherwise.
        let steps = entry
            .branches
            .steps(branch)
            .cloned()
            .unwrap_or_else(|| Arc::from(vec![Step::Hangup]));
        (steps, Vec::new())
    };

    // The Request-URI user is the number dialled, not the caller's; still kept out of logs.
    tracing::debug!(
        entry = %entry.name,
        branch = %branch,
        ?recording,
        notices = notices.len(),
        "routed call"
    );
    Some(Route {
        entry: entry.name.clone(),
        calendar: calendar.name.clone(),
        branch,
        status,
        local_time,
        holiday: holiday_on(date),
        notices,
        recording,
        steps,
        ring: entry.ring,
        answer: entry.answer.clone(),
    })
}
