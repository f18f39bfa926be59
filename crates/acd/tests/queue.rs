//! Queue behaviour: ordering, ring-outs, auto-pause, wrap-up, empty queues, timers.

mod common;

use common::*;
use madoguchi_acd::*;

#[test]
fn higher_priority_goes_first_and_equal_priority_keeps_join_order() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    h.join(1, 0);
    h.join(2, 5);
    h.join(3, 0);
    h.join(4, 5);
    let order: Vec<u64> = h.acd.waiting(Q).iter().map(|c| c.0).collect();
    assert_eq!(order, vec![2, 4, 1, 3]);
    assert_eq!(h.acd.position(CallerId(1)), Some(3));
}

#[test]
fn positions_close_up_when_a_caller_abandons() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    h.join(1, 0);
    h.join(2, 0);
    h.join(3, 0);
    h.acd.abandon(h.now, CallerId(2)).unwrap();
    let events = h.drain();
    assert_eq!(exits(&events), vec![(2, QueueExit::Abandoned)]);
    assert_eq!(h.acd.position(CallerId(3)), Some(2));
}

#[test]
fn caller_data_travels_with_the_caller() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    let data = CallerData::from([("menu".to_string(), "2".to_string())]);
    h.acd
        .join_with_data(h.now, Q, CallerId(1), 0, data.clone())
        .unwrap();
    assert_eq!(h.acd.caller_data(CallerId(1)), Some(&data));
}

#[test]
fn a_ring_out_moves_the_caller_on_to_the_next_operator() {
    let mut h = Harness::new(QueueConfig::default(), &[1, 2]);
    assert_eq!(rings(&h.join(10, 0)), vec![(10, 1)]);
    let events = h.run_for(secs(15));
    assert_eq!(rings(&events), vec![(10, 2)]);
}

#[test]
fn a_declined_offer_moves_the_caller_on_to_the_next_operator() {
    let mut h = Harness::new(QueueConfig::default(), &[1, 2]);
    h.join(10, 0);
    let offer = h.ringing_offer(1);
    h.acd.offer_rejected(h.now, offer).unwrap();
    assert_eq!(rings(&h.drain()), vec![(10, 2)]);
}

#[test]
fn a_phone_that_fails_every_offer_is_paused_instead_of_rung_again_and_again() {
    // One operator, auto-pause off: a busy phone (486) must not be re-offered in a loop.
    let config = QueueConfig {
        auto_pause_after: None,
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[1]);
    h.join(10, 0);
    let offer = h.ringing_offer(1);
    h.acd.offer_failed(h.now, offer).unwrap();
    assert_eq!(rings(&h.drain()), vec![]);
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().status(),
        &OperatorStatus::Paused {
            reason: PauseReason::NoAnswer
        }
    );
}

#[test]
fn failed_offers_count_towards_auto_pause_like_ring_outs() {
    let config = QueueConfig {
        auto_pause_after: Some(2),
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[1, 2]);
    h.join(10, 0);
    let offer = h.ringing_offer(1);
    h.acd.offer_failed(h.now, offer).unwrap();
    assert_eq!(rings(&h.drain()), vec![(10, 2)]);
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().status(),
        &OperatorStatus::Available
    );
    assert_eq!(
        h.acd
            .operator(OperatorId(1))
            .unwrap()
            .consecutive_ring_outs(),
        1
    );
}

#[test]
fn consecutive_ring_outs_auto_pause_the_operator_with_reason_no_answer() {
    let config = QueueConfig {
        auto_pause_after: Some(2),
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[1]);
    h.join(10, 0);
    h.run_for(secs(15));
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().status(),
        &OperatorStatus::Available
    );
    h.run_for(secs(15));
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().status(),
        &OperatorStatus::Paused {
            reason: PauseReason::NoAnswer
        }
    );
    assert!(h.acd.offers_of(CallerId(10)).is_empty());
}

#[test]
fn an_answered_call_resets_the_ring_out_count() {
    let config = QueueConfig {
        auto_pause_after: Some(2),
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[1]);
    h.join(10, 0);
    h.run_for(secs(15));
    h.answer(1);
    assert_eq!(
        h.acd
            .operator(OperatorId(1))
            .unwrap()
            .consecutive_ring_outs(),
        0
    );
}

#[test]
fn an_operator_in_wrap_up_is_not_offered_until_it_ends() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    h.answer(1);
    h.acd.call_ended(h.now, OperatorId(1)).unwrap();
    assert!(rings(&h.join(11, 0)).is_empty());
    let events = h.run_for(secs(10));
    assert_eq!(rings(&events), vec![(11, 1)]);
}

#[test]
fn filing_the_classification_ends_wrap_up_early() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    h.answer(1);
    h.acd.call_ended(h.now, OperatorId(1)).unwrap();
    h.join(11, 0);
    h.advance(secs(2));
    h.acd.classification_filed(h.now, OperatorId(1)).unwrap();
    assert_eq!(rings(&h.drain()), vec![(11, 1)]);
}

#[test]
fn a_paused_operator_is_not_offered_until_unpaused() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.acd
        .pause(h.now, OperatorId(1), PauseReason::Other("lunch".into()))
        .unwrap();
    assert!(rings(&h.join(10, 0)).is_empty());
    h.acd.unpause(h.now, OperatorId(1)).unwrap();
    assert_eq!(rings(&h.drain()), vec![(10, 1)]);
}

#[test]
fn pausing_a_ringing_operator_cancels_the_ring() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    let offer = h.ringing_offer(1);
    h.acd
        .pause(h.now, OperatorId(1), PauseReason::Other("break".into()))
        .unwrap();
    assert!(h.drain().contains(&AcdEvent::CancelRing { offer }));
    assert_eq!(
        h.acd.offer_answered(h.now, offer),
        Err(AcdError::UnknownOffer(offer))
    );
}

#[test]
fn join_is_refused_when_no_member_is_logged_in_and_join_empty_is_off() {
    let config = QueueConfig {
        join_empty: false,
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[]);
    assert_eq!(exits(&h.join(10, 0)), vec![(10, QueueExit::JoinEmpty)]);
    assert!(h.acd.waiting(Q).is_empty());
}

#[test]
fn join_is_accepted_into_an_empty_queue_when_join_empty_is_on() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    assert!(exits(&h.join(10, 0)).is_empty());
    assert_eq!(h.acd.position(CallerId(10)), Some(1));
}

#[test]
fn callers_leave_when_the_last_member_logs_out_and_leave_when_empty_is_on() {
    let config = QueueConfig {
        leave_when_empty: true,
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[1]);
    h.acd
        .pause(h.now, OperatorId(1), PauseReason::NoAnswer)
        .unwrap();
    h.join(10, 0);
    h.join(11, 0);
    h.acd.logout(h.now, OperatorId(1)).unwrap();
    assert_eq!(
        exits(&h.drain()),
        vec![(10, QueueExit::LeaveEmpty), (11, QueueExit::LeaveEmpty)]
    );
}

#[test]
fn a_caller_waiting_longer_than_max_wait_exits_with_timeout() {
    let config = QueueConfig {
        max_wait: Some(secs(60)),
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[]);
    h.join(10, 0);
    assert!(exits(&h.run_for(secs(59))).is_empty());
    let events = h.run_for(secs(1));
    assert_eq!(exits(&events), vec![(10, QueueExit::Timeout)]);
    assert!(events.contains(&AcdEvent::Exit {
        caller: CallerId(10),
        exit: QueueExit::Timeout,
        waited: secs(60)
    }));
}

#[test]
fn a_caller_beyond_max_callers_exits_with_overflow() {
    let config = QueueConfig {
        max_callers: Some(1),
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[]);
    h.join(10, 0);
    assert_eq!(exits(&h.join(11, 0)), vec![(11, QueueExit::Overflow)]);
}

#[test]
fn announcements_give_position_and_an_estimate_from_recent_handling_times() {
    let config = QueueConfig {
        announce_every: Some(secs(30)),
        wrap_up: secs(0),
        ..QueueConfig::default()
    };
    let mut h = Harness::new(config, &[1]);
    h.join(1, 0);
    h.take_call(1, secs(120));
    h.join(2, 0);
    h.answer(1);
    h.join(3, 0);
    h.join(4, 0);
    let events = h.run_for(secs(30));
    // One staffed operator, average handling 120 s: position 2 waits about 240 s.
    assert!(events.contains(&AcdEvent::Announce {
        caller: CallerId(4),
        position: 2,
        estimated_wait: Some(secs(240)),
    }));
}

#[test]
fn the_next_timer_is_named() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    assert_eq!(
        h.acd.poll_timeout(),
        Some((h.now + secs(15), AcdTimer::RingNoAnswer))
    );
}

#[test]
fn abandoning_while_ringing_cancels_the_ring_and_frees_the_operator() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    let offer = h.ringing_offer(1);
    h.acd.abandon(h.now, CallerId(10)).unwrap();
    let events = h.drain();
    assert!(events.contains(&AcdEvent::CancelRing { offer }));
    assert_eq!(exits(&events), vec![(10, QueueExit::Abandoned)]);
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().state(),
        OperatorState::Idle
    );
}

#[test]
fn inputs_about_unknown_things_are_errors_not_panics() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    let now = h.now;
    assert_eq!(
        h.acd.abandon(now, CallerId(9)),
        Err(AcdError::UnknownCaller(CallerId(9)))
    );
    assert_eq!(
        h.acd.join(now, QueueId(9), CallerId(9), 0),
        Err(AcdError::UnknownQueue(QueueId(9)))
    );
    assert_eq!(
        h.acd.call_ended(now, OperatorId(1)),
        Err(AcdError::NotOnCall(OperatorId(1)))
    );
    assert_eq!(
        h.acd.classification_filed(now, OperatorId(1)),
        Err(AcdError::NotInWrapUp(OperatorId(1)))
    );
    h.join(10, 0);
    assert_eq!(
        h.acd.join(now, Q, CallerId(10), 0),
        Err(AcdError::DuplicateCaller(CallerId(10)))
    );
}

#[test]
fn logging_out_during_a_call_keeps_the_call_but_ends_the_offers() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    h.answer(1);
    h.acd.logout(h.now, OperatorId(1)).unwrap();
    h.join(11, 0);
    h.acd.call_ended(h.now, OperatorId(1)).unwrap();
    h.acd.classification_filed(h.now, OperatorId(1)).unwrap();
    assert!(rings(&h.drain()).is_empty());
    assert_eq!(
        h.acd.operator(OperatorId(1)).unwrap().status(),
        &OperatorStatus::LoggedOut
    );
}

#[test]
fn an_operator_on_a_call_cannot_be_removed() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    h.join(10, 0);
    h.answer(1);
    assert_eq!(
        h.acd.remove_operator(h.now, OperatorId(1)),
        Err(AcdError::OperatorBusy(OperatorId(1)))
    );
}
