//! The dialplan: what a call to the hotline hears, decided by the number dialled, the service
//! calendar and the caller's DTMF digits.
//!
//! # Layout
//! - [`error`]: [`CheckError`] / [`CheckErrors`], every problem in a file with line and key.
//! - `parse`, `steps`, `queues`, `targets`, `calendars`, `date_rule`: the checker turning TOML
//!   into the [`model`].
//! - [`route`]: [`Dialplan::route`] picks the entry and the calendar branch for a call.
//! - [`recording`]: [`RecordingPolicy`] per entry and queue, the [`RecordingDecision`] per call.
//! - [`flow`]: [`FlowRunner`], the sans-IO interpreter of a branch's (or a target's) steps.
//! - [`announce`]: the prompts of a queue position/wait announcement.
//! - [`features`]: operator feature codes (`*50` pause, …).
//! - [`languages`]: `[languages]`; each language registers every prompt again as
//!   `"<lang>/<name>"`, and [`Dialplan::prompt_for`] picks the one a caller hears after a
//!   `{ language = … }` step ([`FlowRunner::language`]).
//! - [`simulate`]: [`Simulation`], what `madoguchi dialplan simulate` prints.
//!
//! # Driving
//! Load once at start-up (the only IO here: reading the file and checking that prompt files
//! exist), then per call: `route(user, invite_instant, draw)` → `Route::start()` → drive the
//! [`FlowRunner`] as its docs say. A caller joining a queue gets its recording decision from
//! [`Queue::recording_at_join`]. A transfer whose target is closed
//! ([`Dialplan::target_is_open`]) or fails continues with [`Dialplan::target_steps`].
//!
//! ```no_run
//! use std::path::Path;
//! use chrono::Utc;
//! use madoguchi_dialplan::{Dialplan, FlowAction};
//!
//! let dialplan = Dialplan::load(Path::new("dialplans/zama.toml")).unwrap();
//! # let invite_instant = chrono::DateTime::<Utc>::UNIX_EPOCH;
//! // Uniform in [0, 1) from the engine's seeded RNG: decides a `recording = 0.3` share.
//! # let draw = 0.5;
//! if let Some(route) = dialplan.route("0120000000", invite_instant, draw) {
//!     // route.recording: record, on demand, or off; the notice is already among the steps.
//!     let mut flow = route.start();
//!     while let Some(action) = flow.poll_action() {
//!         // carry out Play / StartTimer / Queue / Transfer / Hangup …
//! #       let _ = action;
//!     }
//! }
//! ```
//!
//! The file format is documented key by key in `dialplans/zama.toml`.

pub mod announce;
mod calendars;
mod date_rule;
pub mod devices;
pub mod error;
pub mod features;
pub mod flow;
pub mod languages;
pub mod model;
mod parse;
mod queues;
pub mod recording;
mod recording_check;
pub mod route;
pub mod simulate;
mod steps;
mod targets;
mod toml_walk;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_calendar::Calendar;

pub use date_rule::parse_date_rule;
pub use devices::Devices;
pub use error::{CheckError, CheckErrors};
pub use features::{FeatureCode, Features};
pub use flow::{FlowAction, FlowRunner};
pub use languages::{is_language_code, Language, LanguageFallback, Languages};
pub use model::{
    AnswerMode, Branch, Branches, CallerIdPolicy, Category, Entry, Match, Menu, Notice,
    OnEarlyLimit, OnFailure, Prompt, Queue, QueueMember, QueueStrategy, Step, Steps, Target,
    TargetSteps,
};
pub use parse::{DEFAULT_RECORDING_NOTICE, DEFAULT_SOUNDS_DIR};
pub use recording::{RecordingDecision, RecordingPolicy};
pub use route::Route;
pub use simulate::{SimQueue, SimStep, SimTransfer, Simulation};

/// A checked dialplan. Cheap to share by reference across calls; immutable once loaded.
#[derive(Debug, Clone)]
pub struct Dialplan {
    name: Option<String>,
    prompts: Vec<model::Prompt>,
    calendars: Vec<Calendar>,
    queues: Vec<Queue>,
    targets: Vec<Target>,
    entries: Vec<Entry>,
    notices: Vec<Notice>,
    categories: Vec<Category>,
    features: Features,
    languages: Languages,
    devices: Devices,
}

impl Dialplan {
    /// Reads, parses and checks the file at `path`. Prompt files are looked up relative to
    /// the file's folder.
    pub fn load(path: &Path) -> Result<Dialplan, CheckErrors> {
        let file_name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CheckErrors {
            errors: vec![CheckError {
                file: file_name.clone(),
                line: 0,
                column: 0,
                key: String::new(),
                message: format!("cannot read the dialplan: {e}"),
            }],
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        Dialplan::parse(&file_name, &text, base_dir)
    }

    /// Parses and checks `text`; `file_name` is only used in error messages and `base_dir` is
    /// the folder `sounds_dir` is relative to. Checks that every prompt file exists.
    pub fn parse(file_name: &str, text: &str, base_dir: &Path) -> Result<Dialplan, CheckErrors> {
        let parts = parse::parse_parts(file_name, text, base_dir)?;
        Ok(Dialplan {
            name: parts.name,
            prompts: parts.prompts,
            calendars: parts.calendars,
            queues: parts.queues,
            targets: parts.targets,
            entries: parts.entries,
            notices: parts.notices,
            categories: parts.categories,
            features: parts.features,
            languages: parts.languages,
            devices: parts.devices,
        })
    }

    /// The `name` key at the top of the file.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Every prompt and its resolved file: those declared, in file order (used or not, so the
    /// prompt cache can encode them all at start-up), then the queue announcement words when a
    /// queue announces position or wait (see [`announce`]).
    pub fn prompt_files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.prompts
            .iter()
            .map(|p| (p.name.as_str(), p.file.as_path()))
    }

    /// The `[languages]` section (empty when the file has none).
    pub fn languages(&self) -> &Languages {
        &self.languages
    }

    /// The `[devices]` section (no calendar when the file has none).
    pub fn devices(&self) -> &Devices {
        &self.devices
    }

    /// The calendar a device's silence is alerted within; `None`: alert at any hour.
    pub fn devices_calendar(&self) -> Option<&Calendar> {
        self.devices
            .calendar
            .as_deref()
            .and_then(|name| self.calendar(name))
    }

    /// The prompt a call in `language` plays for `name`: `"<language>/<name>"` when that
    /// language registered it, else `name` (the default language, or no language chosen).
    pub fn prompt_for(&self, language: Option<&str>, name: &str) -> String {
        if let Some(lang) = language {
            let localized = format!("{lang}/{name}");
            if self.prompt_file(&localized).is_some() {
                return localized;
            }
        }
        name.to_string()
    }

    /// The file of one prompt.
    pub fn prompt_file(&self, name: &str) -> Option<&Path> {
        self.prompts
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.file.as_path())
    }

    /// What a call to `request_user` arriving at `at` gets; `None` when no entry matches (the
    /// engine answers 404). `draw`, uniform in `[0, 1)` from the engine's seeded RNG, decides
    /// whether a call falls in a `recording` share ([`RecordingPolicy::decide`]).
    pub fn route(&self, request_user: &str, at: DateTime<Utc>, draw: f64) -> Option<Route> {
        route::route(self, request_user, at, draw)
    }

    /// The inquiry categories, in the order of the file.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn calendars(&self) -> &[Calendar] {
        &self.calendars
    }

    pub fn calendar(&self, name: &str) -> Option<&Calendar> {
        self.calendars.iter().find(|c| c.name == name)
    }

    pub fn queues(&self) -> &[Queue] {
        &self.queues
    }

    pub fn queue(&self, name: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.name == name)
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Whether `target` takes calls at `at`: always when it has no calendar; never when the
    /// dialplan has no such target (nothing undeclared is ever dialled).
    pub fn target_is_open(&self, target: &str, at: DateTime<Utc>) -> bool {
        let Some(t) = self.target(target) else {
            return false;
        };
        match &t.calendar {
            None => true,
            // The checker guarantees the calendar exists; a miss counts as closed.
            Some(c) => self.calendar(c).is_some_and(|c| c.status_at(at).is_open()),
        }
    }

    /// A runner for the target's `closed` or `failed` steps (None when none are written: the
    /// call then carries on after the step that asked for the transfer).
    pub fn target_steps(&self, target: &str, kind: TargetSteps) -> Option<FlowRunner> {
        let t = self.target(target)?;
        let steps = match kind {
            TargetSteps::Closed => t.closed.as_ref(),
            TargetSteps::Failed => t.failed.as_ref(),
        }?;
        Some(FlowRunner::for_target(&t.name, kind, steps.clone()))
    }

    /// The operator feature codes.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Names of the prompts a position/wait announcement plays, in order: `position` is
    /// 1-based (0 says no position), `wait` the estimate (`None` says no wait). Every name is
    /// among [`Dialplan::prompt_files`] when a queue announces position (resp. wait).
    pub fn queue_announcement(&self, position: usize, wait: Option<Duration>) -> Vec<String> {
        announce::queue_announcement(position, wait)
    }
}
