//! Out-of-dialog requests, malformed input, statistics and randomised robustness.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn options_outside_a_dialog_gets_200_with_allow_accept_supported() {
    let mut h = Harness::new();
    let out = h.send(&out_of_dialog("OPTIONS", "o1"));
    let msg = text(&out[0]);
    assert_eq!(status(&out[0]), 200);
    assert_eq!(
        header(&msg, "Allow"),
        Some("INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, REFER, NOTIFY, PRACK")
    );
    assert_eq!(header(&msg, "Accept"), Some("application/sdp"));
    assert_eq!(header(&msg, "Supported"), Some("100rel"));
    assert_eq!(header(&msg, "Server"), Some("madoguchi-test"));
    assert_eq!(header(&msg, "Content-Length"), Some("0"));
    assert!(header(&msg, "To").unwrap().contains(";tag="));
    assert_eq!(h.ep.active_dialogs(), 0);
}

#[test]
fn unsupported_known_methods_get_405_with_allow() {
    for method in ["SUBSCRIBE", "PUBLISH", "MESSAGE", "UPDATE"] {
        let mut h = Harness::new();
        let out = h.send(&out_of_dialog(method, "m1"));
        assert_eq!(status(&out[0]), 405, "{method}");
        assert_eq!(
            header(&text(&out[0]), "Allow"),
            Some(crate::endpoint::ALLOW)
        );
    }
}

#[test]
fn unknown_method_gets_501_with_allow() {
    let mut h = Harness::new();
    let out = h.send(&out_of_dialog("FOO", "f1"));
    assert_eq!(status(&out[0]), 501);
    assert!(text(&out[0]).contains("CSeq: 1 FOO\r\n"));
    assert!(header(&text(&out[0]), "Allow").is_some());
}

#[test]
fn bye_info_and_reinvite_for_unknown_dialogs_get_481() {
    let mut h = Harness::new();
    assert_eq!(status(&h.send(&out_of_dialog("BYE", "b1"))[0]), 481);
    assert_eq!(status(&h.send(&out_of_dialog("INFO", "b0"))[0]), 481);
    assert_eq!(
        status(&h.send(&in_dialog("BYE", 2, "b2", "nosuchtag", ""))[0]),
        481
    );
    assert_eq!(
        status(&h.send(&in_dialog("INFO", 2, "b3", "nosuchtag", ""))[0]),
        481
    );
    assert_eq!(
        status(&h.send(&in_dialog("INVITE", 2, "b4", "nosuchtag", SDP))[0]),
        481
    );
    assert!(h.events().is_empty());
}

#[test]
fn stray_ack_is_dropped_silently() {
    let mut h = Harness::new();
    assert!(h
        .send(&in_dialog("ACK", 1, "a1", "nosuchtag", ""))
        .is_empty());
    assert_eq!(h.ep.stats().dropped, 1);
}

#[test]
fn stray_response_is_dropped_and_counted() {
    let mut h = Harness::new();
    let resp = response_to(&out_of_dialog("BYE", "zz"), "200 OK");
    assert!(h.send(&resp).is_empty());
    assert_eq!(h.ep.stats().responses_in.get(&200), Some(&1));
    assert_eq!(h.ep.stats().dropped, 1);
}

#[test]
fn responses_go_to_the_source_with_rport_and_received_filled() {
    let mut h = Harness::new();
    let nat: SocketAddr = "203.0.113.9:40001".parse().unwrap();
    let msg = out_of_dialog("OPTIONS", "n1").replace(
        "198.51.100.20:5060;branch=z9hG4bKn1",
        "10.0.0.5:5060;branch=z9hG4bKn1;rport",
    );
    let out = h.send_from(Transport::Udp, nat, &msg);
    assert_eq!(out[0].destination, nat);
    assert_eq!(
        header(&text(&out[0]), "Via"),
        Some("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKn1;received=203.0.113.9;rport=40001")
    );
}

#[test]
fn all_vias_are_copied_in_order() {
    let mut h = Harness::new();
    let msg = out_of_dialog("OPTIONS", "v1").replace(
        "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bKv1\r\n",
        "Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bKv1\r\nVia: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKorig\r\n",
    );
    let reply = text(&h.send(&msg)[0]);
    let first = reply.find("branch=z9hG4bKv1").unwrap();
    let second = reply.find("branch=z9hG4bKorig").unwrap();
    assert!(first < second);
}

#[test]
fn max_forwards_zero_gets_483() {
    let mut h = Harness::new();
    let out = h.send(&invite("mf", "").replace("Max-Forwards: 70", "Max-Forwards: 0"));
    assert_eq!(status(&out[0]), 483);
    assert!(h.events().is_empty());
}

#[test]
fn merged_request_with_another_branch_gets_482() {
    let mut h = Harness::new();
    h.incoming("");
    let out = h.send(&invite("forked", ""));
    assert_eq!(status(&out[0]), 482);
    assert!(h.events().is_empty());
}

#[test]
fn unsupported_require_gets_420_naming_only_the_unsupported_extension() {
    // 100rel is supported (RFC 3262, tests/prack.rs); timer (RFC 4028) is not.
    let mut h = Harness::new();
    let out = h.send(&invite("rq", "Require: 100rel, timer\r\n"));
    assert_eq!(status(&out[0]), 420);
    assert_eq!(header(&text(&out[0]), "Unsupported"), Some("timer"));
    assert!(h.events().is_empty());
}

#[test]
fn prack_outside_a_dialog_gets_481() {
    let mut h = Harness::new();
    let out = h.send(&out_of_dialog("PRACK", "p1"));
    assert_eq!(status(&out[0]), 481);
}

#[test]
fn non_sdp_invite_body_gets_415() {
    let mut h = Harness::new();
    let out = h.send(
        &invite("ct", "").replace("Content-Type: application/sdp", "Content-Type: text/plain"),
    );
    assert_eq!(status(&out[0]), 415);
    assert_eq!(header(&text(&out[0]), "Accept"), Some("application/sdp"));
}

#[test]
fn invite_without_contact_gets_400_naming_it() {
    let mut h = Harness::new();
    let out =
        h.send(&invite("nc", "").replace("Contact: <sip:0312345678@198.51.100.20:5060>\r\n", ""));
    assert!(text(&out[0]).starts_with("SIP/2.0 400 Bad Request - Missing Contact\r\n"));
}

#[test]
fn malformed_requests_get_400_with_a_reason_when_addressable() {
    let content_length = format!("Content-Length: {}", SDP.len());
    let cases = [
        ("CSeq: 1 INVITE", "CSeq: one INVITE", "Malformed CSeq"),
        ("CSeq: 1 INVITE", "CSeq: 1 BYE", "CSeq Method Mismatch"),
        ("Call-ID: call-1@198.51.100.20\r\n", "", "Missing Call-ID"),
        (
            content_length.as_str(),
            "Content-Length: 9999",
            "Bad Content-Length",
        ),
        (";branch=z9hG4bKbad", "", "Missing Via Branch"),
    ];
    for (find, replace, reason) in cases {
        let mut h = Harness::new();
        let bad = invite("bad", "").replacen(find, replace, 1);
        let out = h.send(&bad);
        assert_eq!(out.len(), 1, "{reason}");
        assert_eq!(status(&out[0]), 400);
        let status_line = text(&out[0]).lines().next().unwrap_or_default().to_owned();
        assert!(status_line.contains(reason), "{status_line}");
        assert_eq!(out[0].destination, peer());
        assert!(h.events().is_empty());
        assert_eq!(h.ep.stats().parse_errors, 1);
    }
}

#[test]
fn unaddressable_input_is_dropped_and_counted() {
    let mut h = Harness::new();
    let junk: Vec<u8> = (0..300u32)
        .map(|i| (i.wrapping_mul(97) % 256) as u8)
        .collect();
    h.ep.handle_input(h.now, Transport::Udp, peer(), &junk);
    let full = invite("tr", "");
    h.ep.handle_input(h.now, Transport::Udp, peer(), &full.as_bytes()[..40]);
    assert!(h.transmits().is_empty());
    assert_eq!(h.ep.stats().dropped, 2);
    assert_eq!(h.ep.stats().parse_errors, 2);
}

#[test]
fn malformed_ack_is_never_answered() {
    let mut h = Harness::new();
    let ack = in_dialog("ACK", 1, "a1", "t", "").replace("CSeq: 1 ACK", "CSeq: x ACK");
    assert!(h.send(&ack).is_empty());
    assert_eq!(h.ep.stats().dropped, 1);
}

#[test]
fn oversize_datagram_is_dropped() {
    let mut h = Harness::new();
    h.ep.config.max_message_size = 100;
    assert!(h.send(&invite("big", "")).is_empty());
    assert_eq!(h.ep.stats().dropped, 1);
}

#[test]
fn keepalive_crlf_is_ignored_without_counting_an_error() {
    let mut h = Harness::new();
    assert!(h.send("\r\n\r\n").is_empty());
    assert_eq!(h.ep.stats().parse_errors, 0);
}

#[test]
fn stats_count_messages_by_method_and_status() {
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("");
    h.send(&in_dialog("BYE", 2, "bye1", &tag, ""));
    let s = h.ep.stats();
    assert_eq!(s.requests_in.get("INVITE"), Some(&1));
    assert_eq!(s.requests_in.get("ACK"), Some(&1));
    assert_eq!(s.requests_in.get("BYE"), Some(&1));
    assert_eq!(s.responses_out.get(&100), Some(&1));
    assert_eq!(s.responses_out.get(&200), Some(&2));
}

/// Many concurrent calls share one timer heap: each unanswered 2xx times out once, and
/// nothing is left behind.
#[test]
fn five_hundred_concurrent_calls_time_out_independently() {
    let mut h = Harness::new();
    let mut legs = Vec::new();
    for i in 0..500 {
        h.send(&invite_call(
            &format!("c{i}@198.51.100.20"),
            &format!("b{i}"),
            "",
        ));
        let Some(SipEvent::IncomingCall { leg, .. }) = h.events().pop() else {
            panic!("call {i} not offered");
        };
        h.ep.accept(h.now, leg, ANSWER).unwrap();
        let tag = to_tag(&text(&h.transmits()[0]));
        legs.push((i, leg, tag));
    }
    for (i, _, tag) in legs.iter().filter(|(i, _, _)| i % 2 == 0) {
        let call_id = format!("c{i}@198.51.100.20");
        h.send(&in_dialog_call(
            &call_id,
            "ACK",
            1,
            &format!("a{i}"),
            tag,
            "",
        ));
    }
    let confirmed = h.events().len();
    assert_eq!(confirmed, 250);
    h.advance(40_000);
    let timed_out = h
        .events()
        .into_iter()
        .filter(|e| matches!(e, SipEvent::AckTimedOut { .. }))
        .count();
    assert_eq!(timed_out, 250);
    assert_eq!(h.ep.active_transactions(), 0);
    assert_eq!(h.ep.active_dialogs(), 500);
    assert_eq!(h.ep.poll_timeout(), None);
}

/// Property-style: thousands of seeded random mutations of a valid INVITE never panic, and
/// whatever goes out is addressed to the sender.
#[test]
fn random_mutations_of_an_invite_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut h = Harness::new();
    let mut offered = 0;
    for i in 0..3_000u32 {
        let rr = "Record-Route: <sip:198.51.100.1;lr>\r\n";
        let mut msg = invite_call(&format!("fz{i}@h"), &format!("fz{i}"), rr).into_bytes();
        for _ in 0..rng.gen_range(1..8) {
            if msg.is_empty() {
                break;
            }
            let pos = rng.gen_range(0..msg.len());
            match rng.gen_range(0..4) {
                0 => msg[pos] = rng.gen(),
                1 => {
                    msg.remove(pos);
                }
                2 => {
                    const SPECIALS: &[u8] = b",;:<>\"\r\n @=[";
                    msg.insert(pos, SPECIALS[rng.gen_range(0..SPECIALS.len())]);
                }
                _ => msg.truncate(pos),
            }
        }
        h.ep.handle_input(h.now, Transport::Udp, peer(), &msg);
        for t in h.transmits() {
            assert_eq!(t.destination, peer());
        }
        for e in h.events() {
            if let SipEvent::IncomingCall { leg, .. } = e {
                offered += 1;
                if i % 2 == 0 {
                    let _ = h.ep.accept(h.now, leg, ANSWER);
                } else {
                    let _ = h.ep.hangup(h.now, leg);
                }
            }
        }
        h.advance((i as u64 + 1) * 50);
    }
    assert!(
        offered > 100,
        "mutations should still reach the call path ({offered})"
    );
}

/// Random requests of every kind, including in-dialog ones, never panic.
#[test]
fn random_mutations_of_in_dialog_requests_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut h = Harness::new();
    let (_, tag) = h.confirmed("Record-Route: <sip:198.51.100.1;lr>\r\n");
    let bases = [
        in_dialog("BYE", 5, "x1", &tag, ""),
        in_dialog("INVITE", 6, "x2", &tag, SDP),
        in_dialog("ACK", 1, "x3", &tag, ""),
        cancel_like(),
        response_to(&in_dialog("BYE", 2, "x4", &tag, ""), "200 OK"),
    ];
    for i in 0..3_000usize {
        let mut msg = bases[i % bases.len()].clone().into_bytes();
        let pos = rng.gen_range(0..msg.len());
        msg[pos] = rng.gen();
        if rng.gen_bool(0.3) {
            msg.truncate(rng.gen_range(0..msg.len()));
        }
        h.ep.handle_input(h.now, Transport::Udp, peer(), &msg);
        h.transmits();
        h.events();
    }
}

fn cancel_like() -> String {
    out_of_dialog("CANCEL", "inv1")
}

#[test]
fn retransmitted_options_gets_the_same_200_from_its_transaction() {
    let mut h = Harness::new();
    let first = h.send(&out_of_dialog("OPTIONS", "r1"));
    let again = h.send(&out_of_dialog("OPTIONS", "r1"));
    assert_eq!(first[0].payload, again[0].payload);
    assert_eq!(h.ep.stats().retransmissions, 1);
    h.advance(32_000);
    assert_eq!(h.ep.active_transactions(), 0, "Timer J released it");
}

#[test]
fn framed_tcp_messages_drive_the_endpoint() {
    let mut h = Harness::new();
    let mut decoder = crate::StreamDecoder::default();
    let a = invite_call("t1@h", "t1", "").replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    let b = out_of_dialog("OPTIONS", "t2");
    let stream = format!("{a}\r\n\r\n{b}");
    let (first, second) = stream.as_bytes().split_at(a.len() / 2);
    let mut messages = Vec::new();
    for chunk in [first, second] {
        decoder.push(chunk);
        while let Ok(Some(item)) = decoder.next_item() {
            messages.push(item);
        }
    }
    assert_eq!(messages.len(), 3, "INVITE, keep-alive ping, OPTIONS");
    for item in messages {
        if let crate::StreamItem::Message(bytes) = item {
            h.ep.handle_input(h.now, Transport::Tcp, peer(), &bytes);
        }
    }
    let statuses: Vec<u16> = h.transmits().iter().map(status).collect();
    assert_eq!(statuses, vec![100, 200]);
}
