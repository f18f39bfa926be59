//! Inputs for a node of several: direct offers (`Acd::offer_direct`, another node's caller rung
//! at exactly one operator, outside the queue's waiting list) and paused logins.

mod common;

use common::*;
use madoguchi_acd::*;

#[test]
fn a_direct_offer_rings_only_a_free_operator() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    let offer = h
        .acd
        .offer_direct(h.now, Q, CallerId(100), OperatorId(1), secs(10))
        .unwrap();
    assert_eq!(rings(&h.drain()), vec![(100, 1)]);
    assert_eq!(h.acd.offers_of(CallerId(100)), vec![(offer, OperatorId(1))]);

    let busy = h
        .acd
        .offer_direct(h.now, Q, CallerId(101), OperatorId(1), secs(10));
    assert_eq!(busy, Err(AcdError::OperatorBusy(OperatorId(1))));
}

#[test]
fn a_direct_caller_takes_no_queue_position_and_no_other_operator() {
    let mut h = Harness::new(QueueConfig::default(), &[1, 2]);
    h.acd
        .offer_direct(h.now, Q, CallerId(100), OperatorId(1), secs(10))
        .unwrap();
    h.drain();
    assert!(h.acd.waiting(Q).is_empty());
    assert_eq!(h.acd.position(CallerId(100)), None);
    // The ring-out leaves it unoffered: operator 2 stays free for the queue's own callers.
    let events = h.run_for(secs(11));
    assert!(rings(&events).is_empty(), "{events:?}");
    assert_eq!(rings(&h.join(7, 0)).len(), 1);
    h.acd.abandon(h.now, CallerId(100)).unwrap();
    assert_eq!(exits(&h.drain()), vec![(100, QueueExit::Abandoned)]);
}

#[test]
fn a_direct_offer_answered_connects_like_a_queued_one() {
    let mut h = Harness::new(QueueConfig::default(), &[1]);
    let offer = h
        .acd
        .offer_direct(h.now, Q, CallerId(100), OperatorId(1), secs(10))
        .unwrap();
    h.drain();
    h.acd.offer_answered(h.now, offer).unwrap();
    let events = h.drain();
    assert!(events.iter().any(|e| matches!(
        e,
        AcdEvent::Connected {
            caller: CallerId(100),
            operator: OperatorId(1)
        }
    )));
    assert_eq!(
        exits(&events),
        vec![(
            100,
            QueueExit::Answered {
                operator: OperatorId(1)
            }
        )]
    );
}

#[test]
fn logging_in_paused_rings_nobody() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    h.member(1, 1, 0, 0);
    h.join(100, 0);
    h.acd
        .login_paused(h.now, OperatorId(1), PauseReason::Other("remote".into()))
        .unwrap();
    assert!(rings(&h.drain()).is_empty());
    assert!(matches!(
        h.acd.operator(OperatorId(1)).unwrap().status(),
        OperatorStatus::Paused { .. }
    ));
}
