//! INVITE, CANCEL, BYE and re-INVITE flows of one leg.

use super::*;
use crate::{EndpointError, HangupOutcome};

#[test]
fn invite_gets_100_trying_at_once_and_an_incoming_call_event() {
    let mut h = Harness::new();
    let out = h.send(&invite("inv1", ""));
    assert_eq!(out.len(), 1);
    assert_eq!(status(&out[0]), 100);
    assert_eq!(out[0].destination, peer());
    assert!(header(&text(&out[0]), "To").is_some_and(|t| !t.contains("tag=")));
    match h.events().as_slice() {
        [SipEvent::IncomingCall {
            call_id,
            from_user,
            from_display,
            to_user,
            sdp,
            transport,
            source,
            ..
        }] => {
            assert_eq!(call_id, "call-1@198.51.100.20");
            assert_eq!(from_user, "0312345678");
            assert_eq!(from_display.as_deref(), Some("Sipp"));
            assert_eq!(to_user, "0120123456");
            assert_eq!(sdp.as_deref(), Some(SDP.as_bytes()));
            assert_eq!(*transport, Transport::Udp);
            assert_eq!(*source, peer());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.ep.active_dialogs(), 1);
}

#[test]
fn compact_form_invite_with_comma_joined_via_is_handled() {
    let mut h = Harness::new();
    let raw = with_body(
        "INVITE sip:0120123456@192.0.2.10 SIP/2.0\r\n\
v: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bKc1;rport, SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKup\r\n\
f: <sip:0312345678@198.51.100.20>;tag=ft9\r\nt: <sip:0120123456@192.0.2.10>\r\ni: compact@198.51.100.20\r\n\
CSeq: 5 INVITE\r\nm: <sip:0312345678@198.51.100.20>\r\nc: application/sdp\r\n",
        SDP,
    );
    let out = h.send(&raw);
    let trying = text(&out[0]);
    assert_eq!(status(&out[0]), 100);
    assert_eq!(trying.matches("Via: ").count(), 2, "{trying}");
    assert!(matches!(
        h.events().as_slice(),
        [SipEvent::IncomingCall { .. }]
    ));
}

#[test]
fn accept_retransmits_200_on_udp_at_half_one_two_four_four_seconds_until_ack() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let ok = h.transmits();
    assert_eq!(status(&ok[0]), 200);
    let msg = text(&ok[0]);
    assert!(msg.contains("Contact: <sip:192.0.2.10:5060>\r\n"));
    assert!(msg.contains("Content-Type: application/sdp\r\n"));
    assert!(msg.ends_with(std::str::from_utf8(ANSWER).unwrap()));
    let times: Vec<u64> = h
        .advance(12_000)
        .into_iter()
        .map(|(t, m)| {
            assert_eq!(m.payload, ok[0].payload);
            t
        })
        .collect();
    assert_eq!(times, vec![500, 1500, 3500, 7500, 11500]);
    h.send(&in_dialog("ACK", 1, "ack1", &to_tag(&msg), ""));
    assert_eq!(h.events(), vec![SipEvent::CallConfirmed { leg, sdp: None }]);
    assert!(h.advance(40_000).is_empty(), "ACK stops retransmissions");
    assert_eq!(h.ep.stats().retransmissions, 5);
}

#[test]
fn offerless_invite_gets_the_answer_from_the_ack() {
    let mut h = Harness::new();
    let no_offer = invite("inv1", "")
        .replace("Content-Type: application/sdp\r\n", "")
        .replace(
            &format!("Content-Length: {}\r\n\r\n{SDP}", SDP.len()),
            "Content-Length: 0\r\n\r\n",
        );
    h.send(&no_offer);
    let leg = match h.events().as_slice() {
        [SipEvent::IncomingCall { leg, sdp: None, .. }] => *leg,
        other => panic!("{other:?}"),
    };
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    h.send(&in_dialog("ACK", 1, "ack1", &tag, SDP));
    assert_eq!(
        h.events(),
        vec![SipEvent::CallConfirmed {
            leg,
            sdp: Some(SDP.as_bytes().to_vec())
        }]
    );
}

#[test]
fn tcp_200_is_not_retransmitted() {
    let mut h = Harness::new();
    h.send_from(
        Transport::Tcp,
        peer(),
        &invite("tcp1", "").replace("SIP/2.0/UDP", "SIP/2.0/TCP"),
    );
    let leg = match h.events().as_slice() {
        [SipEvent::IncomingCall {
            leg,
            transport: Transport::Tcp,
            ..
        }] => *leg,
        other => panic!("{other:?}"),
    };
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let ok = h.transmits();
    assert!(text(&ok[0]).contains("Contact: <sip:192.0.2.10:5060;transport=tcp>"));
    assert_eq!(ok[0].transport, Transport::Tcp);
    assert!(h.advance(40_000).is_empty());
    assert_eq!(h.events(), vec![SipEvent::AckTimedOut { leg }]);
}

#[test]
fn tcp_bye_reuses_the_connection_the_call_came_on() {
    let mut h = Harness::new();
    let conn: SocketAddr = "198.51.100.20:49152".parse().unwrap();
    h.send_from(
        Transport::Tcp,
        conn,
        &invite("tcp1", "").replace("SIP/2.0/UDP", "SIP/2.0/TCP"),
    );
    let Some(SipEvent::IncomingCall { leg, .. }) = h.events().pop() else {
        panic!("no call");
    };
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    h.send_from(Transport::Tcp, conn, &in_dialog("ACK", 1, "ack1", &tag, ""));
    h.ep.hangup(h.now, leg).unwrap();
    let bye = h.transmits();
    assert_eq!(
        (bye[0].transport, bye[0].destination),
        (Transport::Tcp, conn)
    );
    assert!(header(&text(&bye[0]), "Via")
        .unwrap()
        .starts_with("SIP/2.0/TCP "));
}

#[test]
fn missing_ack_reports_ack_timed_out_after_32_seconds() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    h.transmits();
    h.advance(31_999);
    assert!(h.events().is_empty());
    h.advance(32_000);
    assert_eq!(h.events(), vec![SipEvent::AckTimedOut { leg }]);
    // The TU hangs up: a BYE is allowed now (§15).
    h.ep.hangup(h.now, leg).unwrap();
    assert!(text(&h.transmits()[0]).starts_with("BYE "));
}

#[test]
fn invite_retransmission_resends_last_response_without_a_second_event() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    let ringing = h.transmits();
    assert_eq!(status(&ringing[0]), 180);
    let again = h.send(&invite("inv1", ""));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, ringing[0].payload);
    assert!(h.events().is_empty());
    assert_eq!(h.ep.active_dialogs(), 1);
}

fn cancel_for_inv1() -> String {
    let cancel = invite("inv1", "")
        .replacen("INVITE sip", "CANCEL sip", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL")
        .replace("Content-Type: application/sdp\r\n", "");
    let head = cancel.split("Content-Length").next().unwrap_or_default();
    format!("{head}Content-Length: 0\r\n\r\n")
}

#[test]
fn cancel_sends_200_and_487_and_the_ack_for_487_is_absorbed() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    let early = h.transmits();
    let tag = to_tag(&text(&early[0]));
    let out = h.send(&cancel_for_inv1());
    let statuses: Vec<u16> = out.iter().map(status).collect();
    assert_eq!(statuses, vec![200, 487]);
    assert!(text(&out[0]).contains("CSeq: 1 CANCEL"));
    assert!(text(&out[1]).contains("CSeq: 1 INVITE"));
    assert_eq!(
        to_tag(&text(&out[1])),
        tag,
        "487 keeps the early dialog's tag"
    );
    assert_eq!(
        h.events(),
        vec![
            SipEvent::CallCancelled { leg },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert_eq!(
        h.ep.accept(h.now, leg, ANSWER),
        Err(EndpointError::UnknownLeg(leg))
    );
    // The ACK for the 487 reuses the INVITE's branch (§17.1.1.3).
    let ack = in_dialog("ACK", 1, "inv1;rport", &tag, "");
    assert!(h.send(&ack).is_empty());
    assert!(
        h.advance(1_000).is_empty(),
        "no 487 retransmission after ACK"
    );
    h.advance(40_000);
    assert_eq!(h.ep.active_transactions(), 0);
}

#[test]
fn cancel_for_unknown_transaction_gets_481() {
    let mut h = Harness::new();
    let out = h.send(&out_of_dialog("CANCEL", "nope"));
    assert_eq!(status(&out[0]), 481);
}

#[test]
fn cancel_after_answer_only_gets_200() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    h.transmits();
    let out = h.send(&cancel_for_inv1());
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![200]);
    assert!(h.events().is_empty());
}

#[test]
fn reject_488_is_retransmitted_with_timer_g_until_ack() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.reject(h.now, leg, 488, None).unwrap();
    let out = h.transmits();
    assert_eq!(status(&out[0]), 488);
    assert!(text(&out[0]).starts_with("SIP/2.0 488 Not Acceptable Here\r\n"));
    assert_eq!(h.events(), vec![SipEvent::LegTerminated { leg }]);
    let times: Vec<u64> = h.advance(4_000).into_iter().map(|(t, _)| t).collect();
    assert_eq!(times, vec![500, 1500, 3500]);
    let tag = to_tag(&text(&out[0]));
    assert!(h
        .send(&in_dialog("ACK", 1, "inv1;rport", &tag, ""))
        .is_empty());
    assert!(h.advance(40_000).is_empty());
    assert_eq!(h.ep.active_transactions(), 0);
}

#[test]
fn reject_without_ack_gives_up_at_timer_h() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.reject_with_headers(h.now, leg, 503, None, &[("Retry-After", "60")])
        .unwrap();
    let out = h.transmits();
    assert!(text(&out[0]).contains("Retry-After: 60\r\n"));
    let times: Vec<u64> = h.advance(40_000).into_iter().map(|(t, _)| t).collect();
    assert_eq!(times.last(), Some(&31_500));
    assert_eq!(h.ep.active_transactions(), 0);
}

#[test]
fn reject_with_custom_reason_phrase() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.reject(h.now, leg, 486, Some("Operators Busy"))
        .unwrap();
    assert!(text(&h.transmits()[0]).starts_with("SIP/2.0 486 Operators Busy\r\n"));
}

#[test]
fn remote_bye_gets_200_and_a_remote_hangup_event() {
    let mut h = Harness::new();
    let (leg, tag) = h.confirmed("");
    let out = h.send(&in_dialog("BYE", 2, "bye1", &tag, ""));
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![200]);
    assert!(text(&out[0]).contains("CSeq: 2 BYE"));
    assert_eq!(
        h.events(),
        vec![
            SipEvent::RemoteHangup { leg },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert_eq!(h.ep.active_dialogs(), 0);
    // A retransmitted BYE is answered from its transaction.
    let again = h.send(&in_dialog("BYE", 2, "bye1", &tag, ""));
    assert_eq!(again.iter().map(status).collect::<Vec<_>>(), vec![200]);
    assert!(h.events().is_empty());
}

#[test]
fn hangup_sends_bye_with_dialog_headers_retransmitted_until_200() {
    let mut h = Harness::new();
    let (leg, tag) = h.confirmed("Record-Route: <sip:198.51.100.1;lr>\r\n");
    h.ep.hangup(h.now, leg).unwrap();
    let out = h.transmits();
    let bye = text(&out[0]);
    assert!(
        bye.starts_with("BYE sip:0312345678@198.51.100.20:5060 SIP/2.0\r\n"),
        "{bye}"
    );
    assert_eq!(
        out[0].destination,
        "198.51.100.1:5060".parse::<SocketAddr>().unwrap(),
        "first Route is the next hop"
    );
    assert_eq!(header(&bye, "CSeq"), Some("2 BYE"));
    assert_eq!(header(&bye, "Route"), Some("<sip:198.51.100.1;lr>"));
    assert_eq!(
        header(&bye, "From"),
        Some(format!("<sip:0120123456@192.0.2.10:5060>;tag={tag}").as_str())
    );
    assert_eq!(
        header(&bye, "To"),
        Some("\"Sipp\" <sip:0312345678@198.51.100.20:5060>;tag=ft1")
    );
    assert_eq!(header(&bye, "Call-ID"), Some("call-1@198.51.100.20"));
    assert!(header(&bye, "Via")
        .unwrap()
        .starts_with("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK"));
    let retrans: Vec<u64> = h.advance(2_000).into_iter().map(|(t, _)| t).collect();
    assert_eq!(retrans, vec![500, 1500]);
    h.send(&response_to(&bye, "200 OK"));
    assert_eq!(
        h.events(),
        vec![
            SipEvent::HangupCompleted {
                leg,
                outcome: HangupOutcome::Completed { status: 200 }
            },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert!(h.advance(10_000).is_empty());
    assert_eq!(h.ep.hangup(h.now, leg), Err(EndpointError::UnknownLeg(leg)));
}

#[test]
fn bye_without_answer_times_out_with_timer_f_at_32_seconds() {
    let mut h = Harness::new();
    let (leg, _) = h.confirmed("");
    h.ep.hangup(h.now, leg).unwrap();
    assert_eq!(
        h.transmits()[0].destination,
        peer(),
        "remote target is the Contact"
    );
    assert_eq!(
        h.ep.hangup(h.now, leg),
        Err(EndpointError::InvalidState(leg))
    );
    h.advance(31_999);
    assert!(h.events().is_empty());
    h.advance(32_000);
    assert_eq!(
        h.events(),
        vec![
            SipEvent::HangupCompleted {
                leg,
                outcome: HangupOutcome::TimedOut
            },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn hangup_before_answer_rejects_with_480() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.hangup(h.now, leg).unwrap();
    assert_eq!(status(&h.transmits()[0]), 480);
    assert_eq!(h.events(), vec![SipEvent::LegTerminated { leg }]);
}

#[test]
fn hangup_before_ack_waits_for_the_ack() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    h.ep.hangup(h.now, leg).unwrap();
    assert!(h.transmits().is_empty(), "no BYE before the ACK (§15)");
    let out = h.send(&in_dialog("ACK", 1, "ack1", &tag, ""));
    assert!(text(&out[0]).starts_with("BYE "));
}

#[test]
fn hangup_before_ack_sends_bye_when_the_ack_never_comes() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    h.transmits();
    h.ep.hangup(h.now, leg).unwrap();
    let out = h.advance(32_000);
    assert!(text(&out.last().unwrap().1).starts_with("BYE "));
    assert!(
        h.events().is_empty(),
        "no AckTimedOut: the TU already hung up"
    );
}

#[test]
fn reinvite_for_hold_is_an_event_and_answer_sends_200() {
    let mut h = Harness::new();
    let (leg, tag) = h.confirmed("");
    let hold = SDP.replace("a=sendrecv", "a=sendonly");
    let out = h.send(&in_dialog("INVITE", 2, "re1", &tag, &hold));
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![100]);
    let request = match h.events().as_slice() {
        [SipEvent::ReInvite {
            leg: l,
            request,
            sdp: Some(sdp),
        }] if *l == leg => {
            assert!(String::from_utf8_lossy(sdp).contains("a=sendonly"));
            *request
        }
        other => panic!("{other:?}"),
    };
    // A second re-INVITE while the first is pending → 491.
    let glare = h.send(&in_dialog("INVITE", 3, "re2", &tag, &hold));
    assert_eq!(status(&glare[0]), 491);
    assert!(
        h.send(&in_dialog("ACK", 3, "re2", &tag, "")).is_empty(),
        "ACK for 491 absorbed"
    );
    h.ep.answer_reinvite(h.now, leg, request, Ok(b"v=0\r\na=recvonly\r\n"))
        .unwrap();
    let ok = h.transmits();
    assert_eq!(status(&ok[0]), 200);
    assert!(text(&ok[0]).contains("CSeq: 2 INVITE"));
    assert!(text(&ok[0]).ends_with("a=recvonly\r\n"));
    h.send(&in_dialog("ACK", 2, "reack", &tag, ""));
    assert!(
        h.advance(40_000).is_empty(),
        "ACK stopped the re-INVITE 200"
    );
    assert!(h.events().is_empty());
    assert_eq!(
        h.ep.answer_reinvite(h.now, leg, request, Ok(b"")),
        Err(EndpointError::UnknownReInvite(request))
    );
}

#[test]
fn ack_with_the_answer_to_an_offerless_reinvite_is_an_event() {
    let mut h = Harness::new();
    let (leg, tag) = h.confirmed("");
    h.send(&in_dialog("INVITE", 2, "re1", &tag, ""));
    let request = match h.events().as_slice() {
        [SipEvent::ReInvite {
            request, sdp: None, ..
        }] => *request,
        other => panic!("{other:?}"),
    };
    h.ep.answer_reinvite(h.now, leg, request, Ok(SDP.as_bytes()))
        .unwrap();
    h.transmits();
    h.send(&in_dialog("ACK", 2, "reack", &tag, SDP));
    match h.events().as_slice() {
        [SipEvent::ReInviteAnswered { leg: l, sdp }] if *l == leg => {
            assert_eq!(sdp.as_slice(), SDP.as_bytes());
        }
        other => panic!("{other:?}"),
    }
    h.send(&in_dialog("ACK", 2, "reack", &tag, SDP));
    assert!(h.events().is_empty(), "a retransmitted ACK raises nothing");
}

#[test]
fn reinvite_can_be_refused_and_the_call_continues() {
    let mut h = Harness::new();
    let (leg, tag) = h.confirmed("");
    h.send(&in_dialog("INVITE", 2, "re1", &tag, SDP));
    let Some(SipEvent::ReInvite { request, .. }) = h.events().pop() else {
        panic!("no re-INVITE event");
    };
    h.ep.answer_reinvite(h.now, leg, request, Err(488)).unwrap();
    assert_eq!(status(&h.transmits()[0]), 488);
    assert_eq!(h.ep.active_dialogs(), 1);
    h.ep.hangup(h.now, leg).unwrap();
    assert!(text(&h.transmits()[0]).contains("CSeq: 2 BYE"));
}

#[test]
fn reinvite_before_the_ack_gets_500_with_retry_after() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    let out = h.send(&in_dialog("INVITE", 2, "re1", &tag, SDP));
    assert_eq!(status(&out[0]), 500);
    assert!(header(&text(&out[0]), "Retry-After").is_some());
}

#[test]
fn in_dialog_info_and_options_get_200_and_update_405() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    assert_eq!(
        status(&h.send(&in_dialog("INFO", 2, "i1", &tag, ""))[0]),
        200
    );
    assert_eq!(
        status(&h.send(&in_dialog("OPTIONS", 3, "o1", &tag, ""))[0]),
        200
    );
    assert_eq!(
        status(&h.send(&in_dialog("UPDATE", 4, "u1", &tag, ""))[0]),
        405
    );
}

#[test]
fn in_dialog_request_with_old_cseq_gets_500() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    assert_eq!(
        status(&h.send(&in_dialog("INFO", 1, "i1", &tag, ""))[0]),
        500
    );
}

#[test]
fn all_state_is_released_after_a_full_call() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    h.send(&in_dialog("BYE", 2, "bye1", &tag, ""));
    h.events();
    h.advance(70_000);
    assert_eq!(h.ep.active_transactions(), 0);
    assert_eq!(h.ep.active_dialogs(), 0);
    assert_eq!(h.ep.poll_timeout(), None);
}

#[test]
fn commands_on_wrong_states_are_refused() {
    let mut h = Harness::new();
    let (leg, _) = h.confirmed("");
    assert_eq!(
        h.ep.accept(h.now, leg, ANSWER),
        Err(EndpointError::InvalidState(leg))
    );
    assert_eq!(
        h.ep.reject(h.now, leg, 486, None),
        Err(EndpointError::InvalidState(leg))
    );
    assert_eq!(
        h.ep.send_provisional(h.now, leg, 180, None),
        Err(EndpointError::InvalidState(leg))
    );
    assert_eq!(
        h.ep.reject(h.now, LegId(999), 486, None),
        Err(EndpointError::UnknownLeg(LegId(999)))
    );
    let mut h2 = Harness::new();
    let l = h2.incoming("");
    assert_eq!(
        h2.ep.reject(h2.now, l, 200, None),
        Err(EndpointError::InvalidStatus(200))
    );
    assert_eq!(
        h2.ep.send_provisional(h2.now, l, 200, None),
        Err(EndpointError::InvalidStatus(200))
    );
}

#[test]
fn tags_and_branches_are_reproducible_from_the_seed() {
    let run = || {
        let mut h = Harness::new();
        let leg = h.incoming("");
        h.ep.accept(h.now, leg, ANSWER).unwrap();
        to_tag(&text(&h.transmits()[0]))
    };
    assert_eq!(run(), run());
}

#[test]
fn bye_in_an_early_dialog_ends_the_invite_with_487() {
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    let tag = to_tag(&text(&h.transmits()[0]));
    let out = h.send(&in_dialog("BYE", 2, "eb1", &tag, ""));
    let got: Vec<(u16, String)> = out
        .iter()
        .map(|t| {
            (
                status(t),
                header(&text(t), "CSeq").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(200, "2 BYE".to_owned()), (487, "1 INVITE".to_owned())]
    );
    assert_eq!(
        h.events(),
        vec![
            SipEvent::RemoteHangup { leg },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn cancel_of_a_reinvite_answers_it_with_487_and_keeps_the_call() {
    let mut h = Harness::new();
    let (leg, tag) = h.confirmed("");
    h.send(&in_dialog("INVITE", 2, "re1", &tag, SDP));
    let Some(SipEvent::ReInvite { request, .. }) = h.events().pop() else {
        panic!("no re-INVITE event");
    };
    let cancel = in_dialog("CANCEL", 2, "re1", &tag, "");
    let out = h.send(&cancel);
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![200, 487]);
    assert!(h.events().is_empty());
    assert_eq!(h.ep.active_dialogs(), 1);
    assert_eq!(
        h.ep.answer_reinvite(h.now, leg, request, Ok(ANSWER)),
        Err(EndpointError::UnknownReInvite(request))
    );
}

#[test]
fn per_call_state_stays_small() {
    // 2,000 calls at < 100 KiB each: the fixed part of a leg and a transaction is tiny; the
    // variable part is a handful of header strings and the last response.
    assert!(std::mem::size_of::<crate::endpoint::Leg>() < 1024);
    assert!(std::mem::size_of::<crate::endpoint::ServerTx>() < 512);
}

#[test]
fn endpoint_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<crate::Endpoint>();
}

#[test]
fn record_route_is_reflected_in_the_200_and_ringing_but_not_the_100() {
    let mut h = Harness::new();
    let rr = "Record-Route: <sip:198.51.100.1;lr>\r\nRecord-Route: <sip:198.51.100.2;lr>\r\n";
    let trying = h.send(&invite("inv1", rr));
    assert!(!text(&trying[0]).contains("Record-Route"));
    let Some(SipEvent::IncomingCall { leg, .. }) = h.events().pop() else {
        panic!("no call");
    };
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    for t in h.transmits() {
        assert!(
            text(&t).contains(rr),
            "route set missing or reordered: {}",
            text(&t)
        );
    }
}

#[test]
fn an_invites_extension_headers_come_with_its_incoming_call() {
    let mut h = Harness::new();
    h.send(&invite(
        "xh1",
        "X-Madoguchi-Peer: node-a\r\nx-madoguchi-queue:  desk \r\nSubject: not one\r\n",
    ));
    match h.events().as_slice() {
        [SipEvent::IncomingCall { headers, .. }] => assert_eq!(
            headers,
            &[
                ("X-Madoguchi-Peer".to_owned(), "node-a".to_owned()),
                ("x-madoguchi-queue".to_owned(), "desk".to_owned()),
            ]
        ),
        other => panic!("{other:?}"),
    }
}
