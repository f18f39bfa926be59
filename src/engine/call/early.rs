//! Free waiting (`answer = "operator"`): the flow runs in early media behind a 183 with SDP,
//! and the caller's 200 OK waits for a person (an operator, a transfer target) or the entry's
//! `early_limit`.
//!
//! ```text
//!  route ─▶ AwaitingMedia ─ Opened ─▶ Early (183 + SDP, media, flow) ─ operator/cap ─▶ Running
//!                                        │ flow hangup: 480   │ 183 again every 60 s
//! ```
//! At the cap, `on_early_limit = [STEPS]` takes the caller out of its queue and runs those
//! steps answered (e.g. a `callback` step, also here).

use std::time::{Duration, Instant};

use madoguchi_dialplan::{AnswerMode, Branch, FlowRunner, OnEarlyLimit, Steps};
use madoguchi_media::sdp;
use madoguchi_store::{AnsweredBy, HangupSide};
use serde_json::json;

use super::{AcdRequest, Call, CallOutput, Ctx, Disposition, Phase, Session, Stage};
use crate::engine::media::MediaCommand;
use crate::engine::Now;

/// A UAS that takes long to answer MUST send a non-100 provisional every minute
/// (RFC 3261 §13.3.1.1), or proxies may give up on the transaction.
pub(crate) const EARLY_REFRESH: Duration = Duration::from_secs(60);

/// The early dialog of an unanswered call in operator mode.
#[derive(Debug)]
pub(super) struct Early {
    /// The SDP of our 183; the 200 OK repeats the same bytes (same `o=` version).
    sdp: Vec<u8>,
    /// `arrival + early_limit`: the engine answers then.
    deadline: Instant,
    /// When the 183 goes out again.
    refresh_at: Instant,
}

impl Call {
    /// The earliest of the early dialog's deadlines (the cap, the refresh), if any.
    pub(super) fn early_timeout(&self) -> Option<Instant> {
        // Not while hanging up: a flow that ended in early media is refused, never answered.
        let unanswered = self.answered_at.is_none() && self.phase == Phase::Early;
        let early = self.early.as_ref().filter(|_| unanswered)?;
        Some(early.deadline.min(early.refresh_at))
    }

    /// An early-dialog deadline is due at `now`.
    pub(super) fn early_due(&self, now: Instant) -> bool {
        self.early_timeout().is_some_and(|at| at <= now)
    }

    /// The RTP port is bound: negotiate as `answer()` does, but send a 183 with the SDP,
    /// start the media and run the flow at once (no ACK to wait for).
    pub(super) fn early(
        &mut self,
        now: Now,
        port: u16,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<CallOutput>,
    ) {
        let AnswerMode::Operator { early_limit, .. } = self.answer_mode else {
            return;
        };
        self.local_port = Some(port);
        let local = self.local_media(port);
        let Some(offer) = self.setup.offer.as_ref() else {
            // No offer: our SDP would be an offer in a provisional, which needs PRACK
            // (RFC 3262); answer as in engine mode instead.
            self.answer_mode = AnswerMode::Engine;
            self.answer(now, port, out);
            return;
        };
        let negotiated = match sdp::negotiate(offer, local) {
            Ok(negotiated) => negotiated,
            Err(_) => {
                // Checked at routing; the same offer cannot fail now.
                out.push(CallOutput::Reject { status: 488 });
                self.finish(now, Disposition::Rejected, HangupSide::Engine, "488", out);
                return;
            }
        };
        // The 183 first: the journal hold keeps the media behind it while it is held.
        out.push(CallOutput::Provisional {
            status: 183,
            sdp: Some(negotiated.answer_sdp.clone()),
        });
        self.start_media(Session::from(&negotiated), out);
        self.early = Some(Early {
            sdp: negotiated.answer_sdp,
            deadline: self.arrived_mono + early_limit,
            refresh_at: now.mono + EARLY_REFRESH,
        });
        self.event(now, "early_media", json!({ "rtp_port": port }));
        self.phase = Phase::Early;
        self.run_flow(now, ctx, out);
    }

    /// A person (operator, transfer target) or the cap answers the early call: the 200 OK
    /// with the 183's SDP. The ACK then only confirms (the flow already runs).
    pub(super) fn answer_early(&mut self, now: Now, by: AnsweredBy, out: &mut Vec<CallOutput>) {
        if self.answered_at.is_some() {
            return;
        }
        let Some(early) = self.early.as_ref() else {
            return;
        };
        out.push(CallOutput::Accept {
            sdp: early.sdp.clone(),
        });
        self.answered_at = Some(now.wall);
        self.answered_by = Some(by);
        self.event(now, "answered", json!({ "by": by.as_str() }));
        if self.phase == Phase::Early {
            self.phase = Phase::Running;
        }
    }

    /// The cap or the refresh is due.
    pub(super) fn early_timer(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        let Some(early) = self.early.as_mut() else {
            return;
        };
        if early.deadline <= now.mono {
            self.event(now, "early_limit", json!({}));
            self.answer_early(now, AnsweredBy::EarlyLimit, out);
            if let AnswerMode::Operator {
                on_early_limit: OnEarlyLimit::Steps(steps),
                ..
            } = &self.answer_mode
            {
                let steps = steps.clone();
                self.run_early_limit_steps(now, ctx, steps, out);
            }
            return;
        }
        if early.refresh_at <= now.mono {
            early.refresh_at = now.mono + EARLY_REFRESH;
            out.push(CallOutput::Provisional {
                status: 183,
                sdp: Some(early.sdp.clone()),
            });
        }
    }
}

impl Call {
    /// `on_early_limit = [STEPS]`: the caller leaves its queue (no longer waiting for an
    /// operator), the music stops and the steps run in a runner of their own, as a
    /// transfer target's do. A transfer already ringing its target goes on instead.
    fn run_early_limit_steps(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        steps: Steps,
        out: &mut Vec<CallOutput>,
    ) {
        match &self.stage {
            Stage::Queued { queue } => {
                let queue = queue.clone();
                let waited = self
                    .queue
                    .joined
                    .map(|at| now.mono.saturating_duration_since(at));
                self.queue.waited = waited;
                self.event(
                    now,
                    "queue_left",
                    json!({
                        "queue": queue,
                        "reason": "early_limit",
                        "waited_ms": waited.map(|w| w.as_millis() as u64),
                    }),
                );
                self.hangup_ringing(now, out);
                out.push(CallOutput::Acd(AcdRequest::Leave));
            }
            Stage::Flow => {}
            _ => return,
        }
        self.stage = Stage::Flow;
        self.recording.pending_join = None;
        self.music = None;
        self.announcements.clear();
        self.timer = None;
        if self.playing.take().is_some() {
            out.push(CallOutput::Media(MediaCommand::StopPlayback {
                leg: self.setup.leg,
            }));
        }
        self.runner = Some(FlowRunner::new(Branch::Open, steps));
        self.run_flow(now, ctx, out);
    }

    /// A `callback` step: the call ends `callback_requested` however it ends from now on
    /// (the caller may hang up during the prompt); `run_flow` then plays its prompt.
    pub(super) fn note_callback(&mut self, now: Now) {
        self.queue.outcome = Some(Disposition::CallbackRequested);
        self.event(now, "callback_requested", json!({}));
    }
}
