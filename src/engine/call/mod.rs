//! One call: the caller's leg ↔ its media ↔ the dialplan flow ↔ the queue ↔ the operator or
//! transfer leg ↔ its record.
//!
//! ```text
//!  IncomingCall ─ route ─▶ AwaitingMedia ─ Opened/200 OK ─▶ Answered ─ ACK ─▶ Running ─▶ Finished
//!        │ no entry: 404      │ no common codec: 488             │ no ACK: BYE     │ BYE either way
//!        └────────────────────┴─────── CANCEL: 487 ──────────────┘                 └ record written
//! ```
//! In an `answer = "operator"` entry the 200 OK waits: `early.rs` runs the flow behind a 183
//! with SDP (`Early`) until an operator, a transfer target or the cap answers.
//! `setup.rs` takes the caller's leg to `Running`. While running, the [`Stage`] says who has
//! the caller: the dialplan flow (here), a queue (`waiting.rs`), an operator (`peer.rs`) or a
//! transfer target (`transfer.rs`); `record.rs` writes the record at the end. The second leg
//! of a call (operator phone, city line) belongs to the call, so one call is one record however
//! many legs it had. Every path ends in exactly one [`CallRecord`]: `finish` is the only place
//! that writes it and it moves the call to `Finished`, after which the engine drops the call.

mod early;
mod intake;
mod language;
mod peer;
mod record;
mod recording;
mod setup;
mod transfer;
mod waiting;

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use madoguchi_acd::{OfferId, OperatorId, QueueExit};
use madoguchi_dialplan::{AnswerMode, Dialplan, FlowAction, FlowRunner};
use madoguchi_media::sdp::{self, LocalMedia};
use madoguchi_media::Codec;
use madoguchi_prompts::PromptId;
use madoguchi_sip::{LegId, OutboundCall, ReInviteId, ReferId, Transport};
use madoguchi_store::{CallEvent, CallRecord, HangupSide, LanguageFallbackUsed};
use serde_json::json;

pub use madoguchi_store::Disposition;

use super::console::ConsoleOutput;
use super::media::MediaCommand;
use super::targets::Targets;
use super::{Now, PromptIndex};
pub(crate) use language::{language_from_header, LANGUAGE_HEADER};
pub(crate) use peer::{mode_name, Peer, CALL_ID_HEADER, MENU_HEADER, PEER_HEADER, QUEUE_HEADER};
use recording::CallRecording;
pub use recording::RecordingAction;
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
    /// Set when another node offers this call to one of our operators (see `intake.rs`).
    pub peer: Option<PeerIntake>,
}

/// Where a call another node offers us comes from: that node's id and SIP address (the
/// host a transfer's REFER names).
#[derive(Debug, Clone)]
pub(crate) struct PeerIntake {
    pub node: String,
    pub sip: SocketAddr,
    /// The caller's language as that node's `X-Madoguchi-Language` names it.
    pub language: Option<String>,
}

/// What a call reads while it handles an input.
pub(crate) struct Ctx<'a> {
    pub prompts: &'a PromptIndex,
    pub dialplan: &'a Dialplan,
    pub targets: &'a Targets,
    /// A fresh leg id for a leg this call places (operator phone, city line).
    pub new_leg: &'a mut dyn FnMut() -> LegId,
    /// A uniform draw in [0, 1) from the engine's seeded RNG (a recording share).
    pub draw: &'a mut dyn FnMut() -> f64,
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
    /// The operator works on another node (a mirror): the INVITE goes to that node, marked
    /// with our node id so that it offers the call to the operator directly.
    pub peer: bool,
}

impl RingTarget {
    /// A phone registered over a WebSocket is a browser (RFC 7118): its audio is WebRTC.
    pub fn is_browser_phone(&self) -> bool {
        self.transport == Transport::Ws
    }
}

/// Where the ACD wants an operator rung: the operator's browser console, on its media leg.
#[derive(Debug, Clone)]
pub(crate) struct ConsoleRing {
    pub offer: OfferId,
    pub operator: OperatorId,
    pub login: String,
    pub leg: LegId,
}

/// What happened on the call's second leg.
#[derive(Debug)]
pub(crate) enum PeerEvent {
    MediaOpened {
        port: u16,
    },
    /// A browser phone's WebRTC offer is ready (the INVITE waited for it).
    WebRtcOffered {
        sdp: String,
    },
    MediaOpenFailed,
    /// A browser phone's audio connection failed, or its answer did not fit our offer.
    MediaLost,
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
    /// The operator's console put the caller on hold (music) or took it back.
    Hold {
        on: bool,
    },
    /// The operator's console starts, pauses or resumes the recording.
    Recording {
        action: RecordingAction,
    },
}

pub(crate) enum CallInput {
    Route,
    /// Another node offers this call to one of our operators (already rung by the ACD):
    /// `queue` and `menu` as that node's headers name them.
    PeerIntake {
        queue: String,
        menu: Option<String>,
    },
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
    /// A reliable 18x (RFC 3262) got no PRACK: the SIP layer refused the INVITE (504).
    PrackTimedOut,
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
    RingConsole(ConsoleRing),
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
    /// A manager joins the call with their phone (see `peer.rs`).
    Monitor(MonitorTarget),
    /// The manager on the call listens, whispers or barges in from now on.
    MonitorMode(madoguchi_media::mix::MixMode),
    /// The manager leaves the call (their phone is hung up); the call goes on.
    StopMonitor,
    /// The caller waited its language's `after` for a skilled operator: any one may take it.
    SkillRelaxed,
}

/// Where a manager's phone is rung to join a call, and how they join.
#[derive(Debug, Clone)]
pub(crate) struct MonitorTarget {
    pub login: String,
    pub mode: madoguchi_media::mix::MixMode,
    pub contact: String,
    pub destination: SocketAddr,
    pub transport: Transport,
}

/// What a call asks of the ACD; the engine applies it with the call's caller id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AcdRequest {
    Join {
        queue: String,
        priority: i32,
        menu: Option<String>,
        /// The skill the caller waits for (its language), and for how long.
        skill: Option<language::SkillWait>,
    },
    /// The caller leaves its queue without an operator: it hung up, or the early limit's
    /// steps take it out. The call itself already knows why; the ACD's exit is not driven
    /// back to it.
    Leave,
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
    /// An 18x; a 183 of an `answer = "operator"` call carries our SDP (early media).
    Provisional {
        status: u16,
        sdp: Option<Vec<u8>>,
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
    /// Asks the far side of `leg` (the node a peer call came from) to transfer the call.
    Refer {
        leg: LegId,
        refer_to: String,
    },
    Record(Box<CallRecord>),
    /// The call's recording started into `file` (relative to the recordings folder).
    RecordingStarted {
        file: std::path::PathBuf,
    },
    /// News for the console whose media leg is `leg`.
    Console {
        leg: LegId,
        event: ConsoleOutput,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// 180 Ringing sent; the entry's ring time runs before we answer.
    Ringing,
    /// Routed; the RTP port is being bound before we answer.
    AwaitingMedia,
    /// `answer = "operator"`: 183 with SDP sent, media and flow running, no 200 OK yet
    /// (see `early.rs`).
    Early,
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
    arrived_mono: Instant,
    answered_at: Option<DateTime<Utc>>,
    /// What caused our 200 OK in operator mode (an operator, a target, the cap); `None`
    /// with `answered_at` set means the engine answered.
    answered_by: Option<madoguchi_store::AnsweredBy>,
    /// Who sends the 200 OK (the routed entry's `answer`).
    answer_mode: AnswerMode,
    /// The early dialog while `answer_mode` is operator.
    early: Option<early::Early>,
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
    recording: CallRecording,
    /// The language the caller chose (`{ language = … }`); `None` for the default one.
    language: Option<String>,
    /// How a caller of a language was served without it, if it was.
    language_fallback: Option<LanguageFallbackUsed>,
    /// Its wait for an operator speaking its language in the queue it joined last.
    language_wait: Option<language::LanguageWait>,
}

impl Call {
    pub fn new(now: Now, setup: Setup) -> Call {
        let mut call = Call {
            setup,
            phase: Phase::AwaitingMedia,
            stage: Stage::Flow,
            arrived_at: now.wall,
            arrived_mono: now.mono,
            answered_at: None,
            answered_by: None,
            answer_mode: AnswerMode::Engine,
            early: None,
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
            recording: CallRecording::default(),
            language: None,
            language_fallback: None,
            language_wait: None,
        };
        call.event(now, "invite", json!({}));
        call
    }

    pub fn id(&self) -> &str {
        &self.setup.id
    }

    /// Another node offered this call to one of our operators: it has no record here.
    pub fn is_peer_intake(&self) -> bool {
        self.setup.peer.is_some()
    }

    pub fn is_with_operator(&self) -> bool {
        matches!(self.stage, Stage::Operator { .. })
    }

    /// The login of the operator the caller talks to.
    pub fn operator_login(&self) -> Option<&str> {
        match &self.stage {
            Stage::Operator { login, .. } => Some(login),
            _ => None,
        }
    }

    pub fn timeout(&self) -> Option<Instant> {
        match (self.timer, self.early_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
            CallInput::Route => self.route(now, ctx, &mut out),
            CallInput::PeerIntake { queue, menu } => self.peer_intake(now, queue, menu, &mut out),
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
            CallInput::MediaOpened { port } if self.is_peer_intake() => {
                self.intake_media(now, port, &mut out)
            }
            CallInput::MediaOpened { port } if self.answer_mode != AnswerMode::Engine => {
                self.early(now, port, ctx, &mut out)
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
            CallInput::PrackTimedOut => self.finish(
                now,
                Disposition::Failed,
                HangupSide::Engine,
                "prack_timeout",
                &mut out,
            ),
            CallInput::Cancelled => {
                if matches!(self.stage, Stage::Queued { .. }) {
                    // Early media: the caller gave up waiting before anyone answered.
                    self.note_abandoned(now);
                }
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
            // RFC 4733 digits flow in early media too: the menu works before the 200 OK.
            CallInput::Digit(_) if !matches!(self.phase, Phase::Running | Phase::Early) => {}
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
            CallInput::Timeout if self.early_due(now.mono) => self.early_timer(now, ctx, &mut out),
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
                    Stage::Operator { .. } if self.monitor_ringing() => {
                        self.stop_monitor(now, "no_answer", &mut out)
                    }
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
                    Phase::Ringing | Phase::AwaitingMedia | Phase::Early => {
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
            CallInput::RingConsole(ring) => self.ring_console(now, ring, &mut out),
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
            CallInput::Transfer { target } if self.is_peer_intake() => {
                self.refer_to_peer(now, &target, &mut out)
            }
            CallInput::Transfer { target } => {
                self.operator_transfer(now, ctx, &target, None, &mut out)
            }
            CallInput::Monitor(target) => self.monitor(now, ctx, target, &mut out),
            CallInput::MonitorMode(mode) => self.monitor_mode(now, mode, &mut out),
            CallInput::StopMonitor => self.stop_monitor(now, "stopped", &mut out),
            CallInput::SkillRelaxed => self.skill_relaxed(now),
        }
        // The operator left (a transfer, the end of the call): the manager's phone goes too.
        if !self.is_with_operator() {
            self.stop_monitor(now, "operator_left", &mut out);
        }
        out
    }

    fn prompt_finished(&mut self, now: Now, ctx: &mut Ctx<'_>, out: &mut Vec<CallOutput>) {
        match &self.stage {
            Stage::Flow => {
                // The recording notice a queue plays before the caller joins it.
                if let Some((queue, priority)) = self.recording.pending_join.take() {
                    self.enqueue(now, ctx, &queue, priority, out);
                } else if let Some(runner) = self.runner.as_mut() {
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
            // A `language` step ran before this action: it plays in that language already.
            self.sync_language(now, ctx);
            if let FlowAction::Callback { .. } = action {
                self.note_callback(now);
            }
            match action {
                // A callback's prompt plays like any other; the runner hangs up after it.
                FlowAction::Play { prompt } | FlowAction::Callback { prompt } => {
                    match self.prompt_id(ctx, &prompt) {
                        Some(id) => {
                            self.event(now, "play", json!({ "prompt": prompt }));
                            self.play(id, false, out);
                        }
                        None => {
                            // The dialplan check makes every named prompt exist; keep the call
                            // alive rather than stall if a reload ever breaks that.
                            tracing::warn!(prompt, "prompt not loaded, skipped");
                            if let Some(runner) = self.runner.as_mut() {
                                runner.handle_prompt_finished();
                            }
                        }
                    }
                }
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
        if self.early.is_some() && self.answered_at.is_none() {
            // The flow hung up in early media: the call is refused, never answered.
            out.push(CallOutput::Reject { status: 480 });
        } else {
            out.push(CallOutput::Hangup);
        }
        let disposition = self.closed_disposition.unwrap_or(Disposition::Completed);
        self.finish(now, disposition, HangupSide::Engine, "bye", out);
    }

    /// The caller's BYE: whoever has the call lets go of it.
    fn caller_hung_up(&mut self, now: Now, out: &mut Vec<CallOutput>) {
        if let Stage::Queued { .. } = self.stage {
            self.note_abandoned(now);
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

    /// The caller left the queue by hanging up (BYE, or CANCEL in early media).
    fn note_abandoned(&mut self, now: Now) {
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
}
