//! The call's second legs: operator phones the ACD rings, the leg to a transfer target, and a
//! manager's phone joining a call with an operator (listen-in, whisper, barge: the media shell
//! mixes the three legs while it is up).
//! Each is a SIP dialog we place (UAC) with its own RTP port; when it answers, the media shell
//! bridges it to the caller's leg. A phone registered over a WebSocket is a browser (JsSIP,
//! SIP.js): its INVITE carries a WebRTC offer the media shell makes (ICE-lite, DTLS-SRTP, the
//! caller's G.711 law, so the bridge needs no transcoding), and its 200 OK's answer goes back
//! to the media shell instead of naming an RTP address. An operator's browser console rings
//! without SIP at all.

use madoguchi_acd::{OfferId, OperatorId};
use madoguchi_media::mix::MixMode;
use madoguchi_media::{sdp, Codec};
use madoguchi_sip::{LegId, OutboundCall};
use madoguchi_store::HangupSide;
use serde_json::json;

use std::time::Duration;

use super::{
    AcdRequest, Call, CallOutput, ConsoleRing, Ctx, Disposition, MonitorTarget, PeerEvent,
    RingTarget, Session, Stage,
};
use crate::engine::console::{ConsoleOutput, OfferedCall};
use crate::engine::media::MediaCommand;
use crate::engine::Now;

/// Header carrying the engine's call id to the far side (operator phone, city line).
pub const CALL_ID_HEADER: &str = "X-Madoguchi-Call-Id";
/// Header carrying the caller's menu choice.
pub const MENU_HEADER: &str = "X-Madoguchi-Menu";
/// Header carrying the queue the caller waited in.
pub const QUEUE_HEADER: &str = "X-Madoguchi-Queue";
/// Header marking an INVITE as another node's offer to one of our operators; its value is
/// the offering node's id.
pub const PEER_HEADER: &str = "X-Madoguchi-Peer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeerRole {
    Operator {
        offer: OfferId,
        operator: OperatorId,
        login: String,
    },
    Target {
        name: String,
    },
    /// A manager listening in, whispering or barging in, as `mode` says.
    Supervisor {
        login: String,
        mode: MixMode,
    },
}

/// How long a manager's phone rings before the monitoring request is given up.
pub(crate) const MONITOR_RING: Duration = Duration::from_secs(30);

/// A mode's name in events, the API and the console.
pub(crate) fn mode_name(mode: MixMode) -> &'static str {
    match mode {
        MixMode::Listen => "listen",
        MixMode::Whisper => "whisper",
        MixMode::Barge => "barge",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerPhase {
    /// The RTP port is being bound; the INVITE waits for it (our offer names the port).
    Opening,
    /// INVITE sent.
    Inviting,
    /// Answered (2xx).
    Up,
}

/// How the second leg reaches its far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerEndpoint {
    /// A SIP dialog we place, with an RTP port of its own.
    Sip,
    /// A SIP dialog we place to a browser phone on a WebSocket, with a WebRTC leg of its own
    /// (we offer, its 200 OK answers).
    WebRtcPhone,
    /// An operator's browser console: its media leg outlives the call, only the bridge goes.
    Console,
}

#[derive(Debug)]
pub(crate) struct Peer {
    pub leg: LegId,
    pub role: PeerRole,
    pub endpoint: PeerEndpoint,
    pub phase: PeerPhase,
    /// The INVITE to send once the port is bound (without the SDP yet).
    pending: Option<OutboundCall>,
    port: Option<u16>,
    session: Option<Session>,
    /// Early media was bridged (183 with SDP).
    pub early: bool,
    sdp_version: u64,
    /// The operator's ACD call was ended already (transferred): its BYE ends nothing more.
    ended_in_acd: bool,
}

impl Peer {
    pub fn new(leg: LegId, role: PeerRole, pending: OutboundCall) -> Peer {
        Peer {
            leg,
            role,
            endpoint: PeerEndpoint::Sip,
            phase: PeerPhase::Opening,
            pending: Some(pending),
            port: None,
            session: None,
            early: false,
            sdp_version: 0,
            ended_in_acd: false,
        }
    }

    /// An operator's console, ringing at once (its audio is up already).
    pub fn console(leg: LegId, role: PeerRole) -> Peer {
        Peer {
            leg,
            role,
            endpoint: PeerEndpoint::Console,
            phase: PeerPhase::Inviting,
            pending: None,
            port: None,
            session: None,
            early: false,
            sdp_version: 0,
            ended_in_acd: false,
        }
    }

    /// A browser phone: the INVITE waits for the media shell's WebRTC offer.
    pub fn webrtc_phone(leg: LegId, role: PeerRole, pending: OutboundCall) -> Peer {
        Peer {
            endpoint: PeerEndpoint::WebRtcPhone,
            ..Peer::new(leg, role, pending)
        }
    }

    pub fn mark_ended_in_acd(&mut self) {
        self.ended_in_acd = true;
    }

    fn offer(&self) -> Option<OfferId> {
        match self.role {
            PeerRole::Operator { offer, .. } => Some(offer),
            PeerRole::Target { .. } | PeerRole::Supervisor { .. } => None,
        }
    }
}

impl Call {
    /// The ACD offers the caller to an operator: place a call to the operator's phone.
    pub(super) fn ring(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        target: RingTarget,
        out: &mut Vec<CallOutput>,
    ) {
        let Stage::Queued { queue } = &self.stage else {
            out.push(CallOutput::Acd(AcdRequest::OfferRejected {
                offer: target.offer,
            }));
            return;
        };
        let label = ctx
            .dialplan
            .queue(queue)
            .and_then(|q| q.label.clone())
            .unwrap_or_else(|| queue.clone());
        let mut headers = vec![
            (CALL_ID_HEADER.to_owned(), self.setup.id.clone()),
            (QUEUE_HEADER.to_owned(), queue.clone()),
        ];
        if let Some(choice) = self.dtmf.last() {
            headers.push((MENU_HEADER.to_owned(), choice.clone()));
        }
        if let Some(language) = &self.language {
            headers.push((super::LANGUAGE_HEADER.to_owned(), language.clone()));
        }
        if target.peer {
            headers.push((PEER_HEADER.to_owned(), self.setup.node_id.clone()));
        }
        let invite = OutboundCall {
            request_uri: target.contact.clone(),
            destination: target.destination,
            transport: target.transport,
            from_user: self.setup.caller.clone(),
            // Phones show the display name: the operator sees which menu the caller chose.
            from_display: Some(match self.dtmf.last() {
                Some(choice) => format!("[{choice}] {label}"),
                None => label,
            }),
            extra_headers: headers,
            sdp: Vec::new(),
            credentials: None,
        };
        let leg = (ctx.new_leg)();
        self.event(
            now,
            "offered",
            json!({ "operator": target.login, "offer": target.offer.0 }),
        );
        let browser = target.is_browser_phone();
        let role = PeerRole::Operator {
            offer: target.offer,
            operator: target.operator,
            login: target.login,
        };
        out.push(CallOutput::AdoptLeg { leg });
        if browser {
            self.peers.push(Peer::webrtc_phone(leg, role, invite));
            // The caller's own law: the relay then passes packets through untouched.
            let codec = self.session.map_or(Codec::Pcmu, |s| s.codec);
            out.push(CallOutput::Media(MediaCommand::OpenWebRtc { leg, codec }));
        } else {
            self.peers.push(Peer::new(leg, role, invite));
            out.push(CallOutput::Media(MediaCommand::Open { leg }));
        }
    }

    /// The call as the console on `leg` shows it, and whether it is connected there.
    pub(crate) fn console_view(&self, now: Now, leg: LegId) -> Option<(OfferedCall, bool)> {
        let peer = self
            .peers
            .iter()
            .find(|p| p.leg == leg && p.endpoint == PeerEndpoint::Console)?;
        let queue = self.queue.queue.clone().unwrap_or_default();
        // Once connected the wait is over; while ringing it still grows.
        let waited = self.queue.waited.unwrap_or_else(|| {
            self.queue
                .joined
                .map_or(Duration::ZERO, |at| now.mono.saturating_duration_since(at))
        });
        let offer = OfferedCall {
            call_id: self.setup.id.clone(),
            caller: self.setup.caller.clone(),
            queue,
            waited,
            menu_choice: self.dtmf.last().cloned(),
            language: self.language.clone(),
            language_fallback: self.language_wait.and_then(|wait| wait.fallback()),
        };
        Some((offer, peer.phase == PeerPhase::Up))
    }

    /// The ACD offers the caller to an operator working in a browser console.
    pub(super) fn ring_console(&mut self, now: Now, ring: ConsoleRing, out: &mut Vec<CallOutput>) {
        let Stage::Queued { queue } = &self.stage else {
            out.push(CallOutput::Acd(AcdRequest::OfferRejected {
                offer: ring.offer,
            }));
            return;
        };
        let offer = OfferedCall {
            call_id: self.setup.id.clone(),
            caller: self.setup.caller.clone(),
            queue: queue.clone(),
            waited: self
                .queue
                .joined
                .map_or(Duration::ZERO, |at| now.mono.saturating_duration_since(at)),
            menu_choice: self.dtmf.last().cloned(),
            language: self.language.clone(),
            language_fallback: self.language_wait.and_then(|wait| wait.fallback()),
        };
        self.event(
            now,
            "offered",
            json!({ "operator": ring.login, "offer": ring.offer.0, "endpoint": "console" }),
        );
        self.peers.push(Peer::console(
            ring.leg,
            PeerRole::Operator {
                offer: ring.offer,
                operator: ring.operator,
                login: ring.login,
            },
        ));
        out.push(CallOutput::AdoptLeg { leg: ring.leg });
        out.push(CallOutput::Console {
            leg: ring.leg,
            event: ConsoleOutput::Offered(offer),
        });
    }

    /// Places a call to a transfer target; `Stage::Transfer` follows it.
    pub(super) fn dial_peer(
        &mut self,
        ctx: &mut Ctx<'_>,
        role: PeerRole,
        invite: OutboundCall,
        out: &mut Vec<CallOutput>,
    ) -> LegId {
        let leg = (ctx.new_leg)();
        self.peers.push(Peer::new(leg, role, invite));
        out.push(CallOutput::AdoptLeg { leg });
        out.push(CallOutput::Media(MediaCommand::Open { leg }));
        leg
    }

    /// The ring ended without the caller (ring-out, another operator answered, the operator
    /// paused): hang that phone up.
    pub(super) fn drop_offer(&mut self, now: Now, offer: OfferId, out: &mut Vec<CallOutput>) {
        let Some(index) = self.peers.iter().position(|p| p.offer() == Some(offer)) else {
            return;
        };
        let peer = self.peers.remove(index);
        if let PeerRole::Operator { login, .. } = &peer.role {
            self.event(
                now,
                "offer_result",
                json!({ "operator": login, "result": "cancelled" }),
            );
        }
        release(&peer, out);
        self.intake_lost(now, 480, out);
    }

    /// Hangs up every operator phone still ringing for this caller.
    pub(super) fn hangup_ringing(&mut self, now: Now, out: &mut Vec<CallOutput>) {
        let ringing: Vec<OfferId> = self
            .peers
            .iter()
            .filter(|p| p.phase != PeerPhase::Up)
            .filter_map(Peer::offer)
            .collect();
        for offer in ringing {
            out.push(CallOutput::Acd(AcdRequest::OfferRejected { offer }));
            self.drop_offer(now, offer, out);
        }
    }

    /// Every second leg goes (the call is ending).
    pub(super) fn release_peers(&mut self, now: Now, out: &mut Vec<CallOutput>) {
        let queued = matches!(self.stage, Stage::Queued { .. });
        for peer in std::mem::take(&mut self.peers) {
            if let PeerRole::Supervisor { login, .. } = &peer.role {
                self.event(
                    now,
                    "monitor_ended",
                    json!({ "supervisor": login, "reason": "call_ended" }),
                );
            }
            if let PeerRole::Operator {
                offer, operator, ..
            } = &peer.role
            {
                if peer.ended_in_acd {
                } else if peer.phase == PeerPhase::Up {
                    out.push(CallOutput::Acd(AcdRequest::CallEnded {
                        operator: *operator,
                    }));
                } else if !queued {
                    // Queued callers' offers go with the ACD's abandon.
                    out.push(CallOutput::Acd(AcdRequest::OfferRejected { offer: *offer }));
                }
            }
            release(&peer, out);
        }
        if let Stage::Operator { .. } = self.stage {
            self.queue.talk = self
                .queue
                .connected
                .map(|at| now.mono.saturating_duration_since(at));
        }
    }

    /// The ACD connected the caller to the operator whose phone answered: bridge them.
    pub(super) fn connected(&mut self, now: Now, operator: OperatorId, out: &mut Vec<CallOutput>) {
        let Some(peer) = self.peers.iter().find(|p| {
            p.phase == PeerPhase::Up
                && matches!(p.role, PeerRole::Operator { operator: o, .. } if o == operator)
        }) else {
            // The phone is gone already: end the ACD's call at once.
            out.push(CallOutput::Acd(AcdRequest::CallEnded { operator }));
            return;
        };
        let PeerRole::Operator { login, .. } = &peer.role else {
            return;
        };
        let (leg, login) = (peer.leg, login.clone());
        self.event(now, "connected", json!({ "operator": login }));
        self.queue.operator = Some(login.clone());
        self.queue.waited = self
            .queue
            .joined
            .map(|at| now.mono.saturating_duration_since(at));
        self.queue.connected = Some(now.mono);
        self.queue.connected_at = Some(now.wall);
        self.queue.outcome = Some(Disposition::Answered);
        self.stage = Stage::Operator {
            operator,
            login,
            peer: leg,
            held: false,
        };
        self.stop_waiting_audio();
        // Operator mode: the caller's 200 OK waited for this moment.
        self.answer_early(now, madoguchi_store::AnsweredBy::Operator, out);
        if !self.intake_connected(now, out) {
            return;
        }
        out.push(CallOutput::Media(MediaCommand::Bridge {
            a: self.setup.leg,
            b: leg,
        }));
        self.recording_bridged(now, leg, out);
        self.tell_console(leg, ConsoleOutput::Connected, out);
    }

    /// News for the operator's console on `leg`, if that leg is a console (not a phone).
    pub(super) fn tell_console(&self, leg: LegId, event: ConsoleOutput, out: &mut Vec<CallOutput>) {
        if self
            .peers
            .iter()
            .any(|p| p.leg == leg && p.endpoint == PeerEndpoint::Console)
        {
            out.push(CallOutput::Console { leg, event });
        }
    }

    /// Music and announcements stop (the bridge replaces them in the media shell).
    pub(super) fn stop_waiting_audio(&mut self) {
        self.music = None;
        self.announcements.clear();
        self.playing = None;
        self.looping = false;
    }

    pub(super) fn peer_event(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        leg: LegId,
        event: PeerEvent,
        out: &mut Vec<CallOutput>,
    ) {
        let Some(index) = self.peers.iter().position(|p| p.leg == leg) else {
            if matches!(event, PeerEvent::Answered { .. }) {
                out.push(CallOutput::HangupPeer { leg });
            }
            return;
        };
        match event {
            PeerEvent::MediaOpened { port } => self.send_invite(index, port, out),
            PeerEvent::WebRtcOffered { sdp } => self.send_webrtc_invite(index, sdp, out),
            PeerEvent::MediaLost if self.peers[index].phase == PeerPhase::Up => {
                tracing::debug!(call = %self.setup.id, "a browser phone's audio is gone");
                self.peer_hung_up(now, index, "operator_media_lost", out);
            }
            PeerEvent::MediaLost => self.peer_failed(now, ctx, index, 488, out),
            // Our own port shortage is no fault of the operator's phone.
            PeerEvent::MediaOpenFailed => {
                let peer = self.peers.remove(index);
                release(&peer, out);
                match peer.role {
                    PeerRole::Operator { offer, .. } => {
                        out.push(CallOutput::Acd(AcdRequest::OfferRejected { offer }))
                    }
                    PeerRole::Target { .. } => self.target_failed(now, ctx, 503, out),
                    PeerRole::Supervisor { login, .. } => {
                        self.monitor_over(now, &login, false, "no_rtp_port", out)
                    }
                }
            }
            PeerEvent::Progress { status, sdp } => self.peer_progress(now, index, status, sdp, out),
            PeerEvent::Answered { sdp } => self.peer_answered(now, ctx, index, sdp, out),
            PeerEvent::Failed { status } => self.peer_failed(now, ctx, index, status, out),
            PeerEvent::RemoteHangup => self.peer_hung_up(now, index, "operator_bye", out),
            PeerEvent::ReInvite { request, sdp } => {
                self.peer_reinvite(now, index, request, sdp, out)
            }
            PeerEvent::Recording { action } => {
                let leg = self.peers[index].leg;
                self.recording_action(now, leg, action, out);
            }
            PeerEvent::Hold { on } => {
                let leg = self.peers[index].leg;
                out.push(CallOutput::Media(MediaCommand::SetSending {
                    leg,
                    sending: !on,
                }));
                self.operator_hold(now, leg, on, out);
            }
            PeerEvent::ReInviteAnswered { sdp } => {
                if let Ok(answer) = sdp::accept_answer(&sdp) {
                    self.start_peer_media(index, Session::from(&answer), out);
                }
            }
            PeerEvent::Refer { refer, refer_to } => {
                let leg = self.peers[index].leg;
                match ctx.targets.target_for_refer(ctx.dialplan, &refer_to) {
                    Some(target) if self.is_operator_leg(leg) => {
                        out.push(CallOutput::AnswerRefer {
                            leg,
                            refer,
                            status: 202,
                        });
                        out.push(CallOutput::NotifyRefer {
                            leg,
                            status: 100,
                            terminated: false,
                        });
                        self.operator_transfer(now, ctx, &target, Some(leg), out);
                    }
                    _ => {
                        // Toll-fraud guard: only destinations the dialplan names.
                        tracing::warn!(call = %self.setup.id, "REFER to a destination the dialplan does not allow refused");
                        self.event(now, "transfer_refused", json!({ "refer_to": refer_to }));
                        out.push(CallOutput::AnswerRefer {
                            leg,
                            refer,
                            status: 403,
                        });
                    }
                }
            }
        }
    }

    fn is_operator_leg(&self, leg: LegId) -> bool {
        matches!(&self.stage, Stage::Operator { peer, .. } if *peer == leg)
    }

    fn send_invite(&mut self, index: usize, port: u16, out: &mut Vec<CallOutput>) {
        let local = self.local_media(port);
        let peer = &mut self.peers[index];
        let Some(mut invite) = peer.pending.take() else {
            return;
        };
        peer.port = Some(port);
        peer.phase = PeerPhase::Inviting;
        invite.sdp = sdp::build_offer(local);
        out.push(CallOutput::Dial {
            leg: peer.leg,
            call: Box::new(invite),
        });
    }

    fn send_webrtc_invite(&mut self, index: usize, offer: String, out: &mut Vec<CallOutput>) {
        let peer = &mut self.peers[index];
        let Some(mut invite) = peer.pending.take() else {
            return;
        };
        peer.phase = PeerPhase::Inviting;
        invite.sdp = offer.into_bytes();
        out.push(CallOutput::Dial {
            leg: peer.leg,
            call: Box::new(invite),
        });
    }

    fn peer_progress(
        &mut self,
        now: Now,
        index: usize,
        status: u16,
        sdp: Option<Vec<u8>>,
        out: &mut Vec<CallOutput>,
    ) {
        let is_target = matches!(self.peers[index].role, PeerRole::Target { .. });
        if !is_target {
            return;
        }
        self.event(now, "transfer_progress", json!({ "status": status }));
        // Early media (183 with SDP): the caller hears the far side's ringback or message.
        let Some(answer) = sdp.as_deref().and_then(|s| sdp::accept_answer(s).ok()) else {
            return;
        };
        if self.peers[index].early {
            return;
        }
        self.start_peer_media(index, Session::from(&answer), out);
        self.peers[index].early = true;
        self.stop_waiting_audio();
        out.push(CallOutput::Media(MediaCommand::Bridge {
            a: self.setup.leg,
            b: self.peers[index].leg,
        }));
    }

    fn start_peer_media(&mut self, index: usize, session: Session, out: &mut Vec<CallOutput>) {
        let peer = &mut self.peers[index];
        peer.session = Some(session);
        out.push(CallOutput::Media(MediaCommand::Start {
            leg: peer.leg,
            remote: session.remote,
            codec: session.codec,
            payload_type: session.payload_type,
            telephone_event_pt: session.telephone_event_pt,
        }));
    }

    fn peer_answered(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        index: usize,
        sdp: Option<Vec<u8>>,
        out: &mut Vec<CallOutput>,
    ) {
        let endpoint = self.peers[index].endpoint;
        let answer = sdp
            .as_deref()
            .filter(|_| endpoint == PeerEndpoint::Sip)
            .map(sdp::accept_answer);
        match (endpoint, sdp) {
            // A console's audio is up before it rings: nothing to negotiate.
            (PeerEndpoint::Console, _) => {}
            // The browser's WebRTC answer is for the media shell to apply.
            (PeerEndpoint::WebRtcPhone, Some(sdp)) => {
                out.push(CallOutput::Media(MediaCommand::AnswerWebRtc {
                    leg: self.peers[index].leg,
                    answer: String::from_utf8_lossy(&sdp).into_owned(),
                }));
            }
            (PeerEndpoint::WebRtcPhone, None) => {
                tracing::debug!("a browser phone answered without SDP");
                out.push(CallOutput::HangupPeer {
                    leg: self.peers[index].leg,
                });
                self.peer_failed(now, ctx, index, 488, out);
                return;
            }
            (PeerEndpoint::Sip, _) => match answer {
                Some(Ok(answer)) => self.start_peer_media(index, Session::from(&answer), out),
                // An answer already came with early media.
                _ if self.peers[index].session.is_some() => {}
                _ => {
                    tracing::debug!("answer without usable SDP from a placed leg");
                    out.push(CallOutput::HangupPeer {
                        leg: self.peers[index].leg,
                    });
                    self.peer_failed(now, ctx, index, 488, out);
                    return;
                }
            },
        }
        self.peers[index].phase = PeerPhase::Up;
        match self.peers[index].role.clone() {
            PeerRole::Operator { offer, login, .. } => {
                self.event(
                    now,
                    "offer_result",
                    json!({ "operator": login, "result": "answered" }),
                );
                out.push(CallOutput::Acd(AcdRequest::OfferAnswered { offer }));
            }
            PeerRole::Target { .. } => self.target_answered(now, index, out),
            PeerRole::Supervisor { .. } => self.monitor_answered(now, index, out),
        }
    }

    fn peer_failed(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        index: usize,
        status: u16,
        out: &mut Vec<CallOutput>,
    ) {
        let peer = self.peers.remove(index);
        release(&peer, out);
        match peer.role {
            PeerRole::Operator { offer, login, .. } => {
                self.event(
                    now,
                    "offer_result",
                    json!({ "operator": login, "result": offer_result(status) }),
                );
                // Busy, declined or unreachable: counts towards the operator's auto-pause.
                out.push(CallOutput::Acd(AcdRequest::OfferFailed { offer }));
                self.intake_lost(now, status, out);
            }
            PeerRole::Target { .. } => self.target_failed(now, ctx, status, out),
            PeerRole::Supervisor { login, .. } => {
                self.monitor_over(now, &login, false, offer_result(status), out)
            }
        }
    }

    /// The far side of a second leg sent BYE, or a browser phone lost its audio: `cause` goes
    /// into the record when that ends the caller's call.
    fn peer_hung_up(
        &mut self,
        now: Now,
        index: usize,
        cause: &'static str,
        out: &mut Vec<CallOutput>,
    ) {
        let peer = self.peers.remove(index);
        if let PeerRole::Supervisor { login, .. } = &peer.role {
            // The manager hung up: the mix ends, the call goes on.
            let up = peer.phase == PeerPhase::Up;
            if up {
                out.push(CallOutput::Media(MediaCommand::Unmonitor {
                    supervisor: peer.leg,
                }));
            }
            release(&peer, out);
            self.monitor_over(now, login, up, "supervisor_bye", out);
            return;
        }
        release(&peer, out);
        match (&self.stage, &peer.role) {
            (Stage::Operator { peer: leg, .. }, PeerRole::Operator { operator, .. })
                if *leg == peer.leg =>
            {
                // The operator hung up: the caller's call is over too.
                out.push(CallOutput::Acd(AcdRequest::CallEnded {
                    operator: *operator,
                }));
                self.queue.talk = self
                    .queue
                    .connected
                    .map(|at| now.mono.saturating_duration_since(at));
                self.event(now, "operator_hangup", json!({}));
                out.push(CallOutput::Hangup);
                self.finish(now, Disposition::Answered, HangupSide::Engine, cause, out);
            }
            (Stage::Transfer(_), PeerRole::Target { .. }) => {
                self.event(now, "target_hangup", json!({}));
                out.push(CallOutput::Hangup);
                self.finish(
                    now,
                    Disposition::Completed,
                    HangupSide::Engine,
                    "target_bye",
                    out,
                );
            }
            (_, PeerRole::Operator { operator, .. }) if !peer.ended_in_acd => {
                out.push(CallOutput::Acd(AcdRequest::CallEnded {
                    operator: *operator,
                }));
            }
            _ => {}
        }
    }

    /// A re-INVITE from an operator phone: hold (music to the caller) or resume (bridge).
    fn peer_reinvite(
        &mut self,
        now: Now,
        index: usize,
        request: madoguchi_sip::ReInviteId,
        sdp: Option<Vec<u8>>,
        out: &mut Vec<CallOutput>,
    ) {
        let leg = self.peers[index].leg;
        self.peers[index].sdp_version += 1;
        let Some(port) = self.peers[index].port else {
            // A browser phone's WebRTC session is not renegotiated (its hold): refused for
            // good, where an RTP port still being bound is only "try again".
            let status = match self.peers[index].endpoint {
                PeerEndpoint::WebRtcPhone => 488,
                _ => 491,
            };
            out.push(CallOutput::AnswerReinvite {
                leg,
                request,
                result: Err(status),
            });
            return;
        };
        let mut local = self.local_media(port);
        local.session_version += self.peers[index].sdp_version;
        let Some(offer) = sdp else {
            out.push(CallOutput::AnswerReinvite {
                leg,
                request,
                result: Ok(sdp::build_offer(local)),
            });
            return;
        };
        let negotiated = match sdp::negotiate(&offer, local) {
            Ok(n) => n,
            Err(_) => {
                out.push(CallOutput::AnswerReinvite {
                    leg,
                    request,
                    result: Err(488),
                });
                return;
            }
        };
        let hold = negotiated.is_hold();
        self.start_peer_media(index, Session::from(&negotiated), out);
        out.push(CallOutput::AnswerReinvite {
            leg,
            request,
            result: Ok(negotiated.answer_sdp),
        });
        out.push(CallOutput::Media(MediaCommand::SetSending {
            leg,
            sending: !hold,
        }));
        self.operator_hold(now, leg, hold, out);
    }

    /// The operator on `leg` holds the caller (music) or takes the call back (bridge).
    fn operator_hold(&mut self, now: Now, leg: LegId, hold: bool, out: &mut Vec<CallOutput>) {
        let caller = self.setup.leg;
        let changed = match &mut self.stage {
            Stage::Operator { held, peer, .. } if *peer == leg && *held != hold => {
                *held = hold;
                true
            }
            _ => false,
        };
        if !changed {
            return;
        }
        self.event(now, if hold { "hold" } else { "resume" }, json!({}));
        if hold {
            out.push(CallOutput::Media(MediaCommand::Unbridge { leg: caller }));
            if let Some(music) = self.hold_music {
                self.music = Some(music);
                self.play(music, true, out);
            }
        } else {
            self.stop_waiting_audio();
            out.push(CallOutput::Media(MediaCommand::Bridge {
                a: caller,
                b: leg,
            }));
        }
    }
}

/// A manager on the call: their phone is rung like an operator's; once it answers, the media
/// shell mixes caller, operator and manager (`MediaCommand::Monitor`) until either hangs up.
impl Call {
    /// The manager's leg, whether it is up, and their login and mode.
    fn supervisor(&self) -> Option<(usize, bool, &str, MixMode)> {
        self.peers
            .iter()
            .enumerate()
            .find_map(|(i, p)| match &p.role {
                PeerRole::Supervisor { login, mode } => {
                    Some((i, p.phase == PeerPhase::Up, login.as_str(), *mode))
                }
                _ => None,
            })
    }

    /// The manager on the call or being rung to join it, and the mode once they are on.
    pub fn monitored_by(&self) -> Option<(&str, Option<MixMode>)> {
        self.supervisor()
            .map(|(_, up, login, mode)| (login, up.then_some(mode)))
    }

    pub(super) fn monitor_ringing(&self) -> bool {
        self.supervisor().is_some_and(|(_, up, ..)| !up)
    }

    /// Rings the manager's phone (the engine checked the call is with an operator and not
    /// monitored already).
    pub(super) fn monitor(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        target: MonitorTarget,
        out: &mut Vec<CallOutput>,
    ) {
        if !self.is_with_operator() || self.supervisor().is_some() {
            return;
        }
        let invite = OutboundCall {
            request_uri: target.contact.clone(),
            destination: target.destination,
            transport: target.transport,
            from_user: self.setup.caller.clone(),
            from_display: Some(format!("モニター {}", mode_name(target.mode))),
            extra_headers: vec![(CALL_ID_HEADER.to_owned(), self.setup.id.clone())],
            sdp: Vec::new(),
            credentials: None,
        };
        let leg = (ctx.new_leg)();
        let role = PeerRole::Supervisor {
            login: target.login.clone(),
            mode: target.mode,
        };
        out.push(CallOutput::AdoptLeg { leg });
        if target.transport == madoguchi_sip::Transport::Ws {
            self.peers.push(Peer::webrtc_phone(leg, role, invite));
            let codec = self.session.map_or(Codec::Pcmu, |s| s.codec);
            out.push(CallOutput::Media(MediaCommand::OpenWebRtc { leg, codec }));
        } else {
            self.peers.push(Peer::new(leg, role, invite));
            out.push(CallOutput::Media(MediaCommand::Open { leg }));
        }
        self.event(
            now,
            "monitor_ringing",
            json!({ "supervisor": target.login, "mode": mode_name(target.mode) }),
        );
        self.timer = Some(now.mono + MONITOR_RING);
    }

    /// The manager's phone answered: the three legs are mixed from now on.
    fn monitor_answered(&mut self, now: Now, index: usize, out: &mut Vec<CallOutput>) {
        self.timer = None;
        let Stage::Operator { peer: operator, .. } = self.stage else {
            return;
        };
        let supervisor = self.peers[index].leg;
        let PeerRole::Supervisor { login, mode } = self.peers[index].role.clone() else {
            return;
        };
        out.push(CallOutput::Media(MediaCommand::Monitor {
            caller: self.setup.leg,
            operator,
            supervisor,
            mode,
        }));
        self.event(
            now,
            "monitor_started",
            json!({ "supervisor": login, "mode": mode_name(mode) }),
        );
        self.tell_console(
            operator,
            ConsoleOutput::Monitored {
                mode: Some(mode_name(mode)),
            },
            out,
        );
    }

    /// The manager switches between listening, whispering and barging in.
    pub(super) fn monitor_mode(&mut self, now: Now, mode: MixMode, out: &mut Vec<CallOutput>) {
        let Some((index, up, ..)) = self.supervisor() else {
            return;
        };
        let peer = &mut self.peers[index];
        let PeerRole::Supervisor { mode: current, .. } = &mut peer.role else {
            return;
        };
        if *current == mode {
            return;
        }
        *current = mode;
        let supervisor = peer.leg;
        if !up {
            // Still ringing: the answer starts in the new mode.
            return;
        }
        out.push(CallOutput::Media(MediaCommand::SetMonitorMode {
            supervisor,
            mode,
        }));
        self.event(now, "monitor_mode", json!({ "mode": mode_name(mode) }));
        if let Stage::Operator { peer: operator, .. } = self.stage {
            self.tell_console(
                operator,
                ConsoleOutput::Monitored {
                    mode: Some(mode_name(mode)),
                },
                out,
            );
        }
    }

    /// The manager leaves (asked to, not answering, the operator gone): their phone is hung
    /// up, caller and operator hear each other directly again.
    pub(super) fn stop_monitor(&mut self, now: Now, reason: &str, out: &mut Vec<CallOutput>) {
        let Some((index, up, ..)) = self.supervisor() else {
            return;
        };
        let peer = self.peers.remove(index);
        if up {
            out.push(CallOutput::Media(MediaCommand::Unmonitor {
                supervisor: peer.leg,
            }));
        }
        release(&peer, out);
        if let PeerRole::Supervisor { login, .. } = &peer.role {
            self.monitor_over(now, login, up, reason, out);
        }
    }

    /// Monitoring by `login` ended (or never started): the record says why, and an operator
    /// who was told of it is told it is over.
    fn monitor_over(
        &mut self,
        now: Now,
        login: &str,
        was_up: bool,
        reason: &str,
        out: &mut Vec<CallOutput>,
    ) {
        // With an operator, the only timer is the manager's ring (a transfer keeps its own).
        if matches!(self.stage, Stage::Operator { .. }) {
            self.timer = None;
        }
        self.event(
            now,
            "monitor_ended",
            json!({ "supervisor": login, "reason": reason }),
        );
        if was_up {
            if let Stage::Operator { peer: operator, .. } = self.stage {
                self.tell_console(operator, ConsoleOutput::Monitored { mode: None }, out);
            }
        }
    }
}

/// Ends a second leg: hang up the dialog, release its port, forget its events.
pub(super) fn release(peer: &Peer, out: &mut Vec<CallOutput>) {
    match peer.endpoint {
        PeerEndpoint::Sip | PeerEndpoint::WebRtcPhone => {
            out.push(CallOutput::HangupPeer { leg: peer.leg });
            // The shell handles commands in order, so a Close behind a pending Open still
            // releases.
            out.push(CallOutput::Media(MediaCommand::Close { leg: peer.leg }));
        }
        // The console keeps its audio for the next call; only this call's bridge goes.
        PeerEndpoint::Console => {
            let reason = if peer.phase == PeerPhase::Up {
                "ended"
            } else {
                "withdrawn"
            };
            out.push(CallOutput::Console {
                leg: peer.leg,
                event: ConsoleOutput::Ended { reason },
            });
            out.push(CallOutput::Media(MediaCommand::Unbridge { leg: peer.leg }));
            out.push(CallOutput::Media(MediaCommand::SetSending {
                leg: peer.leg,
                sending: true,
            }));
        }
    }
    out.push(CallOutput::ReleaseLeg { leg: peer.leg });
}

/// How an offer that did not connect ended, from the phone's final status.
fn offer_result(status: u16) -> &'static str {
    match status {
        486 | 600 => "busy",
        603 => "declined",
        408 | 480 | 487 => "no_answer",
        _ => "failed",
    }
}
