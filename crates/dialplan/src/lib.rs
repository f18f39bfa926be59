//! The dialplan: what a call to the hotline hears, decided by the number dialled, the service
//! calendar and the caller's DTMF digits.
//!
//! # Layout
//! - [`error`]: [`CheckError`] / [`CheckErrors`], every problem in a file with line and key.
//! - `parse`, `steps`, `calendars`, `date_rule`: the checker turning TOML into the [`model`].
//! - [`route`]: [`Dialplan::route`] picks the entry and the calendar branch for a call.
//! - [`flow`]: [`FlowRunner`], the sans-IO interpreter of a branch's steps.
//! - [`simulate`]: [`Simulation`], what `madoguchi dialplan simulate` prints.
//!
//! # Driving
//! Load once at start-up (the only IO here: reading the file and checking that prompt files
//! exist), then per call: `route(user, invite_instant)` → `Route::start()` → drive the
//! [`FlowRunner`] as its docs say.
//!
//! ```no_run
//! use std::path::Path;
//! use chrono::Utc;
//! use madoguchi_dialplan::{Dialplan, FlowAction};
//!
//! let dialplan = Dialplan::load(Path::new("dialplans/zama.toml")).unwrap();
//! # let invite_instant = chrono::DateTime::<Utc>::UNIX_EPOCH;
//! if let Some(route) = dialplan.route("0120000000", invite_instant) {
//!     let mut flow = route.start();
//!     while let Some(action) = flow.poll_action() {
//!         // carry out Play / StartTimer / Queue / Transfer / Hangup …
//! #       let _ = action;
//!     }
//! }
//! ```
//!
//! The file format is documented key by key in `dialplans/zama.toml`.

mod calendars;
mod date_rule;
pub mod error;
pub mod flow;
pub mod model;
mod parse;
pub mod route;
pub mod simulate;
mod steps;
mod toml_walk;

use std::path::Path;

use chrono::{DateTime, Utc};
use madoguchi_calendar::Calendar;

pub use date_rule::parse_date_rule;
pub use error::{CheckError, CheckErrors};
pub use flow::{FlowAction, FlowRunner};
pub use model::{
    Branch, Branches, Category, Entry, Match, Menu, Notice, Prompt, Queue, Step, Steps, Target,
};
pub use parse::{DEFAULT_RECORDING_NOTICE, DEFAULT_SOUNDS_DIR};
pub use route::Route;
pub use simulate::{SimStep, SimTransfer, Simulation};

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
        })
    }

    /// The `name` key at the top of the file.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Every declared prompt and its resolved file, in file order (used or not, so the prompt
    /// cache can encode them all at start-up).
    pub fn prompt_files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.prompts
            .iter()
            .map(|p| (p.name.as_str(), p.file.as_path()))
    }

    /// The file of one prompt.
    pub fn prompt_file(&self, name: &str) -> Option<&Path> {
        self.prompts
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.file.as_path())
    }

    /// What a call to `request_user` arriving at `at` gets; `None` when no entry matches (the
    /// engine answers 404).
    pub fn route(&self, request_user: &str, at: DateTime<Utc>) -> Option<Route> {
        route::route(self, request_user, at)
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
}
