//! The INVITE server transaction, RFC 3261 §17.2.1 with the RFC 6026 "Accepted" state.
//!
//! Driven by the UAS core: `respond` sends provisional and final responses,
//! `receive_retransmission` answers a retransmitted INVITE with the last response,
//! `receive_ack` absorbs ACKs, `handle_timeout` runs Timers G/H/I/L. After a 2xx the
//! transaction enters Accepted and — as the UAS core's agent (§13.3.1.4) — retransmits the
//! 2xx with the Timer G schedule (T1 doubling, capped at T2) until the ACK arrives; Timer L
//! (64·T1) ends the state, reporting [`InviteServerEvent::AnswerNotAcked`] when no ACK came.
//! Keeping that retransmission here lets one timer table serve both, and the state's lifetime
//! equals the core's retransmission window.

use super::{earliest, Outgoing, Retransmit, TransactionError};
use crate::timers::{TransactionTimer, T2};
use std::collections::VecDeque;
use std::time::Instant;

/// What the transaction reports to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteServerEvent {
    /// A non-2xx final was never ACKed (Timer H).
    NonSuccessNotAcked,
    /// The 2xx was never ACKed within 64·T1 (Timer L): the dialog should be ended with BYE.
    AnswerNotAcked,
    /// The first ACK for the 2xx arrived.
    AnswerAcked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for the TU; the last provisional (if any) answers INVITE retransmissions.
    Proceeding { last_provisional: Option<Vec<u8>> },
    /// A 2xx was sent; it is retransmitted until ACKed, Timer L bounds the state.
    Accepted {
        response: Vec<u8>,
        retransmit: Option<Retransmit>,
        l: Instant,
        acked: bool,
    },
    /// A non-2xx final was sent; retransmitted with Timer G until the ACK, Timer H gives up.
    Completed {
        response: Vec<u8>,
        g: Option<Retransmit>,
        h: Instant,
    },
    /// The ACK arrived; Timer I absorbs its retransmissions.
    Confirmed { i: Instant },
    /// Nothing left to do; the owner drops the transaction.
    Terminated,
}

/// See the module docs.
#[derive(Debug)]
pub struct InviteServerTransaction {
    state: State,
    reliable: bool,
    transmits: VecDeque<Outgoing>,
    events: VecDeque<InviteServerEvent>,
}

impl InviteServerTransaction {
    /// A transaction for a just-received INVITE. `reliable` is true for TCP.
    pub fn new(reliable: bool) -> Self {
        Self {
            state: State::Proceeding {
                last_provisional: None,
            },
            reliable,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Sends a response built by the TU. 1xx keep the transaction in Proceeding.
    pub fn respond(
        &mut self,
        now: Instant,
        status: u16,
        payload: Vec<u8>,
    ) -> Result<(), TransactionError> {
        if !(100..700).contains(&status) {
            return Err(TransactionError::InvalidStatus(status));
        }
        if !matches!(self.state, State::Proceeding { .. }) {
            return Err(TransactionError::FinalAlreadySent);
        }
        self.send(payload.clone(), false);
        let lifetime = now + timer(TransactionTimer::H, self.reliable);
        self.state = match status {
            100..=199 => State::Proceeding {
                last_provisional: Some(payload),
            },
            200..=299 => State::Accepted {
                response: payload,
                retransmit: Retransmit::start(now, TransactionTimer::G.duration(self.reliable)),
                l: now + timer(TransactionTimer::L, self.reliable),
                acked: false,
            },
            _ => State::Completed {
                response: payload,
                g: Retransmit::start(now, TransactionTimer::G.duration(self.reliable)),
                h: lifetime,
            },
        };
        Ok(())
    }

    /// The INVITE was received again: re-send the last response (§17.2.1).
    pub fn receive_retransmission(&mut self) {
        let last = match &self.state {
            State::Proceeding { last_provisional } => last_provisional.clone(),
            State::Accepted { response, .. } | State::Completed { response, .. } => {
                Some(response.clone())
            }
            State::Confirmed { .. } | State::Terminated => None,
        };
        if let Some(payload) = last {
            self.send(payload, true);
        }
    }

    /// An ACK matched this transaction (by branch for a non-2xx, by dialog for a 2xx).
    /// Returns true for the first ACK of a 2xx.
    pub fn receive_ack(&mut self, now: Instant) -> bool {
        match &mut self.state {
            State::Completed { .. } => {
                self.state = State::Confirmed {
                    i: now + timer(TransactionTimer::I, self.reliable),
                };
                false
            }
            State::Accepted {
                acked, retransmit, ..
            } if !*acked => {
                *acked = true;
                *retransmit = None;
                self.events.push_back(InviteServerEvent::AnswerAcked);
                true
            }
            _ => false,
        }
    }

    /// Whether a final response has been sent.
    pub fn has_final(&self) -> bool {
        !matches!(self.state, State::Proceeding { .. })
    }

    /// Whether a 2xx is still waiting for its ACK.
    pub fn awaiting_answer_ack(&self) -> bool {
        matches!(self.state, State::Accepted { acked: false, .. })
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub fn poll_transmit(&mut self) -> Option<Outgoing> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<InviteServerEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<(Instant, TransactionTimer)> {
        match &self.state {
            State::Proceeding { .. } | State::Terminated => None,
            State::Accepted { retransmit, l, .. } => earliest([
                retransmit.map(|r| (r.at, TransactionTimer::G)),
                Some((*l, TransactionTimer::L)),
            ]),
            State::Completed { g, h, .. } => earliest([
                g.map(|r| (r.at, TransactionTimer::G)),
                Some((*h, TransactionTimer::H)),
            ]),
            State::Confirmed { i } => Some((*i, TransactionTimer::I)),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        let mut resend = None;
        match &mut self.state {
            State::Accepted {
                response,
                retransmit,
                l,
                acked,
            } => {
                if now >= *l {
                    if !*acked {
                        self.events.push_back(InviteServerEvent::AnswerNotAcked);
                    }
                    self.state = State::Terminated;
                } else if let Some(r) = retransmit.filter(|r| now >= r.at) {
                    *retransmit = Some(r.next(now, Some(T2)));
                    resend = Some(response.clone());
                }
            }
            State::Completed { response, g, h } => {
                if now >= *h {
                    self.events.push_back(InviteServerEvent::NonSuccessNotAcked);
                    self.state = State::Terminated;
                } else if let Some(r) = g.filter(|r| now >= r.at) {
                    *g = Some(r.next(now, Some(T2)));
                    resend = Some(response.clone());
                }
            }
            State::Confirmed { i } if now >= *i => self.state = State::Terminated,
            _ => {}
        }
        if let Some(payload) = resend {
            self.send(payload, true);
        }
    }

    fn send(&mut self, payload: Vec<u8>, retransmission: bool) {
        self.transmits.push_back(Outgoing {
            payload,
            retransmission,
        });
    }
}

fn timer(t: TransactionTimer, reliable: bool) -> std::time::Duration {
    // D/H/I/J/K/L always have a duration (zero on reliable transports).
    t.duration(reliable).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    /// Runs timers up to `until` and returns the offsets (ms) at which something was sent.
    fn run(tx: &mut InviteServerTransaction, base: Instant, until_ms: u64) -> Vec<u64> {
        let mut sent = Vec::new();
        while let Some((when, _)) = tx.poll_timeout() {
            if when > at(base, until_ms) {
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
    fn provisional_answers_invite_retransmission() {
        let mut tx = InviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 100, b"100".to_vec()).unwrap();
        assert_eq!(tx.poll_transmit().unwrap().payload, b"100");
        tx.receive_retransmission();
        let again = tx.poll_transmit().unwrap();
        assert!(again.retransmission);
        assert_eq!(again.payload, b"100");
    }

    #[test]
    fn non_2xx_is_retransmitted_with_timer_g_capped_at_t2_until_h() {
        let mut tx = InviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 486, b"486".to_vec()).unwrap();
        tx.poll_transmit();
        let sent = run(&mut tx, t0, 40_000);
        assert_eq!(
            sent,
            vec![500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert_eq!(tx.poll_event(), Some(InviteServerEvent::NonSuccessNotAcked));
        assert!(tx.is_terminated());
    }

    #[test]
    fn ack_stops_g_and_timer_i_terminates() {
        let mut tx = InviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 488, b"488".to_vec()).unwrap();
        tx.poll_transmit();
        tx.receive_ack(at(t0, 100));
        assert_eq!(tx.poll_timeout(), Some((at(t0, 5100), TransactionTimer::I)));
        assert!(run(&mut tx, t0, 10_000).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn reliable_transport_never_retransmits_and_ack_terminates_at_once() {
        let mut tx = InviteServerTransaction::new(true);
        let t0 = Instant::now();
        tx.respond(t0, 488, b"488".to_vec()).unwrap();
        tx.poll_transmit();
        assert_eq!(
            tx.poll_timeout(),
            Some((at(t0, 32_000), TransactionTimer::H))
        );
        tx.receive_ack(t0);
        tx.handle_timeout(t0);
        assert!(tx.is_terminated());
    }

    #[test]
    fn answer_is_retransmitted_until_ack() {
        let mut tx = InviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 200, b"200".to_vec()).unwrap();
        tx.poll_transmit();
        assert_eq!(run(&mut tx, t0, 3_600), vec![500, 1500, 3500]);
        assert!(tx.receive_ack(at(t0, 3_600)));
        assert!(!tx.receive_ack(at(t0, 3_700)), "only the first ACK counts");
        assert_eq!(tx.poll_event(), Some(InviteServerEvent::AnswerAcked));
        assert!(run(&mut tx, t0, 40_000).is_empty());
        assert!(tx.is_terminated());
        assert_eq!(tx.poll_event(), None);
    }

    #[test]
    fn unacked_answer_reports_after_timer_l() {
        let mut tx = InviteServerTransaction::new(true);
        let t0 = Instant::now();
        tx.respond(t0, 200, b"200".to_vec()).unwrap();
        tx.poll_transmit();
        assert_eq!(
            tx.poll_timeout(),
            Some((at(t0, 32_000), TransactionTimer::L))
        );
        tx.handle_timeout(at(t0, 32_000));
        assert_eq!(tx.poll_event(), Some(InviteServerEvent::AnswerNotAcked));
        assert!(tx.is_terminated());
    }

    #[test]
    fn second_final_is_refused() {
        let mut tx = InviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 487, b"487".to_vec()).unwrap();
        assert_eq!(
            tx.respond(t0, 200, b"200".to_vec()),
            Err(TransactionError::FinalAlreadySent)
        );
    }

    #[test]
    fn invalid_status_is_refused() {
        let mut tx = InviteServerTransaction::new(false);
        assert_eq!(
            tx.respond(Instant::now(), 99, vec![]),
            Err(TransactionError::InvalidStatus(99))
        );
    }

    #[test]
    fn retransmitted_invite_in_completed_resends_final() {
        let mut tx = InviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 603, b"603".to_vec()).unwrap();
        tx.poll_transmit();
        tx.receive_retransmission();
        assert_eq!(tx.poll_transmit().unwrap().payload, b"603");
    }
}
