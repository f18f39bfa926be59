//! Reloading the dialplan and its prompts while the engine runs: on SIGHUP and on
//! `POST /api/v1/admin/reload` (admins).
//!
//! One task does every reload, one at a time, off the engine task (reading and decoding
//! files takes a while; calls must not wait for it):
//! ```text
//!   Dialplan::load(path given at start)   errors name file, line, column and key → refused
//!   decode every prompt it names          errors name the prompt file            → refused
//!   cache.reloaded(fresh) ─UsePrompts─▶ media runtime      (old ids stay playable)
//!   EngineRequest::Reload ─▶ engine task: Engine::replace_dialplan → summary
//! ```
//! Nothing is swapped unless everything checked: a refused reload leaves the dialplan and
//! prompts in force as they were. The prompts reach the media runtime before the engine can
//! name a new one: both go through channels in that order.

use std::path::PathBuf;
use std::sync::Arc;

use madoguchi_dialplan::{CheckErrors, Dialplan};
use madoguchi_prompts::{decode_to_8k_mono, EncodedPrompt, PromptCache, PromptError};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;

use crate::engine::{MediaCommand, PromptIndex, ReloadSummary, SharedPrompts};
use crate::web::EngineRequest;

/// What a reload put in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Loaded {
    /// The dialplan file, as given at start-up.
    pub file: String,
    /// The dialplan's `name`.
    pub name: Option<String>,
    /// The queues new calls may join, in file order.
    pub queues: Vec<String>,
    /// Queues that were not there before.
    pub queues_added: Vec<String>,
    /// Queues that are gone: callers still waiting in one are served before it goes.
    pub queues_retired: Vec<String>,
    /// Prompts the dialplan names, all decoded.
    pub prompts: usize,
    /// Calls in progress, which finish under the dialplan they started with.
    pub calls_in_progress: usize,
}

/// Why a reload was refused; the dialplan in force stays.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refused {
    pub file: String,
    pub errors: Vec<ReloadError>,
}

/// One problem: in the dialplan (with its line) or in a prompt file it names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReloadError {
    pub file: String,
    /// 1-based; absent for a whole-file problem (unreadable, undecodable audio).
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key, e.g. `entries[0].open[1].play` or `prompts.greeting`.
    pub key: String,
    pub message: String,
}

#[derive(Debug)]
pub enum ReloadOutcome {
    Loaded(Loaded),
    Refused(Refused),
    /// The engine is stopping: nothing was changed.
    Stopping,
}

/// The way in for the HTTP edge: asks the reload task and waits for its outcome.
#[derive(Clone)]
pub struct ReloadLink(mpsc::Sender<oneshot::Sender<ReloadOutcome>>);

impl ReloadLink {
    pub async fn reload(&self) -> ReloadOutcome {
        let (reply, outcome) = oneshot::channel();
        if self.0.send(reply).await.is_err() {
            return ReloadOutcome::Stopping;
        }
        outcome.await.unwrap_or(ReloadOutcome::Stopping)
    }
}

/// Starts the reload task for the dialplan at `path`, whose prompts the media runtime
/// plays from `cache` now.
pub fn spawn(
    path: PathBuf,
    cache: Arc<PromptCache>,
    media: mpsc::WeakUnboundedSender<MediaCommand>,
    engine: mpsc::Sender<EngineRequest>,
) -> ReloadLink {
    let (tx, mut requests) = mpsc::channel::<oneshot::Sender<ReloadOutcome>>(4);
    let mut reloader = Reloader {
        path,
        cache,
        media,
        engine,
    };
    tokio::spawn(async move {
        let mut hangup = hangup_signal();
        loop {
            let reply = tokio::select! {
                Some(reply) = requests.recv() => Some(reply),
                Some(()) = hangup.recv() => {
                    tracing::info!("SIGHUP: reloading the dialplan");
                    None
                }
                else => break,
            };
            let outcome = reloader.reload().await;
            if let Some(reply) = reply {
                let _ = reply.send(outcome);
            }
        }
    });
    ReloadLink(tx)
}

struct Reloader {
    path: PathBuf,
    cache: Arc<PromptCache>,
    /// Weak: the media runtime ends when the engine task drops its sender at shutdown.
    media: mpsc::WeakUnboundedSender<MediaCommand>,
    engine: mpsc::Sender<EngineRequest>,
}

impl Reloader {
    async fn reload(&mut self) -> ReloadOutcome {
        let file = self.path.display().to_string();
        let path = self.path.clone();
        let checked = tokio::task::spawn_blocking(move || load(&path)).await;
        let (dialplan, fresh) = match checked {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(errors)) => return refused(file, errors),
            Err(_) => {
                let errors = vec![ReloadError {
                    file: file.clone(),
                    line: None,
                    column: None,
                    key: String::new(),
                    message: "loading failed unexpectedly".to_owned(),
                }];
                return refused(file, errors);
            }
        };
        let merged = match self.cache.reloaded(fresh) {
            Ok(merged) => Arc::new(merged),
            Err(error) => return refused(file.clone(), vec![prompt_error(&file, None, &error)]),
        };
        let index: PromptIndex = dialplan
            .prompt_files()
            .filter_map(|(name, _)| merged.id(name).map(|id| (name.to_owned(), id)))
            .collect();
        let prompts = index.len();
        let name = dialplan.name().map(str::to_owned);
        let queues = dialplan.queues().iter().map(|q| q.name.clone()).collect();
        // The media runtime first: the engine may play a new prompt as soon as it has it.
        let command = MediaCommand::UsePrompts(SharedPrompts(Arc::clone(&merged)));
        let sent = self.media.upgrade().map(|media| media.send(command));
        if !matches!(sent, Some(Ok(()))) {
            return ReloadOutcome::Stopping;
        }
        self.cache = merged;
        let (reply, summary) = oneshot::channel();
        let request = EngineRequest::Reload {
            dialplan: Arc::new(dialplan),
            prompts: Arc::new(index),
            reply,
        };
        if self.engine.send(request).await.is_err() {
            return ReloadOutcome::Stopping;
        }
        let Ok(summary) = summary.await else {
            return ReloadOutcome::Stopping;
        };
        let ReloadSummary {
            queues_added,
            queues_retired,
            calls_in_progress,
            ..
        } = summary;
        tracing::info!(
            dialplan = %file,
            prompts,
            ?queues_added,
            ?queues_retired,
            calls_in_progress,
            "dialplan reloaded: new calls follow it, calls in progress keep theirs"
        );
        metrics::counter!("madoguchi_dialplan_reloads_total", "outcome" => "loaded").increment(1);
        ReloadOutcome::Loaded(Loaded {
            file,
            name,
            queues,
            queues_added,
            queues_retired,
            prompts,
            calls_in_progress,
        })
    }
}

/// Reads and checks the dialplan, then decodes every prompt it names (each one, so that all
/// the broken files are reported at once).
fn load(path: &std::path::Path) -> Result<(Dialplan, PromptCache), Vec<ReloadError>> {
    let dialplan = Dialplan::load(path).map_err(check_errors)?;
    let file = path.display().to_string();
    let mut prompts = Vec::new();
    let mut errors = Vec::new();
    for (name, prompt_file) in dialplan.prompt_files() {
        match decode_to_8k_mono(prompt_file) {
            Ok(pcm) => prompts.push(EncodedPrompt::encode(name, &pcm)),
            Err(error) => errors.push(prompt_error(&file, Some(name), &error)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cache = PromptCache::from_encoded(prompts)
        .map_err(|error| vec![prompt_error(&file, None, &error)])?;
    Ok((dialplan, cache))
}

fn check_errors(errors: CheckErrors) -> Vec<ReloadError> {
    errors
        .iter()
        .map(|e| ReloadError {
            file: e.file.clone(),
            line: (e.line > 0).then_some(e.line),
            column: (e.line > 0).then_some(e.column),
            key: e.key.clone(),
            message: e.message.clone(),
        })
        .collect()
}

fn prompt_error(dialplan: &str, name: Option<&str>, error: &PromptError) -> ReloadError {
    ReloadError {
        file: error
            .file()
            .map_or_else(|| dialplan.to_owned(), |f| f.display().to_string()),
        line: None,
        column: None,
        key: name.map_or_else(String::new, |n| format!("prompts.{n}")),
        message: error.to_string(),
    }
}

fn refused(file: String, errors: Vec<ReloadError>) -> ReloadOutcome {
    for error in &errors {
        tracing::error!(
            file = %error.file,
            line = error.line,
            key = %error.key,
            message = %error.message,
            "dialplan reload refused: the dialplan in force stays"
        );
    }
    metrics::counter!("madoguchi_dialplan_reloads_total", "outcome" => "refused").increment(1);
    ReloadOutcome::Refused(Refused { file, errors })
}

/// SIGHUP, once per signal (never on other platforms).
fn hangup_signal() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP: reload through the API only");
            return;
        };
        while hangup.recv().await.is_some() {
            // Several signals while a reload runs make one more reload.
            let _ = tx.try_send(());
        }
    });
    #[cfg(not(unix))]
    drop(tx);
    rx
}
