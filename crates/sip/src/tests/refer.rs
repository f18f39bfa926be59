//! Blind transfer by REFER (RFC 3515) on incoming and placed legs, and the NOTIFYs we send.

use super::uac::{from_phone, phone, PHONE_TAG};
use super::*;
use crate::{EndpointError, ReferId};

const CITY: &str =
    "Refer-To: <sip:city@198.51.100.7:5080>\r\nReferred-By: <sip:op1@198.51.100.20>\r\n";

/// A REFER from the caller of an incoming leg (our tag in To), with `headers`.
fn refer(cseq: u32, branch: &str, our_tag: &str, headers: &str) -> String {
    in_dialog("REFER", cseq, branch, our_tag, "").replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: 70\r\n{headers}"),
    )
}

/// An incoming leg, confirmed, with a REFER to the city line received; returns the leg, our
/// tag and the REFER id.
fn referred(h: &mut Harness) -> (LegId, String, ReferId) {
    let (leg, tag) = h.confirmed("");
    let out = h.send(&refer(2, "rf1", &tag, CITY));
    assert!(out.is_empty(), "the TU answers");
    match h.events().as_slice() {
        [SipEvent::Refer {
            leg: l,
            refer,
            refer_to,
            referred_by,
        }] if *l == leg => {
            assert_eq!(refer_to, "sip:city@198.51.100.7:5080");
            assert_eq!(referred_by.as_deref(), Some("sip:op1@198.51.100.20"));
            (leg, tag, *refer)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn refer_is_an_event_and_answer_refer_sends_202_accepted() {
    let mut h = Harness::new();
    let (leg, tag, refer_id) = referred(&mut h);
    h.ep.answer_refer(h.now, leg, refer_id, 202).unwrap();
    let out = h.transmits();
    let msg = text(&out[0]);
    assert!(msg.starts_with("SIP/2.0 202 Accepted\r\n"), "{msg}");
    assert_eq!(header(&msg, "CSeq"), Some("2 REFER"));
    assert_eq!(to_tag(&msg), tag);
    assert!(header(&msg, "Contact").is_some());
    assert_eq!(out[0].destination, peer());
    assert_eq!(
        h.ep.answer_refer(h.now, leg, refer_id, 202),
        Err(EndpointError::UnknownRefer(refer_id))
    );
    // A retransmitted REFER gets the 202 again, without a second event.
    let again = h.send(&refer(2, "rf1", &tag, CITY));
    assert_eq!(again[0].payload, out[0].payload);
    assert!(h.events().is_empty());
}

#[test]
fn notify_reports_the_transfer_as_sipfrag_in_the_dialog() {
    let mut h = Harness::new();
    let (leg, tag, refer_id) = referred(&mut h);
    h.ep.answer_refer(h.now, leg, refer_id, 202).unwrap();
    h.transmits();
    h.ep.notify_refer(h.now, leg, 100, false).unwrap();
    let out = h.transmits();
    let notify = text(&out[0]);
    assert!(
        notify.starts_with("NOTIFY sip:0312345678@198.51.100.20:5060 SIP/2.0\r\n"),
        "{notify}"
    );
    assert_eq!(out[0].destination, peer());
    assert_eq!(header(&notify, "Event"), Some("refer"));
    assert_eq!(
        header(&notify, "Subscription-State"),
        Some("active;expires=60")
    );
    assert_eq!(
        header(&notify, "Content-Type"),
        Some("message/sipfrag;version=2.0")
    );
    assert_eq!(header(&notify, "CSeq"), Some("2 NOTIFY"));
    assert_eq!(
        header(&notify, "From"),
        Some(format!("<sip:0120123456@192.0.2.10:5060>;tag={tag}").as_str())
    );
    assert!(header(&notify, "To").unwrap().ends_with(";tag=ft1"));
    assert!(header(&notify, "Contact").is_some());
    assert!(notify.ends_with("\r\n\r\nSIP/2.0 100 Trying\r\n"));
    h.send(&response_to(&notify, "200 OK"));

    h.ep.notify_refer(h.now, leg, 200, true).unwrap();
    let last = text(&h.transmits()[0]);
    assert_eq!(header(&last, "CSeq"), Some("3 NOTIFY"));
    assert_eq!(
        header(&last, "Subscription-State"),
        Some("terminated;reason=noresource")
    );
    assert!(last.ends_with("\r\n\r\nSIP/2.0 200 OK\r\n"));
    assert_eq!(
        h.ep.notify_refer(h.now, leg, 200, true),
        Err(EndpointError::InvalidState(leg)),
        "the subscription is over"
    );
    assert!(h.events().is_empty(), "NOTIFY responses raise nothing");
}

#[test]
fn refer_on_a_placed_leg_works_the_same_way() {
    let mut h = Harness::new();
    let (leg, invite, _) = h.answered();
    let msg = from_phone(&invite, "REFER", 1, "rf1", "").replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRefer-To: sip:city@198.51.100.7\r\n",
    );
    h.send_from(Transport::Udp, phone(), &msg);
    let refer_id = match h.events().as_slice() {
        [SipEvent::Refer {
            leg: l,
            refer,
            refer_to,
            referred_by: None,
        }] if *l == leg && refer_to == "sip:city@198.51.100.7" => *refer,
        other => panic!("{other:?}"),
    };
    h.ep.answer_refer(h.now, leg, refer_id, 202).unwrap();
    let accepted = text(&h.transmits()[0]);
    assert_eq!(
        header(&accepted, "Contact"),
        Some("<sip:madoguchi@192.0.2.10:5060>")
    );
    h.ep.notify_refer(h.now, leg, 100, false).unwrap();
    let out = h.transmits();
    let notify = text(&out[0]);
    assert!(notify.starts_with("NOTIFY sip:op1@198.51.100.30:5070 SIP/2.0\r\n"));
    assert_eq!(out[0].destination, phone());
    assert_eq!(
        header(&notify, "From"),
        header(&invite, "From"),
        "From = us on a placed leg"
    );
    assert!(header(&notify, "To")
        .unwrap()
        .ends_with(&format!(";tag={PHONE_TAG}")));
    assert_eq!(
        header(&notify, "CSeq"),
        Some("2 NOTIFY"),
        "after INVITE CSeq 1"
    );
}

#[test]
fn refer_without_refer_to_gets_400_from_the_endpoint() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    let out = h.send(&refer(2, "rf1", &tag, ""));
    assert_eq!(status(&out[0]), 400);
    assert!(text(&out[0]).starts_with("SIP/2.0 400 Bad Request - Missing Refer-To\r\n"));
    assert!(h.events().is_empty());
}

#[test]
fn refer_with_two_targets_gets_400() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    let two = "Refer-To: <sip:a@198.51.100.7>\r\nRefer-To: <sip:b@198.51.100.7>\r\n";
    assert_eq!(status(&h.send(&refer(2, "rf1", &tag, two))[0]), 400);
    assert!(h.events().is_empty());
}

#[test]
fn compact_refer_to_is_understood() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    h.send(&refer(2, "rf1", &tag, "r: <sip:city@198.51.100.7>\r\n"));
    assert!(matches!(
        h.events().as_slice(),
        [SipEvent::Refer { refer_to, .. }] if refer_to == "sip:city@198.51.100.7"
    ));
}

#[test]
fn refused_refer_gets_its_status_and_no_subscription() {
    let mut h = Harness::new();
    let (leg, _, refer_id) = referred(&mut h);
    h.ep.answer_refer(h.now, leg, refer_id, 603).unwrap();
    assert_eq!(status(&h.transmits()[0]), 603);
    assert_eq!(
        h.ep.notify_refer(h.now, leg, 100, false),
        Err(EndpointError::InvalidState(leg))
    );
}

#[test]
fn answer_refer_refuses_provisional_statuses() {
    let mut h = Harness::new();
    let (leg, _, refer_id) = referred(&mut h);
    assert_eq!(
        h.ep.answer_refer(h.now, leg, refer_id, 100),
        Err(EndpointError::InvalidStatus(100))
    );
}

#[test]
fn second_refer_while_the_first_is_subscribed_gets_491() {
    let mut h = Harness::new();
    let (leg, tag, refer_id) = referred(&mut h);
    assert_eq!(status(&h.send(&refer(3, "rf2", &tag, CITY))[0]), 491);
    h.ep.answer_refer(h.now, leg, refer_id, 202).unwrap();
    h.transmits();
    assert_eq!(status(&h.send(&refer(4, "rf3", &tag, CITY))[0]), 491);
}

#[test]
fn later_accepted_refer_notifies_with_an_event_id() {
    let mut h = Harness::new();
    let (leg, tag, refer_id) = referred(&mut h);
    h.ep.answer_refer(h.now, leg, refer_id, 202).unwrap();
    h.ep.notify_refer(h.now, leg, 503, true).unwrap();
    h.transmits();
    h.send(&refer(5, "rf2", &tag, CITY));
    let Some(SipEvent::Refer { refer, .. }) = h.events().pop() else {
        panic!("no second REFER");
    };
    h.ep.answer_refer(h.now, leg, refer, 202).unwrap();
    h.ep.notify_refer(h.now, leg, 100, false).unwrap();
    let out = h.transmits();
    assert_eq!(header(&text(&out[1]), "Event"), Some("refer;id=5"));
}

#[test]
fn notify_answered_481_drops_the_subscription() {
    let mut h = Harness::new();
    let (leg, _, refer_id) = referred(&mut h);
    h.ep.answer_refer(h.now, leg, refer_id, 202).unwrap();
    h.transmits();
    h.ep.notify_refer(h.now, leg, 100, false).unwrap();
    let notify = text(&h.transmits()[0]);
    h.send(&response_to(&notify, "481 Call/Transaction Does Not Exist"));
    assert!(h.events().is_empty());
    assert_eq!(
        h.ep.notify_refer(h.now, leg, 200, true),
        Err(EndpointError::InvalidState(leg))
    );
    assert_eq!(h.ep.active_dialogs(), 1, "the call itself goes on");
}

#[test]
fn refer_before_the_call_is_confirmed_gets_403() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    assert_eq!(status(&h.send(&refer(2, "rf1", &tag, CITY))[0]), 403);
    assert!(h.events().is_empty());
}

#[test]
fn refer_and_notify_outside_a_dialog_are_refused() {
    let mut h = Harness::new();
    assert_eq!(status(&h.send(&out_of_dialog("REFER", "r0"))[0]), 403);
    assert_eq!(status(&h.send(&out_of_dialog("NOTIFY", "n0"))[0]), 481);
    assert!(h.events().is_empty());
}

#[test]
fn notify_inside_a_dialog_gets_200() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    assert_eq!(
        status(&h.send(&in_dialog("NOTIFY", 2, "n1", &tag, ""))[0]),
        200
    );
}

#[test]
fn remote_bye_answers_a_pending_refer_with_487() {
    let mut h = Harness::new();
    let (leg, tag, refer_id) = referred(&mut h);
    let out = h.send(&in_dialog("BYE", 3, "bye1", &tag, ""));
    let got: Vec<(u16, String)> = out
        .iter()
        .map(|t| {
            (
                status(t),
                header(&text(t), "CSeq").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, vec![(200, "3 BYE".into()), (487, "2 REFER".into())]);
    assert_eq!(
        h.ep.answer_refer(h.now, leg, refer_id, 202),
        Err(EndpointError::UnknownLeg(leg))
    );
    h.advance(70_000);
    assert_eq!(h.ep.active_transactions(), 0);
}

#[test]
fn notify_refer_needs_an_accepted_refer() {
    let mut h = Harness::new();
    let (leg, _) = h.confirmed("");
    assert_eq!(
        h.ep.notify_refer(h.now, leg, 100, false),
        Err(EndpointError::InvalidState(leg))
    );
    assert_eq!(
        h.ep.notify_refer(h.now, LegId(999), 100, false),
        Err(EndpointError::UnknownLeg(LegId(999)))
    );
}

#[test]
fn refer_asks_the_far_side_of_a_confirmed_leg_to_transfer_it() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    assert_eq!(
        h.ep.refer(h.now, leg, "sip:city_line@192.0.2.10:5060"),
        Err(EndpointError::InvalidState(leg))
    );
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    h.send(&in_dialog("ACK", 1, "ack1", &tag, ""));
    h.events();

    h.ep.refer(h.now, leg, "sip:city_line@192.0.2.10:5060")
        .unwrap();
    let out = h.transmits();
    assert_eq!(out.len(), 1);
    let msg = text(&out[0]);
    assert!(
        msg.starts_with("REFER sip:0312345678@198.51.100.20:5060 SIP/2.0\r\n"),
        "{msg}"
    );
    assert_eq!(
        header(&msg, "Refer-To"),
        Some("<sip:city_line@192.0.2.10:5060>")
    );
    assert_eq!(out[0].destination, peer());
    // Its 202 raises no event: the far side ends the dialog once it transferred the call.
    h.send(&response_to(&msg, "202 Accepted"));
    assert!(h.events().is_empty());
}
