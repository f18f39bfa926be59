//! The checked dialplan model: prompts, calendars, queues, transfer targets, entries with their
//! branches of steps, date-bound notices, inquiry categories and operator feature codes.
//!
//! Everything here has passed the checker (see [`crate::parse`]): every name a step refers to
//! exists, every time range is valid. Step lists are shared (`Arc<[Step]>`) so that starting a
//! [`crate::FlowRunner`] per call costs a few reference-count bumps, not a deep copy.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use madoguchi_calendar::{Calendar, DateRule};
use serde::Serialize;

use crate::recording::RecordingPolicy;

/// A shared, immutable list of steps.
pub type Steps = Arc<[Step]>;

/// A named announcement and the file that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub name: String,
    /// Resolved path: the dialplan's folder, then `sounds_dir`, then the file given.
    pub file: PathBuf,
}

/// One thing the call does, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Play a prompt to the end.
    Play { prompt: String },
    /// Silence for a while.
    Pause { duration: Duration },
    /// A DTMF menu.
    Menu(Arc<Menu>),
    /// Hang up (BYE).
    Hangup,
    /// Hand the call to a queue of operators; callers of higher `priority` are served first.
    Queue { queue: String, priority: i32 },
    /// Transfer the call to a target (a deployment setting, e.g. the city line).
    Transfer { target: String },
    /// From here on the call speaks this language: prompts are looked up as
    /// `"<language>/<name>"` first (see [`crate::Dialplan::prompt_for`]).
    Language(String),
    /// The caller asks to be called back: play `prompt`, then end the call (disposition
    /// `callback_requested`; the caller's number is on the record as for every call).
    Callback { prompt: String },
}

/// A DTMF menu: play `prompt`, wait `timeout` for a digit, retry on silence or a wrong digit.
#[derive(Debug, Clone, PartialEq)]
pub struct Menu {
    /// Played one after the other (`prompt = "menu"` or `prompt = ["menu", "offer"]`);
    /// never empty. A digit cuts whichever is playing.
    pub prompts: Vec<String>,
    /// How long to wait for a digit after the prompt ends.
    pub timeout: Duration,
    /// How many more times the menu is offered after the first attempt.
    pub retries: u32,
    /// Played after a digit that is not a choice.
    pub invalid: Option<String>,
    /// DTMF digit → steps, in file order.
    pub choices: Vec<(char, Steps)>,
    /// Run once the attempts are used up; without it the call is hung up.
    pub default: Option<Steps>,
}

impl Menu {
    pub fn choice(&self, digit: char) -> Option<&Steps> {
        self.choices
            .iter()
            .find(|(d, _)| d.eq_ignore_ascii_case(&digit))
            .map(|(_, s)| s)
    }
}

/// A queue of operators the dialplan can send calls to. Queue behaviour itself belongs to the
/// ACD; these are the dialplan-side settings it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub name: String,
    pub label: Option<String>,
    /// Prompt looped while waiting.
    pub music: Option<String>,
    /// Prompt announced periodically while waiting.
    pub announce: Option<String>,
    pub announce_every: Option<Duration>,
    /// Longest wait before the overflow applies.
    pub max_wait: Option<Duration>,
    /// Target to transfer to on overflow (no operator logged in, or `max_wait` reached).
    pub overflow: Option<String>,
    /// How a free operator is chosen.
    pub strategy: QueueStrategy,
    /// How long one offer rings before the next operator is tried.
    pub ring_timeout: Duration,
    /// After-call time during which the operator is offered nothing.
    pub wrap_up: Duration,
    /// Callers may join while no member is logged in.
    pub join_empty: bool,
    /// Waiting callers leave (overflow) when the last member logs out.
    pub leave_when_empty: bool,
    /// Pause an operator after this many consecutive ring-outs; `None` never does.
    pub auto_pause_after: Option<u32>,
    /// Callers beyond this many overflow on joining.
    pub max_callers: Option<usize>,
    /// Say the caller's place in line with the periodic announcement.
    pub announce_position: bool,
    /// Say the estimated wait with the periodic announcement.
    pub announce_wait: bool,
    /// The operators who take this queue's calls; `None`: every agent-role user, tier 1.
    pub members: Option<Vec<QueueMember>>,
    /// Replaces the call's recording decision when it joins (see
    /// [`Queue::recording_at_join`]); `None` keeps the entry's.
    pub recording: Option<RecordingPolicy>,
    /// The notice played before joining when the decision needs one not yet played: the
    /// `recording_notice` key, else the prompt "recording_notice" when declared.
    pub recording_notice: Option<String>,
}

/// How a queue picks among the free operators of its best tier (the ACD's vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStrategy {
    /// The operator idle the longest.
    #[default]
    LongestIdle,
    /// The next operator after the one offered last, in member order.
    RoundRobin,
    /// Every free operator of the tier at once; the first to answer takes the call.
    RingAll,
    /// The operator who has taken the fewest calls.
    FewestCalls,
}

impl QueueStrategy {
    pub const ALL: [QueueStrategy; 4] = [
        QueueStrategy::LongestIdle,
        QueueStrategy::RoundRobin,
        QueueStrategy::RingAll,
        QueueStrategy::FewestCalls,
    ];

    /// The value written in the dialplan (`longest_idle`, …).
    pub fn label(self) -> &'static str {
        match self {
            QueueStrategy::LongestIdle => "longest_idle",
            QueueStrategy::RoundRobin => "round_robin",
            QueueStrategy::RingAll => "ring_all",
            QueueStrategy::FewestCalls => "fewest_calls",
        }
    }
}

/// One operator of a queue. Member order is the round-robin order within a tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueMember {
    pub login: String,
    /// 1 is rung first; tier 2 only when nobody in tier 1 is free.
    pub tier: u8,
    /// Within a tier, a higher penalty is rung only when nobody with a lower one is free.
    pub penalty: u32,
}

/// A transfer destination. Its SIP URI is a deployment setting named by `setting`, so the same
/// dialplan runs at every site.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    /// Name of the deployment setting that holds the URI (e.g. `city_line`).
    pub setting: String,
    pub label: Option<String>,
    /// Calendar of the destination; outside it the target is closed. `None`: always open.
    pub calendar: Option<String>,
    /// Steps run instead of ringing while the target is closed.
    pub closed: Option<Steps>,
    /// Steps run when the destination is busy, does not answer or fails.
    pub failed: Option<Steps>,
    pub on_failure: OnFailure,
    /// How long the destination rings before the attempt counts as no answer.
    pub ring_timeout: Duration,
    pub caller_id: CallerIdPolicy,
    /// Played to the caller before dialling.
    pub announce: Option<String>,
}

/// Which of a target's step lists to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSteps {
    /// The target's calendar says it is closed.
    Closed,
    /// The destination was busy, did not answer or failed.
    Failed,
}

/// What a failed transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Run the target's `failed` steps.
    #[default]
    Steps,
    /// Back to the head of the queue the call came from; `failed` steps when it came from none.
    Requeue,
}

/// Which calling number the destination sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerIdPolicy {
    /// The caller's number, in From and P-Asserted-Identity.
    #[default]
    Caller,
    /// Anonymous (RFC 3323 privacy).
    Anonymous,
}

/// Which Request-URI users an entry answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// Exactly this user part.
    Exact(String),
    /// Any user part starting with this (written `0120*`).
    Prefix(String),
    /// Everything (`*`).
    Any,
}

impl Match {
    pub fn matches(&self, user: &str) -> bool {
        match self {
            Match::Exact(u) => u == user,
            Match::Prefix(p) => user.starts_with(p.as_str()),
            Match::Any => true,
        }
    }

    pub(crate) fn parse(s: &str) -> Match {
        if s == "*" {
            Match::Any
        } else if let Some(p) = s.strip_suffix('*') {
            Match::Prefix(p.to_string())
        } else {
            Match::Exact(s.to_string())
        }
    }
}

/// The branch a call takes, from the entry calendar's status at the call's instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Branch {
    Open,
    ClosedHours,
    ClosedHoliday,
    ClosedYearEnd,
    ClosedSpecial,
}

impl Branch {
    pub const ALL: [Branch; 5] = [
        Branch::Open,
        Branch::ClosedHours,
        Branch::ClosedHoliday,
        Branch::ClosedYearEnd,
        Branch::ClosedSpecial,
    ];

    /// The branch's key in the dialplan file and in call records.
    pub fn label(self) -> &'static str {
        match self {
            Branch::Open => "open",
            Branch::ClosedHours => "closed_hours",
            Branch::ClosedHoliday => "closed_holiday",
            Branch::ClosedYearEnd => "closed_year_end",
            Branch::ClosedSpecial => "closed_special",
        }
    }
}

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The steps of every branch of an entry. A closed branch not written in the file falls back
/// to `closed`; the checker makes sure every branch the calendar can produce has steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Branches {
    pub open: Steps,
    pub closed: Option<Steps>,
    pub closed_hours: Option<Steps>,
    pub closed_holiday: Option<Steps>,
    pub closed_year_end: Option<Steps>,
    pub closed_special: Option<Steps>,
}

impl Branches {
    /// The steps for `branch`, after the fallback to `closed`.
    pub fn steps(&self, branch: Branch) -> Option<&Steps> {
        let specific = match branch {
            Branch::Open => return Some(&self.open),
            Branch::ClosedHours => &self.closed_hours,
            Branch::ClosedHoliday => &self.closed_holiday,
            Branch::ClosedYearEnd => &self.closed_year_end,
            Branch::ClosedSpecial => &self.closed_special,
        };
        specific.as_ref().or(self.closed.as_ref())
    }
}

/// A dialplan entry: which calls it takes and what they hear.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its name in call records (`name`, or the `match` string when absent).
    pub name: String,
    pub pattern: Match,
    /// Name of the calendar deciding the branch.
    pub calendar: String,
    /// Played first in the open branch.
    pub greeting: Option<String>,
    /// Which calls are recorded; when a call may be, the recording notice plays after the
    /// greeting (open branch only).
    pub recording: RecordingPolicy,
    /// The prompt telling the caller the call may be recorded; always set when `recording`
    /// may record.
    pub recording_notice: Option<String>,
    /// How long the caller hears ringing (180) before the call is answered.
    pub ring: std::time::Duration,
    /// Who answers the call (the 200 OK): the engine at once, or the first person.
    pub answer: AnswerMode,
    pub branches: Branches,
}

/// When the caller's 200 OK is sent (`answer` of an entry).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnswerMode {
    /// The engine answers before the flow runs (after `ring`).
    #[default]
    Engine,
    /// The flow runs in early media (183 with SDP); the 200 waits for an operator or a
    /// transfer target, at most `early_limit`.
    Operator {
        early_limit: Duration,
        on_early_limit: OnEarlyLimit,
    },
}

/// What happens when an `answer = "operator"` call reaches its `early_limit` unanswered.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum OnEarlyLimit {
    /// The engine answers; the caller keeps its place in the queue.
    #[default]
    Answer,
    /// The engine answers, the caller leaves the queue and these steps run (answered), e.g.
    /// a menu offering a callback.
    Steps(Steps),
}

/// An announcement played at the start of the open branch on the days its rule matches
/// (e.g. J-LIS maintenance on the Sunday after the 3rd Saturday).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub name: String,
    /// Matched against the local date in the calendar of the entry taking the call.
    pub days: DateRule,
    pub prompt: String,
    /// Entries it applies to; empty means every entry.
    pub entries: Vec<String>,
}

/// An inquiry category operators classify calls by (the city's are ア〜ケ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub code: String,
    pub label: String,
}

impl Category {
    /// The nine inquiry categories of the reference city (ア〜ケ), in report order: what a
    /// dialplan without `[[categories]]` gets.
    pub fn city_defaults() -> Vec<Category> {
        [
            ("ア", "マイナンバー制度全般"),
            ("イ", "カードの申請"),
            ("ウ", "カードの交付"),
            ("エ", "電子証明書"),
            (
                "オ",
                "紛失・暗証番号変更・券面記載事項変更・一時停止解除・返納",
            ),
            ("カ", "健康保険証との紐づけ"),
            ("キ", "公金受取口座の登録"),
            ("ク", "市デジタル推進課マイナンバー係について"),
            ("ケ", "その他"),
        ]
        .into_iter()
        .map(|(code, label)| Category {
            code: code.to_owned(),
            label: label.to_owned(),
        })
        .collect()
    }
}

/// The parts of a checked dialplan, before the entries are ordered for routing.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    pub name: Option<String>,
    pub prompts: Vec<Prompt>,
    pub calendars: Vec<Calendar>,
    pub queues: Vec<Queue>,
    pub targets: Vec<Target>,
    pub entries: Vec<Entry>,
    pub notices: Vec<Notice>,
    pub categories: Vec<Category>,
    pub features: crate::features::Features,
    pub languages: crate::languages::Languages,
    pub devices: crate::devices::Devices,
}
