//! One call: the caller's leg ↔ its media ↔ the dialplan flow ↔ the queue ↔ the operator or
//! transfer leg ↔ its record.
//!
//! ```text
//!  IncomingCall ─ route ─▶ AwaitingMedia ─ Opened/200 OK ─▶ Answered ─ ACK ─▶ Running ─▶ Finished
//!        │ no entry: 404      │ no common codec: 488             │ no ACK: BYE     │ BYE either way
//!        └────────────────────┴─────── CANCEL: 487 ──────────────┘                 └ record written
//! ```
//! While `Running`, the [`Stage`] says who has the caller: the dialplan flow, a queue
//! (`waiting.rs`), an operator (`peer.rs`) or a transfer target (`transfer.rs`). The second leg
//! of a call (operator phone, city line) belongs to the call, so one call is one record however
//! many legs it had. Every path ends in exactly one [`CallRecord`]: `finish` is the only place
//! that writes it and it moves the call to `Finished`, after which the engine drops the call.

mod peer;
mod transfer;
mod waiting;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use madoguchi_acd::{OfferId, OperatorId, QueueExit};
use madoguchi_dialplan::{Dialplan, FlowAction, FlowRunner};
use madoguchi_media::sdp::{self, LocalMedia};
use madoguchi_media::Codec;
use madoguchi_prompts::PromptId;
use madoguchi_sip::{LegId, OutboundCall, ReInviteId, ReferId, Transport};
use madoguchi_store::{CallEvent, CallRecord, HangupSide};
use serde_json::json;

pub use madoguchi_store::Disposition;

use super::media::MediaCommand;
use super::targets::Targets;
use super::{Now, PromptIndex};
pub(crate) use peer::Peer;
pub(crate) use transfer::TransferOrigin;

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

/// What a call reads while it handles an input.
pub(crate) struct Ctx<'a> {
    pub prompts: &'a PromptIndex,
    pub dialplan: &'a Dialplan,
    pub targets: &'a Targets,
    /// A fresh leg id for a leg this call places (operator phone, city line).
    pub new_leg: &'a mut dyn FnMut() -> LegId,
}

/// Where the ACD wants an operator rung.
#[derive(Debug, Clone)]
pub(crate) struct RingTarget {
    pub offer: OfferId,
    pub operator: OperatorId,
    pub login: String,
    pub contact: String,
    pub destination: SocketAddr,
    pub transport: Transport,
}

/// What happened on the call's second leg.
#[derive(Debug)]
pub(crate) enum PeerEvent {
    MediaOpened {
        port: u16,
    },
    MediaOpenFailed,
    Progress {
        status: u16,
        sdp: Option<Vec<u8>>,
    },
    Answered {
        sdp: Option<Vec<u8>>,
    },
    Failed {
        status: u16,
    },
    RemoteHangup,
    ReInvite {
        request: ReInviteId,
        sdp: Option<Vec<u8>>,
    },
    ReInviteAnswered {
        sdp: Vec<u8>,
    },
    Refer {
        refer: ReferId,
        refer_to: String,
    },
}

pub(crate) enum CallInput {
    Route,
    /// Refused before routing (the engine is draining): 503 with Retry-After.
    Refuse {
        cause: &'static str,
    },
    /// A feature code from an operator's phone: answer, play this prompt, hang up.
    Feature {
        prompt: Option<String>,
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
    // From the ACD, for a caller in a queue.
    Ring(RingTarget),
    CancelRing {
        offer: OfferId,
    },
    /// The ACD had forgotten this offer when its phone answered (the caller left, or another
    /// operator was faster): that phone is hung up.
    OfferLost {
        offer: OfferId,
    },
    Connected {
        operator: OperatorId,
    },
    Announce {
        position: usize,
        wait: Option<Duration>,
    },
    QueueExit {
        exit: QueueExit,
        waited: Duration,
    },
    /// An event on the call's second leg.
    Peer {
        leg: LegId,
        event: PeerEvent,
    },
    /// The API asks for a blind transfer of a call that is with an operator.
    Transfer {
        target: String,
    },
}

/// What a call asks of the ACD; the engine applies it with the call's caller id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AcdRequest {
    Join {
        queue: String,
        priority: i32,
        menu: Option<String>,
    },
    Abandon,
    OfferAnswered {
        offer: OfferId,
    },
    OfferRejected {
        offer: OfferId,
    },
    /// The phone refused or could not be reached: a miss for auto-pause.
    OfferFailed {
        offer: OfferId,
    },
    CallEnded {
        operator: OperatorId,
    },
}

/// Outputs a call hands to its engine; the engine turns them into SIP commands and queues.
#[derive(Debug)]
pub(crate) enum CallOutput {
    Media(MediaCommand),
    Provisional {
        status: u16,
    },
    Accept {
        sdp: Vec<u8>,
    },
    Reject {
        status: u16,
    },
    /// 503 with Retry-After: the engine is going away; the trunk should try later or elsewhere.
    Unavailable,
    Hangup,
    AnswerReinvite {
        leg: LegId,
        request: ReInviteId,
        result: Result<Vec<u8>, u16>,
    },
    Acd(AcdRequest),
    /// From now on events of `leg` belong to this call.
    AdoptLeg {
        leg: LegId,
    },
    /// The call is done with `leg`.
    ReleaseLeg {
        leg: LegId,
    },
    Dial {
        leg: LegId,
        call: Box<OutboundCall>,
    },
    /// CANCEL before an answer, BYE after.
    HangupPeer {
        leg: LegId,
    },
    AnswerRefer {
        leg: LegId,
        refer: ReferId,
        status: u16,
    },
    NotifyRefer {
        leg: LegId,
        status: u16,
        terminated: bool,
    },
    Record(Box<CallRecord>),
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

/// Who has the caller while the call runs.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    /// The dialplan steps.
    Flow,
    /// Plays the announcements left, then hangs up (feature codes).
    Closing,
    /// Waiting in a queue (operators may be ringing).
    Queued { queue: String },
    /// Talking to an operator on `peer`.
    Operator {
        operator: OperatorId,
        login: String,
        peer: LegId,
        /// The operator's phone put the caller on hold: music instead of the bridge.
        held: bool,
    },
    /// Being transferred to a dialplan target.
    Transfer(transfer::Transfer),
}

/// The media both sides agreed on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Session {
    codec: Codec,
    payload_type: u8,
    telephone_event_pt: Option<u8>,
    remote: Option<SocketAddr>,
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
pub(crate) const PLAYOUT_TAIL: Duration = Duration::from_millis(200);

/// Events kept per call: a caller pressing keys for an hour must not grow the record without
/// bound (the flow itself still sees every digit).
const MAX_EVENTS: usize = 200;

/// The queue's part of the record.
#[derive(Debug, Default)]
struct QueueRecord {
    queue: Option<String>,
    joined: Option<Instant>,
    waited: Option<Duration>,
    operator: Option<String>,
    connected_at: Option<DateTime<Utc>>,
    connected: Option<Instant>,
    talk: Option<Duration>,
    transfer_target: Option<String>,
    transfer_result: Option<String>,
    /// Overrides the disposition a normal end would have (answered, abandoned, …).
    outcome: Option<Disposition>,
}

pub(crate) struct Call {
    setup: Setup,
    phase: Phase,
    stage: Stage,
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
    /// The pending timer: the flow's (a pause, a menu timeout), a transfer's ring timeout, or
    /// the playout tail before the BYE.
    timer: Option<Instant>,
    /// The playback now on the leg (numbered by `playbacks`), until it finishes or is stopped.
    playing: Option<u32>,
    playbacks: u32,
    /// The playback on the leg is the looped music (an announcement may cut it).
    looping: bool,
    /// Announcements to play in order outside the flow (queue position, transfer notice).
    announcements: VecDeque<PromptId>,
    /// Looped once `announcements` are done, while waiting.
    music: Option<PromptId>,
    /// What the caller hears while an operator holds the call (the queue's music).
    hold_music: Option<PromptId>,
    /// Operator phones ringing or up, and the transfer target's leg.
    peers: Vec<Peer>,
    queue: QueueRecord,
    dtmf: Vec<String>,
    events: Vec<CallEvent>,
}

impl Call {
    pub fn new(now: Now, setup: Setup) -> Call {
        let mut call = Call {
            setup,
            phase: Phase::AwaitingMedia,
            stage: Stage::Flow,
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
            looping: false,
            announcements: VecDeque::new(),
            music: None,
            hold_music: None,
            peers: Vec::new(),
            queue: QueueRecord::default(),
            dtmf: Vec::new(),
            events: Vec::new(),
        };
        call.event(now, "invite", json!({}));
        call
    }

    pub fn id(&self) -> &str {
        &self.setup.id
    }

    pub fn is_with_operator(&self) -> bool {
        matches!(self.stage, Stage::Operator { .. })
    }

    pub fn timeout(&self) -> Option<Instant> {
        self.timer
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The queue the caller waits in, since when, and its menu choice (for the live board).
    pub fn waiting(&self) -> Option<(&str, DateTime<Utc>, Option<&str>)> {
        match &self.stage {
            Stage::Queued { queue } => {
                let since = self
                    .events
                    .iter()
                    .rev()
                    .find(|e| e.kind == "enqueued")
                    .map_or(self.arrived_at, |e| e.at);
                Some((queue, since, self.dtmf.last().map(String::as_str)))
            }
            _ => None,
        }
    }

    pub fn handle(&mut self, now: Now, input: CallInput, ctx: &mut Ctx<'_>) -> Vec<CallOutput> {
        let mut out = Vec::new();
        if self.phase == Phase::Finished {
            // A late event for a leg of a finished call: make sure that leg goes too.
            if let CallInput::Peer { leg, event } = input {
                if matches!(event, PeerEvent::Answered { .. }) {
                    out.push(CallOutput::HangupPeer { leg });
                }
            }
            return out;
        }
        match input {
            CallInput::Route => self.route(now, ctx.dialplan, &mut out),
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
            CallInput::Feature { prompt } => {
                self.route_feature(now, ctx, prompt.as_deref(), &mut out)
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
            CallInput::Confirmed { sdp } => self.confirmed(now, sdp, ctx, &mut out),
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
            CallInput::RemoteHangup => self.caller_hung_up(now, &mut out),
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
                    self.prompt_finished(now, ctx, &mut out);
                }
            }
            CallInput::Digit(_) if self.phase != Phase::Running => {}
            CallInput::Digit(digit) => {
                if self.events.len() < MAX_EVENTS {
                    self.event(now, "dtmf", json!({ "digit": digit.to_string() }));
                }
                if self.stage == Stage::Flow {
                    if let Some(runner) = self.runner.as_mut() {
                        runner.handle_digit(digit);
                        self.run_flow(now, ctx, &mut out);
                    }
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
                match self.stage {
                    Stage::Transfer(_) => self.transfer_timed_out(now, ctx, &mut out),
                    _ => {
                        if let Some(runner) = self.runner.as_mut() {
                            runner.handle_timer_expired();
                            self.run_flow(now, ctx, &mut out);
                        }
                    }
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
            CallInput::Ring(target) => self.ring(now, ctx, target, &mut out),
            CallInput::CancelRing { offer } | CallInput::OfferLost { offer } => {
                self.drop_offer(now, offer, &mut out)
            }
            CallInput::Connected { operator } => self.connected(now, operator, &mut out),
            CallInput::Announce { position, wait } => {
                self.announce_position(now, ctx, position, wait, &mut out)
            }
            CallInput::QueueExit { exit, waited } => {
                self.queue_exit(now, ctx, exit, waited, &mut out)
            }
            CallInput::Peer { leg, event } => self.peer_event(now, ctx, leg, event, &mut out),
            CallInput::Transfer { target } => {
                self.operator_transfer(now, ctx, &target, None, &mut out)
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
        if !self.check_offer(now, out) {
            return;
        }
        if route.ring.is_zero() {
            self.request_media(out);
        } else {
            out.push(CallOutput::Provisional { status: 180 });
            self.timer = Some(now.mono + route.ring);
            self.phase = Phase::Ringing;
        }
    }

    /// A feature code call: answered at once, one confirmation prompt, BYE.
    fn route_feature(
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
    fn check_offer(&mut self, now: Now, out: &mut Vec<CallOutput>) -> bool {
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

    fn reinvite(
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

    fn prompt_finished(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        match &self.stage {
            Stage::Flow => {
                if let Some(runner) = self.runner.as_mut() {
                    runner.handle_prompt_finished();
                    self.run_flow(now, ctx, out);
                }
            }
            Stage::Transfer(t) if t.is_announcing() => {
                if self.announcements.is_empty() {
                    self.dial_target(now, ctx, out);
                } else {
                    self.play_next(now, out);
                }
            }
            _ => self.play_next(now, out),
        }
    }

    /// Plays the next queued announcement; then loops the music, or hangs up when closing.
    fn play_next(&mut self, now: Now, out: &mut Vec<CallOutput>) {
        if let Some(next) = self.announcements.pop_front() {
            self.play(next, false, out);
            return;
        }
        match (&self.stage, self.music) {
            (Stage::Closing, _) => self.begin_hangup(now),
            (_, Some(music)) => self.play(music, true, out),
            _ => {}
        }
    }

    /// Carries out the flow's actions until it waits for a prompt, a digit or a timer.
    fn run_flow(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        while let Some(action) = self.runner.as_mut().and_then(FlowRunner::poll_action) {
            match action {
                FlowAction::Play { prompt } => match ctx.prompts.get(&prompt) {
                    Some(id) => {
                        self.event(now, "play", json!({ "prompt": prompt }));
                        self.play(*id, false, out);
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
                FlowAction::Queue { queue, priority } => {
                    self.sync_choices();
                    self.enqueue(now, ctx, &queue, priority, out);
                    return;
                }
                FlowAction::Transfer { target } => {
                    self.sync_choices();
                    self.start_transfer(now, ctx, &target, TransferOrigin::Flow, out);
                    return;
                }
                FlowAction::Hangup => {
                    self.begin_hangup(now);
                    return;
                }
            }
        }
        self.sync_choices();
    }

    /// The queue or transfer gave the call back to the dialplan steps after it.
    fn resume_flow(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        self.stage = Stage::Flow;
        self.music = None;
        self.announcements.clear();
        if self.playing.take().is_some() {
            out.push(CallOutput::Media(MediaCommand::StopPlayback {
                leg: self.setup.leg,
            }));
        }
        match self.runner.as_mut() {
            Some(runner) => {
                runner.handle_handoff_done();
                self.run_flow(now, ctx, out);
            }
            None => self.begin_hangup(now),
        }
    }

    /// The menu choices so far. A target's steps run in a runner of their own, so choices
    /// made before are kept rather than replaced by its (empty) list.
    fn sync_choices(&mut self) {
        if let Some(runner) = self.runner.as_ref() {
            if runner.choices().len() >= self.dtmf.len() {
                self.dtmf = runner.choices().to_vec();
            }
        }
    }

    fn play(&mut self, prompt: PromptId, looped: bool, out: &mut Vec<CallOutput>) {
        self.playbacks = self.playbacks.wrapping_add(1);
        self.playing = Some(self.playbacks);
        self.looping = looped;
        out.push(CallOutput::Media(MediaCommand::Play {
            leg: self.setup.leg,
            prompt,
            playback: self.playbacks,
            looped,
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

    /// The caller's BYE: whoever has the call lets go of it.
    fn caller_hung_up(&mut self, now: Now, out: &mut Vec<CallOutput>) {
        if let Stage::Queued { .. } = self.stage {
            self.queue.outcome = Some(Disposition::Abandoned);
            self.queue.waited = self
                .queue
                .joined
                .map(|at| now.mono.saturating_duration_since(at));
            self.event(
                now,
                "abandoned",
                json!({ "waited_ms": self.queue.waited.map(|w| w.as_millis() as u64) }),
            );
        }
        if matches!(self.stage, Stage::Transfer(_)) && self.queue.transfer_result.is_none() {
            // Hung up while the target was announced or rang: the transfer never completed.
            self.queue.transfer_result = Some("caller_hangup".to_owned());
        }
        self.finish(
            now,
            Disposition::CallerHangup,
            HangupSide::Caller,
            "bye",
            out,
        );
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
        if self.events.len() >= MAX_EVENTS && kind != "ended" {
            return;
        }
        let seq = i32::try_from(self.events.len()).unwrap_or(i32::MAX);
        self.events.push(CallEvent {
            seq,
            at: now.wall,
            kind: kind.to_owned(),
            detail,
        });
    }

    /// The one exit of every call: every leg goes, the record goes out, ports are released.
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
        self.sync_choices();
        if let Stage::Queued { .. } = self.stage {
            // However a queued call ends (BYE, shutdown), the ACD lets go of it: a caller
            // left behind there would be offered to operators forever.
            out.push(CallOutput::Acd(AcdRequest::Abandon));
        }
        self.release_peers(now, out);
        let disposition = match (self.queue.outcome, disposition) {
            // Refusals and failures before the caller was ever queued keep their own word.
            (Some(outcome), _) => outcome,
            (None, d) => d,
        };
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
        let talk = self.queue.talk.or_else(|| {
            self.queue
                .connected
                .map(|at| now.mono.saturating_duration_since(at))
        });
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
            menu_choice: self.dtmf.last().cloned(),
            dtmf: std::mem::take(&mut self.dtmf),
            hangup_side: Some(side),
            hangup_cause: Some(cause.to_owned()),
            node_id: std::mem::take(&mut self.setup.node_id),
            queue: self.queue.queue.take(),
            waited_ms: self.queue.waited.map(millis),
            operator: self.queue.operator.take(),
            connected_at: self.queue.connected_at,
            talk_ms: talk.map(millis),
            transfer_target: self.queue.transfer_target.take(),
            transfer_result: self.queue.transfer_result.take(),
            events: std::mem::take(&mut self.events),
        };
        tracing::info!(call = %record.id, disposition = disposition.as_str(), cause, "call ended");
        out.push(CallOutput::Record(Box::new(record)));
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
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
