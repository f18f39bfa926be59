//! The INVITE client transaction, RFC 3261 §17.1.1 (our outbound calls, see `uac.rs`).
//!
//! Calling → (1xx) Proceeding → (2xx) Terminated, handing the 2xx to the TU which ACKs it in
//! the dialog; → (300–699) Completed, where the transaction itself ACKs the final
//! (§17.1.1.3) and re-ACKs every retransmission of it until Timer D. On UDP Timer A
//! retransmits the INVITE (T1 doubling, uncapped) while Calling; Timer B (64·T1) times out.
//! Once the TU has sent a CANCEL ([`InviteClientTransaction::cancel_sent`]), Proceeding also
//! gives up after 64·T1 without a final (§9.1), reported like Timer B.

use super::{earliest, Outgoing, Retransmit};
use crate::timers::TransactionTimer;
use rsip::prelude::*;
use rsip::{Header, Request, Response};
use std::collections::VecDeque;
use std::time::Instant;

/// What the transaction reports to the TU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteClientEvent {
    Provisional(Response),
    /// A 2xx: the TU must ACK it end to end (§13.2.2.4).
    Accepted(Response),
    /// A 300–699 final, already ACKed by the transaction.
    Rejected(Response),
    /// Timer B fired with no final response.
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// INVITE sent, nothing heard; Timer A retransmits, Timer B gives up.
    Calling { a: Option<Retransmit>, b: Instant },
    /// A provisional arrived; waiting for the final (no timeout, §17.1.1.2, unless a CANCEL
    /// was sent: then the §9.1 deadline).
    Proceeding { cancelled: Option<Instant> },
    /// A non-2xx final was ACKed; Timer D absorbs its retransmissions.
    Completed { ack: Vec<u8>, d: Instant },
    /// Nothing left to do.
    Terminated,
}

/// See the module docs.
#[derive(Debug)]
pub struct InviteClientTransaction {
    state: State,
    reliable: bool,
    request: Request,
    encoded: Vec<u8>,
    transmits: VecDeque<Outgoing>,
    events: VecDeque<InviteClientEvent>,
}

impl InviteClientTransaction {
    /// Starts the transaction; the INVITE is queued for sending at once.
    pub fn new(now: Instant, reliable: bool, request: Request) -> Self {
        let encoded = encode_request(&request);
        let mut transmits = VecDeque::new();
        transmits.push_back(Outgoing {
            payload: encoded.clone(),
            retransmission: false,
        });
        Self {
            state: State::Calling {
                a: Retransmit::start(now, TransactionTimer::A.duration(reliable)),
                b: now + TransactionTimer::B.duration(reliable).unwrap_or_default(),
            },
            reliable,
            request,
            encoded,
            transmits,
            events: VecDeque::new(),
        }
    }

    pub fn receive_response(&mut self, now: Instant, response: Response) {
        let status = response.status_code.code();
        match (&self.state, status) {
            (State::Calling { .. }, 100..=199) => {
                self.state = State::Proceeding { cancelled: None };
                self.events
                    .push_back(InviteClientEvent::Provisional(response));
            }
            (State::Proceeding { .. }, 100..=199) => {
                self.events
                    .push_back(InviteClientEvent::Provisional(response));
            }
            (State::Calling { .. } | State::Proceeding { .. }, 200..=299) => {
                self.state = State::Terminated;
                self.events.push_back(InviteClientEvent::Accepted(response));
            }
            (State::Calling { .. } | State::Proceeding { .. }, 300..=699) => {
                let ack = build_ack(&self.request, &response);
                self.transmits.push_back(Outgoing {
                    payload: ack.clone(),
                    retransmission: false,
                });
                let d = TransactionTimer::D
                    .duration(self.reliable)
                    .unwrap_or_default();
                self.state = State::Completed { ack, d: now + d };
                self.events.push_back(InviteClientEvent::Rejected(response));
            }
            (State::Completed { ack, .. }, 300..=699) => {
                let ack = ack.clone();
                self.transmits.push_back(Outgoing {
                    payload: ack,
                    retransmission: true,
                });
            }
            _ => {}
        }
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Nothing heard from the peer yet (a CANCEL must wait for a provisional, §9.1).
    pub fn is_calling(&self) -> bool {
        matches!(self.state, State::Calling { .. })
    }

    /// The TU sent a CANCEL for this INVITE: without a final within 64·T1 the transaction
    /// ends with [`InviteClientEvent::TimedOut`] (§9.1).
    pub fn cancel_sent(&mut self, now: Instant) {
        if let State::Proceeding { cancelled } = &mut self.state {
            let limit = TransactionTimer::B
                .duration(self.reliable)
                .unwrap_or_default();
            cancelled.get_or_insert(now + limit);
        }
    }

    /// Stops the transaction at once, e.g. when the transport reported the peer unreachable.
    pub fn abandon(&mut self) {
        self.state = State::Terminated;
    }

    /// The INVITE as last sent.
    pub fn request(&self) -> &Request {
        &self.request
    }

    pub fn poll_transmit(&mut self) -> Option<Outgoing> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<InviteClientEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<(Instant, TransactionTimer)> {
        match &self.state {
            State::Calling { a, b } => earliest([
                a.map(|r| (r.at, TransactionTimer::A)),
                Some((*b, TransactionTimer::B)),
            ]),
            State::Completed { d, .. } => Some((*d, TransactionTimer::D)),
            State::Proceeding { cancelled } => cancelled.map(|at| (at, TransactionTimer::B)),
            State::Terminated => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.state {
            State::Calling { b, .. } if now >= *b => {
                self.state = State::Terminated;
                self.events.push_back(InviteClientEvent::TimedOut);
            }
            State::Calling { a, .. } => {
                if let Some(r) = a.filter(|r| now >= r.at) {
                    *a = Some(r.next(now, None));
                    self.transmits.push_back(Outgoing {
                        payload: self.encoded.clone(),
                        retransmission: true,
                    });
                }
            }
            State::Proceeding {
                cancelled: Some(at),
            } if now >= *at => {
                self.state = State::Terminated;
                self.events.push_back(InviteClientEvent::TimedOut);
            }
            State::Completed { d, .. } if now >= *d => self.state = State::Terminated,
            _ => {}
        }
    }
}

/// Encodes a request with its body appended raw (rsip's Display converts it lossily).
pub fn encode_request(request: &Request) -> Vec<u8> {
    let head = Request {
        body: Vec::new(),
        ..request.clone()
    };
    let mut out = head.to_string().into_bytes();
    out.extend_from_slice(&request.body);
    out
}

/// The CANCEL of `invite` (§9.1): its Request-URI, top Via (same branch), From, To, Call-ID,
/// CSeq number and Route set.
pub fn build_cancel(invite: &Request, user_agent: &str) -> Vec<u8> {
    let mut headers = rsip::Headers::default();
    if let Ok(via) = invite.via_header() {
        headers.push(Header::Via(via.clone()));
    }
    headers.push(Header::MaxForwards(rsip::headers::MaxForwards::new("70")));
    for h in invite.headers.iter() {
        if matches!(h, Header::From(_) | Header::To(_) | Header::CallId(_)) {
            headers.push(h.clone());
        }
    }
    let seq = invite
        .cseq_header()
        .ok()
        .and_then(|c| c.seq().ok())
        .unwrap_or(1);
    headers.push(Header::CSeq(rsip::headers::CSeq::new(format!(
        "{seq} CANCEL"
    ))));
    for h in invite.headers.iter() {
        if matches!(h, Header::Route(_)) {
            headers.push(h.clone());
        }
    }
    headers.push(Header::UserAgent(rsip::headers::UserAgent::new(user_agent)));
    headers.push(Header::ContentLength(rsip::headers::ContentLength::new(
        "0",
    )));
    let cancel = Request {
        method: rsip::Method::Cancel,
        uri: invite.uri.clone(),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    };
    cancel.to_string().into_bytes()
}

/// The ACK for a non-2xx final (§17.1.1.3): the INVITE's Request-URI, top Via, From,
/// Call-ID, CSeq number and Route set, and the response's To (which carries its tag).
pub fn build_ack(invite: &Request, response: &Response) -> Vec<u8> {
    let mut headers = rsip::Headers::default();
    if let Ok(via) = invite.via_header() {
        headers.push(Header::Via(via.clone()));
    }
    headers.push(Header::MaxForwards(rsip::headers::MaxForwards::new("70")));
    for h in invite.headers.iter() {
        if matches!(h, Header::From(_) | Header::CallId(_)) {
            headers.push(h.clone());
        }
    }
    if let Ok(to) = response.to_header() {
        headers.push(Header::To(to.clone()));
    }
    let seq = invite
        .cseq_header()
        .ok()
        .and_then(|c| c.seq().ok())
        .unwrap_or(1);
    headers.push(Header::CSeq(rsip::headers::CSeq::new(format!("{seq} ACK"))));
    for h in invite.headers.iter() {
        if matches!(h, Header::Route(_)) {
            headers.push(h.clone());
        }
    }
    headers.push(Header::ContentLength(rsip::headers::ContentLength::new(
        "0",
    )));
    let ack = Request {
        method: rsip::Method::Ack,
        uri: invite.uri.clone(),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    };
    ack.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const INVITE: &str = "INVITE sip:city@198.51.100.7 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKout1\r\n\
Max-Forwards: 70\r\nFrom: <sip:hotline@192.0.2.10>;tag=ab\r\nTo: <sip:city@198.51.100.7>\r\n\
Call-ID: out1@192.0.2.10\r\nCSeq: 7 INVITE\r\nRoute: <sip:198.51.100.1;lr>\r\nContent-Length: 0\r\n\r\n";

    fn invite() -> Request {
        Request::try_from(INVITE).unwrap()
    }

    fn response(status: &str) -> Response {
        Response::try_from(format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKout1\r\n\
From: <sip:hotline@192.0.2.10>;tag=ab\r\nTo: <sip:city@198.51.100.7>;tag=xy\r\n\
Call-ID: out1@192.0.2.10\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n"
        ))
        .unwrap()
    }

    fn run(tx: &mut InviteClientTransaction, base: Instant, until_ms: u64) -> Vec<u64> {
        let mut sent = Vec::new();
        while let Some((when, _)) = tx.poll_timeout() {
            if when > base + Duration::from_millis(until_ms) {
                break;
            }
            tx.handle_timeout(when);
            while tx.poll_transmit().is_some() {
                sent.push((when - base).as_millis() as u64);
            }
        }
        sent
    }

    #[test]
    fn timer_a_doubles_without_cap_and_timer_b_times_out() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, false, invite());
        assert!(!tx.poll_transmit().unwrap().retransmission);
        let sent = run(&mut tx, t0, 40_000);
        assert_eq!(sent, vec![500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(tx.poll_event(), Some(InviteClientEvent::TimedOut));
    }

    #[test]
    fn provisional_stops_timer_a() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, false, invite());
        tx.poll_transmit();
        tx.receive_response(t0, response("180 Ringing"));
        assert!(matches!(
            tx.poll_event(),
            Some(InviteClientEvent::Provisional(_))
        ));
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn success_terminates_and_goes_to_the_tu() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, false, invite());
        tx.poll_transmit();
        tx.receive_response(t0, response("200 OK"));
        assert!(matches!(
            tx.poll_event(),
            Some(InviteClientEvent::Accepted(_))
        ));
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_transmit(), None, "2xx ACK is the TU's job");
    }

    #[test]
    fn failure_is_acked_with_the_responses_to_tag_and_invite_route() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, false, invite());
        tx.poll_transmit();
        tx.receive_response(t0, response("486 Busy Here"));
        let ack = String::from_utf8(tx.poll_transmit().unwrap().payload).unwrap();
        assert!(ack.starts_with("ACK sip:city@198.51.100.7 SIP/2.0\r\n"));
        assert!(ack.contains("branch=z9hG4bKout1"));
        assert!(ack.contains("To: <sip:city@198.51.100.7>;tag=xy"));
        assert!(ack.contains("CSeq: 7 ACK"));
        assert!(ack.contains("Route: <sip:198.51.100.1;lr>"));
        assert!(matches!(
            tx.poll_event(),
            Some(InviteClientEvent::Rejected(_))
        ));
    }

    #[test]
    fn retransmitted_failure_is_re_acked_until_timer_d() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, false, invite());
        tx.poll_transmit();
        tx.receive_response(t0, response("486 Busy Here"));
        tx.poll_transmit();
        tx.receive_response(t0 + Duration::from_secs(1), response("486 Busy Here"));
        assert!(tx.poll_transmit().unwrap().retransmission);
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + Duration::from_secs(32), TransactionTimer::D))
        );
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }

    #[test]
    fn after_a_cancel_proceeding_gives_up_at_64_t1_without_a_final() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, false, invite());
        tx.poll_transmit();
        tx.receive_response(t0, response("180 Ringing"));
        tx.poll_event();
        tx.cancel_sent(t0 + Duration::from_secs(1));
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + Duration::from_secs(33), TransactionTimer::B))
        );
        tx.handle_timeout(t0 + Duration::from_secs(33));
        assert_eq!(tx.poll_event(), Some(InviteClientEvent::TimedOut));
        assert!(tx.is_terminated());
    }

    #[test]
    fn cancel_copies_the_invites_branch_addressing_and_route() {
        let cancel = String::from_utf8(build_cancel(&invite(), "ua")).unwrap();
        assert!(cancel.starts_with("CANCEL sip:city@198.51.100.7 SIP/2.0\r\n"));
        assert!(cancel.contains("branch=z9hG4bKout1"));
        assert!(cancel.contains("To: <sip:city@198.51.100.7>\r\n"));
        assert!(cancel.contains("From: <sip:hotline@192.0.2.10>;tag=ab\r\n"));
        assert!(cancel.contains("CSeq: 7 CANCEL\r\n"));
        assert!(cancel.contains("Route: <sip:198.51.100.1;lr>\r\n"));
    }

    #[test]
    fn body_bytes_are_sent_unchanged() {
        let mut req = invite();
        req.body = vec![b'v', b'=', 0xff];
        let mut tx = InviteClientTransaction::new(Instant::now(), true, req);
        assert!(tx
            .poll_transmit()
            .unwrap()
            .payload
            .ends_with(&[b'v', b'=', 0xff]));
    }

    #[test]
    fn tcp_timer_d_is_zero() {
        let t0 = Instant::now();
        let mut tx = InviteClientTransaction::new(t0, true, invite());
        tx.poll_transmit();
        tx.receive_response(t0, response("503 Service Unavailable"));
        tx.handle_timeout(t0);
        assert!(tx.is_terminated());
    }
}
