//! Queue settings the reference test dialplan does not use: ring-all, and a failed transfer
//! that puts the caller back at the head of the queue.

use std::time::Duration;

use madoguchi_dialplan::Dialplan;
use madoguchi_store::Disposition;

use super::super::test_harness::*;
use super::{bridged, call_in, city, op1, op2, pick_up, state_of, wednesday};

/// tests/dialplans/queue.toml with `edit` applied to its text.
fn queue_dialplan_with(edit: impl Fn(String) -> String) -> Dialplan {
    let dir = repo().join("tests/dialplans");
    let text = std::fs::read_to_string(dir.join("queue.toml")).expect("queue.toml");
    Dialplan::parse("queue.toml", &edit(text), &dir).expect("the edited dialplan checks")
}

fn desk_in(dialplan: Dialplan, phones: &mut [&mut Phone]) -> Harness {
    let mut h = Harness::with_targets(dialplan, city_line_targets(), wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, phones.iter().map(|p| p.entry()).collect());
    h.drain();
    for phone in phones.iter_mut() {
        let ok = phone.register(&mut h, 600);
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    }
    h
}

#[test]
fn ring_all_rings_every_free_operator_and_the_first_answer_cancels_the_others() {
    let dialplan = queue_dialplan_with(|t| {
        t.replace(
            "ring_timeout = 4\n",
            "ring_timeout = 4\nstrategy = \"ring_all\"\n",
        )
    });
    let (mut a, mut b) = (op1(), op2());
    let mut h = desk_in(dialplan, &mut [&mut a, &mut b]);
    call_in(&mut h, 1);
    assert_eq!(a.invites(&h).len(), 1, "op1 rings");
    assert_eq!(b.invites(&h).len(), 1, "op2 rings at the same time");

    let invite_b = b.last_invite(&h);
    b.respond(&mut h, &invite_b, "180 Ringing", "");
    pick_up(&mut h, &a, Duration::from_secs(1));

    assert_eq!(
        bridged(&h).len(),
        1,
        "one bridge, to the phone that answered"
    );
    assert_eq!(state_of(&h, "op1").0, "on_call");
    assert_eq!(
        b.requests(&h, "CANCEL").len(),
        1,
        "the other phone stops ringing"
    );
    assert_eq!(state_of(&h, "op2").0, "available");
}

#[test]
fn a_failed_transfer_with_requeue_puts_the_caller_back_at_the_head_of_the_queue() {
    let dialplan = queue_dialplan_with(|t| {
        t.replace(
            "failed = [{ play = \"transfer_failed\" }, { hangup = true }]",
            "on_failure = \"requeue\"",
        )
    });
    let mut phone = op1();
    let mut h = desk_in(dialplan, &mut [&mut phone]);
    let _caller = call_in(&mut h, 1);
    let invite = pick_up(&mut h, &phone, Duration::from_secs(1));
    // Another caller waits behind while op1 talks.
    let _second = call_in(&mut h, 2);

    let now = h.now;
    let call_id = h.engine.live(now).queues[0].waiting[0].call_id.clone();
    assert_ne!(
        header(&invite, "X-Madoguchi-Call-Id"),
        Some(call_id.as_str()),
        "the waiting caller is the second one"
    );
    let first = header(&invite, "X-Madoguchi-Call-Id")
        .expect("call id")
        .to_owned();
    h.engine
        .transfer(now, &first, "city_line")
        .expect("a call with an operator may be transferred");
    h.drain();
    // No announcement is configured for the target in queue.toml: the city line rings now.
    let city = city();
    let city_invite = city.last_invite(&h);
    city.respond(&mut h, &city_invite, "486 Busy Here", "");

    let live = h.engine.live(h.now);
    let waiting: Vec<&str> = live.queues[0]
        .waiting
        .iter()
        .map(|w| w.call_id.as_str())
        .collect();
    assert_eq!(
        waiting,
        vec![first.as_str(), call_id.as_str()],
        "back in the queue ahead of the caller who was already waiting"
    );
    assert!(h
        .records
        .iter()
        .all(|r| r.disposition != Disposition::Transferred));
}
