//! The caller's leg from INVITE to a running call: routing, the SDP offer check, the RTP
//! port, the answer, the ACK, and re-INVITEs (hold) from the caller.

use madoguchi_dialplan::AnswerMode;
use madoguchi_media::sdp;
use madoguchi_sip::ReInviteId;
use madoguchi_store::HangupSide;
use serde_json::json;

use super::record::closed_disposition;
use super::{Call, CallOutput, Ctx, Disposition, Phase, Session, Stage};
use crate::engine::media::MediaCommand;
use crate::engine::Now;

impl Call {
    pub(super) fn route(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        let draw = (ctx.draw)();
        let Some(route) = ctx.dialplan.route(&self.setup.called, now.wall, draw) else {
            out.push(CallOutput::Reject { status: 404 });
            self.finish(now, Disposition::NoRoute, HangupSide::Engine, "404", out);
            return;
        };
        let branch = route.branch.label().to_owned();
        self.event(
            now,
            "routed",
            json!({ "entry": route.entry, "branch": branch }),
        );
        self.closed_disposition = closed_disposition(&branch);
        self.decide_recording(now, route.recording, route.recording.needs_notice(), None);
        self.entry = Some(route.entry.clone());
        self.branch = Some(branch);
        self.runner = Some(route.start());
        if !self.check_offer(now, out) {
            return;
        }
        self.answer_mode = route.answer;
        if route.ring.is_zero() || self.answer_mode != AnswerMode::Engine {
            // In operator mode the 183 with SDP replaces the ringing.
            self.request_media(out);
        } else {
            out.push(CallOutput::Provisional {
                status: 180,
                sdp: None,
            });
            self.timer = Some(now.mono + route.ring);
            self.phase = Phase::Ringing;
        }
    }

    /// A feature code call: answered at once, one confirmation prompt, BYE.
    pub(super) fn route_feature(
        &mut self,
        now: Now,
        ctx: &Ctx<'_>,
        prompt: Option<&str>,
        out: &mut Vec<CallOutput>,
    ) {
        self.entry = Some(format!("feature:{}", self.setup.called));
        self.event(now, "feature", json!({ "code": self.setup.called }));
        self.stage = Stage::Closing;
        if let Some(id) = prompt.and_then(|p| ctx.prompts.get(p)) {
            self.announcements.push_back(*id);
        }
        if self.check_offer(now, out) {
            self.request_media(out);
        }
    }

    /// Checks the offer before binding a port: a call we cannot talk to gets 488 at once.
    pub(super) fn check_offer(&mut self, now: Now, out: &mut Vec<CallOutput>) -> bool {
        let Some(offer) = &self.setup.offer else {
            return true;
        };
        let Err(error) = sdp::negotiate(offer, self.local_media(9)) else {
            return true;
        };
        let status = match error {
            sdp::SdpError::NoCommonCodec
            | sdp::SdpError::NoAudioStream
            | sdp::SdpError::UnsupportedTransport => 488,
            _ => 400,
        };
        self.event(now, "sdp_rejected", json!({ "error": error.to_string() }));
        out.push(CallOutput::Reject { status });
        self.finish(
            now,
            Disposition::Rejected,
            HangupSide::Engine,
            &status.to_string(),
            out,
        );
        false
    }

    pub(super) fn request_media(&mut self, out: &mut Vec<CallOutput>) {
        self.media_requested = true;
        out.push(CallOutput::Media(MediaCommand::Open {
            leg: self.setup.leg,
        }));
    }

    pub(super) fn answer(&mut self, now: Now, port: u16, out: &mut Vec<CallOutput>) {
        if self.phase != Phase::AwaitingMedia {
            return;
        }
        self.local_port = Some(port);
        let local = self.local_media(port);
        let sdp = match &self.setup.offer {
            Some(offer) => match sdp::negotiate(offer, local) {
                Ok(negotiated) => {
                    self.start_media(Session::from(&negotiated), out);
                    negotiated.answer_sdp
                }
                Err(_) => {
                    // Checked at routing; the same offer cannot fail now.
                    out.push(CallOutput::Reject { status: 488 });
                    self.finish(now, Disposition::Rejected, HangupSide::Engine, "488", out);
                    return;
                }
            },
            None => sdp::build_offer(local),
        };
        out.push(CallOutput::Accept { sdp });
        self.answered_at = Some(now.wall);
        self.event(now, "answered", json!({ "rtp_port": port }));
        self.phase = Phase::Answered;
    }

    pub(super) fn confirmed(
        &mut self,
        now: Now,
        sdp: Option<Vec<u8>>,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<CallOutput>,
    ) {
        if self.phase != Phase::Answered {
            return;
        }
        if self.session.is_none() {
            // We offered in the 200 OK; the ACK must carry the answer (RFC 3264 §5).
            match sdp.as_deref().map(sdp::accept_answer) {
                Some(Ok(answer)) => self.start_media(Session::from(&answer), out),
                _ => {
                    out.push(CallOutput::Hangup);
                    self.finish(
                        now,
                        Disposition::Failed,
                        HangupSide::Engine,
                        "no_sdp_answer",
                        out,
                    );
                    return;
                }
            }
        }
        self.phase = Phase::Running;
        if self.stage == Stage::Closing {
            self.play_next(now, out);
        } else {
            self.run_flow(now, ctx, out);
        }
    }

    pub(super) fn reinvite(
        &mut self,
        now: Now,
        request: ReInviteId,
        sdp: Option<Vec<u8>>,
        out: &mut Vec<CallOutput>,
    ) {
        self.sdp_version += 1;
        let leg = self.setup.leg;
        let Some(port) = self.local_port else {
            out.push(CallOutput::AnswerReinvite {
                leg,
                request,
                result: Err(491),
            });
            return;
        };
        let local = self.local_media(port);
        let Some(offer) = sdp else {
            // An offerless re-INVITE (session refresh): offer the same session again.
            out.push(CallOutput::AnswerReinvite {
                leg,
                request,
                result: Ok(sdp::build_offer(local)),
            });
            return;
        };
        match sdp::negotiate(&offer, local) {
            Ok(negotiated) => {
                let hold = negotiated.is_hold();
                self.event(now, "reinvite", json!({ "hold": hold }));
                self.start_media(Session::from(&negotiated), out);
                out.push(CallOutput::AnswerReinvite {
                    leg,
                    request,
                    result: Ok(negotiated.answer_sdp),
                });
                out.push(CallOutput::Media(MediaCommand::SetSending {
                    leg,
                    sending: !hold,
                }));
            }
            Err(_) => out.push(CallOutput::AnswerReinvite {
                leg,
                request,
                result: Err(488),
            }),
        }
    }
}
