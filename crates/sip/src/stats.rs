//! Counters the endpoint keeps for metrics: messages in and out by method and status,
//! parse errors, dropped inputs and retransmissions.

use std::collections::BTreeMap;

/// Cumulative counters since the endpoint was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SipStats {
    pub requests_in: BTreeMap<String, u64>,
    pub requests_out: BTreeMap<String, u64>,
    pub responses_in: BTreeMap<u16, u64>,
    pub responses_out: BTreeMap<u16, u64>,
    /// Inputs that failed to parse or validate (answered or not).
    pub parse_errors: u64,
    /// Inputs discarded without any answer.
    pub dropped: u64,
    /// Copies sent by retransmission timers or to answer retransmitted requests.
    pub retransmissions: u64,
    /// New requests refused with 503 by a cap (`caps.rs`), by cap.
    pub refused: BTreeMap<&'static str, u64>,
}

impl SipStats {
    pub(crate) fn request_in(&mut self, method: &rsip::Method) {
        *self.requests_in.entry(method.to_string()).or_default() += 1;
    }
    pub(crate) fn request_out(&mut self, method: &rsip::Method) {
        *self.requests_out.entry(method.to_string()).or_default() += 1;
    }
    pub(crate) fn response_in(&mut self, status: u16) {
        *self.responses_in.entry(status).or_default() += 1;
    }
    pub(crate) fn response_out(&mut self, status: u16) {
        *self.responses_out.entry(status).or_default() += 1;
    }
}
