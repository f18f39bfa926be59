//! The non-INVITE client transaction, RFC 3261 §17.1.2 (our BYE).
//!
//! Trying → (1xx) Proceeding → (final) Completed → (Timer K) Terminated. On UDP the request is
//! retransmitted with Timer E (T1 doubling to T2; always T2 once Proceeding); Timer F (64·T1)
//! reports a timeout. On TCP there is no Timer E and K is zero.

use super::{earliest, Outgoing, Retransmit};
use crate::timers::{TransactionTimer, T2};
use std::collections::VecDeque;
use std::time::Instant;

/// What the transaction reports to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonInviteClientEvent {
    Provisional(u16),
    Final(u16),
    /// Timer F fired without a final response.
    TimedOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Request sent, nothing heard.
    Trying { e: Option<Retransmit>, f: Instant },
    /// A provisional arrived; retransmissions continue every T2.
    Proceeding { e: Option<Retransmit>, f: Instant },
    /// The final arrived; Timer K absorbs its retransmissions.
    Completed { k: Instant },
    /// Nothing left to do.
    Terminated,
}

/// See the module docs.
#[derive(Debug)]
pub struct NonInviteClientTransaction {
    state: State,
    reliable: bool,
    request: Vec<u8>,
    transmits: VecDeque<Outgoing>,
    events: VecDeque<NonInviteClientEvent>,
}

impl NonInviteClientTransaction {
    /// Starts the transaction; the request is queued for sending at once.
    pub fn new(now: Instant, reliable: bool, request: Vec<u8>) -> Self {
        let f = now + TransactionTimer::F.duration(reliable).unwrap_or_default();
        let mut transmits = VecDeque::new();
        transmits.push_back(Outgoing {
            payload: request.clone(),
            retransmission: false,
        });
        Self {
            state: State::Trying {
                e: Retransmit::start(now, TransactionTimer::E.duration(reliable)),
                f,
            },
            reliable,
            request,
            transmits,
            events: VecDeque::new(),
        }
    }

    /// A response matched this transaction.
    pub fn receive_response(&mut self, now: Instant, status: u16) {
        match (&self.state, status) {
            (State::Trying { e, f } | State::Proceeding { e, f }, 100..=199) => {
                let (e, f) = (*e, *f);
                self.events
                    .push_back(NonInviteClientEvent::Provisional(status));
                self.state = State::Proceeding { e, f };
            }
            (State::Trying { .. } | State::Proceeding { .. }, 200..=699) => {
                self.events.push_back(NonInviteClientEvent::Final(status));
                let k = TransactionTimer::K
                    .duration(self.reliable)
                    .unwrap_or_default();
                self.state = State::Completed { k: now + k };
            }
            _ => {}
        }
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub fn poll_transmit(&mut self) -> Option<Outgoing> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<NonInviteClientEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<(Instant, TransactionTimer)> {
        match &self.state {
            State::Trying { e, f } | State::Proceeding { e, f } => earliest([
                e.map(|r| (r.at, TransactionTimer::E)),
                Some((*f, TransactionTimer::F)),
            ]),
            State::Completed { k } => Some((*k, TransactionTimer::K)),
            State::Terminated => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.state {
            State::Trying { f, .. } | State::Proceeding { f, .. } if now >= *f => {
                self.events.push_back(NonInviteClientEvent::TimedOut);
                self.state = State::Terminated;
            }
            State::Trying { e, .. } => {
                if let Some(r) = e.filter(|r| now >= r.at) {
                    *e = Some(r.next(now, Some(T2)));
                    self.retransmit();
                }
            }
            State::Proceeding { e, .. } if e.is_some_and(|r| now >= r.at) => {
                *e = Some(Retransmit {
                    at: now + T2,
                    interval: T2,
                });
                self.retransmit();
            }
            State::Completed { k } if now >= *k => self.state = State::Terminated,
            _ => {}
        }
    }

    fn retransmit(&mut self) {
        self.transmits.push_back(Outgoing {
            payload: self.request.clone(),
            retransmission: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(tx: &mut NonInviteClientTransaction, base: Instant, until_ms: u64) -> Vec<u64> {
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
    fn request_is_sent_at_once() {
        let mut tx = NonInviteClientTransaction::new(Instant::now(), false, b"BYE".to_vec());
        let first = tx.poll_transmit().unwrap();
        assert!(!first.retransmission);
    }

    #[test]
    fn timer_e_doubles_to_t2_and_timer_f_times_out_at_32s() {
        let t0 = Instant::now();
        let mut tx = NonInviteClientTransaction::new(t0, false, b"BYE".to_vec());
        tx.poll_transmit();
        let sent = run(&mut tx, t0, 40_000);
        assert_eq!(&sent[..5], &[500, 1500, 3500, 7500, 11500]);
        assert_eq!(*sent.last().unwrap(), 31500);
        assert_eq!(tx.poll_event(), Some(NonInviteClientEvent::TimedOut));
        assert!(tx.is_terminated());
    }

    #[test]
    fn proceeding_retransmits_every_t2() {
        let t0 = Instant::now();
        let mut tx = NonInviteClientTransaction::new(t0, false, b"BYE".to_vec());
        tx.poll_transmit();
        tx.receive_response(t0 + Duration::from_millis(100), 100);
        assert_eq!(
            tx.poll_event(),
            Some(NonInviteClientEvent::Provisional(100))
        );
        let sent = run(&mut tx, t0, 9_000);
        assert_eq!(sent, vec![500, 4500, 8500]);
    }

    #[test]
    fn final_stops_retransmissions_and_timer_k_terminates() {
        let t0 = Instant::now();
        let mut tx = NonInviteClientTransaction::new(t0, false, b"BYE".to_vec());
        tx.poll_transmit();
        tx.receive_response(t0 + Duration::from_millis(200), 200);
        assert_eq!(tx.poll_event(), Some(NonInviteClientEvent::Final(200)));
        assert!(run(&mut tx, t0, 10_000).is_empty());
        assert!(tx.is_terminated());
        tx.receive_response(t0 + Duration::from_secs(11), 200);
        assert_eq!(
            tx.poll_event(),
            None,
            "late retransmitted final is absorbed"
        );
    }

    #[test]
    fn tcp_has_no_timer_e() {
        let t0 = Instant::now();
        let mut tx = NonInviteClientTransaction::new(t0, true, b"BYE".to_vec());
        tx.poll_transmit();
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + Duration::from_secs(32), TransactionTimer::F))
        );
        assert!(run(&mut tx, t0, 40_000).is_empty());
        assert_eq!(tx.poll_event(), Some(NonInviteClientEvent::TimedOut));
    }
}
