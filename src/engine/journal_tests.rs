//! The "call opened" notes the engine hands out for the crash journal.

use std::time::Duration;

use madoguchi_store::Disposition;

use super::journal_hold::JOURNAL_HOLD_LIMIT;
use super::test_harness::*;

#[test]
fn an_arriving_call_is_noted_open_with_what_its_record_will_say() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    assert_eq!(h.opened.len(), 1, "one note per call");
    let open = h.opened[0].clone();
    assert!(h.records.is_empty(), "noted while the call is up");

    h.engine.interrupt_all(h.now);
    h.drain();
    let record = &h.records[0];
    assert_eq!(open.id, record.id);
    assert_eq!(open.node_id, record.node_id);
    assert_eq!(open.sip_call_id, record.sip_call_id);
    assert_eq!(open.caller, record.caller);
    assert_eq!(open.called, record.called);
    assert_eq!(open.arrived_at, record.arrived_at);
}

#[test]
fn a_retransmitted_invite_opens_no_second_call() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    let invite = caller.invite(&offer("0"));
    h.sip(&invite);
    h.sip(&invite);
    assert_eq!(h.opened.len(), 1);
}

// Arrival window (issue 8): a call answered before its note was stored left no trace when
// the node died in between, so 18x/2xx wait for `Engine::journaled`.

/// A CANCEL for `invite` (the harness caller's).
fn cancel_of(invite: &str) -> String {
    let cancel = invite
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    cancel
        .split("Content-Type")
        .next()
        .expect("head")
        .to_owned()
        + "Content-Length: 0\r\n\r\n"
}

fn held_harness() -> Harness {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    h.auto_journal = false;
    h
}

#[test]
fn no_ringing_or_answer_leaves_before_the_call_is_journaled() {
    let mut h = held_harness();
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    h.advance(Duration::from_millis(1500));
    assert_eq!(h.statuses(), vec![100], "only the SIP layer's 100 Trying");
    assert_eq!(h.engine.answered_unjournaled(), 0);
}

#[test]
fn held_ringing_and_answer_leave_in_order_once_journaled() {
    let mut h = held_harness();
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    // zama.toml rings for one second: by then both the 180 and the 200 are held.
    h.advance(Duration::from_millis(1500));
    let id = h.opened[0].id.clone();
    h.engine.journaled(h.now, &id);
    h.drain();
    assert_eq!(h.statuses(), vec![100, 180, 200]);
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    assert!(!h.played().is_empty(), "the flow runs after the ACK");
    assert_eq!(h.engine.answered_unjournaled(), 0);
}

#[test]
fn a_journaled_call_rings_at_once() {
    let mut h = held_harness();
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    let id = h.opened[0].id.clone();
    h.engine.journaled(h.now, &id);
    h.drain();
    assert_eq!(h.statuses(), vec![100, 180]);
    h.advance(Duration::from_secs(1));
    assert_eq!(
        h.statuses(),
        vec![100, 180, 200],
        "the answer is not held again"
    );
}

#[test]
fn after_the_hold_limit_the_call_is_answered_unjournaled_and_counted() {
    let mut h = held_harness();
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    h.advance(JOURNAL_HOLD_LIMIT - Duration::from_millis(1));
    assert_eq!(h.statuses(), vec![100]);
    h.advance(Duration::from_millis(1));
    assert_eq!(h.statuses(), vec![100, 180, 200]);
    assert_eq!(h.engine.answered_unjournaled(), 1);

    // A late acknowledgement changes nothing.
    let id = h.opened[0].id.clone();
    h.engine.journaled(h.now, &id);
    h.drain();
    assert_eq!(h.statuses(), vec![100, 180, 200]);
}

#[test]
fn cancel_while_held_gets_487_and_a_cancelled_record() {
    let mut h = held_harness();
    let mut caller = Caller::new(1);
    let invite = caller.invite(&offer("0"));
    h.sip(&invite);
    h.sip(&cancel_of(&invite));
    let id = h.opened[0].id.clone();
    h.engine.journaled(h.now, &id);
    h.advance(JOURNAL_HOLD_LIMIT);
    let mut statuses = h.statuses();
    statuses.dedup(); // the 487 is retransmitted until ACKed
    assert_eq!(
        statuses,
        vec![100, 200, 487],
        "CANCEL's 200, the INVITE's 487"
    );
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::Cancelled);
    assert_eq!(h.engine.answered_unjournaled(), 0, "nothing was answered");
}

#[test]
fn a_refusal_is_not_held() {
    let mut h = held_harness();
    h.engine.begin_drain();
    h.sip(&Caller::new(1).invite(&offer("0")));
    assert_eq!(h.statuses(), vec![100, 503]);
    assert_eq!(h.records[0].disposition, Disposition::Rejected);
}

#[test]
fn a_call_interrupted_while_its_answer_is_held_is_answered_then_hung_up_in_order() {
    let mut h = held_harness();
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    h.advance(Duration::from_secs(1));
    h.engine.interrupt_all(h.now);
    h.drain();
    assert_eq!(
        h.statuses(),
        vec![100],
        "the 200 and the BYE wait for the note"
    );
    let id = h.opened[0].id.clone();
    h.engine.journaled(h.now, &id);
    h.drain();
    assert_eq!(h.statuses(), vec![100, 180, 200]);
    // The SIP layer sends the BYE once the 200 is acknowledged (RFC 3261 §15).
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    assert!(
        h.sent.iter().any(|m| m.starts_with("BYE ")),
        "{:#?}",
        h.sent
    );
}
