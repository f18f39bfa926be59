//! One call: a leg's dialog ↔ its media ↔ the dialplan flow ↔ its record.
//!
//! ```text
//!  IncomingCall ─ route ─▶ AwaitingMedia ─ Opened/200 OK ─▶ Answered ─ ACK ─▶ Running ─▶ Finished
//!        │ no entry: 404      │ no common codec: 488             │ no ACK: BYE     │ BYE either way
//!        └────────────────────┴─────── CANCEL: 487 ──────────────┘                 └ record written
//! ```
//! Every path ends in exactly one [`CallRecord`]: `finish` is the only place that writes it and
//! it moves the call to `Finished`, after which the engine drops the call.

use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use madoguchi_dialplan::{Dialplan, FlowAction, FlowRunner};
use madoguchi_media::sdp::{self, LocalMedia};
use madoguchi_media::Codec;
use madoguchi_prompts::PromptId;
use madoguchi_sip::{LegId, ReInviteId};
use madoguchi_store::{CallEvent, CallRecord, HangupSide};
use serde_json::json;

pub use madoguchi_store::Disposition;

use super::media::MediaCommand;
use super::{CallOutput, Now, PromptIndex};

/// What a new call starts from.
pub(crate) struct Setup {
    pub id: String,
    pub leg: LegId,
    pub sip_call_id: String,
    pub caller: String,
    pub called: String,
    pub offer: Option<Vec<u8>>,
    pub node_id: String,
    pub media_ip: IpAddr,
    pub session_id: u64,
}

pub(crate) enum CallInput<'a> {
    Route(&'a Dialplan),
    /// Refused before routing (the engine is draining): 503 with Retry-After.
    Refuse {
        cause: &'static str,
    },
    MediaOpened {
        port: u16,
    },
    MediaOpenFailed,
    Confirmed {
        sdp: Option<Vec<u8>>,
    },
    AckTimedOut,
    Cancelled,
    ReInvite {
        request: ReInviteId,
        sdp: Option<Vec<u8>>,
    },
    /// The answer, in the ACK, to the offer we made for an offerless re-INVITE.
    ReInviteAnswered {
        sdp: Vec<u8>,
    },
    RemoteHangup,
    PromptFinished {
        playback: u32,
    },
    Digit(char),
    Timeout,
    Interrupt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// 180 Ringing sent; the entry's ring time runs before we answer.
    Ringing,
    /// Routed; the RTP port is being bound before we answer.
    AwaitingMedia,
    /// 200 OK sent; waiting for the ACK.
    Answered,
    /// ACK received: the flow is running.
    Running,
    /// The flow ended; the BYE waits `PLAYOUT_TAIL` so the last frames reach the caller's ear.
    HangingUp,
    /// The record is out; the engine drops the call.
    Finished,
}

/// The media both sides agreed on.
#[derive(Debug, Clone, Copy)]
struct Session {
    codec: Codec,
    payload_type: u8,
    telephone_event_pt: Option<u8>,
    remote: Option<std::net::SocketAddr>,
}

impl From<&sdp::Negotiated> for Session {
    fn from(n: &sdp::Negotiated) -> Session {
        Session {
            codec: n.codec,
            payload_type: n.payload_type,
            telephone_event_pt: n.telephone_event_pt,
            remote: n.remote,
        }
    }
}

impl From<&sdp::AcceptedAnswer> for Session {
    fn from(a: &sdp::AcceptedAnswer) -> Session {
        Session {
            codec: a.codec,
            payload_type: a.payload_type,
            telephone_event_pt: a.telephone_event_pt,
            remote: a.remote,
        }
    }
}

/// The last prompt frame leaves with its finish event; the caller's jitter buffer still holds
/// some audio then, so the BYE waits this long rather than cut the goodbye short.
pub(crate) const PLAYOUT_TAIL: std::time::Duration = std::time::Duration::from_millis(200);

/// Events kept per call: a caller pressing keys for an hour must not grow the record without
/// bound (the flow itself still sees every digit).
const MAX_EVENTS: usize = 200;

/// The announcements a queue or transfer step plays until the next issues fill them in.
const PLACEHOLDER_PROMPTS: [&str; 2] = ["please_wait", "goodbye"];

pub(crate) struct Call {
    setup: Setup,
    phase: Phase,
    arrived_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    entry: Option<String>,
    branch: Option<String>,
    closed_disposition: Option<Disposition>,
    runner: Option<FlowRunner>,
    /// The agreed session (after the answer: in our 200 OK, or in the ACK when we offered).
    session: Option<Session>,
    /// The `o=` version of our SDP; every new answer or offer in the dialog raises it
    /// (RFC 3264 §8), or the peer may take a changed direction for a repeat.
    sdp_version: u64,
    local_port: Option<u16>,
    /// An RTP port was asked for (bound or not yet): it must be released at the end.
    media_requested: bool,
    /// The flow's pending timer (a pause or a menu's digit timeout).
    timer: Option<Instant>,
    /// The playback now on the leg (numbered by `playbacks`), until it finishes or is stopped.
    playing: Option<u32>,
    playbacks: u32,
    /// Prompts still to play for a placeholder queue/transfer step before hanging up.
    placeholder: Option<Vec<PromptId>>,
    dtmf: Vec<String>,
    events: Vec<CallEvent>,
}

impl Call {
    pub fn new(now: Now, setup: Setup) -> Call {
        let mut call = Call {
            setup,
            phase: Phase::AwaitingMedia,
            arrived_at: now.wall,
            answered_at: None,
            entry: None,
            branch: None,
            closed_disposition: None,
            runner: None,
            session: None,
            sdp_version: 0,
            local_port: None,
            media_requested: false,
            timer: None,
            playing: None,
            playbacks: 0,
            placeholder: None,
            dtmf: Vec::new(),
            events: Vec::new(),
        };
        call.event(now, "invite", json!({}));
        call
    }

    pub fn timeout(&self) -> Option<Instant> {
        self.timer
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    pub fn handle(
        &mut self,
        now: Now,
        input: CallInput<'_>,
        prompts: &PromptIndex,
    ) -> Vec<CallOutput> {
        let mut out = Vec::new();
        if self.phase == Phase::Finished {
            return out;
        }
        match input {
            CallInput::Route(dialplan) => self.route(now, dialplan, &mut out),
            CallInput::Refuse { cause } => {
                out.push(CallOutput::Unavailable);
                self.finish(
                    now,
                    Disposition::Rejected,
                    HangupSide::Engine,
                    cause,
                    &mut out,
                );
            }
            CallInput::MediaOpened { port } => self.answer(now, port, &mut out),
            CallInput::MediaOpenFailed => {
                out.push(CallOutput::Reject { status: 503 });
                self.finish(
                    now,
                    Disposition::Failed,
                    HangupSide::Engine,
                    "no_rtp_port",
                    &mut out,
                );
            }
            CallInput::Confirmed { sdp } => self.confirmed(now, sdp, prompts, &mut out),
            CallInput::AckTimedOut => {
                out.push(CallOutput::Hangup);
                self.finish(
                    now,
                    Disposition::Failed,
                    HangupSide::Engine,
                    "ack_timeout",
                    &mut out,
                );
            }
            CallInput::Cancelled => {
                self.finish(
                    now,
                    Disposition::Cancelled,
                    HangupSide::Caller,
                    "cancel",
                    &mut out,
                );
            }
            CallInput::RemoteHangup => {
                self.finish(
                    now,
                    Disposition::CallerHangup,
                    HangupSide::Caller,
                    "bye",
                    &mut out,
                );
            }
            CallInput::ReInvite { request, sdp } => self.reinvite(now, request, sdp, &mut out),
            CallInput::ReInviteAnswered { sdp } => match sdp::accept_answer(&sdp) {
                Ok(answer) => {
                    self.event(now, "reinvite", json!({ "hold": answer.is_hold() }));
                    self.start_media(Session::from(&answer), &mut out);
                    out.push(CallOutput::Media(MediaCommand::SetSending {
                        leg: self.setup.leg,
                        sending: !answer.is_hold(),
                    }));
                }
                // A broken answer leaves the session as it was (RFC 3264 offers no way back).
                Err(error) => tracing::debug!(%error, "unusable SDP answer in an ACK"),
            },
            CallInput::PromptFinished { playback } => {
                if self.playing == Some(playback) {
                    self.playing = None;
                    self.prompt_finished(now, prompts, &mut out);
                }
            }
            CallInput::Digit(_) if self.phase != Phase::Running => {}
            CallInput::Digit(digit) => {
                if self.events.len() < MAX_EVENTS {
                    self.event(now, "dtmf", json!({ "digit": digit.to_string() }));
                }
                if let Some(runner) = self.runner.as_mut().filter(|_| self.placeholder.is_none()) {
                    runner.handle_digit(digit);
                    self.run_flow(now, prompts, &mut out);
                }
            }
            CallInput::Timeout if self.phase == Phase::HangingUp => {
                self.end_by_engine(now, &mut out)
            }
            CallInput::Timeout if self.phase == Phase::Ringing => {
                self.timer = None;
                self.phase = Phase::AwaitingMedia;
                self.request_media(&mut out);
            }
            CallInput::Timeout => {
                self.timer = None;
                if let Some(runner) = self.runner.as_mut() {
                    runner.handle_timer_expired();
                    self.run_flow(now, prompts, &mut out);
                }
            }
            CallInput::Interrupt => {
                match self.phase {
                    Phase::Ringing | Phase::AwaitingMedia => {
                        out.push(CallOutput::Reject { status: 503 })
                    }
                    _ => out.push(CallOutput::Hangup),
                }
                self.finish(
                    now,
                    Disposition::Interrupted,
                    HangupSide::Engine,
                    "shutdown",
                    &mut out,
                );
            }
        }
        out
    }

    fn route(&mut self, now: Now, dialplan: &Dialplan, out: &mut Vec<CallOutput>) {
        let Some(route) = dialplan.route(&self.setup.called, now.wall) else {
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
        self.entry = Some(route.entry.clone());
        self.branch = Some(branch);
        self.runner = Some(route.start());
        if let Some(offer) = &self.setup.offer {
            // Check the offer before binding a port: a call we cannot talk to gets 488 at once.
            if let Err(error) = sdp::negotiate(offer, self.local_media(9)) {
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
                return;
            }
        }
        if route.ring.is_zero() {
            self.request_media(out);
        } else {
            out.push(CallOutput::Provisional { status: 180 });
            self.timer = Some(now.mono + route.ring);
            self.phase = Phase::Ringing;
        }
    }

    fn request_media(&mut self, out: &mut Vec<CallOutput>) {
        self.media_requested = true;
        out.push(CallOutput::Media(MediaCommand::Open {
            leg: self.setup.leg,
        }));
    }

    fn answer(&mut self, now: Now, port: u16, out: &mut Vec<CallOutput>) {
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

    fn confirmed(
        &mut self,
        now: Now,
        sdp: Option<Vec<u8>>,
        prompts: &PromptIndex,
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
        self.run_flow(now, prompts, out);
    }

    fn reinvite(
        &mut self,
        now: Now,
        request: ReInviteId,
        sdp: Option<Vec<u8>>,
        out: &mut Vec<CallOutput>,
    ) {
        self.sdp_version += 1;
        let Some(port) = self.local_port else {
            out.push(CallOutput::AnswerReinvite {
                request,
                result: Err(491),
            });
            return;
        };
        let local = self.local_media(port);
        let Some(offer) = sdp else {
            // An offerless re-INVITE (session refresh): offer the same session again.
            out.push(CallOutput::AnswerReinvite {
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
                    request,
                    result: Ok(negotiated.answer_sdp),
                });
                out.push(CallOutput::Media(MediaCommand::SetSending {
                    leg: self.setup.leg,
                    sending: !hold,
                }));
            }
            Err(_) => out.push(CallOutput::AnswerReinvite {
                request,
                result: Err(488),
            }),
        }
    }

    fn prompt_finished(&mut self, now: Now, prompts: &PromptIndex, out: &mut Vec<CallOutput>) {
        if let Some(rest) = self.placeholder.as_mut() {
            if rest.is_empty() {
                self.begin_hangup(now);
            } else {
                let next = rest.remove(0);
                self.play(next, out);
            }
            return;
        }
        if let Some(runner) = self.runner.as_mut() {
            runner.handle_prompt_finished();
            self.run_flow(now, prompts, out);
        }
    }

    /// Carries out the flow's actions until it waits for a prompt, a digit or a timer.
    fn run_flow(&mut self, now: Now, prompts: &PromptIndex, out: &mut Vec<CallOutput>) {
        while let Some(action) = self.runner.as_mut().and_then(FlowRunner::poll_action) {
            match action {
                FlowAction::Play { prompt } => match prompts.get(&prompt) {
                    Some(id) => {
                        self.event(now, "play", json!({ "prompt": prompt }));
                        self.play(*id, out);
                    }
                    None => {
                        // The dialplan check makes every named prompt exist; keep the call
                        // alive rather than stall if a reload ever breaks that.
                        tracing::warn!(prompt, "prompt not loaded, skipped");
                        if let Some(runner) = self.runner.as_mut() {
                            runner.handle_prompt_finished();
                        }
                    }
                },
                FlowAction::StopPlayback => {
                    self.playing = None;
                    out.push(CallOutput::Media(MediaCommand::StopPlayback {
                        leg: self.setup.leg,
                    }));
                }
                FlowAction::StartTimer { duration } => self.timer = Some(now.mono + duration),
                FlowAction::CancelTimer => self.timer = None,
                FlowAction::CollectDigits => {}
                FlowAction::Queue { queue } => {
                    self.event(now, "queue_placeholder", json!({ "queue": queue }));
                    self.start_placeholder(now, prompts, out);
                    return;
                }
                FlowAction::Transfer { target } => {
                    self.event(now, "transfer_placeholder", json!({ "target": target }));
                    self.start_placeholder(now, prompts, out);
                    return;
                }
                FlowAction::Hangup => {
                    self.begin_hangup(now);
                    return;
                }
            }
        }
        if let Some(runner) = self.runner.as_ref() {
            self.dtmf = runner.choices().to_vec();
        }
    }

    fn start_placeholder(&mut self, now: Now, prompts: &PromptIndex, out: &mut Vec<CallOutput>) {
        let mut ids: Vec<PromptId> = PLACEHOLDER_PROMPTS
            .iter()
            .filter_map(|name| prompts.get(*name).copied())
            .collect();
        if ids.is_empty() {
            self.end_by_engine(now, out);
            return;
        }
        let first = ids.remove(0);
        self.placeholder = Some(ids);
        self.play(first, out);
    }

    fn play(&mut self, prompt: PromptId, out: &mut Vec<CallOutput>) {
        self.playbacks = self.playbacks.wrapping_add(1);
        self.playing = Some(self.playbacks);
        out.push(CallOutput::Media(MediaCommand::Play {
            leg: self.setup.leg,
            prompt,
            playback: self.playbacks,
        }));
    }

    fn start_media(&mut self, session: Session, out: &mut Vec<CallOutput>) {
        out.push(CallOutput::Media(MediaCommand::Start {
            leg: self.setup.leg,
            remote: session.remote,
            codec: session.codec,
            payload_type: session.payload_type,
            telephone_event_pt: session.telephone_event_pt,
        }));
        self.session = Some(session);
    }

    fn begin_hangup(&mut self, now: Now) {
        self.phase = Phase::HangingUp;
        self.timer = Some(now.mono + PLAYOUT_TAIL);
    }

    fn end_by_engine(&mut self, now: Now, out: &mut Vec<CallOutput>) {
        out.push(CallOutput::Hangup);
        let disposition = self.closed_disposition.unwrap_or(Disposition::Completed);
        self.finish(now, disposition, HangupSide::Engine, "bye", out);
    }

    fn local_media(&self, port: u16) -> LocalMedia {
        LocalMedia {
            ip: self.setup.media_ip,
            port,
            session_id: self.setup.session_id,
            session_version: self.setup.session_id + self.sdp_version,
        }
    }

    fn event(&mut self, now: Now, kind: &str, detail: serde_json::Value) {
        let seq = i32::try_from(self.events.len()).unwrap_or(i32::MAX);
        self.events.push(CallEvent {
            seq,
            at: now.wall,
            kind: kind.to_owned(),
            detail,
        });
    }

    /// The one exit of every call: the record goes out and the port is released.
    fn finish(
        &mut self,
        now: Now,
        disposition: Disposition,
        side: HangupSide,
        cause: &str,
        out: &mut Vec<CallOutput>,
    ) {
        if self.phase == Phase::Finished {
            return;
        }
        if let Some(runner) = self.runner.as_ref() {
            self.dtmf = runner.choices().to_vec();
        }
        self.event(
            now,
            "ended",
            json!({ "disposition": disposition.as_str(), "cause": cause }),
        );
        if self.media_requested {
            out.push(CallOutput::Media(MediaCommand::Close {
                leg: self.setup.leg,
            }));
        }
        self.phase = Phase::Finished;
        self.timer = None;
        let record = CallRecord {
            id: std::mem::take(&mut self.setup.id),
            sip_call_id: std::mem::take(&mut self.setup.sip_call_id),
            caller: std::mem::take(&mut self.setup.caller),
            called: std::mem::take(&mut self.setup.called),
            arrived_at: self.arrived_at,
            answered_at: self.answered_at,
            ended_at: now.wall,
            entry: self.entry.take(),
            branch: self.branch.take(),
            disposition,
            dtmf: std::mem::take(&mut self.dtmf),
            hangup_side: Some(side),
            hangup_cause: Some(cause.to_owned()),
            node_id: std::mem::take(&mut self.setup.node_id),
            events: std::mem::take(&mut self.events),
        };
        tracing::info!(call = %record.id, disposition = disposition.as_str(), cause, "call ended");
        out.push(CallOutput::Record(Box::new(record)));
    }
}

fn closed_disposition(branch: &str) -> Option<Disposition> {
    match branch {
        "closed_hours" => Some(Disposition::ClosedHours),
        "closed_holiday" => Some(Disposition::ClosedHoliday),
        "closed_year_end" => Some(Disposition::ClosedYearEnd),
        "closed_special" => Some(Disposition::ClosedSpecial),
        _ => None,
    }
}
