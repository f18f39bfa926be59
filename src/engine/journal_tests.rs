//! The "call opened" notes the engine hands out for the crash journal.

use super::test_harness::*;

#[test]
fn an_arriving_call_is_noted_open_with_what_its_record_will_say() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    let open = h.engine.poll_opened().expect("the INVITE opens a call");
    assert!(h.engine.poll_opened().is_none(), "one note per call");
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
    assert!(h.engine.poll_opened().is_some());
    assert!(h.engine.poll_opened().is_none());
}
