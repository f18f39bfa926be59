//! Skills: a caller who joined with one waits for an operator having it, is passed over
//! meanwhile, and after its relax time is served by anyone or leaves.

mod common;

use std::collections::BTreeSet;

use common::*;
use madoguchi_acd::*;

fn skills(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn english(relax_after: u64, relax: Relax) -> JoinOptions {
    JoinOptions {
        skill: Some("en".to_string()),
        relax_after: Some(secs(relax_after)),
        relax,
        ..JoinOptions::default()
    }
}

/// Operators 1 (no skill) and 2 (`en`), both free; operator 1 idle longest.
fn two_operators() -> Harness {
    let mut h = Harness::new(QueueConfig::default(), &[1, 2]);
    h.acd
        .set_skills(h.now, OperatorId(2), skills(&["en"]))
        .unwrap();
    h.drain();
    h
}

fn join_with(h: &mut Harness, caller: u64, options: JoinOptions) -> Vec<AcdEvent> {
    h.acd
        .join_with(h.now, Q, CallerId(caller), 0, options)
        .unwrap();
    h.drain()
}

#[test]
fn a_skilled_caller_is_offered_only_to_an_operator_with_that_skill() {
    let mut h = two_operators();
    let events = join_with(&mut h, 10, english(120, Relax::Any));
    assert_eq!(rings(&events), vec![(10, 2)]);
}

#[test]
fn a_skilled_caller_is_not_offered_to_others_when_the_skilled_operator_rings_out() {
    let mut h = two_operators();
    join_with(&mut h, 10, english(120, Relax::Any));
    let events = h.run_for(secs(15));
    // Rung out on 2, then 2 again in a new round: never 1.
    assert!(rings(&events).iter().all(|(_, op)| *op == 2), "{events:?}");
}

#[test]
fn a_caller_without_a_skill_is_served_by_skilled_operators_too() {
    let mut h = Harness::new(QueueConfig::default(), &[2]);
    h.acd
        .set_skills(h.now, OperatorId(2), skills(&["en"]))
        .unwrap();
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 2)]);
}

#[test]
fn an_unservable_skilled_caller_does_not_block_the_callers_behind_it() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    join_with(&mut h, 10, english(120, Relax::Any));
    let events = h.join(11, 0);
    assert_eq!(rings(&events), vec![(11, 1)]);
    assert_eq!(h.acd.position(CallerId(10)), Some(1));
}

#[test]
fn after_the_relax_time_any_operator_is_offered_the_caller_and_an_event_says_so() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    assert_eq!(
        rings(&join_with(&mut h, 10, english(120, Relax::Any))),
        vec![]
    );
    assert_eq!(rings(&h.run_for(secs(119))), vec![]);
    let events = h.run_for(secs(1));
    assert!(events.contains(&AcdEvent::SkillRelaxed {
        caller: CallerId(10),
        skill: "en".to_string()
    }));
    assert_eq!(rings(&events), vec![(10, 1)]);
    assert_eq!(h.acd.caller_skill(CallerId(10)), None);
}

#[test]
fn a_relaxed_caller_keeps_its_place_in_the_queue() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    join_with(&mut h, 10, english(120, Relax::Any));
    h.join(11, 0);
    h.run_for(secs(120));
    let order: Vec<u64> = h.acd.waiting(Q).iter().map(|c| c.0).collect();
    assert_eq!(order, vec![10, 11]);
}

#[test]
fn with_relax_exit_the_caller_leaves_with_a_skill_timeout() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    join_with(&mut h, 10, english(30, Relax::Exit));
    let events = h.run_for(secs(30));
    assert_eq!(exits(&events), vec![(10, QueueExit::SkillTimeout)]);
    assert_eq!(rings(&events), vec![]);
    assert_eq!(h.acd.waiting(Q), &[]);
}

#[test]
fn a_skilled_caller_answered_in_time_has_no_relax_left() {
    let mut h = two_operators();
    join_with(&mut h, 10, english(30, Relax::Exit));
    h.answer(2);
    let events = h.run_for(secs(60));
    assert_eq!(exits(&events), vec![]);
    assert!(!events
        .iter()
        .any(|e| matches!(e, AcdEvent::SkillRelaxed { .. })));
}

#[test]
fn an_operator_given_the_skill_is_offered_the_waiting_skilled_caller_at_once() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    join_with(&mut h, 10, english(120, Relax::Any));
    h.acd
        .set_skills(h.now, OperatorId(1), skills(&["en", "zh"]))
        .unwrap();
    assert_eq!(rings(&h.drain()), vec![(10, 1)]);
}

#[test]
fn without_a_relax_time_the_skill_filter_holds_for_the_whole_wait() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    let options = JoinOptions {
        skill: Some("en".to_string()),
        ..JoinOptions::default()
    };
    join_with(&mut h, 10, options);
    assert_eq!(rings(&h.run_for(secs(3600))), vec![]);
    assert_eq!(h.acd.caller_skill(CallerId(10)), Some("en"));
}

#[test]
fn join_with_data_is_a_join_without_a_skill() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    let data = CallerData::from([("menu".to_string(), "9".to_string())]);
    h.acd
        .join_with_data(h.now, Q, CallerId(10), 0, data.clone())
        .unwrap();
    assert_eq!(rings(&h.drain()), vec![(10, 1)]);
    assert_eq!(h.acd.caller_data(CallerId(10)), Some(&data));
}
