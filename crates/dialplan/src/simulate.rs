//! [`Simulation`]: what a call at a given instant would get, for
//! `madoguchi dialplan simulate FILE --at RFC3339 [--to USER] [--json]`.
//!
//! The crate prints nothing: the CLI writes the `Display` form, or `serde_json` of the value
//! with `--json`. Steps are flattened depth-first with their nesting depth, so menu choices
//! appear under their menu.

use std::fmt;

use chrono::{DateTime, Utc};
use madoguchi_calendar::CalendarStatus;
use serde::Serialize;

use crate::model::{Branch, Step};
use crate::Dialplan;

/// The outcome of routing one hypothetical call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    pub request_user: String,
    pub at: DateTime<Utc>,
    /// `None` when no entry matches (the engine would answer 404); the fields below are then
    /// empty.
    pub entry: Option<String>,
    pub calendar: Option<String>,
    /// RFC 3339 in the calendar's time zone.
    pub local_time: Option<String>,
    pub weekday: Option<String>,
    pub branch: Option<Branch>,
    /// The calendar status in words (closing time, next opening, closure label).
    pub status: Option<String>,
    pub holiday: Option<String>,
    pub notices: Vec<String>,
    pub recording: bool,
    pub steps: Vec<SimStep>,
    /// Queues the call may reach, in step order, without duplicates.
    pub queues: Vec<String>,
    /// Transfer targets the call may reach (transfer steps and queue overflows), in step order,
    /// without duplicates.
    pub transfers: Vec<SimTransfer>,
}

/// One step, flattened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimStep {
    /// 0 for branch steps, +1 inside each menu choice or default.
    pub depth: usize,
    /// `play`, `pause`, `menu`, `choice`, `default`, `hangup`, `queue`, `transfer`, or `end`
    /// (the implicit hang-up when a branch runs out of steps).
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimTransfer {
    pub target: String,
    /// The deployment setting that holds the target's URI.
    pub setting: String,
}

impl Dialplan {
    /// What a call to `request_user` at `at` would get.
    pub fn simulate(&self, request_user: &str, at: DateTime<Utc>) -> Simulation {
        let mut sim = Simulation {
            request_user: request_user.to_string(),
            at,
            entry: None,
            calendar: None,
            local_time: None,
            weekday: None,
            branch: None,
            status: None,
            holiday: None,
            notices: Vec::new(),
            recording: false,
            steps: Vec::new(),
            queues: Vec::new(),
            transfers: Vec::new(),
        };
        let Some(route) = self.route(request_user, at) else {
            return sim;
        };
        sim.entry = Some(route.entry.clone());
        sim.calendar = Some(route.calendar.clone());
        sim.local_time = Some(route.local_time.to_rfc3339());
        sim.weekday = Some(route.local_time.format("%a").to_string());
        sim.branch = Some(route.branch);
        sim.status = Some(describe_status(&route.status));
        sim.holiday = route.holiday.map(str::to_string);
        sim.notices = route.notices.clone();
        sim.recording = route.recording;
        self.flatten(&route.steps, 0, &mut sim);
        if !matches!(route.steps.last(), Some(Step::Hangup)) {
            sim.steps.push(SimStep {
                depth: 0,
                kind: "end".into(),
                detail: "hang up".into(),
            });
        }
        sim
    }

    fn flatten(&self, steps: &[Step], depth: usize, sim: &mut Simulation) {
        for step in steps {
            let (kind, detail) = match step {
                Step::Play { prompt } => ("play", self.describe_prompt(prompt)),
                Step::Pause { duration } => ("pause", format!("{} ms", duration.as_millis())),
                Step::Hangup => ("hangup", String::new()),
                Step::Queue { queue } => {
                    if !sim.queues.contains(queue) {
                        sim.queues.push(queue.clone());
                    }
                    match self.queue(queue).and_then(|q| q.overflow.as_deref()) {
                        Some(target) => {
                            self.note_transfer(target, sim);
                            ("queue", format!("{queue} (overflow: transfer {target})"))
                        }
                        None => ("queue", queue.clone()),
                    }
                }
                Step::Transfer { target } => {
                    let setting = self.note_transfer(target, sim);
                    ("transfer", format!("{target} (setting {setting})"))
                }
                Step::Menu(menu) => {
                    let invalid = menu
                        .invalid
                        .as_deref()
                        .map(|p| format!(", invalid {p}"))
                        .unwrap_or_default();
                    sim.steps.push(SimStep {
                        depth,
                        kind: "menu".into(),
                        detail: format!(
                            "{} (timeout {} s, retries {}{invalid})",
                            self.describe_prompt(&menu.prompt),
                            menu.timeout.as_secs(),
                            menu.retries
                        ),
                    });
                    for (digit, steps) in &menu.choices {
                        sim.steps.push(SimStep {
                            depth: depth + 1,
                            kind: "choice".into(),
                            detail: digit.to_string(),
                        });
                        self.flatten(steps, depth + 2, sim);
                    }
                    let default = if menu.default.is_some() {
                        "no valid choice"
                    } else {
                        "no valid choice: hang up"
                    };
                    sim.steps.push(SimStep {
                        depth: depth + 1,
                        kind: "default".into(),
                        detail: default.into(),
                    });
                    if let Some(steps) = &menu.default {
                        self.flatten(steps, depth + 2, sim);
                    }
                    continue;
                }
            };
            sim.steps.push(SimStep {
                depth,
                kind: kind.into(),
                detail,
            });
        }
    }

    /// Adds `target` to the reachable transfers; returns its setting name.
    fn note_transfer(&self, target: &str, sim: &mut Simulation) -> String {
        let setting = self
            .target(target)
            .map(|t| t.setting.clone())
            .unwrap_or_default();
        if !sim.transfers.iter().any(|t| t.target == target) {
            sim.transfers.push(SimTransfer {
                target: target.to_string(),
                setting: setting.clone(),
            });
        }
        setting
    }

    fn describe_prompt(&self, name: &str) -> String {
        match self.prompt_file(name) {
            Some(file) => format!("{name} ({})", file.display()),
            None => name.to_string(),
        }
    }
}

fn describe_status(status: &CalendarStatus) -> String {
    match status {
        CalendarStatus::Open { closes_at } => format!("open until {}", closes_at.to_rfc3339()),
        CalendarStatus::ClosedHours { next_open: Some(t) } => {
            format!("outside hours, opens {}", t.to_rfc3339())
        }
        CalendarStatus::ClosedHours { next_open: None } => "outside hours".into(),
        CalendarStatus::ClosedHoliday { name } => format!("closed for the holiday {name}"),
        CalendarStatus::ClosedYearEnd { label } => format!("year-end closure {label}"),
        CalendarStatus::ClosedSpecial { label } => format!("special closure {label}"),
    }
}

impl fmt::Display for Simulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "call to {} at {}",
            self.request_user,
            self.at.to_rfc3339()
        )?;
        let Some(entry) = &self.entry else {
            return writeln!(f, "no entry matches: the call is rejected (404)");
        };
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        writeln!(f, "entry:      {entry}")?;
        writeln!(f, "calendar:   {}", opt(&self.calendar))?;
        writeln!(
            f,
            "local time: {} ({})",
            opt(&self.local_time),
            opt(&self.weekday)
        )?;
        writeln!(f, "holiday:    {}", self.holiday.as_deref().unwrap_or("-"))?;
        let branch = self.branch.map(|b| b.label()).unwrap_or_default();
        writeln!(f, "branch:     {branch} ({})", opt(&self.status))?;
        if !self.notices.is_empty() {
            writeln!(f, "notices:    {}", self.notices.join(", "))?;
        }
        writeln!(
            f,
            "recording:  {}",
            if self.recording { "yes" } else { "no" }
        )?;
        writeln!(f, "steps:")?;
        for s in &self.steps {
            let indent = "  ".repeat(s.depth + 1);
            if s.detail.is_empty() {
                writeln!(f, "{indent}{}", s.kind)?;
            } else {
                writeln!(f, "{indent}{} {}", s.kind, s.detail)?;
            }
        }
        if !self.queues.is_empty() {
            writeln!(f, "queues:     {}", self.queues.join(", "))?;
        }
        if !self.transfers.is_empty() {
            let t: Vec<String> = self
                .transfers
                .iter()
                .map(|t| format!("{} (setting {})", t.target, t.setting))
                .collect();
            writeln!(f, "transfers:  {}", t.join(", "))?;
        }
        Ok(())
    }
}
