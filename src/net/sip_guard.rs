//! The shell around the flood and scanner guard ([`madoguchi_sip::guard`]): one guard shared
//! by the socket readers (which ask it about every message before the engine's queue) and the
//! engine task (which reports failed digests).
//!
//! It reads the clock, counts every drop by reason
//! (`madoguchi_sip_dropped_total{reason=…}`) and every block
//! (`madoguchi_sip_blocks_total{reason=…}`), and logs each block at WARN with the source
//! address (an attacker's address, never a caller's number).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use madoguchi_sip::guard::{DropReason, Guard, GuardConfig, GuardEvent, Verdict};
use metrics::Counter;

#[derive(Clone)]
pub struct SharedGuard {
    // The readers hold it for one check (well under a microsecond); the engine task only to
    // report a failed digest.
    inner: Arc<Mutex<Guard>>,
    /// One counter per drop reason, registered once: a flood counts tens of thousands of
    /// drops a second, each without a lookup in the metrics registry.
    drops: Arc<[Counter; DropReason::ALL.len()]>,
    /// The other nodes of a cluster, learnt while running: exempt like trusted networks.
    peers: Arc<RwLock<Vec<IpAddr>>>,
}

impl SharedGuard {
    /// Call after the metrics recorder is installed (the counters register with it).
    pub fn new(config: GuardConfig) -> SharedGuard {
        SharedGuard {
            inner: Arc::new(Mutex::new(Guard::new(config))),
            drops: Arc::new(DropReason::ALL.map(|reason| {
                metrics::counter!("madoguchi_sip_dropped_total", "reason" => reason.as_str())
            })),
            peers: Arc::default(),
        }
    }

    /// Exempts another node's address from the limits; true when it was not yet.
    pub fn trust_peer(&self, ip: IpAddr) -> bool {
        let Ok(mut peers) = self.peers.write() else {
            return false;
        };
        if peers.contains(&ip) {
            return false;
        }
        peers.push(ip);
        true
    }

    fn is_peer(&self, source: IpAddr) -> bool {
        self.peers.read().is_ok_and(|peers| peers.contains(&source))
    }

    /// Whether a message from `source` may go on to the engine; a drop is counted.
    pub fn admit(&self, source: IpAddr, payload: &[u8]) -> bool {
        if self.is_peer(source) {
            return true;
        }
        let verdict = self.with(|guard| guard.check(source, payload, Instant::now()));
        match verdict {
            Some(Verdict::Pass) => true,
            Some(Verdict::Drop(reason)) => {
                self.drops[reason.index()].increment(1);
                false
            }
            // A poisoned lock means a bug elsewhere panicked; keep serving rather than drop
            // everything.
            None => true,
        }
    }

    /// The registrar refused a digest from `source`.
    pub fn auth_failed(&self, source: IpAddr) {
        if self.is_peer(source) {
            return;
        }
        self.with(|guard| guard.auth_failed(source, Instant::now()));
    }

    /// Addresses the guard tracks now (exported as a gauge).
    pub fn tracked_sources(&self) -> usize {
        self.with(|guard| guard.tracked_sources()).unwrap_or(0)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Guard) -> T) -> Option<T> {
        let mut guard = self.inner.lock().ok()?;
        let out = f(&mut guard);
        while let Some(event) = guard.poll_event() {
            report(event);
        }
        Some(out)
    }
}

fn report(event: GuardEvent) {
    match event {
        GuardEvent::Blocked {
            source,
            reason,
            until,
        } => {
            let seconds = until.saturating_duration_since(Instant::now()).as_secs();
            tracing::warn!(%source, reason = reason.as_str(), seconds, "SIP source blocked");
            metrics::counter!("madoguchi_sip_blocks_total", "reason" => reason.as_str())
                .increment(1);
        }
    }
}
