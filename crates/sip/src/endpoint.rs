//! The SIP core: owns every transaction and dialog and is the only type the engine talks to.
//!
//! Inputs: [`Endpoint::handle_input`] (one datagram, one framed TCP message or one WebSocket
//! message), [`Endpoint::handle_timeout`], [`Endpoint::handle_flow_closed`] (a WebSocket
//! connection ended), and the TU commands (`send_provisional`, `accept`, `reject`,
//! `answer_reinvite`, `hangup`, `invite`, `answer_refer`, `notify_refer`). Outputs:
//! [`Endpoint::poll_transmit`], [`Endpoint::poll_event`], [`Endpoint::poll_timeout`]. Drain
//! both queues after every input.
//!
//! Each incoming INVITE becomes a leg ([`LegId`]) with its INVITE server transaction and its
//! UAS dialog; each call we place (`uac.rs`) a leg with its INVITE client transaction and UAC
//! dialog. Transactions live in their own tables keyed by [`TransactionKey`] and refer to
//! their leg by id, so a leg can end (and free its memory) while its transaction still
//! absorbs retransmissions. Incoming requests are handled in `uas.rs`, REFER in `refer.rs`.
//!
//! Responses go to the request's source address and port (§18.2.2 with RFC 3581 rport), over
//! the transport the request came on; the shell maps a TCP or WebSocket destination to its
//! connection. Requests to a phone registered over a WebSocket go over that connection only
//! (RFC 7118 §5), whatever its Contact says.

pub use crate::api::{
    EndpointConfig, EndpointError, HangupOutcome, OutboundCall, SipEvent, Transmit, Transport,
    ALLOW,
};
use crate::caps::SessionCaps;
use crate::dialog::Dialog;
use crate::message::{build_response, uri_socket_addr, Reply, ResponseCtx};
use crate::prack::ReliableLeg;
use crate::refer::ReferState;
use crate::register::RegisterService;
use crate::stats::SipStats;
use crate::transaction::{
    InviteServerEvent, InviteServerTransaction, NonInviteClientEvent, NonInviteClientTransaction,
    NonInviteServerTransaction, Outgoing, TransactionKey, MAGIC_COOKIE,
};
use crate::uac::{InviteClientTx, UacLeg};
use crate::{LegId, ReInviteId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

/// Where a leg is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegState {
    /// INVITE received, no final response yet.
    Offered,
    /// Our INVITE sent (a placed leg, `uac.rs`), no final response yet.
    Calling,
    /// 2xx sent, ACK not yet received.
    Answered,
    /// ACK received (or its wait timed out): the call is up.
    Confirmed,
    /// Our BYE is in flight.
    Ending,
}

/// A re-INVITE waiting for the TU's answer.
#[derive(Debug)]
pub(crate) struct PendingReInvite {
    pub id: ReInviteId,
    pub tx: TransactionKey,
    pub ctx: ResponseCtx,
}

/// Per-call state: a few strings and keys, well under a kilobyte beyond the SDP-free headers.
#[derive(Debug)]
pub(crate) struct Leg {
    pub state: LegState,
    pub invite_tx: TransactionKey,
    pub invite_cseq: u32,
    pub ctx: ResponseCtx,
    pub dialog: Dialog,
    pub transport: Transport,
    pub source: SocketAddr,
    pub reinvite: Option<PendingReInvite>,
    /// 2xx responses (by CSeq number) waiting for their ACK, with their transaction.
    pub unacked: Vec<(u32, TransactionKey)>,
    /// `hangup` was called before the 2xx was ACKed: BYE goes out once it is (§15).
    pub hangup_requested: bool,
    pub bye_tx: Option<TransactionKey>,
    /// Set on legs we placed.
    pub uac: Option<Box<UacLeg>>,
    /// Created by the first REFER on the leg.
    pub refer: Option<Box<ReferState>>,
    /// Set on incoming legs whose provisionals are sent reliably (RFC 3262, `prack.rs`).
    pub prack: Option<Box<ReliableLeg>>,
}

#[derive(Debug)]
pub(crate) enum ServerMachine {
    Invite(InviteServerTransaction),
    NonInvite(NonInviteServerTransaction),
}

/// Identity of a request for merged-request detection (§8.2.2.2).
pub(crate) type MergeKey = (String, String, String);

#[derive(Debug)]
pub(crate) struct ServerTx {
    pub machine: ServerMachine,
    pub transport: Transport,
    pub peer: SocketAddr,
    pub leg: Option<LegId>,
    pub merge_key: Option<MergeKey>,
    /// The deadline last pushed onto the timer heap, to avoid duplicate entries.
    pub scheduled: Option<Instant>,
}

impl ServerTx {
    pub fn new(
        machine: ServerMachine,
        transport: Transport,
        peer: SocketAddr,
        leg: Option<LegId>,
        merge_key: Option<MergeKey>,
    ) -> Self {
        Self {
            machine,
            transport,
            peer,
            leg,
            merge_key,
            scheduled: None,
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        match &self.machine {
            ServerMachine::Invite(m) => m.poll_timeout(),
            ServerMachine::NonInvite(m) => m.poll_timeout(),
        }
        .map(|(at, _)| at)
    }
}

#[derive(Debug)]
pub(crate) struct ClientTx {
    pub machine: NonInviteClientTransaction,
    pub transport: Transport,
    pub peer: SocketAddr,
    pub leg: LegId,
    pub scheduled: Option<Instant>,
}

/// Which transaction a heap entry wakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimerOwner {
    Server(TransactionKey),
    Client(TransactionKey),
    InviteClient(TransactionKey),
    /// A leg's unacknowledged reliable provisional (`prack.rs`).
    Reliable(LegId),
}

/// One entry of the timer heap. Entries are never removed early: when a transaction's
/// deadline moves, a new entry is pushed and the stale one is skipped when it pops. This
/// keeps `poll_timeout` O(1) and `handle_timeout` O(k log n) for thousands of calls.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TimerEntry {
    at: Instant,
    seq: u64,
    owner: TimerOwner,
}

impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TimerEntry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct Endpoint {
    pub(crate) config: EndpointConfig,
    pub(crate) rng: StdRng,
    pub(crate) server_txs: HashMap<TransactionKey, ServerTx>,
    pub(crate) client_txs: HashMap<TransactionKey, ClientTx>,
    pub(crate) merged: HashMap<MergeKey, TransactionKey>,
    pub(crate) legs: HashMap<LegId, Leg>,
    /// (Call-ID, local tag) → leg.
    pub(crate) dialogs: HashMap<(String, String), LegId>,
    pub(crate) next_leg: u64,
    pub(crate) next_reinvite: u64,
    pub(crate) next_refer: u64,
    pub(crate) invite_client_txs: HashMap<TransactionKey, InviteClientTx>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<SipEvent>,
    pub(crate) stats: SipStats,
    timers: BinaryHeap<Reverse<TimerEntry>>,
    timer_seq: u64,
    /// REGISTER: credentials, bindings, wall clock (see `register.rs`).
    pub(crate) register: RegisterService,
    /// Dialogs and transactions allowed per source and in total (`caps.rs`).
    pub(crate) caps: SessionCaps,
    /// The SIP-over-TLS port our Via and Contact name on TLS (`None`: no TLS listener).
    tls_port: Option<u16>,
    /// While set, out-of-dialog OPTIONS get 503 with this Retry-After (seconds).
    pub(crate) unavailable_retry_after: Option<u32>,
}

impl Endpoint {
    /// `rng_seed` feeds every tag and branch, so a run is reproducible.
    pub fn new(config: EndpointConfig, rng_seed: u64) -> Self {
        Self {
            register: RegisterService::new(&config),
            config,
            rng: StdRng::seed_from_u64(rng_seed),
            server_txs: HashMap::new(),
            client_txs: HashMap::new(),
            merged: HashMap::new(),
            legs: HashMap::new(),
            dialogs: HashMap::new(),
            next_leg: 1,
            next_reinvite: 1,
            next_refer: 1,
            invite_client_txs: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: SipStats::default(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            caps: SessionCaps::unlimited(),
            tls_port: None,
            unavailable_retry_after: None,
        }
    }

    /// The port of the SIP-over-TLS listener, for Via and Contact on TLS.
    pub fn set_tls_port(&mut self, port: u16) {
        self.tls_port = Some(port);
    }

    /// Out-of-dialog OPTIONS are answered 503 with `Retry-After: retry_after_secs` (the engine
    /// is draining: a trunk that probes with OPTIONS sends new calls elsewhere); `None` goes
    /// back to 200. Requests within dialogs and REGISTERs are answered as usual.
    pub fn set_unavailable(&mut self, retry_after_secs: Option<u32>) {
        self.unavailable_retry_after = retry_after_secs;
    }

    /// Sets the caps on dialogs and transactions ([`SessionCaps::unlimited`] until then).
    pub fn set_caps(&mut self, caps: SessionCaps) {
        self.caps = caps;
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<SipEvent> {
        self.events.pop_front()
    }

    /// The next instant `handle_timeout` must be called. May be earlier than needed after a
    /// transaction stopped a timer early; such a wake-up is harmless.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let transactions = self.timers.peek().map(|Reverse(entry)| entry.at);
        transactions
            .into_iter()
            .chain(self.registrar_timeout())
            .min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.handle_registrar_timeout(now);
        while let Some(Reverse(entry)) = self.timers.peek() {
            if entry.at > now {
                break;
            }
            let Some(Reverse(entry)) = self.timers.pop() else {
                break;
            };
            match entry.owner {
                TimerOwner::Server(key) => {
                    let Some(tx) = self.server_txs.get_mut(&key) else {
                        continue;
                    };
                    if tx.next_timeout().is_none_or(|at| at > now) {
                        continue;
                    }
                    tx.scheduled = None;
                    match &mut tx.machine {
                        ServerMachine::Invite(m) => m.handle_timeout(now),
                        ServerMachine::NonInvite(m) => m.handle_timeout(now),
                    }
                    self.flush_server(now, &key);
                }
                TimerOwner::Client(key) => {
                    let Some(tx) = self.client_txs.get_mut(&key) else {
                        continue;
                    };
                    if tx.machine.poll_timeout().is_none_or(|(at, _)| at > now) {
                        continue;
                    }
                    tx.scheduled = None;
                    tx.machine.handle_timeout(now);
                    self.flush_client(now, &key);
                }
                TimerOwner::InviteClient(key) => self.invite_client_timeout(now, &key),
                TimerOwner::Reliable(leg) => self.reliable_timeout(now, leg),
            }
        }
    }

    pub(crate) fn schedule(&mut self, at: Instant, owner: TimerOwner) {
        self.timer_seq += 1;
        self.timers.push(Reverse(TimerEntry {
            at,
            seq: self.timer_seq,
            owner,
        }));
    }

    pub fn stats(&self) -> &SipStats {
        &self.stats
    }

    pub fn active_transactions(&self) -> usize {
        self.server_txs.len() + self.client_txs.len() + self.invite_client_txs.len()
    }

    pub fn active_dialogs(&self) -> usize {
        self.legs.len()
    }

    /// Sends a provisional response (180/183 …) with an optional early-media SDP. On a leg
    /// whose INVITE asked for 100rel it is sent reliably (`prack.rs`): numbered, retransmitted
    /// until PRACKed, and queued while an earlier one is unacknowledged.
    pub fn send_provisional(
        &mut self,
        now: Instant,
        leg: LegId,
        status: u16,
        sdp: Option<&[u8]>,
    ) -> Result<(), EndpointError> {
        if !(101..=199).contains(&status) {
            return Err(EndpointError::InvalidStatus(status));
        }
        let (ctx, tag, transport, key) = self.offered_leg(leg)?;
        if self.legs.get(&leg).is_some_and(|l| l.prack.is_some()) {
            self.send_reliable_provisional(now, leg, status, sdp);
            return Ok(());
        }
        let reply = Reply::new(status)
            .tag(&tag)
            .header("Contact", self.contact(transport))
            .sdp(sdp);
        let payload = self.encode(&ctx, &reply);
        self.respond_tx(now, &key, status, payload);
        Ok(())
    }

    /// Answers the INVITE with 200 OK carrying `sdp` and our Contact. While a reliable
    /// provisional with SDP awaits its PRACK the 200 is held and sent on that PRACK (RFC 3262
    /// §3); the leg stays offered until then (a CANCEL or `reject` still ends it).
    pub fn accept(&mut self, now: Instant, leg: LegId, sdp: &[u8]) -> Result<(), EndpointError> {
        let (ctx, tag, transport, key) = self.offered_leg(leg)?;
        let reply = self.success_reply(transport, &tag, sdp);
        let payload = self.encode(&ctx, &reply);
        if let Some(payload) = self.hold_answer(leg, payload) {
            self.send_answer(now, leg, &key, payload);
        }
        Ok(())
    }

    /// Sends our encoded 200 to the leg's INVITE: the dialog is confirmed, the ACK awaited.
    pub(crate) fn send_answer(
        &mut self,
        now: Instant,
        leg: LegId,
        key: &TransactionKey,
        payload: Vec<u8>,
    ) {
        if let Some(l) = self.legs.get_mut(&leg) {
            l.state = LegState::Answered;
            l.dialog.confirm();
            l.unacked.push((l.invite_cseq, key.clone()));
        }
        self.respond_tx(now, key, 200, payload);
    }

    /// Rejects the INVITE with a 300–699 final; the leg ends.
    pub fn reject(
        &mut self,
        now: Instant,
        leg: LegId,
        status: u16,
        reason: Option<&str>,
    ) -> Result<(), EndpointError> {
        self.reject_with_headers(now, leg, status, reason, &[])
    }

    /// [`Endpoint::reject`] with extra headers, e.g. `("Retry-After", "60")` on a 503.
    pub fn reject_with_headers(
        &mut self,
        now: Instant,
        leg: LegId,
        status: u16,
        reason: Option<&str>,
        headers: &[(&'static str, &str)],
    ) -> Result<(), EndpointError> {
        if !(300..=699).contains(&status) {
            return Err(EndpointError::InvalidStatus(status));
        }
        let (ctx, tag, _, key) = self.unanswered_leg(leg)?;
        let mut reply = Reply::new(status).tag(&tag);
        reply.reason = reason;
        for (name, value) in headers {
            reply = reply.header(name, *value);
        }
        let payload = self.encode(&ctx, &reply);
        self.respond_tx(now, &key, status, payload);
        self.end_leg(leg);
        Ok(())
    }

    /// Answers a pending re-INVITE: `Ok(sdp)` → 200 OK with our SDP, `Err(status)` → that
    /// failure (e.g. 488); the dialog continues either way.
    pub fn answer_reinvite(
        &mut self,
        now: Instant,
        leg: LegId,
        request: ReInviteId,
        result: Result<&[u8], u16>,
    ) -> Result<(), EndpointError> {
        if let Err(status) = result {
            if !(300..=699).contains(&status) {
                return Err(EndpointError::InvalidStatus(status));
            }
        }
        let l = self
            .legs
            .get_mut(&leg)
            .ok_or(EndpointError::UnknownLeg(leg))?;
        match &l.reinvite {
            Some(p) if p.id == request => {}
            _ => return Err(EndpointError::UnknownReInvite(request)),
        }
        let Some(pending) = l.reinvite.take() else {
            return Err(EndpointError::UnknownReInvite(request));
        };
        let (tag, transport) = (l.dialog.id().local_tag.clone(), l.transport);
        let (status, reply) = match result {
            Ok(sdp) => (200, self.success_reply(transport, &tag, sdp)),
            Err(status) => (status, Reply::new(status).tag(&tag)),
        };
        let payload = self.encode(&pending.ctx, &reply);
        if status == 200 {
            let cseq = cseq_number(&pending.ctx.cseq);
            if let Some(l) = self.legs.get_mut(&leg) {
                l.unacked.push((cseq, pending.tx.clone()));
            }
        }
        self.respond_tx(now, &pending.tx, status, payload);
        Ok(())
    }

    /// Ends the call. Confirmed: BYE now. Answered but not yet ACKed: BYE as soon as the ACK
    /// arrives or its wait times out (§15). Not answered yet: rejected with
    /// 480 Temporarily Unavailable. A placed call not answered yet: CANCEL (§9.1; sent once a
    /// provisional arrived), ending in `OutgoingFailed`.
    pub fn hangup(&mut self, now: Instant, leg: LegId) -> Result<(), EndpointError> {
        let l = self
            .legs
            .get_mut(&leg)
            .ok_or(EndpointError::UnknownLeg(leg))?;
        match l.state {
            LegState::Offered => self.reject(now, leg, 480, None),
            LegState::Calling => self.cancel_outgoing(now, leg),
            LegState::Answered => {
                l.hangup_requested = true;
                Ok(())
            }
            LegState::Confirmed => {
                self.send_bye(now, leg);
                Ok(())
            }
            LegState::Ending => Err(EndpointError::InvalidState(leg)),
        }
    }

    /// What answering a leg's INVITE needs, if the leg is still waiting for a final and no
    /// 200 is held for a PRACK.
    fn offered_leg(
        &self,
        leg: LegId,
    ) -> Result<(ResponseCtx, String, Transport, TransactionKey), EndpointError> {
        let held = self
            .legs
            .get(&leg)
            .is_some_and(|l| l.prack.as_ref().is_some_and(|p| p.answer_held()));
        if held {
            return Err(EndpointError::InvalidState(leg));
        }
        self.unanswered_leg(leg)
    }

    /// What answering a leg's INVITE needs, if no final response went out yet (a 200 held
    /// for a PRACK can still be replaced by a rejection).
    fn unanswered_leg(
        &self,
        leg: LegId,
    ) -> Result<(ResponseCtx, String, Transport, TransactionKey), EndpointError> {
        let l = self.legs.get(&leg).ok_or(EndpointError::UnknownLeg(leg))?;
        if l.state != LegState::Offered {
            return Err(EndpointError::InvalidState(leg));
        }
        Ok((
            l.ctx.clone(),
            l.dialog.id().local_tag.clone(),
            l.transport,
            l.invite_tx.clone(),
        ))
    }

    pub(crate) fn success_reply<'a>(
        &self,
        transport: Transport,
        tag: &'a str,
        sdp: &'a [u8],
    ) -> Reply<'a> {
        Reply::new(200)
            .tag(tag)
            .header("Contact", self.contact(transport))
            .header("Allow", ALLOW)
            .sdp(Some(sdp))
    }

    pub(crate) fn send_bye(&mut self, now: Instant, leg: LegId) {
        self.end_pending_refer(now, leg);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        l.dialog.terminate();
        l.state = LegState::Ending;
        l.hangup_requested = false;
        let key = self.send_in_dialog(now, leg, rsip::Method::Bye, &[], None);
        if let Some(l) = self.legs.get_mut(&leg) {
            l.bye_tx = key;
        }
    }

    /// Sends a request inside the leg's dialog (§12.2.1.1) in a non-INVITE client
    /// transaction; returns its key.
    pub(crate) fn send_in_dialog(
        &mut self,
        now: Instant,
        leg: LegId,
        method: rsip::Method,
        extra: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) -> Option<TransactionKey> {
        let branch = self.branch();
        let transport = self.legs.get(&leg)?.transport;
        let via = self.via(transport, &branch);
        let l = self.legs.get_mut(&leg)?;
        let request =
            l.dialog
                .build_request_with(method, &via, &self.config.user_agent, extra, body);
        let peer = hop_address(transport, &request.next_hop, l.source);
        let key = TransactionKey::new(branch, method);
        self.stats.request_out(&method);
        let machine = NonInviteClientTransaction::new(now, transport.is_reliable(), request.bytes);
        self.client_txs.insert(
            key.clone(),
            ClientTx {
                machine,
                transport,
                peer,
                leg,
                scheduled: None,
            },
        );
        self.flush_client(now, &key);
        Some(key)
    }

    /// Removes a leg whose dialog is over, announcing it.
    pub(crate) fn end_leg(&mut self, leg: LegId) {
        if let Some(l) = self.legs.remove(&leg) {
            let id = l.dialog.id();
            self.dialogs
                .remove(&(id.call_id.clone(), id.local_tag.clone()));
            self.events.push_back(SipEvent::LegTerminated { leg });
        }
    }

    pub(crate) fn encode(&mut self, ctx: &ResponseCtx, reply: &Reply<'_>) -> Vec<u8> {
        self.stats.response_out(reply.status);
        build_response(ctx, reply, &self.config.user_agent)
    }

    /// Hands a response to a server transaction and sends what it produces.
    pub(crate) fn respond_tx(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        status: u16,
        payload: Vec<u8>,
    ) {
        if let Some(tx) = self.server_txs.get_mut(key) {
            let result = match &mut tx.machine {
                ServerMachine::Invite(m) => m.respond(now, status, payload),
                ServerMachine::NonInvite(m) => m.respond(now, status, payload),
            };
            if let Err(err) = result {
                tracing::debug!(%err, status, "response refused by transaction");
            }
        }
        self.flush_server(now, key);
    }

    /// Drains a server transaction's transmits and events, dropping it once terminated.
    pub(crate) fn flush_server(&mut self, _now: Instant, key: &TransactionKey) {
        let Some(tx) = self.server_txs.get_mut(key) else {
            return;
        };
        let mut out: Vec<Outgoing> = Vec::new();
        let mut events = Vec::new();
        let terminated = match &mut tx.machine {
            ServerMachine::Invite(m) => {
                out.extend(std::iter::from_fn(|| m.poll_transmit()));
                events.extend(std::iter::from_fn(|| m.poll_event()));
                m.is_terminated()
            }
            ServerMachine::NonInvite(m) => {
                out.extend(std::iter::from_fn(|| m.poll_transmit()));
                m.is_terminated()
            }
        };
        let (transport, peer, leg) = (tx.transport, tx.peer, tx.leg);
        let reschedule = tx.next_timeout().filter(|at| tx.scheduled != Some(*at));
        if let Some(at) = reschedule {
            tx.scheduled = Some(at);
        }
        self.send_all(transport, peer, out);
        if let (Some(at), false) = (reschedule, terminated) {
            self.schedule(at, TimerOwner::Server(key.clone()));
        }
        if terminated {
            if let Some(tx) = self.server_txs.remove(key) {
                if let Some(mk) = tx.merge_key {
                    if self.merged.get(&mk) == Some(key) {
                        self.merged.remove(&mk);
                    }
                }
            }
        }
        for event in events {
            if let (InviteServerEvent::AnswerNotAcked, Some(leg)) = (event, leg) {
                self.answer_not_acked(_now, leg, key);
            }
        }
    }

    fn answer_not_acked(&mut self, now: Instant, leg: LegId, key: &TransactionKey) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        l.unacked.retain(|(_, k)| k != key);
        if l.state == LegState::Answered {
            l.state = LegState::Confirmed;
        }
        if l.hangup_requested {
            self.send_bye(now, leg);
        } else {
            self.events.push_back(SipEvent::AckTimedOut { leg });
        }
    }

    pub(crate) fn flush_client(&mut self, _now: Instant, key: &TransactionKey) {
        let Some(tx) = self.client_txs.get_mut(key) else {
            return;
        };
        let out: Vec<Outgoing> = std::iter::from_fn(|| tx.machine.poll_transmit()).collect();
        let events: Vec<NonInviteClientEvent> =
            std::iter::from_fn(|| tx.machine.poll_event()).collect();
        let (transport, peer, leg, terminated) =
            (tx.transport, tx.peer, tx.leg, tx.machine.is_terminated());
        let reschedule = tx
            .machine
            .poll_timeout()
            .map(|(at, _)| at)
            .filter(|at| tx.scheduled != Some(*at));
        if let Some(at) = reschedule {
            tx.scheduled = Some(at);
        }
        self.send_all(transport, peer, out);
        if let (Some(at), false) = (reschedule, terminated) {
            self.schedule(at, TimerOwner::Client(key.clone()));
        }
        if terminated {
            self.client_txs.remove(key);
        }
        for event in events {
            self.notify_response(leg, key, event);
            let outcome = match event {
                NonInviteClientEvent::Provisional(_) => continue,
                NonInviteClientEvent::Final(status) => HangupOutcome::Completed { status },
                NonInviteClientEvent::TimedOut => HangupOutcome::TimedOut,
            };
            if self
                .legs
                .get(&leg)
                .is_some_and(|l| l.bye_tx.as_ref() == Some(key))
            {
                self.events
                    .push_back(SipEvent::HangupCompleted { leg, outcome });
                self.end_leg(leg);
            }
        }
    }

    pub(crate) fn send_all(
        &mut self,
        transport: Transport,
        destination: SocketAddr,
        out: Vec<Outgoing>,
    ) {
        for o in out {
            if o.retransmission {
                self.stats.retransmissions += 1;
            }
            self.transmits.push_back(Transmit {
                transport,
                destination,
                payload: o.payload,
            });
        }
    }

    /// Sends a response outside any transaction (to requests we could not parse).
    pub(crate) fn send_stateless(
        &mut self,
        transport: Transport,
        destination: SocketAddr,
        payload: Vec<u8>,
    ) {
        self.transmits.push_back(Transmit {
            transport,
            destination,
            payload,
        });
    }

    pub(crate) fn host_port(&self) -> String {
        let host = &self.config.public_host;
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{}", self.config.public_port)
        } else {
            format!("{host}:{}", self.config.public_port)
        }
    }

    /// Our host and the port of `transport`: the TLS port for TLS when there is one.
    pub(crate) fn host_port_for(&self, transport: Transport) -> String {
        match (transport, self.tls_port) {
            (Transport::Tls, Some(port)) => {
                let host = &self.config.public_host;
                if host.contains(':') && !host.starts_with('[') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            }
            _ => self.host_port(),
        }
    }

    pub(crate) fn contact(&self, transport: Transport) -> String {
        match transport {
            Transport::Udp => format!("<sip:{}>", self.host_port()),
            Transport::Tcp => format!("<sip:{};transport=tcp>", self.host_port()),
            Transport::Ws => format!("<sip:{};transport=ws>", self.host_port()),
            Transport::Tls => format!("<sip:{};transport=tls>", self.host_port_for(transport)),
        }
    }

    pub(crate) fn via(&self, transport: Transport, branch: &str) -> String {
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            transport.via_name(),
            self.host_port_for(transport)
        )
    }

    pub(crate) fn tag(&mut self) -> String {
        self.token(10)
    }

    pub(crate) fn branch(&mut self) -> String {
        format!("{MAGIC_COOKIE}{}", self.token(16))
    }

    pub(crate) fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(ALPHABET[self.rng.gen_range(0..ALPHABET.len())]))
            .collect()
    }

    pub(crate) fn new_leg_id(&mut self) -> LegId {
        let id = LegId(self.next_leg);
        self.next_leg += 1;
        id
    }

    pub(crate) fn new_reinvite_id(&mut self) -> ReInviteId {
        let id = ReInviteId(self.next_reinvite);
        self.next_reinvite += 1;
        id
    }
}

/// Where an in-dialog request to `next_hop` goes. The core resolves no names: a next hop
/// given as a host name falls back to `peer`, the address the dialog's INVITE came from or
/// went to. Over TCP a next hop on that peer's IP reuses its connection (a Contact port is
/// usually a listening port that a NAT or firewall would not let us open a second
/// connection to). A WebSocket peer is reached over its connection only, whatever its
/// Contact says.
pub(crate) fn hop_address(transport: Transport, next_hop: &str, peer: SocketAddr) -> SocketAddr {
    match (transport, uri_socket_addr(next_hop)) {
        _ if transport.is_connection_bound() => peer,
        (Transport::Tcp, Some(hop)) if hop.ip() == peer.ip() => peer,
        (_, Some(hop)) => hop,
        (_, None) => peer,
    }
}

/// The number of a CSeq value ("314159 INVITE" → 314159; 0 if malformed).
pub(crate) fn cseq_number(cseq: &str) -> u32 {
    cseq.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
