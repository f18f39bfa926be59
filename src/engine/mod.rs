//! The sans-IO core of the engine: every call from INVITE to its record.
//!
//! [`Engine`] owns the SIP endpoint (transactions and dialogs), one [`call::Call`] per leg and the
//! dialplan. It never touches a socket, a timer, the database or the clock: the shell feeds it
//! ```text
//!   handle_sip(now, transport, source, bytes)   a datagram or a framed TCP message
//!   handle_media(now, MediaEvent)               port bound, prompt finished, DTMF digit
//!   handle_timeout(now)                         when poll_timeout() is due
//! ```
//! and after every input drains `poll_transmit()` (SIP to send), `poll_media()` (commands for
//! the RTP shell) and `poll_record()` (finished call records for the store) until each is empty.
//! Time is [`Now`]: the monotonic instant for timers and the wall time for the calendar.
//!
//! No tokio, sqlx or axum may be imported below this module (tests/core_is_sans_io.rs checks).

mod call;
pub mod clock;
pub mod media;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use madoguchi_dialplan::Dialplan;
use madoguchi_prompts::PromptId;
use madoguchi_sip::{Endpoint, EndpointConfig, LegId, SipEvent, SipStats, Transmit, Transport};
use madoguchi_store::CallRecord;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use call::{Call, CallInput};
pub use clock::Now;
pub use media::{MediaCommand, MediaEvent};

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
        request: madoguchi_sip::ReInviteId,
        result: Result<Vec<u8>, u16>,
    },
    Record(Box<CallRecord>),
}

pub struct Engine {
    sip: Endpoint,
    dialplan: Arc<Dialplan>,
    prompts: Arc<PromptIndex>,
    calls: HashMap<LegId, Call>,
    /// Every call timer ever set, earliest first. Entries go stale when a call resets or drops
    /// its timer; they are skipped when popped, so setting a timer stays O(log n) and
    /// `poll_timeout` O(1) with thousands of calls.
    call_timers: BinaryHeap<Reverse<(Instant, LegId)>>,
    media_out: VecDeque<MediaCommand>,
    records: VecDeque<CallRecord>,
    rng: StdRng,
    media_ip: IpAddr,
    node_id: String,
    draining: bool,
}

impl Engine {
    pub fn new(config: EngineConfig, dialplan: Arc<Dialplan>, prompts: Arc<PromptIndex>) -> Self {
        let mut rng = StdRng::seed_from_u64(config.rng_seed);
        let sip_seed = rng.gen();
        Engine {
            sip: Endpoint::new(config.sip, sip_seed),
            dialplan,
            prompts,
            calls: HashMap::new(),
            call_timers: BinaryHeap::new(),
            media_out: VecDeque::new(),
            records: VecDeque::new(),
            rng,
            media_ip: config.media_ip,
            node_id: config.node_id,
            draining: false,
        }
    }

    pub fn handle_sip(
        &mut self,
        now: Now,
        transport: Transport,
        source: SocketAddr,
        payload: &[u8],
    ) {
        self.sip.handle_input(now.mono, transport, source, payload);
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
        };
        self.drive(now, leg, input);
        self.pump(now);
    }

    pub fn handle_timeout(&mut self, now: Now) {
        self.sip.handle_timeout(now.mono);
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
        self.pump(now);
    }

    /// The earliest SIP or call timer. A stale call timer may wake the shell early; the
    /// `handle_timeout` that follows discards it.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let calls = self.call_timers.peek().map(|Reverse((at, _))| *at);
        match (self.sip.poll_timeout(), calls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.sip.poll_transmit()
    }

    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.media_out.pop_front()
    }

    pub fn poll_record(&mut self) -> Option<CallRecord> {
        self.records.pop_front()
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    pub fn sip_stats(&self) -> &SipStats {
        self.sip.stats()
    }

    /// From now on new calls are refused with 503 and Retry-After; calls in progress go on.
    pub fn begin_drain(&mut self) {
        self.draining = true;
    }

    /// Ends every call still up (shutdown deadline): BYE to the caller, record as interrupted.
    pub fn interrupt_all(&mut self, now: Now) {
        let legs: Vec<LegId> = self.calls.keys().copied().collect();
        for leg in legs {
            self.drive(now, leg, CallInput::Interrupt);
        }
        self.pump(now);
    }

    /// Drains the endpoint's events into the calls until nothing is left (str0m's rule).
    fn pump(&mut self, now: Now) {
        while let Some(event) = self.sip.poll_event() {
            match event {
                SipEvent::IncomingCall {
                    leg,
                    call_id,
                    from_user,
                    to_user,
                    sdp,
                    ..
                } => {
                    let id = self.new_call_id();
                    let call = Call::new(
                        now,
                        call::Setup {
                            id,
                            leg,
                            sip_call_id: call_id,
                            caller: from_user,
                            called: to_user,
                            offer: sdp,
                            node_id: self.node_id.clone(),
                            media_ip: self.media_ip,
                            session_id: self.rng.gen_range(1..u32::MAX as u64),
                        },
                    );
                    self.calls.insert(leg, call);
                    if self.draining {
                        // Shutting down: refused, but recorded like every other call.
                        self.drive(now, leg, CallInput::Refuse { cause: "draining" });
                        continue;
                    }
                    let dialplan = Arc::clone(&self.dialplan);
                    self.drive(now, leg, CallInput::Route(&dialplan));
                }
                SipEvent::CallCancelled { leg } => self.drive(now, leg, CallInput::Cancelled),
                SipEvent::CallConfirmed { leg, sdp } => {
                    self.drive(now, leg, CallInput::Confirmed { sdp })
                }
                SipEvent::AckTimedOut { leg } => self.drive(now, leg, CallInput::AckTimedOut),
                SipEvent::ReInvite { leg, request, sdp } => {
                    self.drive(now, leg, CallInput::ReInvite { request, sdp })
                }
                SipEvent::ReInviteAnswered { leg, sdp } => {
                    self.drive(now, leg, CallInput::ReInviteAnswered { sdp })
                }
                SipEvent::RemoteHangup { leg } => self.drive(now, leg, CallInput::RemoteHangup),
                SipEvent::HangupCompleted { .. } | SipEvent::LegTerminated { .. } => {}
            }
        }
    }

    fn drive(&mut self, now: Now, leg: LegId, input: CallInput<'_>) {
        let Some(call) = self.calls.get_mut(&leg) else {
            return;
        };
        let timer_before = call.timeout();
        let outputs = call.handle(now, input, &self.prompts);
        let finished = call.is_finished();
        match call.timeout() {
            Some(at) if Some(at) != timer_before => self.call_timers.push(Reverse((at, leg))),
            _ => {}
        }
        for output in outputs {
            self.command(now, leg, output);
        }
        if finished {
            self.calls.remove(&leg);
        }
    }

    fn command(&mut self, now: Now, leg: LegId, output: CallOutput) {
        let result = match output {
            CallOutput::Media(command) => {
                self.media_out.push_back(command);
                Ok(())
            }
            CallOutput::Record(record) => {
                self.records.push_back(*record);
                Ok(())
            }
            CallOutput::Provisional { status } => {
                self.sip.send_provisional(now.mono, leg, status, None)
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
            CallOutput::AnswerReinvite { request, result } => {
                let result = match &result {
                    Ok(sdp) => Ok(sdp.as_slice()),
                    Err(status) => Err(*status),
                };
                self.sip.answer_reinvite(now.mono, leg, request, result)
            }
        };
        if let Err(error) = result {
            // The leg went away under us (e.g. a CANCEL crossed our 200); the call's own
            // input for that event closes it.
            tracing::debug!(?leg, %error, "sip command refused");
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

#[cfg(test)]
mod tests;
