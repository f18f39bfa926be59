//! A new call is not answered before its open-call note is stored (issue 8, "arrival window").
//!
//! A node killed between answering a call and storing the call's journal row would lose it
//! without a trace: a proxy in front retries on another node only a call that got no reply
//! above 100, and no journal row is left for the survivor to close. So the engine keeps a new
//! call's 18x and 2xx, and whatever follows them on the caller's leg, until the shell reports
//! the note durable ([`super::Engine::journaled`]) or [`JOURNAL_HOLD_LIMIT`] passed:
//! ```text
//!   INVITE ─▶ 100 (SIP layer) ─▶ route ─▶ 180 / 200 held ─ journaled(id) ─▶ sent, in order
//!                                                        └─ hold limit ──▶ sent anyway, counted
//! ```
//! A final refusal (404, 488, 503 …) is never held: a refused call has nothing to lose, and
//! it drops the provisionals still held, which a final response makes pointless. A CANCEL
//! while held gets its 487 from the SIP layer; what was held for that call is dropped.
//!
//! Driven by the engine: [`JournalHold::arrived`] for each call noted open,
//! [`JournalHold::hold`] on every output of a caller's leg, [`JournalHold::journaled`] on the
//! shell's acknowledgement, [`JournalHold::expired`] from `handle_timeout`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use madoguchi_sip::LegId;

use super::call::CallOutput;
use super::media::MediaCommand;

/// How long an answer waits for the journal at most: a stuck writer delays calls by this
/// much, never blocks them (the writer commits in milliseconds, or appends to its spool).
pub const JOURNAL_HOLD_LIMIT: Duration = Duration::from_secs(2);

/// Calls whose open-call note is not durable yet, and what each holds back.
#[derive(Default)]
pub(super) struct JournalHold {
    waiting: HashMap<LegId, Waiting>,
    by_id: HashMap<String, LegId>,
    /// Hold deadlines in arrival order. Arrivals only move forward, so the front is the
    /// earliest; entries of calls acknowledged since are skipped (`prune`).
    deadlines: VecDeque<(Instant, LegId)>,
}

struct Waiting {
    id: String,
    deadline: Instant,
    /// SIP outputs of the caller's leg, in the order the call produced them.
    held: Vec<CallOutput>,
}

/// A call whose hold limit passed: its outputs go out now.
pub(super) struct Expired {
    pub leg: LegId,
    pub id: String,
    pub held: Vec<CallOutput>,
}

impl JournalHold {
    /// A call was noted open (its note goes to the writer): hold its answers from now.
    pub fn arrived(&mut self, id: &str, leg: LegId, now: Instant) {
        let deadline = now + JOURNAL_HOLD_LIMIT;
        self.waiting.insert(
            leg,
            Waiting {
                id: id.to_owned(),
                deadline,
                held: Vec::new(),
            },
        );
        self.by_id.insert(id.to_owned(), leg);
        self.deadlines.push_back((deadline, leg));
    }

    /// `output` of the call on caller leg `leg`: handed back to be sent now, or kept.
    pub fn hold(&mut self, leg: LegId, output: CallOutput) -> Option<CallOutput> {
        let Some(waiting) = self.waiting.get_mut(&leg) else {
            return Some(output);
        };
        let keep = match &output {
            CallOutput::Reject { .. } | CallOutput::Unavailable => {
                waiting.held.clear();
                false
            }
            CallOutput::Provisional { status, .. } if *status > 100 => true,
            CallOutput::Accept { .. } => true,
            // Behind a held answer, so the caller sees them in order.
            CallOutput::Provisional { .. } | CallOutput::Hangup => !waiting.held.is_empty(),
            CallOutput::AnswerReinvite { leg: target, .. } if *target == leg => {
                !waiting.held.is_empty()
            }
            // Early media: no RTP before the 183 that announces it, so the greeting's first
            // words are not lost (never `Open`, which comes before the 183).
            CallOutput::Media(
                MediaCommand::Start { leg: target, .. }
                | MediaCommand::Play { leg: target, .. }
                | MediaCommand::StopPlayback { leg: target },
            ) if *target == leg => waiting
                .held
                .iter()
                .any(|held| matches!(held, CallOutput::Provisional { sdp: Some(_), .. })),
            _ => false,
        };
        if keep {
            waiting.held.push(output);
            None
        } else {
            Some(output)
        }
    }

    /// The note of call `id` is durable: the caller leg and what it held, to send now.
    /// `None` for a call not waiting (already released, ended, or not ours).
    pub fn journaled(&mut self, id: &str) -> Option<(LegId, Vec<CallOutput>)> {
        let leg = self.by_id.remove(id)?;
        let waiting = self.waiting.remove(&leg)?;
        self.prune();
        Some((leg, waiting.held))
    }

    /// The call on `leg` ended. What it holds still goes out on its acknowledgement if it
    /// includes the answer (a 200 then its BYE); lone provisionals are pointless now.
    pub fn ended(&mut self, leg: LegId) {
        let answered = self.waiting.get(&leg).is_some_and(|w| {
            w.held
                .iter()
                .any(|output| matches!(output, CallOutput::Accept { .. }))
        });
        if !answered {
            self.forget(leg);
        }
    }

    /// Nothing of the call on `leg` is to be sent any more (the caller cancelled).
    pub fn forget(&mut self, leg: LegId) {
        if let Some(waiting) = self.waiting.remove(&leg) {
            self.by_id.remove(&waiting.id);
            self.prune();
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.front().map(|(at, _)| *at)
    }

    /// Calls whose hold limit passed by `now`, released without their acknowledgement.
    pub fn expired(&mut self, now: Instant) -> Vec<Expired> {
        let mut expired = Vec::new();
        while let Some(&(at, leg)) = self.deadlines.front() {
            if at > now {
                break;
            }
            self.deadlines.pop_front();
            if self.waiting.get(&leg).is_some_and(|w| w.deadline == at) {
                if let Some(waiting) = self.waiting.remove(&leg) {
                    self.by_id.remove(&waiting.id);
                    expired.push(Expired {
                        leg,
                        id: waiting.id,
                        held: waiting.held,
                    });
                }
            }
        }
        self.prune();
        expired
    }

    /// Drops deadlines of calls no longer waiting, so `poll_timeout` does not wake the shell
    /// for each acknowledged call.
    fn prune(&mut self) {
        while let Some(&(at, leg)) = self.deadlines.front() {
            if self.waiting.get(&leg).is_some_and(|w| w.deadline == at) {
                break;
            }
            self.deadlines.pop_front();
        }
    }
}
