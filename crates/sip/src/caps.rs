//! Caps on the dialogs and server transactions the endpoint holds, per source address and in
//! total: beyond them a new INVITE (or a new out-of-dialog request) gets `503 Service
//! Unavailable` with `Retry-After`, statelessly, and is counted in
//! [`crate::SipStats::refused`].
//!
//! Requests inside an existing dialog (BYE, re-INVITE, ACK) and retransmissions are never
//! refused: a call that is up must always be able to end. Exempt networks (the trunk, the
//! operators' networks) skip the per-source caps but not the totals, which protect memory.
//!
//! Counting per source scans the tables, but only when the total alone could exceed the
//! per-source cap, so a lightly loaded endpoint pays O(1) per request and a loaded one
//! O(table) for new requests only (which the edge [`crate::guard`] already rate-limits).

use std::net::IpAddr;

use crate::guard::Network;

/// See the module docs; set with [`crate::Endpoint::set_caps`]. The default is the policy
/// `madoguchi serve` starts with; an endpoint starts [`SessionCaps::unlimited`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCaps {
    pub dialogs_per_source: usize,
    pub dialogs_total: usize,
    pub transactions_per_source: usize,
    pub transactions_total: usize,
    /// Seconds a refused peer is asked to wait.
    pub retry_after_secs: u32,
    /// Skip the per-source caps.
    pub exempt: Vec<Network>,
}

impl Default for SessionCaps {
    fn default() -> Self {
        SessionCaps {
            dialogs_per_source: 200,
            dialogs_total: 20_000,
            transactions_per_source: 5_000,
            transactions_total: 200_000,
            retry_after_secs: 30,
            exempt: Vec::new(),
        }
    }
}

/// Which cap refused a request (the `reason` label of the refusal counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapExceeded {
    DialogsPerSource,
    DialogsTotal,
    TransactionsPerSource,
    TransactionsTotal,
}

impl CapExceeded {
    pub fn as_str(self) -> &'static str {
        match self {
            CapExceeded::DialogsPerSource => "dialogs_per_source",
            CapExceeded::DialogsTotal => "dialogs_total",
            CapExceeded::TransactionsPerSource => "transactions_per_source",
            CapExceeded::TransactionsTotal => "transactions_total",
        }
    }
}

impl SessionCaps {
    /// No caps at all: what an endpoint starts with until the shell sets its policy.
    pub fn unlimited() -> SessionCaps {
        SessionCaps {
            dialogs_per_source: usize::MAX,
            dialogs_total: usize::MAX,
            transactions_per_source: usize::MAX,
            transactions_total: usize::MAX,
            retry_after_secs: 30,
            exempt: Vec::new(),
        }
    }

    pub(crate) fn is_exempt(&self, source: IpAddr) -> bool {
        self.exempt.iter().any(|net| net.contains(source))
    }

    /// Whether one more of something (`total` held now, `per_source` counting those of
    /// `source` on demand) stays within `per_source_cap` and `total_cap`.
    pub(crate) fn check(
        &self,
        source: IpAddr,
        total: usize,
        per_source: impl FnOnce() -> usize,
        (per_source_cap, total_cap): (usize, usize),
        (per_source_reason, total_reason): (CapExceeded, CapExceeded),
    ) -> Result<(), CapExceeded> {
        if total >= total_cap {
            return Err(total_reason);
        }
        if total >= per_source_cap && !self.is_exempt(source) && per_source() >= per_source_cap {
            return Err(per_source_reason);
        }
        Ok(())
    }
}
