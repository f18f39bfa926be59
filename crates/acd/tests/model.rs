//! Reference-model randomized test: operators log in, pause, answer, let it ring out, hang up;
//! callers join and abandon; the clock jumps. After every step the engine is checked against
//! a model built only from the inputs and the drained events.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use madoguchi_acd::*;
use rand::rngs::StdRng;
use rand::seq::{IteratorRandom, SliceRandom};
use rand::{Rng, SeedableRng};

const QUEUES: [QueueId; 2] = [QueueId(1), QueueId(2)];
const OPERATORS: u32 = 6;
const STEPS: usize = 400;

struct Model {
    strategies: BTreeMap<QueueId, Strategy>,
    members: BTreeMap<(OperatorId, QueueId), ()>,
    status: BTreeMap<OperatorId, OperatorStatus>,
    state: BTreeMap<OperatorId, OperatorState>,
    /// Waiting callers per queue with (priority, join sequence).
    waiting: BTreeMap<QueueId, Vec<(CallerId, i32, u64)>>,
    /// offer -> (caller, operator, step it was rung in)
    offers: BTreeMap<OfferId, (CallerId, OperatorId, usize)>,
    joined: BTreeSet<CallerId>,
    exited: BTreeSet<CallerId>,
    seq: u64,
    /// What happened, to prove the random walk reaches every path.
    seen: BTreeSet<&'static str>,
}

impl Model {
    fn queue_of(&self, caller: CallerId) -> Option<QueueId> {
        self.waiting
            .iter()
            .find(|(_, v)| v.iter().any(|(c, _, _)| *c == caller))
            .map(|(q, _)| *q)
    }

    fn apply(&mut self, event: &AcdEvent, step: usize) {
        match event {
            AcdEvent::Ring {
                offer,
                queue,
                caller,
                operator,
            } => {
                assert_eq!(
                    self.queue_of(*caller),
                    Some(*queue),
                    "ring for a caller not waiting"
                );
                assert!(
                    self.members.contains_key(&(*operator, *queue)),
                    "ring for a non-member"
                );
                assert_eq!(
                    self.status[operator],
                    OperatorStatus::Available,
                    "ring while not available"
                );
                assert_eq!(
                    self.state[operator],
                    OperatorState::Idle,
                    "ring while not idle"
                );
                let others: Vec<usize> = self
                    .offers
                    .values()
                    .filter(|(c, _, _)| c == caller)
                    .map(|(_, _, s)| *s)
                    .collect();
                if !others.is_empty() {
                    assert_eq!(
                        self.strategies[queue],
                        Strategy::RingAll,
                        "two offers for one caller"
                    );
                    assert!(
                        others.iter().all(|s| *s == step),
                        "ring-all offers not rung together"
                    );
                    self.seen.insert("ring-all");
                }
                self.offers.insert(*offer, (*caller, *operator, step));
            }
            AcdEvent::CancelRing { offer } => {
                assert!(
                    self.offers.remove(offer).is_some(),
                    "cancel of an unknown offer"
                );
            }
            AcdEvent::Connected { caller, .. } => {
                assert!(
                    self.queue_of(*caller).is_some(),
                    "connected a caller not waiting"
                );
            }
            AcdEvent::Announce {
                caller, position, ..
            } => {
                self.seen.insert("announce");
                let q = self
                    .queue_of(*caller)
                    .expect("announce for a caller not waiting");
                let index = self.waiting[&q].iter().position(|(c, _, _)| c == caller);
                assert_eq!(index.map(|i| i + 1), Some(*position), "announced position");
            }
            // This model joins no skilled caller (tests/skills.rs covers skills).
            AcdEvent::SkillRelaxed { .. } => panic!("skill relaxed without a skilled caller"),
            AcdEvent::Exit { caller, exit, .. } => {
                assert!(
                    self.joined.contains(caller),
                    "exit of a caller that never joined"
                );
                assert!(self.exited.insert(*caller), "caller exited twice");
                self.seen.insert(match exit {
                    QueueExit::Answered { .. } => "answered",
                    QueueExit::Timeout => "timeout",
                    QueueExit::JoinEmpty => "join-empty",
                    QueueExit::LeaveEmpty => "leave-empty",
                    QueueExit::Abandoned => "abandoned",
                    QueueExit::Overflow => "overflow",
                    QueueExit::SkillTimeout => "skill-timeout",
                });
                if let Some(q) = self.queue_of(*caller) {
                    self.waiting
                        .get_mut(&q)
                        .unwrap()
                        .retain(|(c, _, _)| c != caller);
                } else {
                    assert!(matches!(exit, QueueExit::JoinEmpty | QueueExit::Overflow));
                }
                assert!(
                    self.offers.values().all(|(c, _, _)| c != caller),
                    "caller left with a ring outstanding"
                );
            }
            AcdEvent::OperatorStateChanged {
                operator, change, ..
            } => match change {
                OperatorChange::State(s) => {
                    self.state.insert(*operator, *s);
                }
                OperatorChange::Status(
                    s @ OperatorStatus::Paused {
                        reason: PauseReason::NoAnswer,
                    },
                ) => {
                    self.status.insert(*operator, s.clone());
                    self.seen.insert("auto-pause");
                }
                OperatorChange::Status(_) => {}
            },
        }
    }

    fn check(&self, acd: &Acd) {
        for q in QUEUES {
            let mut expected = self.waiting[&q].clone();
            expected.sort_by_key(|(_, p, seq)| (-p, *seq));
            assert_eq!(
                expected, self.waiting[&q],
                "model order is FIFO within priority"
            );
            let engine: Vec<CallerId> = acd.waiting(q).to_vec();
            let model: Vec<CallerId> = expected.iter().map(|(c, _, _)| *c).collect();
            assert_eq!(engine, model, "queue order");
            for (i, c) in engine.iter().enumerate() {
                assert_eq!(acd.position(*c), Some(i + 1), "positions are dense");
            }
        }
        for (id, status) in &self.status {
            let op = acd.operator(*id).unwrap();
            assert_eq!(op.status(), status, "status of {id}");
            assert_eq!(op.state(), self.state[id], "state of {id}");
        }
        for (offer, (caller, operator, _)) in &self.offers {
            assert_eq!(
                self.state[operator],
                OperatorState::Ringing { offer: *offer }
            );
            assert_eq!(self.status[operator], OperatorStatus::Available);
            assert!(acd.offers_of(*caller).contains(&(*offer, *operator)));
        }
    }
}

fn run(seed: u64) -> BTreeSet<&'static str> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut acd = Acd::new();
    let mut now = Instant::now();
    let mut model = Model {
        strategies: BTreeMap::new(),
        members: BTreeMap::new(),
        status: BTreeMap::new(),
        state: BTreeMap::new(),
        waiting: BTreeMap::new(),
        offers: BTreeMap::new(),
        joined: BTreeSet::new(),
        exited: BTreeSet::new(),
        seq: 0,
        seen: BTreeSet::new(),
    };
    let strategies = [
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::RingAll,
        Strategy::FewestCalls,
    ];
    for q in QUEUES {
        let strategy = *strategies.choose(&mut rng).unwrap();
        let config = QueueConfig {
            strategy,
            ring_timeout: Duration::from_secs(10),
            wrap_up: Duration::from_secs(rng.gen_range(0..3) * 5),
            max_wait: rng.gen_bool(0.5).then(|| Duration::from_secs(300)),
            join_empty: rng.gen_bool(0.5),
            leave_when_empty: rng.gen_bool(0.5),
            auto_pause_after: Some(2),
            announce_every: Some(Duration::from_secs(20)),
            max_callers: rng.gen_bool(0.3).then_some(4),
        };
        acd.add_queue(q, config).unwrap();
        model.strategies.insert(q, strategy);
        model.waiting.insert(q, Vec::new());
    }
    for i in 0..OPERATORS {
        let op = OperatorId(i);
        acd.add_operator(op).unwrap();
        model.status.insert(op, OperatorStatus::LoggedOut);
        model.state.insert(op, OperatorState::Idle);
        for q in QUEUES {
            if rng.gen_bool(0.7) {
                let membership = Membership {
                    tier: Tier {
                        level: rng.gen_range(1..3),
                        position: rng.gen_range(0..4),
                    },
                    penalty: rng.gen_range(0..2),
                };
                acd.add_member(now, op, q, membership).unwrap();
                model.members.insert((op, q), ());
            }
        }
    }
    let mut next_caller = 0u64;
    for step in 0..STEPS {
        let op = OperatorId(rng.gen_range(0..OPERATORS));
        match rng.gen_range(0..12) {
            0 => {
                acd.login(now, op).unwrap();
                if model.status[&op] == OperatorStatus::LoggedOut {
                    model.status.insert(op, OperatorStatus::Available);
                }
            }
            1 => {
                acd.logout(now, op).unwrap();
                model.status.insert(op, OperatorStatus::LoggedOut);
            }
            2 => {
                let reason = PauseReason::Other("break".into());
                let ok = acd.pause(now, op, reason.clone()).is_ok();
                assert_eq!(ok, model.status[&op] != OperatorStatus::LoggedOut);
                if ok {
                    model.status.insert(op, OperatorStatus::Paused { reason });
                }
            }
            3 => {
                if acd.unpause(now, op).is_ok() {
                    model.status.insert(op, OperatorStatus::Available);
                }
            }
            4 | 5 => {
                let q = *QUEUES.choose(&mut rng).unwrap();
                let caller = CallerId(next_caller);
                next_caller += 1;
                let priority = rng.gen_range(0..3);
                acd.join(now, q, caller, priority).unwrap();
                model.joined.insert(caller);
                // Inserted before any events are applied; a refused join exits right away.
                model
                    .waiting
                    .get_mut(&q)
                    .unwrap()
                    .push((caller, priority, model.seq));
                model.seq += 1;
                model
                    .waiting
                    .get_mut(&q)
                    .unwrap()
                    .sort_by_key(|(_, p, seq)| (-p, *seq));
            }
            6 => {
                let waiting: Vec<CallerId> = model
                    .waiting
                    .values()
                    .flatten()
                    .map(|(c, _, _)| *c)
                    .collect();
                if let Some(c) = waiting.choose(&mut rng) {
                    acd.abandon(now, *c).unwrap();
                }
            }
            7 => {
                if let Some(offer) = model.offers.keys().copied().choose(&mut rng) {
                    acd.offer_answered(now, offer).unwrap();
                    model.offers.remove(&offer);
                }
            }
            8 => {
                if let Some(offer) = model.offers.keys().copied().choose(&mut rng) {
                    acd.offer_rejected(now, offer).unwrap();
                    model.offers.remove(&offer);
                }
            }
            9 => {
                let on_call = matches!(model.state[&op], OperatorState::OnCall { .. });
                assert_eq!(acd.call_ended(now, op).is_ok(), on_call);
            }
            10 => {
                let wrap = matches!(model.state[&op], OperatorState::WrapUp { .. });
                assert_eq!(acd.classification_filed(now, op).is_ok(), wrap);
            }
            _ => {
                // Either step through every timer or jump the clock and fire all at once.
                let by = Duration::from_secs(rng.gen_range(0..40));
                let end = now + by;
                if rng.gen_bool(0.5) {
                    while let Some((at, _)) = acd.poll_timeout() {
                        if at > end {
                            break;
                        }
                        now = now.max(at);
                        acd.handle_timeout(now);
                        drain(&mut acd, &mut model, step);
                    }
                }
                now = end;
                acd.handle_timeout(now);
            }
        }
        // The join's queue entry sits at the end of its priority group before events apply.
        drain(&mut acd, &mut model, step);
        model.check(&acd);
        if let Some((at, _)) = acd.poll_timeout() {
            assert!(at > now, "a due timer was left unfired");
        }
    }
    let left: Vec<CallerId> = model
        .waiting
        .values()
        .flatten()
        .map(|(c, _, _)| *c)
        .collect();
    for c in left {
        acd.abandon(now, c).unwrap();
        drain(&mut acd, &mut model, STEPS);
    }
    assert_eq!(
        model.joined, model.exited,
        "every joined caller exits exactly once"
    );
    assert!(model.offers.is_empty());
    model.seen
}

fn drain(acd: &mut Acd, model: &mut Model, step: usize) {
    while let Some(event) = acd.poll_event() {
        model.apply(&event, step);
    }
}

#[test]
fn the_engine_keeps_its_invariants_under_random_operation() {
    let mut seen = BTreeSet::new();
    for seed in 0..150 {
        seen.extend(run(seed));
    }
    let all = [
        "answered",
        "timeout",
        "join-empty",
        "leave-empty",
        "abandoned",
        "overflow",
        "auto-pause",
        "announce",
        "ring-all",
    ];
    assert_eq!(
        seen,
        BTreeSet::from(all),
        "paths reached by the random walk"
    );
}
