//! A virtual-clock harness for the ACD tests.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use madoguchi_acd::*;

pub const Q: QueueId = QueueId(1);

pub struct Harness {
    pub acd: Acd,
    pub now: Instant,
}

impl Harness {
    /// One queue `Q` with `config` and operators `ids`, all tier 1, logged in one second apart
    /// in the given order.
    pub fn new(config: QueueConfig, ids: &[u32]) -> Self {
        let mut h = Harness {
            acd: Acd::new(),
            now: Instant::now(),
        };
        h.acd.add_queue(Q, config).unwrap();
        for (i, id) in ids.iter().enumerate() {
            let position = u32::try_from(i).unwrap();
            h.member(*id, 1, position, 0);
            h.acd.login(h.now, OperatorId(*id)).unwrap();
            h.advance(Duration::from_secs(1));
        }
        h.drain();
        h
    }

    pub fn member(&mut self, id: u32, level: u8, position: u32, penalty: u32) {
        let op = OperatorId(id);
        if self.acd.operator(op).is_none() {
            self.acd.add_operator(op).unwrap();
        }
        let membership = Membership {
            tier: Tier { level, position },
            penalty,
        };
        self.acd.add_member(self.now, op, Q, membership).unwrap();
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Moves the clock to each due timer up to `now + by`, firing it.
    pub fn run_for(&mut self, by: Duration) -> Vec<AcdEvent> {
        let end = self.now + by;
        let mut events = Vec::new();
        while let Some((at, _)) = self.acd.poll_timeout() {
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.acd.handle_timeout(self.now);
            events.extend(self.drain());
        }
        self.now = end;
        events
    }

    pub fn drain(&mut self) -> Vec<AcdEvent> {
        std::iter::from_fn(|| self.acd.poll_event()).collect()
    }

    pub fn join(&mut self, caller: u64, priority: i32) -> Vec<AcdEvent> {
        self.acd
            .join(self.now, Q, CallerId(caller), priority)
            .unwrap();
        self.drain()
    }

    /// Answers the only offer ringing `operator`.
    pub fn answer(&mut self, operator: u32) -> Vec<AcdEvent> {
        let offer = self.ringing_offer(operator);
        self.acd.offer_answered(self.now, offer).unwrap();
        self.drain()
    }

    pub fn ringing_offer(&self, operator: u32) -> OfferId {
        match self.acd.operator(OperatorId(operator)).unwrap().state() {
            OperatorState::Ringing { offer } => offer,
            other => panic!("operator {operator} is not ringing: {other:?}"),
        }
    }

    /// A full call for `operator`: answer, talk, hang up, file the classification if in wrap-up.
    pub fn take_call(&mut self, operator: u32, talk: Duration) {
        self.answer(operator);
        self.advance(talk);
        let op = OperatorId(operator);
        self.acd.call_ended(self.now, op).unwrap();
        if matches!(
            self.acd.operator(op).unwrap().state(),
            OperatorState::WrapUp { .. }
        ) {
            self.acd.classification_filed(self.now, op).unwrap();
        }
        self.drain();
    }
}

/// `(caller, operator)` of every Ring event.
pub fn rings(events: &[AcdEvent]) -> Vec<(u64, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            AcdEvent::Ring {
                caller, operator, ..
            } => Some((caller.0, operator.0)),
            _ => None,
        })
        .collect()
}

/// `(caller, exit)` of every Exit event.
pub fn exits(events: &[AcdEvent]) -> Vec<(u64, QueueExit)> {
    events
        .iter()
        .filter_map(|e| match e {
            AcdEvent::Exit { caller, exit, .. } => Some((caller.0, *exit)),
            _ => None,
        })
        .collect()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
