//! A queue's settings replaced while it runs (a dialplan reload).

mod common;

use common::*;
use madoguchi_acd::*;

#[test]
fn a_new_ring_timeout_applies_to_the_next_offer_and_the_caller_keeps_its_place() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    h.join(1, 0);
    h.join(2, 0);
    let config = QueueConfig {
        ring_timeout: secs(4),
        ..QueueConfig::default()
    };
    h.acd.set_queue_config(h.now, Q, config).unwrap();
    assert_eq!(h.acd.position(CallerId(2)), Some(2));
    h.member(1, 1, 0, 0);
    h.acd.login(h.now, OperatorId(1)).unwrap();
    assert_eq!(rings(&h.drain()), vec![(1, 1)]);
    // Rung for 4 s, not the default 15 s: the ring-out at 4 s offers the caller again.
    let events = h.run_for(secs(5));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AcdEvent::CancelRing { .. })),
        "{events:?}"
    );
}

#[test]
fn settings_for_an_unknown_queue_are_refused() {
    let mut h = Harness::new(QueueConfig::default(), &[]);
    let refused = h
        .acd
        .set_queue_config(h.now, QueueId(99), QueueConfig::default());
    assert!(matches!(refused, Err(AcdError::UnknownQueue(QueueId(99)))));
}
