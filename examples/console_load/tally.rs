//! What the consoles have done so far, counted across all of them for the `stats` lines.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Audio packets of one console's peer.
#[derive(Default)]
pub struct RtpCount {
    /// RTP packets received from the engine (the caller's audio).
    pub received: AtomicU64,
    /// RTP packets sent to the engine (one per 20 ms once connected).
    pub sent: AtomicU64,
    /// Of those, the ones carrying a received payload back.
    pub echoed: AtomicU64,
}

/// Where a console's operator is, as the engine last said (`state` messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Available,
    OnCall,
    Other,
}

impl Shown {
    pub fn from_state(state: &str) -> Shown {
        match state {
            "available" => Shown::Available,
            "on_call" => Shown::OnCall,
            _ => Shown::Other,
        }
    }
}

#[derive(Default)]
pub struct Tally {
    consoles: AtomicUsize,
    signed_in: AtomicUsize,
    media_up: AtomicUsize,
    available: AtomicUsize,
    on_call: AtomicUsize,
    offered: AtomicUsize,
    answered: AtomicUsize,
    ended: AtomicUsize,
    signed_out: AtomicUsize,
    failed: AtomicUsize,
    errors: AtomicUsize,
    rtp: Mutex<Vec<Arc<RtpCount>>>,
}

/// The counts the run is judged by at the end.
pub struct Summary {
    consoles: usize,
    answered: usize,
    ended: usize,
    signed_out: usize,
    failed: usize,
}

impl Summary {
    /// Every console answered and saw the end of `calls` calls, then signed out.
    pub fn all_done(&self, calls: u32) -> bool {
        let expected = self.consoles * calls as usize;
        self.failed == 0
            && self.answered == expected
            && self.ended == expected
            && self.signed_out == self.consoles
    }
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Tally {
    pub const HEADER: &'static str = "# counts since start; available and on_call are current \
        (state messages); rtp_in, rtp_out and rtp_echoed are the packets the peers received, sent \
        and sent back with a received payload; min_rtp_in is the fewest one peer received";

    pub fn console_started(&self) {
        bump(&self.consoles);
    }
    pub fn signed_in(&self) {
        bump(&self.signed_in);
    }
    /// The console's peer is connected; its packets count from now on.
    pub fn media_up(&self, count: Arc<RtpCount>) {
        bump(&self.media_up);
        self.rtp
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(count);
    }
    pub fn offered(&self) {
        bump(&self.offered);
    }
    pub fn answered(&self) {
        bump(&self.answered);
    }
    pub fn ended(&self) {
        bump(&self.ended);
    }
    pub fn signed_out(&self) {
        bump(&self.signed_out);
    }
    pub fn failed(&self) {
        bump(&self.failed);
    }
    /// An `error` message from the engine (a refused command).
    pub fn refused(&self) {
        bump(&self.errors);
    }

    /// A console's operator moved from `from` to `to`.
    pub fn moved(&self, from: Shown, to: Shown) {
        if from == to {
            return;
        }
        match from {
            Shown::Available => self.available.fetch_sub(1, Ordering::Relaxed),
            Shown::OnCall => self.on_call.fetch_sub(1, Ordering::Relaxed),
            Shown::Other => 0,
        };
        match to {
            Shown::Available => bump(&self.available),
            Shown::OnCall => bump(&self.on_call),
            Shown::Other => {}
        }
    }

    /// Packets over all peers: received, sent, echoed, and the fewest one peer received.
    fn rtp(&self) -> [u64; 4] {
        let counts = self
            .rtp
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let total = |field: fn(&RtpCount) -> &AtomicU64| {
            counts
                .iter()
                .map(|c| field(c).load(Ordering::Relaxed))
                .sum::<u64>()
        };
        let fewest = counts
            .iter()
            .map(|c| c.received.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        [
            total(|c| &c.received),
            total(|c| &c.sent),
            total(|c| &c.echoed),
            fewest,
        ]
    }

    pub fn line(&self) -> String {
        let get = |counter: &AtomicUsize| counter.load(Ordering::Relaxed);
        let [rtp_in, rtp_out, rtp_echoed, min_rtp_in] = self.rtp();
        format!(
            "consoles={} signed_in={} media_up={} available={} offered={} on_call={} \
             answered={} ended={} signed_out={} failed={} errors={} rtp_in={rtp_in} \
             rtp_out={rtp_out} rtp_echoed={rtp_echoed} min_rtp_in={min_rtp_in}",
            get(&self.consoles),
            get(&self.signed_in),
            get(&self.media_up),
            get(&self.available),
            get(&self.offered),
            get(&self.on_call),
            get(&self.answered),
            get(&self.ended),
            get(&self.signed_out),
            get(&self.failed),
            get(&self.errors),
        )
    }

    pub fn summary(&self) -> Summary {
        let get = |counter: &AtomicUsize| counter.load(Ordering::Relaxed);
        Summary {
            consoles: get(&self.consoles),
            answered: get(&self.answered),
            ended: get(&self.ended),
            signed_out: get(&self.signed_out),
            failed: get(&self.failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tally of `consoles` consoles that each answered, ended and signed out `calls` calls.
    fn finished(consoles: usize, calls: usize) -> Tally {
        let tally = Tally::default();
        for _ in 0..consoles {
            tally.console_started();
            for _ in 0..calls {
                tally.answered();
                tally.ended();
            }
            tally.signed_out();
        }
        tally
    }

    #[test]
    fn a_run_is_done_when_every_console_took_its_calls_and_signed_out() {
        assert!(finished(3, 2).summary().all_done(2));
    }

    #[test]
    fn a_console_short_of_its_calls_leaves_the_run_undone() {
        assert!(!finished(3, 1).summary().all_done(2));
    }

    #[test]
    fn a_failed_console_leaves_the_run_undone() {
        let tally = finished(3, 1);
        tally.failed();
        assert!(!tally.summary().all_done(1));
    }

    #[test]
    fn the_gauges_follow_a_console_from_available_to_on_call_and_out() {
        let tally = Tally::default();
        tally.moved(Shown::Other, Shown::Available);
        assert!(tally.line().contains(" available=1 "));
        tally.moved(Shown::Available, Shown::OnCall);
        assert!(tally.line().contains(" available=0 ") && tally.line().contains(" on_call=1 "));
        tally.moved(Shown::OnCall, Shown::Other);
        assert!(tally.line().contains(" on_call=0 "));
    }

    #[test]
    fn the_fewest_packets_are_those_of_the_quietest_peer() {
        let tally = Tally::default();
        for received in [50, 7, 60] {
            let count = Arc::new(RtpCount::default());
            count.received.store(received, Ordering::Relaxed);
            tally.media_up(count);
        }
        let line = tally.line();
        assert!(
            line.contains(" rtp_in=117 ") && line.ends_with(" min_rtp_in=7"),
            "{line}"
        );
    }
}
