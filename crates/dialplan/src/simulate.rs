//! [`Simulation`]: what a call at a given instant would get, for
//! `madoguchi dialplan simulate FILE --at RFC3339 [--to USER] [--json]`.
//!
//! The crate prints nothing: the CLI writes the `Display` form, or `serde_json` of the value
//! with `--json`. Steps are flattened depth-first with their nesting depth, so menu choices
//! appear under their menu and a closed target's steps under the transfer. Queues are listed
//! with their settings, transfer targets with whether they are open at that instant.
//!
//! Recording is shown as the policy in force, not one call's decision: the call is routed with
//! draw 0.0, so under a share the steps are those of a call drawn into it (with the notice).

use std::fmt;

use chrono::{DateTime, Utc};
use madoguchi_calendar::CalendarStatus;
use serde::Serialize;

use crate::model::{
    AnswerMode, Branch, CallerIdPolicy, OnEarlyLimit, OnFailure, Queue, QueueMember, QueueStrategy,
    Step, Target,
};
use crate::recording::RecordingPolicy;
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
    /// The entry's recording policy on the open branch; `off` on a closed one.
    pub recording: RecordingPolicy,
    /// Who answers: `engine`, or `operator` with the early-media limit and what happens then
    /// (the limit's steps follow the branch's as an `early_limit` step).
    pub answer: Option<String>,
    pub steps: Vec<SimStep>,
    /// Queues the call may reach, in step order, without duplicates.
    pub queues: Vec<SimQueue>,
    /// Transfer targets the call may reach (transfer steps and queue overflows), in step order,
    /// without duplicates.
    pub transfers: Vec<SimTransfer>,
}

/// One step, flattened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimStep {
    /// 0 for branch steps, +1 inside each menu choice or default.
    pub depth: usize,
    /// `play`, `pause`, `menu`, `choice`, `default`, `hangup`, `queue`, `transfer`, `language`,
    /// `callback`, `early_limit` (an `answer = "operator"` call unanswered at its limit: its
    /// `on_early_limit` steps follow), `closed`
    /// (a transfer target closed at that instant: its steps follow), or `end` (the implicit
    /// hang-up when a branch runs out of steps).
    pub kind: String,
    pub detail: String,
}

/// A queue the call may reach and its settings (durations in seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimQueue {
    pub name: String,
    pub label: Option<String>,
    pub strategy: QueueStrategy,
    pub ring_timeout_s: u64,
    pub wrap_up_s: u64,
    pub max_wait_s: Option<u64>,
    pub overflow: Option<String>,
    pub join_empty: bool,
    pub leave_when_empty: bool,
    pub auto_pause_after: Option<u32>,
    pub max_callers: Option<usize>,
    pub music: Option<String>,
    pub announce: Option<String>,
    pub announce_every_s: Option<u64>,
    pub announce_position: bool,
    pub announce_wait: bool,
    /// `None`: every agent-role user, tier 1.
    pub members: Option<Vec<QueueMember>>,
    /// Replaces the entry's recording decision on joining; `None` keeps it.
    pub recording: Option<RecordingPolicy>,
    /// The notice played on joining when needed and not yet heard.
    pub recording_notice: Option<String>,
}

/// A transfer target the call may reach, and whether it is open at the simulated instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimTransfer {
    pub target: String,
    /// The deployment setting that holds the target's URI.
    pub setting: String,
    pub calendar: Option<String>,
    /// Open at the simulated instant (always, without a calendar).
    pub open: bool,
    /// The target calendar's status in words.
    pub status: Option<String>,
    pub announce: Option<String>,
    pub ring_timeout_s: u64,
    pub caller_id: CallerIdPolicy,
    pub on_failure: OnFailure,
    pub has_closed_steps: bool,
    pub has_failed_steps: bool,
}

impl Dialplan {
    /// What a call to `request_user` at `at` would get (routed with draw 0.0: see the module
    /// docs).
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
            recording: RecordingPolicy::Off,
            answer: None,
            steps: Vec::new(),
            queues: Vec::new(),
            transfers: Vec::new(),
        };
        let Some(route) = self.route(request_user, at, 0.0) else {
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
        if route.branch == Branch::Open {
            sim.recording = self
                .entries
                .iter()
                .find(|e| e.name == route.entry)
                .map_or(RecordingPolicy::Off, |e| e.recording);
        }
        self.flatten(&route.steps, 0, None, &mut sim);
        if !matches!(route.steps.last(), Some(Step::Hangup)) {
            sim.steps.push(SimStep {
                depth: 0,
                kind: "end".into(),
                detail: "hang up".into(),
            });
        }
        self.simulate_answer(&route.answer, &mut sim);
        sim
    }

    /// The answer mode, and what an operator-mode call unanswered at its limit runs.
    fn simulate_answer(&self, answer: &AnswerMode, sim: &mut Simulation) {
        let AnswerMode::Operator {
            early_limit,
            on_early_limit,
        } = answer
        else {
            sim.answer = Some("engine".into());
            return;
        };
        let limit = early_limit.as_secs();
        sim.answer = Some(format!("operator (early media, at most {limit} s)"));
        let detail = match on_early_limit {
            OnEarlyLimit::Answer => format!("after {limit} s unanswered: answer, keep waiting"),
            OnEarlyLimit::Steps(_) => {
                format!("after {limit} s unanswered: answer, leave the queue, then")
            }
        };
        sim.steps.push(SimStep {
            depth: 0,
            kind: "early_limit".into(),
            detail,
        });
        if let OnEarlyLimit::Steps(steps) = on_early_limit {
            self.flatten(steps, 1, None, sim);
        }
    }

    /// `language`: chosen by an earlier `{ language = … }` step; it holds for the rest of
    /// `steps` and the lists nested in them (each menu choice is shown as if taken).
    fn flatten(&self, steps: &[Step], depth: usize, language: Option<&str>, sim: &mut Simulation) {
        let mut language = language;
        for step in steps {
            let (kind, detail) = match step {
                Step::Play { prompt } => ("play", self.describe_prompt(language, prompt)),
                Step::Language(code) => {
                    language = Some(code.as_str());
                    let label = self
                        .languages()
                        .get(code)
                        .map_or(String::new(), |l| format!(" ({})", l.label));
                    ("language", format!("{code}{label}"))
                }
                Step::Pause { duration } => ("pause", format!("{} ms", duration.as_millis())),
                Step::Hangup => ("hangup", String::new()),
                Step::Callback { prompt } => (
                    "callback",
                    format!(
                        "{} (then hang up: callback requested)",
                        self.describe_prompt(language, prompt)
                    ),
                ),
                Step::Queue { queue, priority } => {
                    let q = self.queue(queue);
                    if let Some(q) = q.filter(|_| !sim.queues.iter().any(|s| &s.name == queue)) {
                        sim.queues.push(sim_queue(q));
                    }
                    let priority = match priority {
                        0 => String::new(),
                        p => format!(", priority {p}"),
                    };
                    match q.and_then(|q| q.overflow.as_deref()) {
                        Some(target) => {
                            let t = self.note_transfer(target, sim);
                            let open = if t.open { "open" } else { "closed" };
                            let detail = format!(
                                "{queue}{priority} (overflow: transfer {target}, {open} now)"
                            );
                            ("queue", detail)
                        }
                        None => ("queue", format!("{queue}{priority}")),
                    }
                }
                Step::Transfer { target } => {
                    let t = self.note_transfer(target, sim);
                    let open = if t.open { "open" } else { "closed" };
                    sim.steps.push(SimStep {
                        depth,
                        kind: "transfer".into(),
                        detail: format!("{target} (setting {}, {open} now)", t.setting),
                    });
                    if !t.open {
                        self.flatten_closed(target, depth + 1, language, sim);
                    }
                    continue;
                }
                Step::Menu(menu) => {
                    let invalid = menu
                        .invalid
                        .as_deref()
                        .map(|p| format!(", invalid {}", self.prompt_for(language, p)))
                        .unwrap_or_default();
                    sim.steps.push(SimStep {
                        depth,
                        kind: "menu".into(),
                        detail: format!(
                            "{} (timeout {} s, retries {}{invalid})",
                            menu.prompts
                                .iter()
                                .map(|p| self.describe_prompt(language, p))
                                .collect::<Vec<_>>()
                                .join(" + "),
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
                        self.flatten(steps, depth + 2, language, sim);
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
                        self.flatten(steps, depth + 2, language, sim);
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

    /// What a transfer to a target closed at the simulated instant runs instead of ringing.
    fn flatten_closed(
        &self,
        target: &str,
        depth: usize,
        language: Option<&str>,
        sim: &mut Simulation,
    ) {
        let steps = self.target(target).and_then(|t| t.closed.clone());
        let detail = match steps {
            Some(_) => format!("{target} is closed: its closed steps run"),
            None => format!("{target} is closed: the call carries on after the transfer"),
        };
        sim.steps.push(SimStep {
            depth,
            kind: "closed".into(),
            detail,
        });
        if let Some(steps) = steps {
            // The checker rules out transfer loops, so this recursion ends.
            self.flatten(&steps, depth + 1, language, sim);
        }
    }

    /// Adds `target` to the reachable transfers (once) and returns its entry.
    fn note_transfer(&self, target: &str, sim: &mut Simulation) -> SimTransfer {
        if let Some(t) = sim.transfers.iter().find(|t| t.target == target) {
            return t.clone();
        }
        let t = match self.target(target) {
            Some(t) => self.sim_transfer(t, sim.at),
            // The checker makes every target exist; show the name rather than fail.
            None => SimTransfer {
                target: target.to_string(),
                setting: String::new(),
                calendar: None,
                open: false,
                status: None,
                announce: None,
                ring_timeout_s: 0,
                caller_id: CallerIdPolicy::default(),
                on_failure: OnFailure::default(),
                has_closed_steps: false,
                has_failed_steps: false,
            },
        };
        sim.transfers.push(t.clone());
        t
    }

    fn sim_transfer(&self, t: &Target, at: DateTime<Utc>) -> SimTransfer {
        let status = t
            .calendar
            .as_deref()
            .and_then(|c| self.calendar(c))
            .map(|c| describe_status(&c.status_at(at)));
        SimTransfer {
            target: t.name.clone(),
            setting: t.setting.clone(),
            calendar: t.calendar.clone(),
            open: self.target_is_open(&t.name, at),
            status,
            announce: t.announce.clone(),
            ring_timeout_s: t.ring_timeout.as_secs(),
            caller_id: t.caller_id,
            on_failure: t.on_failure,
            has_closed_steps: t.closed.is_some(),
            has_failed_steps: t.failed.is_some(),
        }
    }

    /// The prompt a call in `language` plays for `name`, with its file.
    fn describe_prompt(&self, language: Option<&str>, name: &str) -> String {
        let name = self.prompt_for(language, name);
        match self.prompt_file(&name) {
            Some(file) => format!("{name} ({})", file.display()),
            None => name.to_string(),
        }
    }
}

fn sim_queue(q: &Queue) -> SimQueue {
    SimQueue {
        name: q.name.clone(),
        label: q.label.clone(),
        strategy: q.strategy,
        ring_timeout_s: q.ring_timeout.as_secs(),
        wrap_up_s: q.wrap_up.as_secs(),
        max_wait_s: q.max_wait.map(|d| d.as_secs()),
        overflow: q.overflow.clone(),
        join_empty: q.join_empty,
        leave_when_empty: q.leave_when_empty,
        auto_pause_after: q.auto_pause_after,
        max_callers: q.max_callers,
        music: q.music.clone(),
        announce: q.announce.clone(),
        announce_every_s: q.announce_every.map(|d| d.as_secs()),
        announce_position: q.announce_position,
        announce_wait: q.announce_wait,
        members: q.members.clone(),
        recording: q.recording,
        recording_notice: q.recording_notice.clone(),
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
        match self.recording {
            RecordingPolicy::Share(_) => writeln!(
                f,
                "recording:  {} (the steps are those of a call drawn into the share)",
                self.recording
            )?,
            policy => writeln!(f, "recording:  {policy}")?,
        }
        if let Some(answer) = &self.answer {
            writeln!(f, "answer:     {answer}")?;
        }
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
            writeln!(f, "queues:")?;
            for q in &self.queues {
                writeln!(f, "  {q}")?;
            }
        }
        if !self.transfers.is_empty() {
            writeln!(f, "transfers:")?;
            for t in &self.transfers {
                writeln!(f, "  {t}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(label) = &self.label {
            write!(f, " ({label})")?;
        }
        write!(
            f,
            ": {}, ring {} s, wrap-up {} s",
            self.strategy.label(),
            self.ring_timeout_s,
            self.wrap_up_s
        )?;
        match (self.max_wait_s, &self.overflow) {
            (Some(s), Some(t)) => write!(f, ", max wait {s} s then {t}")?,
            (Some(s), None) => write!(f, ", max wait {s} s")?,
            (None, Some(t)) => write!(f, ", overflow {t}")?,
            (None, None) => {}
        }
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        write!(
            f,
            ", join empty {}, leave when empty {}",
            yes_no(self.join_empty),
            yes_no(self.leave_when_empty)
        )?;
        match self.auto_pause_after {
            Some(n) => write!(f, ", auto-pause after {n} ring-outs")?,
            None => write!(f, ", no auto-pause")?,
        }
        if let Some(n) = self.max_callers {
            write!(f, ", at most {n} callers")?;
        }
        if let Some(m) = &self.music {
            write!(f, ", music {m}")?;
        }
        if let Some(a) = &self.announce {
            write!(f, ", announce {a}")?;
        }
        if let Some(s) = self.announce_every_s {
            write!(f, " every {s} s")?;
        }
        let said: Vec<&str> = [
            (self.announce_position, "position"),
            (self.announce_wait, "wait"),
        ]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect();
        if !said.is_empty() {
            write!(f, ", says {}", said.join(" and "))?;
        }
        if let Some(policy) = self.recording {
            write!(f, ", recording {policy}")?;
            if let Some(notice) = self
                .recording_notice
                .as_ref()
                .filter(|_| policy.may_record())
            {
                write!(f, " (notice {notice})")?;
            }
        }
        match &self.members {
            None => write!(f, ", members: every agent"),
            Some(members) => {
                let m: Vec<String> = members
                    .iter()
                    .map(|m| match (m.tier, m.penalty) {
                        (1, 0) => m.login.clone(),
                        (t, 0) => format!("{} (tier {t})", m.login),
                        (t, p) => format!("{} (tier {t}, penalty {p})", m.login),
                    })
                    .collect();
                write!(f, ", members: {}", m.join(", "))
            }
        }
    }
}

impl fmt::Display for SimTransfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (setting {}): ", self.target, self.setting)?;
        let open = if self.open { "open" } else { "closed" };
        match (&self.calendar, &self.status) {
            (Some(c), Some(s)) => write!(f, "{open} at this instant ({c}: {s})")?,
            _ => write!(f, "{open} (no calendar)")?,
        }
        if let Some(a) = &self.announce {
            write!(f, ", announce {a}")?;
        }
        let caller_id = match self.caller_id {
            CallerIdPolicy::Caller => "caller's number",
            CallerIdPolicy::Anonymous => "anonymous",
        };
        write!(f, ", ring {} s, {caller_id}", self.ring_timeout_s)?;
        let failed = match (self.on_failure, self.has_failed_steps) {
            (OnFailure::Requeue, true) => "requeue (else failed steps)",
            (OnFailure::Requeue, false) => "requeue",
            (OnFailure::Steps, true) => "failed steps",
            (OnFailure::Steps, false) => "carry on after the transfer",
        };
        write!(f, ", on failure: {failed}")
    }
}
