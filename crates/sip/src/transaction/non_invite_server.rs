//! The non-INVITE server transaction, RFC 3261 §17.2.2.
//!
//! Trying → (1xx) Proceeding → (final) Completed → (Timer J) Terminated. A retransmitted
//! request is absorbed in Trying and answered with the last response afterwards. Timer J is
//! 64·T1 on UDP and zero on TCP.

use super::{Outgoing, TransactionError};
use crate::timers::TransactionTimer;
use std::collections::VecDeque;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// No response yet; retransmissions are absorbed.
    Trying,
    /// A provisional was sent; it answers retransmissions.
    Proceeding { last: Vec<u8> },
    /// The final was sent; it answers retransmissions until Timer J.
    Completed { response: Vec<u8>, j: Instant },
    /// Nothing left to do.
    Terminated,
}

/// See the module docs.
#[derive(Debug)]
pub struct NonInviteServerTransaction {
    state: State,
    reliable: bool,
    transmits: VecDeque<Outgoing>,
}

impl NonInviteServerTransaction {
    pub fn new(reliable: bool) -> Self {
        Self {
            state: State::Trying,
            reliable,
            transmits: VecDeque::new(),
        }
    }

    pub fn respond(
        &mut self,
        now: Instant,
        status: u16,
        payload: Vec<u8>,
    ) -> Result<(), TransactionError> {
        if !(100..700).contains(&status) {
            return Err(TransactionError::InvalidStatus(status));
        }
        if matches!(self.state, State::Completed { .. } | State::Terminated) {
            return Err(TransactionError::FinalAlreadySent);
        }
        self.transmits.push_back(Outgoing {
            payload: payload.clone(),
            retransmission: false,
        });
        self.state = if status < 200 {
            State::Proceeding { last: payload }
        } else {
            let j = TransactionTimer::J
                .duration(self.reliable)
                .unwrap_or_default();
            State::Completed {
                response: payload,
                j: now + j,
            }
        };
        Ok(())
    }

    /// The request was received again.
    pub fn receive_retransmission(&mut self) {
        let last = match &self.state {
            State::Proceeding { last } => last.clone(),
            State::Completed { response, .. } => response.clone(),
            State::Trying | State::Terminated => return,
        };
        self.transmits.push_back(Outgoing {
            payload: last,
            retransmission: true,
        });
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub fn has_final(&self) -> bool {
        matches!(self.state, State::Completed { .. } | State::Terminated)
    }

    pub fn poll_transmit(&mut self) -> Option<Outgoing> {
        self.transmits.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<(Instant, TransactionTimer)> {
        match self.state {
            State::Completed { j, .. } => Some((j, TransactionTimer::J)),
            _ => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Completed { j, .. } = self.state {
            if now >= j {
                self.state = State::Terminated;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retransmission_before_response_is_absorbed() {
        let mut tx = NonInviteServerTransaction::new(false);
        tx.receive_retransmission();
        assert_eq!(tx.poll_transmit(), None);
    }

    #[test]
    fn retransmission_after_final_resends_it_until_timer_j() {
        let mut tx = NonInviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 200, b"200".to_vec()).unwrap();
        tx.poll_transmit();
        tx.receive_retransmission();
        assert!(tx.poll_transmit().unwrap().retransmission);
        assert_eq!(
            tx.poll_timeout(),
            Some((t0 + Duration::from_secs(32), TransactionTimer::J))
        );
        tx.handle_timeout(t0 + Duration::from_secs(32));
        assert!(tx.is_terminated());
    }

    #[test]
    fn timer_j_is_zero_on_tcp() {
        let mut tx = NonInviteServerTransaction::new(true);
        let t0 = Instant::now();
        tx.respond(t0, 200, b"200".to_vec()).unwrap();
        tx.handle_timeout(t0);
        assert!(tx.is_terminated());
    }

    #[test]
    fn provisional_answers_retransmission() {
        let mut tx = NonInviteServerTransaction::new(false);
        tx.respond(Instant::now(), 100, b"100".to_vec()).unwrap();
        tx.poll_transmit();
        tx.receive_retransmission();
        assert_eq!(tx.poll_transmit().unwrap().payload, b"100");
    }

    #[test]
    fn second_final_is_refused() {
        let mut tx = NonInviteServerTransaction::new(false);
        let t0 = Instant::now();
        tx.respond(t0, 200, vec![]).unwrap();
        assert_eq!(
            tx.respond(t0, 500, vec![]),
            Err(TransactionError::FinalAlreadySent)
        );
    }
}
