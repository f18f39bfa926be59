//! Transfers to a dialplan target (the city line): from the flow, as a queue's overflow, or by
//! the operator (REFER from the phone, or the API). The engine places the call itself, relays
//! early media, bridges on answer, and on failure or outside the target's hours follows what
//! the dialplan says.

use madoguchi_dialplan::{CallerIdPolicy, OnFailure, TargetSteps};
use madoguchi_sip::{LegId, OutboundCall};
use serde_json::json;

use super::peer::{PeerPhase, PeerRole, CALL_ID_HEADER, MENU_HEADER};
use super::{AcdRequest, Call, CallOutput, Ctx, Disposition, Stage};
use crate::engine::media::MediaCommand;
use crate::engine::Now;

/// Priority of a caller who comes back from a failed transfer: ahead of everyone.
const REQUEUE_PRIORITY: i32 = i32::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransferOrigin {
    /// A `transfer` step.
    Flow,
    /// The queue's overflow (no operator, maximum wait).
    Overflow { queue: String },
    /// The operator: by REFER on `refer_leg` (to be told the result), or by the API.
    Operator { refer_leg: Option<LegId> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransferPhase {
    /// The target's announcement plays before dialing.
    Announcing,
    Dialing,
    Up,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Transfer {
    target: String,
    origin: TransferOrigin,
    phase: TransferPhase,
    peer: Option<LegId>,
}

impl Transfer {
    pub fn is_announcing(&self) -> bool {
        self.phase == TransferPhase::Announcing
    }
}

impl Call {
    pub(super) fn start_transfer(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        target: &str,
        origin: TransferOrigin,
        out: &mut Vec<CallOutput>,
    ) {
        self.queue.transfer_target = Some(target.to_owned());
        self.event(now, "transfer", json!({ "target": target }));
        self.stage = Stage::Transfer(Transfer {
            target: target.to_owned(),
            origin,
            phase: TransferPhase::Announcing,
            peer: None,
        });
        if !ctx.dialplan.target_is_open(target, now.wall) {
            self.queue.transfer_result = Some("closed".to_owned());
            self.event(now, "transfer_result", json!({ "result": "closed" }));
            self.notify_referrer(500, out);
            self.run_target_steps(now, ctx, target, TargetSteps::Closed, out);
            return;
        }
        self.stop_waiting_audio();
        out.push(CallOutput::Media(MediaCommand::StopPlayback {
            leg: self.setup.leg,
        }));
        let announce = ctx
            .dialplan
            .target(target)
            .and_then(|t| t.announce.as_deref())
            .and_then(|a| self.prompt_id(ctx, a));
        match announce {
            Some(prompt) => {
                self.announcements.push_back(prompt);
                self.play_next(now, out);
            }
            None => self.dial_target(now, ctx, out),
        }
    }

    /// The announcement is over: place the call to the target.
    pub(super) fn dial_target(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        let Stage::Transfer(transfer) = &self.stage else {
            return;
        };
        let target = transfer.target.clone();
        let Some(address) = ctx.targets.address(ctx.dialplan, &target) else {
            tracing::warn!(target, "transfer target has no address configured");
            self.target_failed(now, ctx, 503, out);
            return;
        };
        let config = ctx.dialplan.target(&target);
        let anonymous = config.is_some_and(|t| t.caller_id == CallerIdPolicy::Anonymous);
        let from_user = if anonymous {
            "anonymous".to_owned()
        } else {
            self.setup.caller.clone()
        };
        let mut headers = vec![(CALL_ID_HEADER.to_owned(), self.setup.id.clone())];
        if !anonymous {
            headers.push((
                "P-Asserted-Identity".to_owned(),
                format!("<sip:{}@{}>", self.setup.caller, self.setup.media_ip),
            ));
        }
        if let Some(choice) = self.dtmf.last() {
            headers.push((MENU_HEADER.to_owned(), choice.clone()));
        }
        if let Some(language) = &self.language {
            headers.push((super::LANGUAGE_HEADER.to_owned(), language.clone()));
        }
        let invite = OutboundCall {
            request_uri: address.uri.clone(),
            destination: address.destination,
            transport: address.transport,
            from_user,
            from_display: None,
            extra_headers: headers,
            sdp: Vec::new(),
            credentials: address.credentials.clone(),
        };
        let leg = self.dial_peer(ctx, PeerRole::Target { name: target }, invite, out);
        if let Stage::Transfer(transfer) = &mut self.stage {
            transfer.phase = TransferPhase::Dialing;
            transfer.peer = Some(leg);
        }
        if let Some(music) = self.hold_music {
            self.music = Some(music);
            self.play(music, true, out);
        }
        let ring = config.map_or(std::time::Duration::from_secs(30), |t| t.ring_timeout);
        self.timer = Some(now.mono + ring);
    }

    pub(super) fn target_answered(&mut self, now: Now, index: usize, out: &mut Vec<CallOutput>) {
        let leg = self.peers[index].leg;
        let early = self.peers[index].early;
        let Stage::Transfer(transfer) = &mut self.stage else {
            return;
        };
        transfer.phase = TransferPhase::Up;
        let origin = transfer.origin.clone();
        self.timer = None;
        self.queue.transfer_result = Some("answered".to_owned());
        self.event(now, "transfer_result", json!({ "result": "answered" }));
        // Operator mode: the target picking up answers the caller.
        self.answer_early(now, madoguchi_store::AnsweredBy::Target, out);
        if self.queue.outcome != Some(Disposition::Overflowed) {
            self.queue.outcome = Some(Disposition::Transferred);
        }
        if !early {
            self.stop_waiting_audio();
            out.push(CallOutput::Media(MediaCommand::Bridge {
                a: self.setup.leg,
                b: leg,
            }));
        }
        if let TransferOrigin::Operator { .. } = origin {
            self.notify_referrer(200, out);
            self.release_operator_leg(out);
        }
    }

    pub(super) fn target_failed(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        status: u16,
        out: &mut Vec<CallOutput>,
    ) {
        let Stage::Transfer(transfer) = &self.stage else {
            return;
        };
        let (target, origin) = (transfer.target.clone(), transfer.origin.clone());
        self.timer = None;
        let result = match status {
            486 | 600 | 603 => "busy",
            408 | 480 | 487 => "no_answer",
            _ => "failed",
        };
        self.queue.transfer_result = Some(result.to_owned());
        self.event(
            now,
            "transfer_result",
            json!({ "result": result, "status": status }),
        );
        self.notify_referrer(status, out);
        self.release_operator_leg(out);
        let requeue = ctx
            .dialplan
            .target(&target)
            .is_some_and(|t| t.on_failure == OnFailure::Requeue);
        let queue = match origin {
            TransferOrigin::Overflow { .. } => None, // the queue sent it away: not back there
            _ => self.queue.queue.clone(),
        };
        if let (true, Some(queue)) = (requeue, queue) {
            self.queue.outcome = None;
            self.enqueue(now, ctx, &queue, REQUEUE_PRIORITY, out);
            return;
        }
        self.run_target_steps(now, ctx, &target, TargetSteps::Failed, out);
    }

    /// The target rang for its `ring_timeout`.
    pub(super) fn transfer_timed_out(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<CallOutput>,
    ) {
        let Stage::Transfer(transfer) = &self.stage else {
            return;
        };
        if transfer.phase != TransferPhase::Dialing {
            return;
        }
        if let Some(leg) = transfer.peer {
            if let Some(index) = self.peers.iter().position(|p| p.leg == leg) {
                let peer = self.peers.remove(index);
                super::peer::release(&peer, out);
            }
        }
        // The CANCEL's 487 arrives for a released leg and is ignored; decide now.
        self.target_failed(now, ctx, 408, out);
    }

    /// Runs the target's `closed`/`failed` steps, or gives the call back to the flow.
    fn run_target_steps(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        target: &str,
        kind: TargetSteps,
        out: &mut Vec<CallOutput>,
    ) {
        match ctx.dialplan.target_steps(target, kind) {
            Some(runner) => {
                self.runner = Some(runner);
                self.stage = Stage::Flow;
                self.stop_waiting_audio();
                out.push(CallOutput::Media(MediaCommand::StopPlayback {
                    leg: self.setup.leg,
                }));
                self.run_flow(now, ctx, out);
            }
            None => self.resume_flow(now, ctx, out),
        }
    }

    /// The operator hands the caller to a target (REFER, or the API with `refer_leg` None).
    pub(super) fn operator_transfer(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        target: &str,
        refer_leg: Option<LegId>,
        out: &mut Vec<CallOutput>,
    ) {
        let Stage::Operator { operator, peer, .. } = &self.stage else {
            return;
        };
        let (operator, operator_leg) = (*operator, *peer);
        self.stop_recording(now, "transferred", out);
        out.push(CallOutput::Media(MediaCommand::Unbridge {
            leg: self.setup.leg,
        }));
        // The operator is done with this caller: wrap-up starts now, not when the phone hangs up.
        out.push(CallOutput::Acd(AcdRequest::CallEnded { operator }));
        if let Some(peer) = self.peers.iter_mut().find(|p| p.leg == operator_leg) {
            peer.mark_ended_in_acd();
        }
        self.queue.talk = self
            .queue
            .connected
            .map(|at| now.mono.saturating_duration_since(at));
        self.queue.outcome = Some(Disposition::Transferred);
        self.start_transfer(
            now,
            ctx,
            target,
            TransferOrigin::Operator { refer_leg },
            out,
        );
        if refer_leg.is_none() {
            self.release_operator_leg(out);
        }
    }

    /// NOTIFY the REFER's sender with the result (final: the subscription ends).
    fn notify_referrer(&mut self, status: u16, out: &mut Vec<CallOutput>) {
        if let Stage::Transfer(Transfer {
            origin: TransferOrigin::Operator {
                refer_leg: Some(leg),
            },
            ..
        }) = &mut self.stage
        {
            out.push(CallOutput::NotifyRefer {
                leg: *leg,
                status,
                terminated: true,
            });
        }
    }

    /// After a transfer the operator's leg is no longer needed.
    fn release_operator_leg(&mut self, out: &mut Vec<CallOutput>) {
        let operators: Vec<usize> = self
            .peers
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                matches!(p.role, PeerRole::Operator { .. }) && p.phase == PeerPhase::Up
            })
            .map(|(i, _)| i)
            .collect();
        for index in operators.into_iter().rev() {
            let peer = self.peers.remove(index);
            super::peer::release(&peer, out);
        }
    }
}
