//! RFC 3261 §17 transactions, one state machine per file.
//!
//! Every machine follows the same contract: inputs (`receive_*`, `respond`, `handle_timeout`)
//! take `now`; outputs are drained with `poll_transmit` (bytes for the transaction's peer,
//! whose address the owner keeps), `poll_event`, and `poll_timeout` names the next timer.
//! Machines never build messages themselves except the ACK of an INVITE client transaction
//! (§17.1.1.3), which belongs to the transaction by definition.

pub mod invite_client;
pub mod invite_server;
pub mod non_invite_client;
pub mod non_invite_server;

pub use invite_client::{InviteClientEvent, InviteClientTransaction};
pub use invite_server::{InviteServerEvent, InviteServerTransaction};
pub use non_invite_client::{NonInviteClientEvent, NonInviteClientTransaction};
pub use non_invite_server::NonInviteServerTransaction;

use std::time::{Duration, Instant};

/// Branch prefix of RFC 3261-compliant requests (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// Identifies a transaction (§17.1.3, §17.2.3): the top Via branch plus the method, where an
/// ACK maps to the INVITE it acknowledges, and for server transactions the top Via sent-by
/// (empty for client transactions, whose branch we chose). CANCEL keeps its own method, so the
/// owner finds the INVITE it cancels with [`TransactionKey::invite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionKey {
    pub branch: String,
    pub method: rsip::Method,
    pub sent_by: String,
}

impl std::hash::Hash for TransactionKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // rsip::Method is not Hash; its discriminant identifies it.
        self.branch.hash(state);
        std::mem::discriminant(&self.method).hash(state);
        self.sent_by.hash(state);
    }
}

impl TransactionKey {
    pub fn new(branch: impl Into<String>, method: rsip::Method) -> Self {
        let method = match method {
            rsip::Method::Ack => rsip::Method::Invite,
            m => m,
        };
        Self {
            branch: branch.into(),
            method,
            sent_by: String::new(),
        }
    }

    /// The key of a server transaction, whose requests also match on the Via sent-by
    /// (compared case-insensitively).
    pub fn server(branch: impl Into<String>, method: rsip::Method, sent_by: &str) -> Self {
        Self {
            sent_by: sent_by.to_ascii_lowercase(),
            ..Self::new(branch, method)
        }
    }

    /// The INVITE transaction sharing this key's branch and sent-by (the target of a CANCEL).
    pub fn invite(&self) -> Self {
        Self {
            method: rsip::Method::Invite,
            ..self.clone()
        }
    }
}

/// Bytes a transaction wants sent to its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub payload: Vec<u8>,
    /// A copy of something already sent, by a retransmission timer or to answer a
    /// retransmitted request.
    pub retransmission: bool,
}

#[cfg(test)]
mod key_tests {
    use super::*;
    use rsip::Method;

    #[test]
    fn ack_matches_the_invite_and_cancel_finds_it() {
        let invite = TransactionKey::server("z9hG4bK1", Method::Invite, "Host:5060");
        assert_eq!(
            TransactionKey::server("z9hG4bK1", Method::Ack, "host:5060"),
            invite
        );
        let cancel = TransactionKey::server("z9hG4bK1", Method::Cancel, "host:5060");
        assert_ne!(cancel, invite);
        assert_eq!(cancel.invite(), invite);
    }

    #[test]
    fn same_branch_from_another_sent_by_is_another_transaction() {
        assert_ne!(
            TransactionKey::server("z9hG4bK1", Method::Options, "a:5060"),
            TransactionKey::server("z9hG4bK1", Method::Options, "b:5060")
        );
    }
}

/// A running retransmission timer: when it fires next and the interval after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retransmit {
    pub at: Instant,
    pub interval: Duration,
}

impl Retransmit {
    pub fn start(now: Instant, first: Option<Duration>) -> Option<Self> {
        first.map(|interval| Self {
            at: now + interval,
            interval,
        })
    }

    /// Re-arms after firing, with the next interval doubled (capped when `cap` is given).
    pub fn next(self, now: Instant, cap: Option<Duration>) -> Self {
        let interval = crate::timers::backoff(self.interval, cap);
        Self {
            at: now + interval,
            interval,
        }
    }
}

/// A transaction was asked to do something its state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    #[error("a final response was already sent")]
    FinalAlreadySent,
    #[error("status {0} is not a valid response status")]
    InvalidStatus(u16),
}

/// The earliest of several optional deadlines.
pub(crate) fn earliest<T: Copy>(
    items: impl IntoIterator<Item = Option<(Instant, T)>>,
) -> Option<(Instant, T)> {
    items.into_iter().flatten().min_by_key(|(at, _)| *at)
}
