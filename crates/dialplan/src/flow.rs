//! [`FlowRunner`]: the sans-IO interpreter of one call's steps: an entry's branch, or the
//! `closed`/`failed` steps of a transfer target ([`FlowRunner::for_target`]).
//!
//! The engine owns the media, the timers and the queue; the runner only decides what comes
//! next. It never reads a clock: timers are requested as durations and reported back.
//!
//! # Driving contract
//! After creating the runner and after every input, drain [`FlowRunner::poll_action`] until it
//! returns `None`, carrying out each [`FlowAction`] in order. Inputs:
//! - [`FlowRunner::handle_prompt_finished`] when the prompt of the last `Play` ended on its own.
//!   A playback cut by [`FlowAction::StopPlayback`] is not reported.
//! - [`FlowRunner::handle_digit`] for every DTMF digit the caller sends (RFC 4733 events or
//!   SIP INFO, already de-duplicated). Digits outside a menu are ignored; during a menu prompt
//!   they barge in.
//! - [`FlowRunner::handle_timer_expired`] when the timer of the last `StartTimer` fires. There
//!   is at most one timer; a new `StartTimer` replaces it and `CancelTimer` drops it.
//! - [`FlowRunner::handle_handoff_done`] when a `Queue` or `Transfer` hands the call back
//!   (queue overflow, failed transfer): the runner carries on with the step after it. When the
//!   handoff keeps the call (answered by an operator, transferred), the engine simply stops
//!   driving the runner.
//!
//! A branch that runs out of steps ends with `Hangup`; after `Hangup` the runner is finished
//! and ignores every input. A `Callback` ends the call: `Hangup` follows its prompt,
//! whatever steps come after it.
//!
//! ```
//! use std::sync::Arc;
//! use madoguchi_dialplan::{FlowAction, FlowRunner, Step, Branch};
//!
//! let steps = Arc::from(vec![Step::Play { prompt: "outside_hours".into() }, Step::Hangup]);
//! let mut run = FlowRunner::new(Branch::ClosedHours, steps);
//! assert_eq!(run.poll_action(), Some(FlowAction::Play { prompt: "outside_hours".into() }));
//! assert_eq!(run.poll_action(), None);
//! run.handle_prompt_finished();
//! assert_eq!(run.poll_action(), Some(FlowAction::Hangup));
//! ```
//!
//! When a `Transfer` finds its target closed or failing, the engine replaces the call's runner
//! with [`crate::Dialplan::target_steps`] and drives that one the same way; with no such steps
//! it calls `handle_handoff_done` on the runner it has.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::model::{Branch, Menu, Step, Steps, TargetSteps};

/// What the engine must do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FlowAction {
    /// Play the named prompt; report `handle_prompt_finished` when it ends.
    Play { prompt: String },
    /// Stop the prompt playing now (a digit barged in); it is not reported as finished.
    StopPlayback,
    /// Start (or restart) the call's flow timer; report `handle_timer_expired` when it fires.
    StartTimer { duration: Duration },
    /// Drop the flow timer.
    CancelTimer,
    /// A menu is listening: forward DTMF digits with `handle_digit`.
    CollectDigits,
    /// Put the call in this queue; callers of higher `priority` are served first (default 0).
    Queue { queue: String, priority: i32 },
    /// Transfer the call to this target (its URI is the deployment setting the target names).
    Transfer { target: String },
    /// The caller asked for a callback: mark the call (`callback_requested`) and play
    /// `prompt`; report `handle_prompt_finished` when it ends, and the runner hangs up.
    Callback { prompt: String },
    /// End the call (BYE).
    Hangup,
}

/// Where a running menu is.
#[derive(Debug, Clone, PartialEq)]
enum MenuPhase {
    /// The menu's `n`th prompt is playing; digits barge in.
    Prompt(usize),
    /// The prompt ended; the digit timeout runs.
    Waiting,
    /// The invalid-choice prompt is playing; digits barge in.
    Invalid,
}

/// What the runner waits for.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Ready to run the next step.
    Next,
    /// A `play` step's prompt is playing.
    Playing,
    /// A `pause` step's timer runs.
    Pausing,
    /// A menu is on its `attempt`th offer (1-based).
    Menu {
        menu: Arc<Menu>,
        attempt: u32,
        phase: MenuPhase,
    },
    /// A queue or transfer has the call.
    Handoff,
    /// A `callback` step's prompt is playing; the call ends after it.
    Callback,
    /// Hung up.
    Done,
}

/// One level of step list being run: the branch, or a menu choice inside it.
#[derive(Debug, Clone)]
struct Frame {
    steps: Steps,
    next: usize,
}

/// Which list of steps a runner runs.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Branch(Branch),
    Target { target: String, kind: TargetSteps },
}

/// Runs one branch of steps for one call. See the module docs for the driving contract.
#[derive(Debug, Clone)]
pub struct FlowRunner {
    source: Source,
    stack: Vec<Frame>,
    state: State,
    actions: VecDeque<FlowAction>,
    choices: Vec<String>,
    /// Set by a `{ language = … }` step.
    language: Option<String>,
}

impl FlowRunner {
    /// A runner at the start of `steps`, the steps of `branch` (prelude included).
    pub fn new(branch: Branch, steps: Steps) -> Self {
        Self::start(Source::Branch(branch), steps)
    }

    /// A runner at the start of a target's `closed` or `failed` steps.
    pub fn for_target(target: &str, kind: TargetSteps, steps: Steps) -> Self {
        let target = target.to_string();
        Self::start(Source::Target { target, kind }, steps)
    }

    fn start(source: Source, steps: Steps) -> Self {
        let mut run = FlowRunner {
            source,
            stack: vec![Frame { steps, next: 0 }],
            state: State::Next,
            actions: VecDeque::new(),
            choices: Vec::new(),
            language: None,
        };
        run.advance();
        run
    }

    /// The next action to carry out, in order.
    pub fn poll_action(&mut self) -> Option<FlowAction> {
        self.actions.pop_front()
    }

    /// The branch taken, for the call record (`open`, `closed_hours`, …); `None` for a
    /// target's steps.
    pub fn branch_label(&self) -> Option<&'static str> {
        self.branch().map(Branch::label)
    }

    /// The entry branch this runner runs; `None` for a target's steps.
    pub fn branch(&self) -> Option<Branch> {
        match self.source {
            Source::Branch(b) => Some(b),
            Source::Target { .. } => None,
        }
    }

    /// The target and which of its step lists this runner runs, if it runs one.
    pub fn target(&self) -> Option<(&str, TargetSteps)> {
        match &self.source {
            Source::Branch(_) => None,
            Source::Target { target, kind } => Some((target, *kind)),
        }
    }

    /// The menu digits chosen so far, outermost menu first.
    pub fn choices(&self) -> &[String] {
        &self.choices
    }

    /// The language the caller chose with a `{ language = … }` step, if any: the engine
    /// plays `Dialplan::prompt_for(language, name)` for every prompt after it.
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    /// True once the runner has asked for `Hangup`.
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    pub fn handle_prompt_finished(&mut self) {
        match std::mem::replace(&mut self.state, State::Next) {
            State::Playing => self.advance(),
            State::Callback => self.hang_up(),
            State::Menu {
                menu,
                attempt,
                phase: MenuPhase::Prompt(n),
            } if n + 1 < menu.prompts.len() => {
                self.actions.push_back(FlowAction::Play {
                    prompt: menu.prompts[n + 1].clone(),
                });
                self.state = State::Menu {
                    menu,
                    attempt,
                    phase: MenuPhase::Prompt(n + 1),
                };
            }
            State::Menu {
                menu,
                attempt,
                phase: MenuPhase::Prompt(_),
            } => {
                self.actions.push_back(FlowAction::StartTimer {
                    duration: menu.timeout,
                });
                self.state = State::Menu {
                    menu,
                    attempt,
                    phase: MenuPhase::Waiting,
                };
            }
            State::Menu {
                menu,
                attempt,
                phase: MenuPhase::Invalid,
            } => self.retry_or_give_up(menu, attempt),
            other => self.state = other,
        }
    }

    pub fn handle_timer_expired(&mut self) {
        match std::mem::replace(&mut self.state, State::Next) {
            State::Pausing => self.advance(),
            State::Menu {
                menu,
                attempt,
                phase: MenuPhase::Waiting,
            } => self.retry_or_give_up(menu, attempt),
            other => self.state = other,
        }
    }

    pub fn handle_digit(&mut self, digit: char) {
        if !matches!(self.state, State::Menu { .. }) {
            return; // outside a menu, digits mean nothing
        }
        let State::Menu {
            menu,
            attempt,
            phase,
        } = std::mem::replace(&mut self.state, State::Next)
        else {
            return; // checked just above
        };
        match phase {
            MenuPhase::Prompt(_) | MenuPhase::Invalid => {
                self.actions.push_back(FlowAction::StopPlayback)
            }
            MenuPhase::Waiting => self.actions.push_back(FlowAction::CancelTimer),
        }
        let digit = digit.to_ascii_uppercase();
        match menu.choice(digit) {
            Some(steps) => {
                self.choices.push(digit.to_string());
                self.stack.push(Frame {
                    steps: steps.clone(),
                    next: 0,
                });
                self.advance();
            }
            None => match &menu.invalid {
                Some(prompt) => {
                    self.actions.push_back(FlowAction::Play {
                        prompt: prompt.clone(),
                    });
                    self.state = State::Menu {
                        menu,
                        attempt,
                        phase: MenuPhase::Invalid,
                    };
                }
                None => self.retry_or_give_up(menu, attempt),
            },
        }
    }

    /// The queue or transfer gave the call back: continue after that step.
    pub fn handle_handoff_done(&mut self) {
        if self.state == State::Handoff {
            self.state = State::Next;
            self.advance();
        }
    }

    fn retry_or_give_up(&mut self, menu: Arc<Menu>, attempt: u32) {
        if attempt <= menu.retries {
            self.offer_menu(menu, attempt + 1);
            return;
        }
        match menu.default.clone() {
            Some(steps) => {
                self.stack.push(Frame { steps, next: 0 });
                self.advance();
            }
            None => self.hang_up(),
        }
    }

    fn offer_menu(&mut self, menu: Arc<Menu>, attempt: u32) {
        // Parsing never yields an empty list; an empty one would go straight to the wait.
        if let Some(first) = menu.prompts.first() {
            self.actions.push_back(FlowAction::Play {
                prompt: first.clone(),
            });
        } else {
            self.actions.push_back(FlowAction::StartTimer {
                duration: menu.timeout,
            });
        }
        self.actions.push_back(FlowAction::CollectDigits);
        let phase = if menu.prompts.is_empty() {
            MenuPhase::Waiting
        } else {
            MenuPhase::Prompt(0)
        };
        self.state = State::Menu {
            menu,
            attempt,
            phase,
        };
    }

    fn hang_up(&mut self) {
        self.actions.push_back(FlowAction::Hangup);
        self.state = State::Done;
        self.stack.clear();
    }

    /// Runs steps until one has to wait for the engine.
    fn advance(&mut self) {
        loop {
            let Some(frame) = self.stack.last_mut() else {
                self.hang_up();
                return;
            };
            let Some(step) = frame.steps.get(frame.next).cloned() else {
                self.stack.pop();
                continue;
            };
            frame.next += 1;
            match step {
                Step::Play { prompt } => {
                    self.actions.push_back(FlowAction::Play { prompt });
                    self.state = State::Playing;
                    return;
                }
                Step::Pause { duration } => {
                    self.actions.push_back(FlowAction::StartTimer { duration });
                    self.state = State::Pausing;
                    return;
                }
                Step::Menu(menu) => {
                    self.offer_menu(menu, 1);
                    return;
                }
                Step::Hangup => {
                    self.hang_up();
                    return;
                }
                Step::Queue { queue, priority } => {
                    self.actions
                        .push_back(FlowAction::Queue { queue, priority });
                    self.state = State::Handoff;
                    return;
                }
                Step::Transfer { target } => {
                    self.actions.push_back(FlowAction::Transfer { target });
                    self.state = State::Handoff;
                    return;
                }
                // Nothing to carry out: the choice is kept and the flow goes on.
                Step::Language(language) => self.language = Some(language),
                Step::Callback { prompt } => {
                    self.actions.push_back(FlowAction::Callback { prompt });
                    self.state = State::Callback;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
