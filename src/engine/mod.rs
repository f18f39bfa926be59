//! The sans-IO core of the engine: every call from INVITE to its record, the queues and the
//! operators.
//!
//! [`Engine`] owns the SIP endpoint (transactions, dialogs, registrations), one [`call::Call`]
//! per caller, the ACD (queues and operators) and the dialplan. It never touches a socket, a
//! timer, the database or the clock: the shell feeds it
//! ```text
//!   handle_sip(now, transport, source, bytes)   a datagram, a framed TCP or a WebSocket message
//!   handle_flow_closed(now, transport, source)  a WebSocket connection ended
//!   handle_media(now, MediaEvent)               port bound, prompt finished, DTMF digit
//!   handle_timeout(now)                         when poll_timeout() is due
//!   set_directory / restore / request_status / transfer   from the store and the API
//!   set_remote_node / forget_remote_node / remote_record  other nodes (`cluster.rs`)
//!   journaled(now, call_id)                     a call's open-call note is stored
//! ```
//! and after every input drains `poll_transmit()` (SIP to send), `poll_media()` (commands for
//! the RTP shell), `poll_opened()` (calls that arrived, for the crash journal),
//! `poll_record()` (finished call records), `poll_history()` (operator state
//! changes) and `poll_registration()` (bindings to persist) until each is empty.
//! Time is [`Now`]: the monotonic instant for timers and the wall time for the calendar.
//!
//! No tokio, sqlx or axum may be imported below this module (tests/core_is_sans_io.rs checks).

pub mod board;
mod call;
pub mod clock;
pub mod cluster;
pub mod console;
mod journal_hold;
mod live;
pub mod media;
mod monitor;
pub mod operators;
mod queues;
mod reload;
pub mod targets;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use madoguchi_acd::{Acd, AcdEvent, CallerData, CallerId, OfferId, QueueExit};
use madoguchi_dialplan::{Dialplan, FeatureCode};
use madoguchi_prompts::PromptId;
use madoguchi_sip::{
    Binding, BindingSource, Endpoint, EndpointConfig, LegId, RegistrarEvent, SipCredentials,
    SipEvent, SipStats, Transmit, Transport,
};
use madoguchi_store::{CallRecord, OpenCall, WrapUp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use call::RecordingAction;
use call::{AcdRequest, Call, CallInput, CallOutput, ConsoleRing, Ctx, PeerEvent, RingTarget};
pub use clock::Now;
use console::{Console, ConsoleEvent};
pub use live::{Counters, LiveState, MonitorView, QueueView, WaitingView};
pub use media::{MediaCommand, MediaEvent, RecordingNews, RecordingOutcome, SharedPrompts};
pub use monitor::{MonitorError, MonitorRequest};
use operators::Operators;
pub use operators::{DirectoryEntry, OperatorError, OperatorHistory, StatusRequest};
use queues::Queues;
pub use reload::ReloadSummary;
pub use targets::Targets;

/// An operator's skills from the languages they speak: each language's `skill` (its code
/// unless the dialplan names another), or the code itself for a language the dialplan does
/// not declare. The default language is no skill: its callers wait for no one in particular.
fn operator_skills(
    dialplan: &Dialplan,
    languages: &[String],
) -> std::collections::BTreeSet<String> {
    let declared = dialplan.languages();
    languages
        .iter()
        .filter(|code| declared.default.as_deref() != Some(code.as_str()))
        .map(|code| {
            declared
                .get(code)
                .map_or_else(|| code.clone(), |l| l.skill.clone())
        })
        .collect()
}

/// What a draining engine asks callers' trunks to wait before trying again.
const RETRY_AFTER_SECONDS: &str = "30";

/// Prompt names resolved once at start-up to the ids the media shell plays.
pub type PromptIndex = HashMap<String, PromptId>;

pub struct EngineConfig {
    pub sip: EndpointConfig,
    /// Address written into our SDP (c=).
    pub media_ip: IpAddr,
    pub node_id: String,
    pub rng_seed: u64,
    /// Resolved addresses of the dialplan's transfer targets.
    pub targets: Targets,
    /// What the board counts as answered in time and as a short abandon.
    pub service_level: board::ServiceLevelSettings,
}

/// A registration to keep in (or drop from) the store, so phones survive a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationChange {
    Save {
        login: String,
        contact: String,
        source: SocketAddr,
        transport: Transport,
        call_id: String,
        cseq: u32,
        expires_at: DateTime<Utc>,
    },
    Delete {
        login: String,
        contact: String,
    },
}

/// A stored registration, as the shell reads it back at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBinding {
    pub login: String,
    pub contact: String,
    pub source: SocketAddr,
    pub transport: Transport,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("no call with id {0:?} is up")]
    UnknownCall(String),
    #[error("the call is not with an operator")]
    NotWithOperator,
    #[error("{0:?} is not a transfer target of the dialplan")]
    UnknownTarget(String),
}

pub struct Engine {
    sip: Endpoint,
    /// The dialplan new calls follow, and its prompts.
    dialplan: Arc<Dialplan>,
    prompts: Arc<PromptIndex>,
    /// Calls that started before the last reload, by caller leg: each finishes under the
    /// dialplan and prompts it started with (`reload.rs`).
    pinned: HashMap<LegId, (Arc<Dialplan>, Arc<PromptIndex>)>,
    targets: Targets,
    calls: HashMap<LegId, Call>,
    /// Second legs (operator phones, transfer targets) → the caller leg whose call owns them.
    owners: HashMap<LegId, LegId>,
    /// Ring attempts → the caller leg.
    offers: HashMap<OfferId, LegId>,
    /// Engine call id → caller leg, for the API.
    by_call_id: HashMap<String, LegId>,
    acd: Acd,
    operators: Operators,
    /// Signed-in browser consoles by login.
    consoles: HashMap<String, Console>,
    console_events: VecDeque<ConsoleEvent>,
    queues: Queues,
    /// Inputs for calls produced while handling another input, run by `pump`.
    deferred: VecDeque<(LegId, CallInput)>,
    /// Every call timer ever set, earliest first. Entries go stale when a call resets or drops
    /// its timer; they are skipped when popped, so setting a timer stays O(log n) and
    /// `poll_timeout` O(1) with thousands of calls.
    call_timers: BinaryHeap<Reverse<(Instant, LegId)>>,
    media_out: VecDeque<MediaCommand>,
    /// Calls that arrived, for the open-call journal (crash safety): each goes out before
    /// its record.
    opened: VecDeque<OpenCall>,
    /// New calls' 18x/2xx held until their open-call note is stored (`journal_hold.rs`).
    hold: journal_hold::JournalHold,
    /// Calls answered without a stored note because the hold limit passed (a metric).
    answered_unjournaled: u64,
    records: VecDeque<CallRecord>,
    history: VecDeque<OperatorHistory>,
    wrap_ups: VecDeque<WrapUp>,
    recordings: VecDeque<RecordingNews>,
    recording_failures: u64,
    last_recording_failure: Option<live::RecordingFailureView>,
    registrations: VecDeque<RegistrationChange>,
    counters: Counters,
    board: board::Board,
    live_changed: bool,
    /// REGISTERs with a wrong password (exported as a metric by the shell).
    auth_failures: u64,
    /// Where those came from, for the shell's flood guard (drained by `poll_auth_failure`).
    auth_failure_sources: VecDeque<IpAddr>,
    rng: StdRng,
    media_ip: IpAddr,
    node_id: String,
    draining: bool,
    /// Other live nodes by id, with the SIP address they take peer offers on (`cluster.rs`).
    remote_nodes: HashMap<String, SocketAddr>,
}

impl Engine {
    pub fn new(config: EngineConfig, dialplan: Arc<Dialplan>, prompts: Arc<PromptIndex>) -> Self {
        let mut rng = StdRng::seed_from_u64(config.rng_seed);
        let sip_seed = rng.gen();
        let mut acd = Acd::new();
        let queues = Queues::from_dialplan(&dialplan, &mut acd);
        Engine {
            sip: Endpoint::new(config.sip, sip_seed),
            dialplan,
            prompts,
            pinned: HashMap::new(),
            targets: config.targets,
            calls: HashMap::new(),
            owners: HashMap::new(),
            offers: HashMap::new(),
            by_call_id: HashMap::new(),
            acd,
            operators: Operators::default(),
            consoles: HashMap::new(),
            console_events: VecDeque::new(),
            queues,
            deferred: VecDeque::new(),
            call_timers: BinaryHeap::new(),
            media_out: VecDeque::new(),
            opened: VecDeque::new(),
            hold: journal_hold::JournalHold::default(),
            answered_unjournaled: 0,
            records: VecDeque::new(),
            history: VecDeque::new(),
            wrap_ups: VecDeque::new(),
            recordings: VecDeque::new(),
            recording_failures: 0,
            last_recording_failure: None,
            registrations: VecDeque::new(),
            counters: Counters::default(),
            board: board::Board::new(config.service_level),
            live_changed: true,
            auth_failures: 0,
            auth_failure_sources: VecDeque::new(),
            rng,
            media_ip: config.media_ip,
            node_id: config.node_id,
            draining: false,
            remote_nodes: HashMap::new(),
        }
    }

    pub fn handle_sip(
        &mut self,
        now: Now,
        transport: Transport,
        source: SocketAddr,
        payload: &[u8],
    ) {
        self.sip.set_unix_time(unix_secs(now.wall));
        self.sip.handle_input(now.mono, transport, source, payload);
        self.pump(now);
    }

    /// A WebSocket connection closed: the phones registered over it cannot be rung any more
    /// (their operators log out) and a ring in progress to one of them fails at once.
    pub fn handle_flow_closed(&mut self, now: Now, transport: Transport, source: SocketAddr) {
        self.sip.handle_flow_closed(now.mono, transport, source);
        self.pump(now);
    }

    pub fn handle_media(&mut self, now: Now, event: MediaEvent) {
        let (leg, input) = match event {
            MediaEvent::Opened { leg, port } => (leg, CallInput::MediaOpened { port }),
            MediaEvent::OpenFailed { leg } => (leg, CallInput::MediaOpenFailed),
            MediaEvent::PromptFinished { leg, playback } => {
                (leg, CallInput::PromptFinished { playback })
            }
            MediaEvent::Digit { leg, digit } => (leg, CallInput::Digit(digit)),
            MediaEvent::WebRtcOffer { leg, sdp } => {
                self.peer(now, leg, PeerEvent::WebRtcOffered { sdp });
                self.pump(now);
                return;
            }
            MediaEvent::RecordingFailed { key, disk_full } => {
                if let Some(&leg) = self.by_call_id.get(&key) {
                    let outputs = self
                        .calls
                        .get_mut(&leg)
                        .map(|call| call.recording_failed(now, disk_full))
                        .unwrap_or_default();
                    for output in outputs {
                        self.command(now, leg, output);
                    }
                }
                self.recordings.push_back(RecordingNews::Failed {
                    call_id: key,
                    disk_full,
                    at: now.wall,
                });
                self.recording_failures += 1;
                self.last_recording_failure = Some(live::RecordingFailureView {
                    at: now.wall,
                    disk_full,
                });
                self.live_changed = true;
                return;
            }
            MediaEvent::BrowserGone { leg } => {
                // The operator closed the tab or lost the network: like signing out.
                if let Some(login) = self.console_login(leg) {
                    self.console_detach(now, &login);
                } else {
                    // A browser phone's audio: its call leg cannot go on without it.
                    self.peer(now, leg, PeerEvent::MediaLost);
                    self.pump(now);
                }
                return;
            }
        };
        let input = match (self.owners.get(&leg), input) {
            (Some(_), CallInput::MediaOpened { port }) => CallInput::Peer {
                leg,
                event: PeerEvent::MediaOpened { port },
            },
            (Some(_), CallInput::MediaOpenFailed) => CallInput::Peer {
                leg,
                event: PeerEvent::MediaOpenFailed,
            },
            // Digits from an operator's phone are relayed to the caller, not interpreted.
            (Some(_), _) => return,
            (None, input) => input,
        };
        self.drive_leg(now, leg, input);
        self.pump(now);
    }

    pub fn handle_timeout(&mut self, now: Now) {
        self.sip.set_unix_time(unix_secs(now.wall));
        self.sip.handle_timeout(now.mono);
        self.acd.handle_timeout(now.mono);
        while let Some(Reverse((at, leg))) = self.call_timers.peek().copied() {
            if at > now.mono {
                break;
            }
            self.call_timers.pop();
            let current = self.calls.get(&leg).and_then(Call::timeout);
            if current == Some(at) {
                self.drive(now, leg, CallInput::Timeout);
            }
        }
        self.release_expired_holds(now);
        self.roll_day(now);
        self.pump(now);
    }

    /// The earliest SIP, ACD or call timer. A stale call timer may wake the shell early; the
    /// `handle_timeout` that follows discards it.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.sip.poll_timeout(),
            self.acd.poll_timeout().map(|(at, _)| at),
            self.call_timers.peek().map(|Reverse((at, _))| *at),
            self.hold.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.sip.poll_transmit()
    }

    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.media_out.pop_front()
    }

    /// Calls that arrived since the last poll, to journal as open before their records
    /// (drain it before `poll_record`).
    pub fn poll_opened(&mut self) -> Option<OpenCall> {
        self.opened.pop_front()
    }

    /// The open-call note of `call_id` (from `poll_opened`) is durable: committed, or in the
    /// writer's fsync'd spool. The call's held 18x/2xx go out now, in order.
    pub fn journaled(&mut self, now: Now, call_id: &str) {
        if let Some((leg, held)) = self.hold.journaled(call_id) {
            for output in held {
                self.command(now, leg, output);
            }
            self.pump(now);
        }
    }

    /// Calls answered without a stored open-call note (the hold limit passed).
    pub fn answered_unjournaled(&self) -> u64 {
        self.answered_unjournaled
    }

    pub fn poll_record(&mut self) -> Option<CallRecord> {
        self.records.pop_front()
    }

    pub fn poll_history(&mut self) -> Option<OperatorHistory> {
        self.history.pop_front()
    }

    /// Wrap-ups that ended, with the call each followed, for the store.
    pub fn poll_wrap_up(&mut self) -> Option<WrapUp> {
        self.wrap_ups.pop_front()
    }

    /// Recordings started, failed and finished, for the store and the alerts.
    pub fn poll_recording(&mut self) -> Option<RecordingNews> {
        self.recordings.pop_front()
    }

    pub fn poll_registration(&mut self) -> Option<RegistrationChange> {
        self.registrations.pop_front()
    }

    /// Whether the live state changed since the last call (for the push stream).
    pub fn take_live_changed(&mut self) -> bool {
        std::mem::take(&mut self.live_changed)
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    pub fn sip_stats(&self) -> &SipStats {
        self.sip.stats()
    }

    pub fn auth_failures(&self) -> u64 {
        self.auth_failures
    }

    /// The address of each refused digest, for the flood guard's temporary blocks.
    pub fn poll_auth_failure(&mut self) -> Option<IpAddr> {
        self.auth_failure_sources.pop_front()
    }

    /// Caps on dialogs and transactions per source and in total (503 beyond them).
    pub fn set_session_caps(&mut self, caps: madoguchi_sip::SessionCaps) {
        self.sip.set_caps(caps);
    }

    /// The start (in UTC) and the date of the hotline's local day containing `at`.
    pub fn local_midnight(&self, at: DateTime<Utc>) -> (DateTime<Utc>, chrono::NaiveDate) {
        live::local_midnight(&self.dialplan, at)
    }

    /// The port of the SIP-over-TLS listener, named in Via and Contact on TLS.
    pub fn set_sip_tls_port(&mut self, port: u16) {
        self.sip.set_tls_port(port);
    }

    /// The digest algorithms REGISTER challenges offer, in order.
    pub fn set_digest_algorithms(&mut self, algorithms: &[madoguchi_sip::DigestAlgorithm]) {
        self.sip.set_digest_algorithms(algorithms);
    }

    /// Today's calls and wrap-ups so far, as the store has them at start: the board's
    /// figures go on from there.
    pub fn seed_board(&mut self, records: &[CallRecord], wrap_ups: &[WrapUp]) {
        self.board.reset();
        let tz = live::local_tz(&self.dialplan);
        // In the order they ended, as they would have arrived live (the board's 30-minute
        // window forgets from its oldest end).
        let mut ended: Vec<(DateTime<Utc>, Result<&CallRecord, &WrapUp>)> = records
            .iter()
            .map(|r| (r.ended_at, Ok(r)))
            .chain(wrap_ups.iter().map(|w| (w.ended_at, Err(w))))
            .collect();
        ended.sort_by_key(|(at, _)| *at);
        for (_, item) in ended {
            match item {
                Ok(record) => self.board.add_call(record, tz),
                Err(wrap_up) => {
                    let ms = u64::try_from(wrap_up.wrap_up_ms).unwrap_or(0);
                    self.board
                        .add_wrap_up(wrap_up.ended_at, Duration::from_millis(ms));
                }
            }
        }
        self.live_changed = true;
    }

    /// Today's counters as the store has them at start (the engine counts on from there).
    pub fn seed_counters(&mut self, counters: Counters) {
        self.counters = counters;
        self.live_changed = true;
    }

    /// Who may work as an operator and register a phone. Called at start and whenever the
    /// store's users change; new users join their queues, known ones keep their state.
    pub fn set_directory(&mut self, now: Now, entries: Vec<DirectoryEntry>) {
        let mut credentials = HashMap::new();
        for entry in &entries {
            let known = self.operators.id(&entry.login).is_some();
            let id = self
                .operators
                .ensure(&mut self.acd, &entry.login, &entry.role, now.wall);
            if !known {
                self.queues.enroll(
                    &self.dialplan,
                    &mut self.acd,
                    now.mono,
                    id,
                    &entry.login,
                    &entry.role,
                );
            }
            let skills = operator_skills(&self.dialplan, &entry.languages);
            // The id is the one `ensure` just gave: the ACD knows it.
            let _ = self.acd.set_skills(now.mono, id, skills);
            if entry.ha1_md5.is_some() || entry.ha1_sha256.is_some() {
                credentials.insert(
                    entry.login.clone(),
                    SipCredentials {
                        ha1_md5: entry.ha1_md5.clone(),
                        ha1_sha256: entry.ha1_sha256.clone(),
                    },
                );
            }
        }
        self.sip.set_credentials(credentials);
        self.live_changed = true;
        self.pump(now);
    }

    /// After a restart: the stored bindings come back, and with them the operators' last
    /// status (paused stays paused, logged out stays out).
    pub fn restore(
        &mut self,
        now: Now,
        bindings: Vec<StoredBinding>,
        last_status: HashMap<String, (String, Option<String>)>,
    ) {
        let mut restored = Vec::new();
        for b in bindings {
            let left = (b.expires_at - now.wall).to_std().unwrap_or(Duration::ZERO);
            if left.is_zero() {
                continue;
            }
            restored.push(Binding {
                login: b.login,
                contact: b.contact,
                source: BindingSource {
                    addr: b.source,
                    transport: b.transport,
                },
                call_id: b.call_id,
                cseq: b.cseq,
                expires_at: now.mono + left,
            });
        }
        let logins: HashSet<String> = restored.iter().map(|b| b.login.clone()).collect();
        self.sip.restore_bindings(restored);
        for login in logins {
            let phones = self.sip.bindings(&login).len();
            let resume = match last_status.get(&login) {
                Some((status, _)) if status == "logged_out" => operators::Resume::StayOut,
                Some((status, reason)) if status == "paused" => {
                    operators::Resume::Paused(reason.clone().unwrap_or_else(|| "break".to_owned()))
                }
                _ => operators::Resume::Login,
            };
            for _ in 0..phones {
                self.operators
                    .phone_registered(&mut self.acd, now.mono, &login, resume.clone());
            }
        }
        self.pump(now);
    }

    /// A status change asked for by the API.
    pub fn request_status(
        &mut self,
        now: Now,
        login: &str,
        request: &StatusRequest,
    ) -> Result<(), OperatorError> {
        let result = self
            .operators
            .request(&mut self.acd, now.mono, login, request);
        self.pump(now);
        result
    }

    /// `login` filed a call's classification: a wrap-up of theirs ends early.
    pub fn classification_filed(&mut self, now: Now, login: &str) {
        self.operators
            .classification_filed(&mut self.acd, now.mono, login);
        self.pump(now);
    }

    /// A blind transfer asked for by the API, of a call that is with an operator.
    pub fn transfer(&mut self, now: Now, call_id: &str, target: &str) -> Result<(), TransferError> {
        if self.dialplan.target(target).is_none() {
            return Err(TransferError::UnknownTarget(target.to_owned()));
        }
        let leg = *self
            .by_call_id
            .get(call_id)
            .ok_or_else(|| TransferError::UnknownCall(call_id.to_owned()))?;
        if !self.calls.get(&leg).is_some_and(Call::is_with_operator) {
            return Err(TransferError::NotWithOperator);
        }
        self.drive(
            now,
            leg,
            CallInput::Transfer {
                target: target.to_owned(),
            },
        );
        self.pump(now);
        Ok(())
    }

    /// The live state of queues and operators (for `GET /api/v1/queues` and the push stream).
    pub fn live(&self, now: Now) -> LiveState {
        live::snapshot(self, now)
    }

    /// From now on new calls are refused with 503 and Retry-After, and so are OPTIONS probes
    /// outside a call (trunks fail over); calls in progress go on, REGISTERs are still taken.
    pub fn begin_drain(&mut self) {
        self.draining = true;
        // The constant is a number: parsing it cannot fail.
        self.sip.set_unavailable(RETRY_AFTER_SECONDS.parse().ok());
    }

    /// Ends every call still up (shutdown deadline): BYE to the caller, record as interrupted.
    pub fn interrupt_all(&mut self, now: Now) {
        let legs: Vec<LegId> = self.calls.keys().copied().collect();
        for leg in legs {
            self.drive(now, leg, CallInput::Interrupt);
        }
        self.pump(now);
    }

    /// Drains the endpoint's and the ACD's events, and inputs calls made for each other,
    /// until nothing is left (str0m's rule).
    fn pump(&mut self, now: Now) {
        loop {
            if let Some(event) = self.sip.poll_event() {
                self.sip_event(now, event);
            } else if let Some(event) = self.acd.poll_event() {
                self.acd_event(now, event);
            } else if let Some((leg, input)) = self.deferred.pop_front() {
                self.drive(now, leg, input);
            } else {
                break;
            }
        }
    }

    fn sip_event(&mut self, now: Now, event: SipEvent) {
        match event {
            SipEvent::IncomingCall {
                leg,
                call_id,
                from_user,
                to_user,
                sdp,
                source,
                headers,
                ..
            } => {
                if cluster::is_peer_offer(&headers) {
                    // Another node's caller for one of our operators: no dialplan, no record.
                    let invite = cluster::PeerInvite {
                        leg,
                        sip_call_id: call_id,
                        caller: from_user,
                        login: to_user,
                        source,
                        sdp,
                        headers,
                    };
                    self.peer_offer(now, invite);
                    return;
                }
                let id = self.new_call_id();
                self.hold.arrived(&id, leg, now.mono);
                self.opened.push_back(OpenCall {
                    id: id.clone(),
                    node_id: self.node_id.clone(),
                    sip_call_id: call_id.clone(),
                    caller: from_user.clone(),
                    called: to_user.clone(),
                    arrived_at: now.wall,
                });
                let feature = self.dialplan.features().feature(&to_user);
                let call = Call::new(
                    now,
                    call::Setup {
                        id: id.clone(),
                        leg,
                        sip_call_id: call_id,
                        caller: from_user.clone(),
                        called: to_user,
                        offer: sdp,
                        node_id: self.node_id.clone(),
                        media_ip: self.media_ip,
                        session_id: self.rng.gen_range(1..u32::MAX as u64),
                        peer: None,
                    },
                );
                self.calls.insert(leg, call);
                self.by_call_id.insert(id, leg);
                if self.draining {
                    // Shutting down: refused, but recorded like every other call.
                    self.drive(now, leg, CallInput::Refuse { cause: "draining" });
                    return;
                }
                let input = match feature {
                    Some(code) => CallInput::Feature {
                        prompt: self.feature_code(now, code, &from_user, source),
                    },
                    None => CallInput::Route,
                };
                self.drive(now, leg, input);
            }
            SipEvent::CallCancelled { leg } => {
                // The SIP layer answered the INVITE 487: a held 180/200 must not follow.
                self.hold.forget(leg);
                self.drive(now, leg, CallInput::Cancelled)
            }
            SipEvent::CallConfirmed { leg, sdp } => {
                self.drive(now, leg, CallInput::Confirmed { sdp })
            }
            SipEvent::AckTimedOut { leg } => self.drive(now, leg, CallInput::AckTimedOut),
            // No PRACK for a reliable 18x: the SIP layer already answered 504.
            SipEvent::ProvisionalNotAcked { leg } => self.drive(now, leg, CallInput::PrackTimedOut),
            SipEvent::ReInvite { leg, request, sdp } => self.drive_leg(
                now,
                leg,
                if self.owners.contains_key(&leg) {
                    CallInput::Peer {
                        leg,
                        event: PeerEvent::ReInvite { request, sdp },
                    }
                } else {
                    CallInput::ReInvite { request, sdp }
                },
            ),
            SipEvent::ReInviteAnswered { leg, sdp } => self.drive_leg(
                now,
                leg,
                if self.owners.contains_key(&leg) {
                    CallInput::Peer {
                        leg,
                        event: PeerEvent::ReInviteAnswered { sdp },
                    }
                } else {
                    CallInput::ReInviteAnswered { sdp }
                },
            ),
            SipEvent::RemoteHangup { leg } => self.drive_leg(
                now,
                leg,
                if self.owners.contains_key(&leg) {
                    CallInput::Peer {
                        leg,
                        event: PeerEvent::RemoteHangup,
                    }
                } else {
                    CallInput::RemoteHangup
                },
            ),
            SipEvent::OutgoingProgress { leg, status, sdp } => {
                self.peer(now, leg, PeerEvent::Progress { status, sdp })
            }
            SipEvent::OutgoingAnswered { leg, sdp } => {
                if self.owners.contains_key(&leg) {
                    self.peer(now, leg, PeerEvent::Answered { sdp });
                } else {
                    // The call that placed it is gone: do not leave the phone off-hook.
                    let _ = self.sip.hangup(now.mono, leg);
                }
            }
            SipEvent::OutgoingFailed { leg, status } => {
                self.peer(now, leg, PeerEvent::Failed { status })
            }
            SipEvent::Refer {
                leg,
                refer,
                refer_to,
                ..
            } => {
                if self.owners.contains_key(&leg) {
                    self.peer(now, leg, PeerEvent::Refer { refer, refer_to });
                } else {
                    // Callers may not transfer themselves anywhere (toll-fraud guard).
                    let _ = self.sip.answer_refer(now.mono, leg, refer, 403);
                }
            }
            SipEvent::Registration(event) => self.registration(now, event),
            SipEvent::AuthFailed { source, .. } => {
                self.auth_failures += 1;
                self.auth_failure_sources.push_back(source.ip());
            }
            SipEvent::HangupCompleted { .. } | SipEvent::LegTerminated { .. } => {}
        }
    }

    fn peer(&mut self, now: Now, leg: LegId, event: PeerEvent) {
        if self.owners.contains_key(&leg) {
            self.drive_leg(now, leg, CallInput::Peer { leg, event });
        }
    }

    /// A feature code dialled from an operator's phone: only from where that login's phone
    /// is registered. Returns the prompt that confirms (or refuses) it.
    fn feature_code(
        &mut self,
        now: Now,
        code: FeatureCode,
        login: &str,
        source: SocketAddr,
    ) -> Option<String> {
        let features = self.dialplan.features().clone();
        let registered_here = self
            .sip
            .bindings(login)
            .iter()
            .any(|b| b.source.addr.ip() == source.ip());
        if !registered_here {
            return features.prompt_refused.clone();
        }
        let (request, prompt) = match code {
            FeatureCode::Pause => (
                StatusRequest::Paused {
                    reason: features.pause_reason.clone(),
                },
                features.prompt_paused.clone(),
            ),
            FeatureCode::Available => (StatusRequest::Available, features.prompt_available.clone()),
            FeatureCode::Logout => (StatusRequest::LoggedOut, features.prompt_logged_out.clone()),
        };
        match self
            .operators
            .request(&mut self.acd, now.mono, login, &request)
        {
            Ok(()) => prompt,
            Err(error) => {
                tracing::debug!(%error, "feature code refused");
                features.prompt_refused.clone()
            }
        }
    }

    fn registration(&mut self, now: Now, event: RegistrarEvent) {
        match &event {
            RegistrarEvent::BindingAdded { login, contact }
            | RegistrarEvent::BindingRefreshed { login, contact } => {
                if matches!(event, RegistrarEvent::BindingAdded { .. }) {
                    self.operators.phone_registered(
                        &mut self.acd,
                        now.mono,
                        login,
                        operators::Resume::Login,
                    );
                }
                // A WebSocket phone's binding dies with its connection: a restart has
                // nothing to restore.
                if let Some(b) = self
                    .sip
                    .bindings(login)
                    .iter()
                    .find(|b| &b.contact == contact)
                    .filter(|b| !b.source.transport.is_connection_bound())
                {
                    let left = b.expires_at.saturating_duration_since(now.mono);
                    self.registrations.push_back(RegistrationChange::Save {
                        login: login.clone(),
                        contact: contact.clone(),
                        source: b.source.addr,
                        transport: b.source.transport,
                        call_id: b.call_id.clone(),
                        cseq: b.cseq,
                        expires_at: now.wall + chrono::Duration::from_std(left).unwrap_or_default(),
                    });
                }
            }
            RegistrarEvent::BindingRemoved { login, contact }
            | RegistrarEvent::BindingExpired { login, contact } => {
                self.operators
                    .phone_unregistered(&mut self.acd, now.mono, login);
                self.registrations.push_back(RegistrationChange::Delete {
                    login: login.clone(),
                    contact: contact.clone(),
                });
            }
        }
        self.live_changed = true;
    }

    fn acd_event(&mut self, now: Now, event: AcdEvent) {
        self.live_changed = true;
        match event {
            AcdEvent::Ring {
                offer,
                caller,
                operator,
                ..
            } => {
                let leg = caller_leg(caller);
                let login = self.operators.login(operator).unwrap_or("").to_owned();
                // The most recently registered phone of the operator takes the call.
                let binding = self.sip.bindings(&login).last().cloned();
                let console = self.ring_console(&login);
                match (binding, console) {
                    _ if !self.calls.contains_key(&leg) => {
                        // Rejecting the offer would offer this caller again at once: forever.
                        let _ = self.acd.abandon(now.mono, caller);
                    }
                    // A signed-in console takes the operator's calls.
                    (_, Some(console)) => {
                        self.offers.insert(offer, leg);
                        let ring = ConsoleRing {
                            offer,
                            operator,
                            login,
                            leg: console,
                        };
                        self.drive(now, leg, CallInput::RingConsole(ring));
                    }
                    // A mirror: its own node rings the operator.
                    (None, None) if self.mirror_address(operator).is_some() => {
                        let Some(node) = self.mirror_address(operator) else {
                            return;
                        };
                        self.offers.insert(offer, leg);
                        self.drive(
                            now,
                            leg,
                            CallInput::Ring(RingTarget {
                                offer,
                                operator,
                                contact: format!("sip:{login}@{node}"),
                                login,
                                destination: node,
                                transport: Transport::Udp,
                                peer: true,
                            }),
                        );
                    }
                    (None, None) => {
                        // Available without a phone to ring (set so through the API):
                        // rejecting the offer would ring the same operator again at once,
                        // forever. Logging out cancels the ring and lets the caller move on.
                        tracing::warn!(
                            operator = %login,
                            "operator available without a registered phone: logged out"
                        );
                        let _ = self.acd.logout(now.mono, operator);
                    }
                    (Some(b), None) => {
                        self.offers.insert(offer, leg);
                        self.drive(
                            now,
                            leg,
                            CallInput::Ring(RingTarget {
                                offer,
                                operator,
                                login,
                                contact: b.contact,
                                destination: b.source.addr,
                                transport: b.source.transport,
                                peer: false,
                            }),
                        );
                    }
                }
            }
            AcdEvent::CancelRing { offer } => {
                if let Some(leg) = self.offers.remove(&offer) {
                    self.drive(now, leg, CallInput::CancelRing { offer });
                }
            }
            AcdEvent::Connected { caller, operator } => {
                if let Some(call) = self.calls.get(&caller_leg(caller)) {
                    self.operators.connected(operator, call.id());
                }
                self.drive(now, caller_leg(caller), CallInput::Connected { operator })
            }
            AcdEvent::Announce {
                caller,
                position,
                estimated_wait,
            } => self.drive(
                now,
                caller_leg(caller),
                CallInput::Announce {
                    position,
                    wait: estimated_wait,
                },
            ),
            AcdEvent::SkillRelaxed { caller, .. } => {
                self.drive(now, caller_leg(caller), CallInput::SkillRelaxed)
            }
            AcdEvent::Exit {
                caller,
                exit,
                waited,
            } => {
                self.offers.retain(|_, leg| *leg != caller_leg(caller));
                if exit != QueueExit::Abandoned {
                    self.drive(
                        now,
                        caller_leg(caller),
                        CallInput::QueueExit { exit, waited },
                    );
                }
            }
            AcdEvent::OperatorStateChanged {
                operator,
                change,
                at,
            } => {
                let ago = now.mono.saturating_duration_since(at);
                let wall = now.wall - chrono::Duration::from_std(ago).unwrap_or_default();
                if self.operators.is_foreign(operator) {
                    // Its own node writes its history and wrap-ups.
                    let _ = self.operators.observe(operator, &change, wall);
                    return;
                }
                if let Some((length, call)) = self.operators.wrap_up_ending(operator, &change, wall)
                {
                    self.board.add_wrap_up(wall, length);
                    if let Some(call_id) = call {
                        self.wrap_ups.push_back(WrapUp {
                            call_id: call_id.to_owned(),
                            ended_at: wall,
                            wrap_up_ms: i64::try_from(length.as_millis()).unwrap_or(i64::MAX),
                        });
                    }
                }
                if let Some(row) = self.operators.observe(operator, &change, wall) {
                    self.history.push_back(row);
                }
            }
        }
    }

    /// Drives the call that owns `leg` (the caller's own leg or one of its second legs).
    fn drive_leg(&mut self, now: Now, leg: LegId, input: CallInput) {
        let owner = self.owners.get(&leg).copied().unwrap_or(leg);
        self.drive(now, owner, input);
    }

    fn drive(&mut self, now: Now, leg: LegId, input: CallInput) {
        let Some(call) = self.calls.get_mut(&leg) else {
            return;
        };
        let timer_before = call.timeout();
        let monitor_before = call.monitored_by().map(|(_, mode)| mode);
        let sip = &mut self.sip;
        let mut new_leg = || sip.reserve_leg();
        let rng = &mut self.rng;
        let mut draw = || rng.gen::<f64>();
        let (dialplan, prompts) = match self.pinned.get(&leg) {
            Some((dialplan, prompts)) => (dialplan, prompts),
            None => (&self.dialplan, &self.prompts),
        };
        let mut ctx = Ctx {
            prompts,
            dialplan,
            targets: &self.targets,
            new_leg: &mut new_leg,
            draw: &mut draw,
        };
        let outputs = call.handle(now, input, &mut ctx);
        let finished = call.is_finished();
        // The board shows who monitors which operator.
        if call.monitored_by().map(|(_, mode)| mode) != monitor_before {
            self.live_changed = true;
        }
        match call.timeout() {
            Some(at) if Some(at) != timer_before => self.call_timers.push(Reverse((at, leg))),
            _ => {}
        }
        for output in outputs {
            self.command(now, leg, output);
        }
        if finished {
            if let Some(call) = self.calls.remove(&leg) {
                self.by_call_id.remove(call.id());
            }
            self.pinned.remove(&leg);
            self.offers.retain(|_, owner| *owner != leg);
            self.hold.ended(leg);
            self.live_changed = true;
        }
    }

    /// Answers held past `JOURNAL_HOLD_LIMIT` go out without the note: a stuck writer must
    /// not block calls. Counted, since such a call is lost if the node dies now.
    fn release_expired_holds(&mut self, now: Now) {
        for expired in self.hold.expired(now.mono) {
            if !expired.held.is_empty() || self.calls.contains_key(&expired.leg) {
                self.answered_unjournaled += 1;
                tracing::warn!(
                    call_id = %expired.id,
                    "open-call note not stored within the hold limit; answering anyway"
                );
            }
            for output in expired.held {
                self.command(now, expired.leg, output);
            }
        }
    }

    fn command(&mut self, now: Now, leg: LegId, output: CallOutput) {
        let Some(output) = self.hold.hold(leg, output) else {
            return;
        };
        let result = match output {
            CallOutput::Media(command) => {
                self.media_out.push_back(command);
                Ok(())
            }
            CallOutput::RecordingStarted { file } => {
                if let Some(call) = self.calls.get(&leg) {
                    self.recordings.push_back(RecordingNews::Started {
                        call_id: call.id().to_owned(),
                        file,
                        at: now.wall,
                    });
                }
                Ok(())
            }
            CallOutput::Record(record) => {
                self.counters.count(&record);
                self.board.add_call(&record, live::local_tz(&self.dialplan));
                self.records.push_back(*record);
                Ok(())
            }
            CallOutput::Provisional { status, sdp } => {
                self.sip
                    .send_provisional(now.mono, leg, status, sdp.as_deref())
            }
            CallOutput::Accept { sdp } => self.sip.accept(now.mono, leg, &sdp),
            CallOutput::Reject { status } => self.sip.reject(now.mono, leg, status, None),
            CallOutput::Unavailable => self.sip.reject_with_headers(
                now.mono,
                leg,
                503,
                None,
                &[("Retry-After", RETRY_AFTER_SECONDS)],
            ),
            CallOutput::Hangup => self.sip.hangup(now.mono, leg),
            CallOutput::AnswerReinvite {
                leg: target,
                request,
                result,
            } => {
                let result = match &result {
                    Ok(sdp) => Ok(sdp.as_slice()),
                    Err(status) => Err(*status),
                };
                self.sip.answer_reinvite(now.mono, target, request, result)
            }
            CallOutput::Acd(request) => {
                self.acd_request(now, leg, request);
                Ok(())
            }
            CallOutput::AdoptLeg { leg: peer } => {
                self.owners.insert(peer, leg);
                Ok(())
            }
            CallOutput::ReleaseLeg { leg: peer } => {
                self.owners.remove(&peer);
                Ok(())
            }
            CallOutput::Console {
                leg: console,
                event,
            } => {
                let call_id = self
                    .calls
                    .get(&leg)
                    .map(|call| call.id().to_owned())
                    .unwrap_or_default();
                self.console_output(call_id, console, event);
                Ok(())
            }
            CallOutput::Dial { leg: peer, call } => {
                self.sip.invite_on(now.mono, peer, *call);
                Ok(())
            }
            CallOutput::HangupPeer { leg: peer } => self.sip.hangup(now.mono, peer),
            CallOutput::Refer {
                leg: peer,
                refer_to,
            } => self.sip.refer(now.mono, peer, &refer_to),
            CallOutput::AnswerRefer {
                leg: peer,
                refer,
                status,
            } => self.sip.answer_refer(now.mono, peer, refer, status),
            CallOutput::NotifyRefer {
                leg: peer,
                status,
                terminated,
            } => self.sip.notify_refer(now.mono, peer, status, terminated),
        };
        if let Err(error) = result {
            // The leg went away under us (e.g. a CANCEL crossed our 200); the call's own
            // input for that event closes it.
            tracing::debug!(?leg, %error, "sip command refused");
        }
    }

    fn acd_request(&mut self, now: Now, leg: LegId, request: AcdRequest) {
        // A caller joining a queue nobody can serve raises no ACD event, yet the board must
        // show the caller waiting.
        self.live_changed = true;
        let caller = CallerId(leg.0);
        let result = match request {
            AcdRequest::Join {
                queue,
                priority,
                menu,
                skill,
            } => {
                let Some(id) = self.queues.id(&queue) else {
                    return;
                };
                let mut data = CallerData::new();
                if let Some(menu) = menu {
                    data.insert("menu".to_owned(), menu);
                }
                let mut options = madoguchi_acd::JoinOptions {
                    data,
                    ..Default::default()
                };
                if let Some(wait) = skill {
                    options.skill = Some(wait.skill);
                    options.relax_after = Some(wait.after);
                    options.relax = wait.relax;
                }
                let joined = self.acd.join_with(now.mono, id, caller, priority, options);
                if joined.is_ok() {
                    if let Some(position) = self.acd.position(caller) {
                        // The first announcement right away; the ACD repeats it on its timer.
                        let wait = self.acd.estimated_wait(id, position);
                        self.deferred
                            .push_back((leg, CallInput::Announce { position, wait }));
                    }
                }
                joined
            }
            AcdRequest::Leave => self.acd.abandon(now.mono, caller),
            AcdRequest::OfferAnswered { offer } => {
                let answered = self.acd.offer_answered(now.mono, offer);
                if answered.is_err() {
                    self.deferred
                        .push_back((leg, CallInput::OfferLost { offer }));
                }
                answered
            }
            AcdRequest::OfferRejected { offer } => {
                self.offers.remove(&offer);
                self.acd.offer_rejected(now.mono, offer)
            }
            AcdRequest::OfferFailed { offer } => {
                self.offers.remove(&offer);
                let mirror = self
                    .acd
                    .offers_of(caller)
                    .into_iter()
                    .find(|(o, _)| *o == offer)
                    .map(|(_, operator)| operator)
                    .filter(|operator| self.operators.is_mirror(*operator));
                match mirror {
                    // Busy on its node: no ring-out, no auto-pause here.
                    Some(operator) => {
                        self.hold_mirror(now, operator);
                        Ok(())
                    }
                    None => self.acd.offer_failed(now.mono, offer),
                }
            }
            AcdRequest::CallEnded { operator } => {
                let ended = self.acd.call_ended(now.mono, operator);
                if self.operators.is_mirror(operator) {
                    self.hold_mirror(now, operator);
                }
                ended
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "ACD input refused");
        }
    }

    /// Today's counters restart at the hotline's local midnight.
    fn roll_day(&mut self, now: Now) {
        let (since, today) = live::local_midnight(&self.dialplan, now.wall);
        if self.counters.date != Some(today) {
            self.counters = Counters {
                date: Some(today),
                since: Some(since),
                ..Counters::default()
            };
            self.board.reset();
            self.live_changed = true;
        }
    }

    /// Call ids are UUID-shaped (version 4 layout) from the seeded RNG, unique per node.
    fn new_call_id(&mut self) -> String {
        let bits: u128 = self.rng.gen();
        let bits = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
        let hex = format!("{bits:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// The ACD knows a caller by the number of its SIP leg.
fn caller_leg(caller: CallerId) -> LegId {
    LegId(caller.0)
}

fn unix_secs(wall: DateTime<Utc>) -> u64 {
    u64::try_from(wall.timestamp()).unwrap_or(0)
}

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod console_tests;
#[cfg(test)]
mod early_tests;
#[cfg(test)]
mod journal_tests;
#[cfg(test)]
mod monitor_tests;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod recording_tests;
#[cfg(test)]
mod test_harness;
#[cfg(test)]
mod tests;
