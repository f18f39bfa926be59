//! RFC 3261 §17 transaction timers: names, base values and the table of durations.
//!
//! Transactions ask this table for a duration when they arm a timer; over a reliable
//! transport (TCP) the retransmission timers (A, E, G) never run and the "absorb
//! retransmissions" waits (D, I, J, K) are zero (RFC 3261 Table 4).

use std::time::Duration;

/// RTT estimate.
pub const T1: Duration = Duration::from_millis(500);
/// Longest retransmit interval for non-INVITE requests and INVITE responses.
pub const T2: Duration = Duration::from_secs(4);
/// Longest time a message stays in the network.
pub const T4: Duration = Duration::from_secs(5);

/// Every transaction timer, named as in RFC 3261 Table 4 (plus RFC 6026's L).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionTimer {
    /// INVITE client: request retransmission (UDP only), starts at T1, doubles.
    A,
    /// INVITE client: transaction timeout, 64·T1.
    B,
    /// INVITE client: wait for response retransmissions in Completed (32 s UDP, 0 TCP).
    D,
    /// Non-INVITE client: request retransmission (UDP only), T1 doubling to T2.
    E,
    /// Non-INVITE client: transaction timeout, 64·T1.
    F,
    /// INVITE server: non-2xx final retransmission (UDP only), T1 doubling to T2. The same
    /// schedule drives the 2xx retransmission of §13.3.1.4 in the Accepted state.
    G,
    /// INVITE server: wait for ACK of a non-2xx final, 64·T1.
    H,
    /// INVITE server: absorb ACK retransmissions (T4 UDP, 0 TCP).
    I,
    /// Non-INVITE server: absorb request retransmissions (64·T1 UDP, 0 TCP).
    J,
    /// Non-INVITE client: absorb response retransmissions (T4 UDP, 0 TCP).
    K,
    /// INVITE server (RFC 6026): how long the Accepted state waits for the 2xx's ACK, 64·T1.
    L,
}

impl TransactionTimer {
    /// The initial duration of this timer on a reliable or unreliable transport. `None` means
    /// the timer does not run at all on that transport.
    pub fn duration(self, reliable: bool) -> Option<Duration> {
        use TransactionTimer::*;
        match (self, reliable) {
            (A | E | G, true) => None,
            (A | E | G, false) => Some(T1),
            (B | F | H | L, _) => Some(T1 * 64),
            (D, false) => Some(Duration::from_secs(32)),
            (I | K, false) => Some(T4),
            (J, false) => Some(T1 * 64),
            (D | I | J | K, true) => Some(Duration::ZERO),
        }
    }
}

/// A retransmission interval after one more firing: doubled, capped at `cap` when given.
pub fn backoff(interval: Duration, cap: Option<Duration>) -> Duration {
    let doubled = interval * 2;
    match cap {
        Some(cap) => doubled.min(cap),
        None => doubled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmission_timers_do_not_run_on_reliable_transports() {
        for t in [
            TransactionTimer::A,
            TransactionTimer::E,
            TransactionTimer::G,
        ] {
            assert_eq!(t.duration(true), None);
            assert_eq!(t.duration(false), Some(T1));
        }
    }

    #[test]
    fn absorb_timers_are_zero_on_reliable_transports() {
        for t in [
            TransactionTimer::D,
            TransactionTimer::I,
            TransactionTimer::J,
            TransactionTimer::K,
        ] {
            assert_eq!(t.duration(true), Some(Duration::ZERO));
        }
    }

    #[test]
    fn timeouts_are_sixty_four_t1() {
        for t in [
            TransactionTimer::B,
            TransactionTimer::F,
            TransactionTimer::H,
        ] {
            assert_eq!(t.duration(false), Some(Duration::from_secs(32)));
        }
    }

    #[test]
    fn unreliable_absorb_values_follow_table_4() {
        assert_eq!(
            TransactionTimer::D.duration(false),
            Some(Duration::from_secs(32))
        );
        assert_eq!(TransactionTimer::I.duration(false), Some(T4));
        assert_eq!(
            TransactionTimer::J.duration(false),
            Some(Duration::from_secs(32))
        );
        assert_eq!(TransactionTimer::K.duration(false), Some(T4));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(T1, Some(T2)), Duration::from_secs(1));
        assert_eq!(backoff(Duration::from_secs(4), Some(T2)), T2);
        assert_eq!(
            backoff(Duration::from_secs(4), None),
            Duration::from_secs(8)
        );
    }
}
