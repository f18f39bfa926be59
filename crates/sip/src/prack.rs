//! Reliable provisional responses on the UAS side: RFC 3262 ("100rel", PRACK).
//!
//! An INVITE that requires 100rel — or, under [`PrackPolicy::WhenSupported`], merely supports
//! it — makes its leg reliable. Every provisional above 100 we send on it then carries
//! `Require: 100rel` and an `RSeq` (random start in 1..2^31, +1 each, §3) and is
//! retransmitted by the endpoint, which is the TU here (§3), at T1 doubling until a PRACK
//! whose `RAck` names it arrives: 200 to the PRACK, and the next provisional goes out. Only
//! one is unacknowledged at a time; later ones wait in order (§3). A 200 asked for while a
//! provisional carrying SDP is unacknowledged waits for that PRACK ("MUST NOT send a final
//! response until…"); the leg stays `Offered` until it goes. After 64·T1 without a PRACK the
//! INVITE is rejected with 504 (§3 "SHOULD reject … with a 5xx") and
//! [`SipEvent::ProvisionalNotAcked`] is raised. Retransmission runs on every transport: the
//! RFC places it in the TU, above the transport.
//!
//! Driven from `endpoint.rs` (`send_provisional`, `accept`, the timer heap's
//! `TimerOwner::Reliable`) and `uas.rs` (the INVITE's `Require`/`Supported`, PRACK in the early
//! dialog). The engine only ever sees `ProvisionalNotAcked`.
//!
//! ```text
//! caller                         endpoint
//! INVITE (Require: 100rel) --->
//!                          <---  183 (Require: 100rel, RSeq: 8841) … again at 0.5 s, 1.5 s …
//! PRACK (RAck: 8841 1 INVITE) ->
//!                          <---  200 (PRACK), then a queued 18x or a held 200 (INVITE)
//! ```

use crate::endpoint::{Endpoint, SipEvent};
use crate::message::Reply;
use crate::timers::T1;
use crate::transaction::{Outgoing, Retransmit};
use crate::uas::Incoming;
use crate::LegId;
use rsip::prelude::*;
use rsip::{Header, Request};
use std::collections::VecDeque;
use std::time::Instant;

/// The option tag of RFC 3262.
pub(crate) const TAG: &str = "100rel";

/// When an incoming INVITE gets reliable provisional responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrackPolicy {
    /// Only when the INVITE says `Require: 100rel` (RFC 3262 §3 leaves the choice to the UAS
    /// otherwise; unreliable 18x are what most trunks expect).
    #[default]
    WhenRequired,
    /// Also when it lists 100rel in `Supported`.
    WhenSupported,
}

/// What an INVITE says about 100rel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reliability {
    /// `Require: 100rel`.
    Required,
    /// `Supported: 100rel` only.
    Supported,
    /// Neither.
    No,
}

impl Reliability {
    pub(crate) fn of(request: &Request) -> Self {
        let mut supported = false;
        for header in request.headers.iter() {
            match header {
                Header::Require(v) if lists_100rel(v.value()) => return Self::Required,
                Header::Supported(v) if lists_100rel(v.value()) => supported = true,
                _ => {}
            }
        }
        if supported {
            Self::Supported
        } else {
            Self::No
        }
    }

    /// Whether provisionals on such a leg are sent reliably under `policy`.
    pub(crate) fn applies(self, policy: PrackPolicy) -> bool {
        match (self, policy) {
            (Self::Required, _) => true,
            (Self::Supported, PrackPolicy::WhenSupported) => true,
            (Self::Supported, PrackPolicy::WhenRequired) | (Self::No, _) => false,
        }
    }
}

fn lists_100rel(value: &str) -> bool {
    value.split(',').any(|t| t.trim().eq_ignore_ascii_case(TAG))
}

/// A reliable provisional, built and numbered.
#[derive(Debug)]
struct Provisional {
    rseq: u32,
    status: u16,
    payload: Vec<u8>,
    has_sdp: bool,
}

/// The provisional waiting for its PRACK.
#[derive(Debug)]
struct Unacked {
    sent: Provisional,
    /// `None` once a final went out: no more retransmissions, but its PRACK is still answered
    /// 200 (§3 "MUST be prepared to process PRACK requests for those outstanding responses").
    retransmit: Option<Retransmit>,
    gives_up: Option<Instant>,
}

impl Unacked {
    fn next_due(&self) -> Option<Instant> {
        [self.retransmit.map(|r| r.at), self.gives_up]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The 100rel state of a reliable leg.
#[derive(Debug)]
pub(crate) struct ReliableLeg {
    next_rseq: u32,
    unacked: Option<Unacked>,
    /// Built while another was unacknowledged; sent in order, one per PRACK.
    queued: VecDeque<Provisional>,
    /// Our 200 (encoded), waiting for the PRACK of the SDP-bearing provisional.
    held_answer: Option<Vec<u8>>,
}

impl ReliableLeg {
    pub(crate) fn new(first_rseq: u32) -> Self {
        Self {
            next_rseq: first_rseq,
            unacked: None,
            queued: VecDeque::new(),
            held_answer: None,
        }
    }

    /// The RSeq of the next provisional.
    pub(crate) fn take_rseq(&mut self) -> u32 {
        let rseq = self.next_rseq;
        // 2^32-1 is the largest value; starting below 2^31 leaves room for billions.
        self.next_rseq = self.next_rseq.saturating_add(1);
        rseq
    }

    pub(crate) fn answer_held(&self) -> bool {
        self.held_answer.is_some()
    }

    /// A final response is about to go out: stop retransmitting and drop what never went.
    fn final_sent(&mut self) {
        self.queued.clear();
        if let Some(u) = self.unacked.as_mut() {
            u.retransmit = None;
            u.gives_up = None;
        }
    }
}

impl Endpoint {
    /// Sends provisional `status` reliably on `leg` (already checked to be reliable and
    /// offered), or queues it behind the one still unacknowledged.
    pub(crate) fn send_reliable_provisional(
        &mut self,
        now: Instant,
        leg: LegId,
        status: u16,
        sdp: Option<&[u8]>,
    ) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let Some(rseq) = l.prack.as_mut().map(|s| s.take_rseq()) else {
            return;
        };
        let (ctx, tag, transport) = (l.ctx.clone(), l.dialog.id().local_tag.clone(), l.transport);
        let reply = Reply::new(status)
            .tag(&tag)
            .header("Contact", self.contact(transport))
            .header("Require", TAG)
            .header("RSeq", rseq.to_string())
            .sdp(sdp);
        let provisional = Provisional {
            rseq,
            status,
            payload: self.encode(&ctx, &reply),
            has_sdp: sdp.is_some(),
        };
        let Some(state) = self.legs.get_mut(&leg).and_then(|l| l.prack.as_mut()) else {
            return;
        };
        if state.unacked.is_some() {
            state.queued.push_back(provisional);
        } else {
            self.start_reliable(now, leg, provisional);
        }
    }

    /// Sends a numbered provisional and arms its retransmission and give-up timers.
    fn start_reliable(&mut self, now: Instant, leg: LegId, provisional: Provisional) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let key = l.invite_tx.clone();
        let Some(state) = l.prack.as_mut() else {
            return;
        };
        let (status, payload) = (provisional.status, provisional.payload.clone());
        let unacked = Unacked {
            sent: provisional,
            retransmit: Retransmit::start(now, Some(T1)),
            gives_up: Some(now + T1 * 64),
        };
        let due = unacked.next_due();
        state.unacked = Some(unacked);
        tracing::debug!(%leg, status, "reliable provisional sent");
        self.respond_tx(now, &key, status, payload);
        if let Some(at) = due {
            self.schedule(at, crate::endpoint::TimerOwner::Reliable(leg));
        }
    }

    /// Holds `answer` (our encoded 200) if the leg waits for the PRACK of a provisional
    /// carrying SDP; otherwise stops the leg's retransmissions and gives it back to be sent.
    pub(crate) fn hold_answer(&mut self, leg: LegId, answer: Vec<u8>) -> Option<Vec<u8>> {
        let Some(state) = self.legs.get_mut(&leg).and_then(|l| l.prack.as_mut()) else {
            return Some(answer);
        };
        let waits = state
            .unacked
            .as_ref()
            .is_some_and(|u| u.sent.has_sdp && u.gives_up.is_some());
        if waits {
            state.queued.clear();
            state.held_answer = Some(answer);
            tracing::debug!(%leg, "200 held until the PRACK of the early-media provisional");
            None
        } else {
            state.final_sent();
            Some(answer)
        }
    }

    /// The leg's reliable-provisional timer fired (or a stale heap entry for it popped).
    pub(crate) fn reliable_timeout(&mut self, now: Instant, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let (transport, source) = (l.transport, l.source);
        let Some(unacked) = l.prack.as_mut().and_then(|s| s.unacked.as_mut()) else {
            return;
        };
        if unacked.next_due().is_none_or(|at| at > now) {
            return; // stale: the entry for the real deadline is still on the heap
        }
        if unacked.gives_up.is_some_and(|at| at <= now) {
            tracing::info!(%leg, "no PRACK for a reliable provisional within 64*T1");
            unacked.gives_up = None;
            unacked.retransmit = None;
            self.events.push_back(SipEvent::ProvisionalNotAcked { leg });
            if let Err(err) = self.reject(now, leg, 504, None) {
                tracing::debug!(%leg, %err, "504 after the PRACK timeout not sent");
            }
            return;
        }
        let mut resend = None;
        if let Some(r) = unacked.retransmit.filter(|r| r.at <= now) {
            // §3: "starts at T1 seconds and doubles for each retransmission" (no T2 cap).
            unacked.retransmit = Some(r.next(now, None));
            resend = Some(unacked.sent.payload.clone());
        }
        let due = unacked.next_due();
        if let Some(payload) = resend {
            self.send_all(
                transport,
                source,
                vec![Outgoing {
                    payload,
                    retransmission: true,
                }],
            );
        }
        if let Some(at) = due {
            self.schedule(at, crate::endpoint::TimerOwner::Reliable(leg));
        }
    }

    /// A PRACK in the leg's (early) dialog, §4 of RFC 3262 seen from the UAS.
    pub(crate) fn handle_prack(
        &mut self,
        now: Instant,
        inc: Incoming,
        request: &Request,
        leg: LegId,
    ) {
        if !request.body.is_empty() {
            // We never offer in a provisional, so a PRACK body could only be a new offer.
            return self.reply(now, inc, Reply::new(488));
        }
        let rack = rack(request);
        let acknowledged = self.legs.get_mut(&leg).and_then(|l| {
            let (rseq, cseq) = rack?;
            let state = l.prack.as_mut()?;
            let matches = cseq == l.invite_cseq
                && state.unacked.as_ref().is_some_and(|u| u.sent.rseq == rseq);
            matches.then(|| state.unacked.take()).flatten()
        });
        if acknowledged.is_none() {
            return self.reply(now, inc, Reply::new(481));
        }
        tracing::debug!(%leg, "PRACK matched");
        self.reply(now, inc, Reply::new(200));
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let key = l.invite_tx.clone();
        let Some(state) = l.prack.as_mut() else {
            return;
        };
        if let Some(answer) = state.held_answer.take() {
            state.final_sent();
            self.send_answer(now, leg, &key, answer);
        } else if let Some(next) = state.queued.pop_front() {
            self.start_reliable(now, leg, next);
        }
    }
}

/// `RAck: <rseq> <cseq> INVITE` → (rseq, cseq); `None` if malformed or for another method.
fn rack(request: &Request) -> Option<(u32, u32)> {
    let value = request.headers.iter().find_map(|h| match h {
        Header::Other(name, value) if name.eq_ignore_ascii_case("RAck") => Some(value),
        _ => None,
    })?;
    let mut parts = value.split_whitespace();
    let rseq = parts.next()?.parse().ok()?;
    let cseq = parts.next()?.parse().ok()?;
    let method = parts.next()?;
    (method.eq_ignore_ascii_case("INVITE") && parts.next().is_none()).then_some((rseq, cseq))
}
