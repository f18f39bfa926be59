//! Operator selection: each strategy, tiers and penalties.

mod common;

use common::*;
use madoguchi_acd::*;

fn config(strategy: Strategy) -> QueueConfig {
    QueueConfig {
        strategy,
        wrap_up: secs(0),
        ..QueueConfig::default()
    }
}

#[test]
fn longest_idle_offers_the_operator_whose_last_call_ended_earliest() {
    let mut h = Harness::new(config(Strategy::LongestIdle), &[1, 2, 3]);
    // Operator 1 logged in first, so it is offered first; after its call it is idle the least.
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 1)]);
    h.take_call(1, secs(30));
    assert_eq!(rings(&h.join(11, 0)), vec![(11, 2)]);
    h.take_call(2, secs(30));
    assert_eq!(rings(&h.join(12, 0)), vec![(12, 3)]);
    h.take_call(3, secs(30));
    assert_eq!(rings(&h.join(13, 0)), vec![(13, 1)]);
}

#[test]
fn round_robin_continues_after_the_operator_offered_last() {
    let mut h = Harness::new(config(Strategy::RoundRobin), &[1, 2, 3]);
    let mut offered = Vec::new();
    for caller in 10..14 {
        let events = h.join(caller, 0);
        let (_, op) = rings(&events)[0];
        offered.push(op);
        h.take_call(op, secs(5));
    }
    assert_eq!(offered, vec![1, 2, 3, 1]);
}

#[test]
fn round_robin_skips_a_busy_operator_and_remembers_where_it_was() {
    let mut h = Harness::new(config(Strategy::RoundRobin), &[1, 2, 3]);
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 1)]);
    h.answer(1);
    assert_eq!(rings(&h.join(11, 0)), vec![(11, 2)]);
    h.answer(2);
    assert_eq!(rings(&h.join(12, 0)), vec![(12, 3)]);
}

#[test]
fn ring_all_rings_every_free_operator_and_cancels_the_others_on_answer() {
    let mut h = Harness::new(config(Strategy::RingAll), &[1, 2, 3]);
    let events = h.join(10, 0);
    assert_eq!(rings(&events), vec![(10, 1), (10, 2), (10, 3)]);
    let others: Vec<OfferId> = [1, 3].iter().map(|op| h.ringing_offer(*op)).collect();
    let events = h.answer(2);
    for offer in others {
        assert!(events.contains(&AcdEvent::CancelRing { offer }));
    }
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().state(),
        OperatorState::Idle
    );
}

#[test]
fn fewest_calls_offers_the_operator_with_the_fewest_answered_calls() {
    let mut h = Harness::new(config(Strategy::FewestCalls), &[1, 2]);
    h.join(10, 0);
    h.take_call(1, secs(5));
    h.join(11, 0);
    h.take_call(2, secs(5));
    h.join(12, 0);
    h.take_call(1, secs(5));
    // 1 has taken two calls, 2 one: 2 is offered even though 1 has been idle longer.
    h.advance(secs(60));
    assert_eq!(rings(&h.join(13, 0)), vec![(13, 2)]);
}

#[test]
fn tier_two_is_offered_only_when_no_tier_one_operator_is_free() {
    let mut h = Harness::new(config(Strategy::LongestIdle), &[]);
    h.member(2, 2, 0, 0);
    h.member(1, 1, 0, 0);
    h.acd.login(h.now, OperatorId(2)).unwrap();
    h.advance(secs(100));
    h.acd.login(h.now, OperatorId(1)).unwrap();
    h.drain();
    // 2 has been idle longer, but 1 is in tier 1.
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 1)]);
    h.answer(1);
    assert_eq!(rings(&h.join(11, 0)), vec![(11, 2)]);
}

#[test]
fn a_higher_penalty_is_offered_only_when_no_lower_one_of_the_level_is_free() {
    let mut h = Harness::new(config(Strategy::LongestIdle), &[]);
    h.member(1, 1, 0, 5);
    h.member(2, 1, 1, 0);
    h.acd.login(h.now, OperatorId(1)).unwrap();
    h.advance(secs(10));
    h.acd.login(h.now, OperatorId(2)).unwrap();
    h.drain();
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 2)]);
    h.answer(2);
    assert_eq!(rings(&h.join(11, 0)), vec![(11, 1)]);
}

#[test]
fn ring_all_rings_only_the_best_tier() {
    let mut h = Harness::new(config(Strategy::RingAll), &[1, 2]);
    h.member(3, 2, 0, 0);
    h.acd.login(h.now, OperatorId(3)).unwrap();
    h.drain();
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 1), (10, 2)]);
}
