//! Calls we place: the INVITE, its responses, CANCEL, authentication and the confirmed leg.
//! The far end (an operator's phone at 198.51.100.30:5070) is played by hand-written texts.

use super::*;
use crate::digest::{self, Challenger, DigestAlgorithm, Verdict};
use crate::{EndpointError, HangupOutcome, OutboundCall};

pub(super) const PHONE_TAG: &str = "ph1";

pub(super) fn phone() -> SocketAddr {
    "198.51.100.30:5070".parse().unwrap()
}

pub(super) fn call() -> OutboundCall {
    OutboundCall {
        request_uri: "sip:op1@198.51.100.30:5070".into(),
        destination: phone(),
        transport: Transport::Udp,
        from_user: "0312345678".into(),
        from_display: Some("Sipp".into()),
        extra_headers: vec![
            (
                "P-Asserted-Identity".into(),
                "<sip:0312345678@192.0.2.10>".into(),
            ),
            ("X-Madoguchi-Call-Id".into(), "42".into()),
        ],
        sdp: ANSWER.to_vec(),
        credentials: None,
    }
}

/// A response of the far end to `request`: its Via, From, Call-ID and CSeq, its To with
/// `to_tag`, then `extra` header lines and an optional SDP body.
pub(super) fn answer(
    request: &str,
    status: &str,
    to_tag: Option<&str>,
    extra: &str,
    sdp: &str,
) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if ["via:", "from:", "call-id:", "cseq:"]
            .iter()
            .any(|h| lower.starts_with(h))
        {
            out.push_str(line);
            out.push_str("\r\n");
        } else if lower.starts_with("to:") {
            out.push_str(line);
            if let Some(tag) = to_tag {
                out.push_str(&format!(";tag={tag}"));
            }
            out.push_str("\r\n");
        }
    }
    out.push_str(extra);
    if !sdp.is_empty() {
        out.push_str("Content-Type: application/sdp\r\n");
    }
    with_body(&out, sdp)
}

/// Contact of the phone in its responses.
pub(super) const PHONE_CONTACT: &str = "Contact: <sip:op1@198.51.100.30:5070>\r\n";

/// A request from the phone inside the dialog of our `invite` (its tag in From, ours in To).
pub(super) fn from_phone(
    invite: &str,
    method: &str,
    cseq: u32,
    branch: &str,
    body: &str,
) -> String {
    let from = header(invite, "From").unwrap();
    let to = header(invite, "To").unwrap();
    let call_id = header(invite, "Call-ID").unwrap();
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    with_body(
        &format!(
            "{method} sip:madoguchi@192.0.2.10:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.30:5070;branch=z9hG4bK{branch}\r\n\
From: {to};tag={PHONE_TAG}\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
{PHONE_CONTACT}Max-Forwards: 70\r\n{ct}"
        ),
        body,
    )
}

impl Harness {
    /// Places [`call`] with `edit` applied; returns the leg and the INVITE's text.
    pub(super) fn place(&mut self, edit: impl FnOnce(&mut OutboundCall)) -> (LegId, String) {
        let mut c = call();
        edit(&mut c);
        let leg = self.ep.invite(self.now, c);
        let out = self.transmits();
        assert_eq!(out.len(), 1, "one INVITE");
        (leg, text(&out[0]))
    }

    /// The phone answers with 200 OK; returns the leg, the INVITE and our ACK.
    pub(super) fn answered(&mut self) -> (LegId, String, Transmit) {
        let (leg, invite) = self.place(|_| {});
        let out = self.send_from(
            Transport::Udp,
            phone(),
            &answer(&invite, "200 OK", Some(PHONE_TAG), PHONE_CONTACT, SDP),
        );
        assert_eq!(out.len(), 1, "one ACK");
        self.events();
        (leg, invite, out[0].clone())
    }

    fn send_phone(&mut self, msg: &str) -> Vec<Transmit> {
        self.send_from(Transport::Udp, phone(), msg)
    }
}

#[test]
fn invite_carries_the_addressing_headers_of_a_new_call() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|_| {});
    assert!(
        invite.starts_with("INVITE sip:op1@198.51.100.30:5070 SIP/2.0\r\n"),
        "{invite}"
    );
    let via = header(&invite, "Via").unwrap();
    assert!(
        via.starts_with("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK"),
        "{via}"
    );
    assert!(via.ends_with(";rport"));
    let from = header(&invite, "From").unwrap();
    assert!(
        from.starts_with("\"Sipp\" <sip:0312345678@192.0.2.10:5060>;tag="),
        "{from}"
    );
    assert_eq!(header(&invite, "To"), Some("<sip:op1@198.51.100.30:5070>"));
    assert!(header(&invite, "Call-ID").is_some_and(|c| c.len() >= 16));
    assert_eq!(header(&invite, "CSeq"), Some("1 INVITE"));
    assert_eq!(
        header(&invite, "Contact"),
        Some("<sip:madoguchi@192.0.2.10:5060>")
    );
    assert_eq!(header(&invite, "Max-Forwards"), Some("70"));
    assert_eq!(header(&invite, "User-Agent"), Some("madoguchi-test"));
    assert!(header(&invite, "Allow").is_some_and(|a| a.contains("REFER") && a.contains("NOTIFY")));
    assert_eq!(
        header(&invite, "P-Asserted-Identity"),
        Some("<sip:0312345678@192.0.2.10>")
    );
    assert_eq!(header(&invite, "X-Madoguchi-Call-Id"), Some("42"));
    assert_eq!(header(&invite, "Content-Type"), Some("application/sdp"));
    assert!(invite.ends_with(std::str::from_utf8(ANSWER).unwrap()));
}

#[test]
fn invite_goes_to_the_destination_and_is_retransmitted_until_a_response() {
    let mut h = Harness::new();
    let leg = h.ep.invite(h.now, call());
    let first = h.transmits();
    assert_eq!(first[0].destination, phone());
    let times: Vec<u64> = h.advance(2_000).into_iter().map(|(t, _)| t).collect();
    assert_eq!(times, vec![500, 1500]);
    h.send_phone(&answer(&text(&first[0]), "100 Trying", None, "", ""));
    assert!(h.advance(20_000).is_empty(), "a provisional stops Timer A");
    assert!(h.events().is_empty(), "100 Trying raises nothing");
    assert_eq!(h.ep.active_dialogs(), 1);
    let _ = leg;
}

#[test]
fn every_call_gets_its_own_call_id_tag_and_branch() {
    let mut h = Harness::new();
    let (_, a) = h.place(|_| {});
    let (_, b) = h.place(|_| {});
    for name in ["Call-ID", "From", "Via"] {
        assert_ne!(header(&a, name), header(&b, name), "{name}");
    }
}

#[test]
fn ringing_is_reported_once_per_distinct_status_and_sdp() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    let ringing = answer(&invite, "180 Ringing", Some(PHONE_TAG), PHONE_CONTACT, "");
    h.send_phone(&ringing);
    h.send_phone(&ringing);
    assert_eq!(
        h.events(),
        vec![SipEvent::OutgoingProgress {
            leg,
            status: 180,
            sdp: None
        }]
    );
}

#[test]
fn session_progress_with_sdp_is_reported_with_the_early_media_sdp() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    h.send_phone(&answer(&invite, "180 Ringing", Some(PHONE_TAG), "", ""));
    h.send_phone(&answer(
        &invite,
        "183 Session Progress",
        Some(PHONE_TAG),
        "",
        SDP,
    ));
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingProgress {
                leg,
                status: 180,
                sdp: None
            },
            SipEvent::OutgoingProgress {
                leg,
                status: 183,
                sdp: Some(SDP.as_bytes().to_vec())
            }
        ]
    );
}

#[test]
fn ok_is_acked_to_the_contact_and_reported_as_answered() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    let out = h.send_phone(&answer(
        &invite,
        "200 OK",
        Some(PHONE_TAG),
        PHONE_CONTACT,
        SDP,
    ));
    assert_eq!(out.len(), 1);
    let ack = text(&out[0]);
    assert!(
        ack.starts_with("ACK sip:op1@198.51.100.30:5070 SIP/2.0\r\n"),
        "{ack}"
    );
    assert_eq!(out[0].destination, phone());
    assert_eq!(header(&ack, "CSeq"), Some("1 ACK"));
    assert_ne!(
        header(&ack, "Via"),
        header(&invite, "Via"),
        "2xx ACK has a new branch"
    );
    assert_eq!(header(&ack, "From"), header(&invite, "From"));
    assert_eq!(
        header(&ack, "To"),
        Some(format!("<sip:op1@198.51.100.30:5070>;tag={PHONE_TAG}").as_str())
    );
    assert_eq!(header(&ack, "Call-ID"), header(&invite, "Call-ID"));
    assert_eq!(
        h.events(),
        vec![SipEvent::OutgoingAnswered {
            leg,
            sdp: Some(SDP.as_bytes().to_vec())
        }]
    );
    assert!(h.advance(40_000).is_empty(), "nothing left to retransmit");
}

#[test]
fn ack_follows_the_record_route_set_in_reverse() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|_| {});
    let rr = "Record-Route: <sip:198.51.100.2;lr>\r\nRecord-Route: <sip:198.51.100.1;lr>\r\n";
    let out = h.send_phone(&answer(
        &invite,
        "200 OK",
        Some(PHONE_TAG),
        &format!("{rr}{PHONE_CONTACT}"),
        SDP,
    ));
    let ack = text(&out[0]);
    assert!(ack.starts_with("ACK sip:op1@198.51.100.30:5070 SIP/2.0\r\n"));
    assert!(
        ack.contains("Route: <sip:198.51.100.1;lr>\r\nRoute: <sip:198.51.100.2;lr>\r\n"),
        "{ack}"
    );
    assert_eq!(
        out[0].destination,
        "198.51.100.1:5060".parse::<SocketAddr>().unwrap()
    );
}

#[test]
fn ok_without_a_usable_contact_is_acked_at_the_destination() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|c| c.request_uri = "sip:city@trunk.example.jp".into());
    let out = h.send_phone(&answer(&invite, "200 OK", Some(PHONE_TAG), "", SDP));
    assert!(text(&out[0]).starts_with("ACK sip:city@trunk.example.jp SIP/2.0"));
    assert_eq!(out[0].destination, phone());
}

#[test]
fn retransmitted_ok_is_acked_again_without_a_second_event() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|_| {});
    let ok = answer(&invite, "200 OK", Some(PHONE_TAG), PHONE_CONTACT, SDP);
    let first = h.send_phone(&ok);
    h.events();
    let again = h.send_phone(&ok);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, first[0].payload);
    assert!(h.events().is_empty());
}

#[test]
fn busy_is_acked_by_the_transaction_and_the_call_fails() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    let out = h.send_phone(&answer(&invite, "486 Busy Here", Some(PHONE_TAG), "", ""));
    let ack = text(&out[0]);
    assert!(ack.starts_with("ACK sip:op1@198.51.100.30:5070 SIP/2.0\r\n"));
    assert_eq!(
        header(&ack, "Via"),
        header(&invite, "Via"),
        "same branch (§17.1.1.3)"
    );
    assert_eq!(header(&ack, "CSeq"), Some("1 ACK"));
    assert!(header(&ack, "To")
        .unwrap()
        .ends_with(&format!(";tag={PHONE_TAG}")));
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 486 },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert_eq!(h.ep.hangup(h.now, leg), Err(EndpointError::UnknownLeg(leg)));
}

fn challenger() -> Challenger {
    Challenger::new("trunk.example.jp", [9; 32], 300)
}

fn challenge_407(invite: &str) -> String {
    let value = &challenger().challenge(1_800_000_000, &[DigestAlgorithm::Sha256])[0];
    answer(
        invite,
        "407 Proxy Authentication Required",
        Some("px1"),
        &format!("Proxy-Authenticate: {value}\r\n"),
        "",
    )
}

#[test]
fn proxy_challenge_is_answered_once_with_credentials_the_server_accepts() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|c| c.credentials = Some(("madoguchi".into(), "s3cret".into())));
    let out = h.send_phone(&challenge_407(&invite));
    assert_eq!(out.len(), 2, "ACK of the 407, then the new INVITE");
    assert!(text(&out[0]).starts_with("ACK "));
    let retry = text(&out[1]);
    assert!(retry.starts_with("INVITE sip:op1@198.51.100.30:5070 SIP/2.0\r\n"));
    assert_eq!(header(&retry, "CSeq"), Some("2 INVITE"));
    assert_ne!(header(&retry, "Via"), header(&invite, "Via"));
    assert_eq!(header(&retry, "Call-ID"), header(&invite, "Call-ID"));
    assert_eq!(header(&retry, "From"), header(&invite, "From"));
    assert_eq!(header(&retry, "To"), header(&invite, "To"));
    let creds =
        digest::parse_authorization(header(&retry, "Proxy-Authorization").unwrap()).unwrap();
    assert_eq!(creds.uri, "sip:op1@198.51.100.30:5070");
    let ha1 = digest::ha1(
        DigestAlgorithm::Sha256,
        "madoguchi",
        "trunk.example.jp",
        "s3cret",
    );
    assert_eq!(
        challenger().verify(&creds, "INVITE", |_, _| Some(ha1.clone()), 1_800_000_001),
        Verdict::Ok {
            user: "madoguchi".into()
        }
    );
    assert!(h.events().is_empty(), "the challenge is not reported");
    let ok = h.send_phone(&answer(
        &retry,
        "200 OK",
        Some(PHONE_TAG),
        PHONE_CONTACT,
        SDP,
    ));
    let ack = text(&ok[0]);
    assert_eq!(header(&ack, "CSeq"), Some("2 ACK"));
    assert!(header(&ack, "Proxy-Authorization").is_some());
    assert!(
        matches!(h.events().as_slice(), [SipEvent::OutgoingAnswered { leg: l, .. }] if *l == leg)
    );
}

#[test]
fn second_challenge_fails_the_call_with_its_status() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|c| c.credentials = Some(("madoguchi".into(), "wrong".into())));
    let out = h.send_phone(&challenge_407(&invite));
    let retry = text(&out[1]);
    let again = h.send_phone(&challenge_407(&retry));
    assert_eq!(again.len(), 1, "only the ACK: no third INVITE");
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 407 },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn challenge_without_credentials_fails_at_once() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    let value = &challenger().challenge(1_800_000_000, &[DigestAlgorithm::Md5])[0];
    h.send_phone(&answer(
        &invite,
        "401 Unauthorized",
        Some("px1"),
        &format!("WWW-Authenticate: {value}\r\n"),
        "",
    ));
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 401 },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn www_authenticate_is_answered_with_authorization() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|c| c.credentials = Some(("u".into(), "p".into())));
    let value = &challenger().challenge(1_800_000_000, &[DigestAlgorithm::Md5])[0];
    let out = h.send_phone(&answer(
        &invite,
        "401 Unauthorized",
        Some("px1"),
        &format!("WWW-Authenticate: {value}\r\n"),
        "",
    ));
    let retry = text(&out[1]);
    assert!(header(&retry, "Authorization").is_some_and(|a| a.contains("algorithm=MD5")));
    assert!(header(&retry, "Proxy-Authorization").is_none());
}

#[test]
fn no_response_fails_with_408_when_timer_b_fires() {
    let mut h = Harness::new();
    let (leg, _) = h.place(|_| {});
    h.advance(31_999);
    assert!(h.events().is_empty());
    h.advance(32_000);
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 408 },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert_eq!(h.ep.active_transactions(), 0);
    assert_eq!(h.ep.active_dialogs(), 0);
}

#[test]
fn unreachable_transport_fails_with_408_at_once() {
    let mut h = Harness::new();
    let (leg, _) = h.place(|c| c.transport = Transport::Tcp);
    h.ep.handle_transport_failure(h.now, Transport::Tcp, phone());
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 408 },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert_eq!(h.ep.active_transactions(), 0);
}

#[test]
fn tcp_invite_has_a_tcp_contact_and_no_retransmissions() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|c| c.transport = Transport::Tcp);
    assert!(header(&invite, "Via").unwrap().starts_with("SIP/2.0/TCP "));
    assert_eq!(
        header(&invite, "Contact"),
        Some("<sip:madoguchi@192.0.2.10:5060;transport=tcp>")
    );
    assert!(h.advance(31_000).is_empty());
}

#[test]
fn hangup_while_ringing_cancels_and_the_487_fails_the_call() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    h.send_phone(&answer(&invite, "180 Ringing", Some(PHONE_TAG), "", ""));
    h.events();
    h.ep.hangup(h.now, leg).unwrap();
    let out = h.transmits();
    assert_eq!(out.len(), 1);
    let cancel = text(&out[0]);
    assert!(
        cancel.starts_with("CANCEL sip:op1@198.51.100.30:5070 SIP/2.0\r\n"),
        "{cancel}"
    );
    assert_eq!(header(&cancel, "Via"), header(&invite, "Via"));
    assert_eq!(header(&cancel, "CSeq"), Some("1 CANCEL"));
    assert_eq!(
        header(&cancel, "To"),
        header(&invite, "To"),
        "no tag (§9.1)"
    );
    assert_eq!(out[0].destination, phone());
    assert_eq!(
        h.ep.hangup(h.now, leg),
        Err(EndpointError::InvalidState(leg))
    );
    h.send_phone(&answer(&cancel, "200 OK", Some(PHONE_TAG), "", ""));
    let acked = h.send_phone(&answer(
        &invite,
        "487 Request Terminated",
        Some(PHONE_TAG),
        "",
        "",
    ));
    assert!(text(&acked[0]).starts_with("ACK "));
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 487 },
            SipEvent::LegTerminated { leg }
        ]
    );
    h.advance(70_000);
    assert_eq!(h.ep.active_transactions(), 0);
}

#[test]
fn hangup_before_any_response_sends_the_cancel_with_the_first_provisional() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    h.ep.hangup(h.now, leg).unwrap();
    assert!(
        h.transmits().is_empty(),
        "no CANCEL before a provisional (§9.1)"
    );
    let out = h.send_phone(&answer(&invite, "100 Trying", None, "", ""));
    assert!(text(&out[0]).starts_with("CANCEL "));
    h.send_phone(&answer(&invite, "180 Ringing", Some(PHONE_TAG), "", ""));
    assert!(h.events().is_empty(), "no progress after hangup");
}

#[test]
fn hangup_before_any_response_ends_at_timer_b_when_nothing_is_heard() {
    let mut h = Harness::new();
    let (leg, _) = h.place(|_| {});
    h.ep.hangup(h.now, leg).unwrap();
    h.advance(32_000);
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 408 },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn cancelled_invite_without_a_final_gives_up_after_64_t1() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    h.send_phone(&answer(&invite, "180 Ringing", Some(PHONE_TAG), "", ""));
    h.events();
    h.ep.hangup(h.now, leg).unwrap();
    let cancel = text(&h.transmits()[0]);
    h.send_phone(&answer(&cancel, "200 OK", Some(PHONE_TAG), "", ""));
    h.advance(31_999);
    assert!(h.events().is_empty());
    h.advance(32_000);
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 487 },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn ok_after_our_cancel_is_acked_and_byed_at_once() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    h.send_phone(&answer(&invite, "180 Ringing", Some(PHONE_TAG), "", ""));
    h.events();
    h.ep.hangup(h.now, leg).unwrap();
    h.transmits();
    let out = h.send_phone(&answer(
        &invite,
        "200 OK",
        Some(PHONE_TAG),
        PHONE_CONTACT,
        SDP,
    ));
    let kinds: Vec<String> = out.iter().map(|t| text(t)[..4].to_owned()).collect();
    assert_eq!(kinds, vec!["ACK ", "BYE "]);
    let bye = text(&out[1]);
    assert_eq!(header(&bye, "CSeq"), Some("2 BYE"));
    assert_eq!(
        h.events(),
        vec![SipEvent::OutgoingFailed { leg, status: 487 }],
        "never reported as answered"
    );
    h.send_phone(&response_to(&bye, "200 OK"));
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
}

#[test]
fn ok_from_a_second_fork_is_acked_and_byed_without_an_event() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    h.send_phone(&answer(
        &invite,
        "200 OK",
        Some(PHONE_TAG),
        PHONE_CONTACT,
        SDP,
    ));
    h.events();
    let fork = answer(
        &invite,
        "200 OK",
        Some("fork2"),
        "Contact: <sip:op1@198.51.100.31:5070>\r\n",
        SDP,
    );
    let out = h.send_phone(&fork);
    assert_eq!(out.len(), 2);
    assert!(text(&out[0]).starts_with("ACK sip:op1@198.51.100.31:5070 "));
    let bye = text(&out[1]);
    assert!(bye.starts_with("BYE sip:op1@198.51.100.31:5070 "));
    assert!(header(&bye, "To").unwrap().ends_with(";tag=fork2"));
    assert!(h.events().is_empty());
    h.ep.hangup(h.now, leg).unwrap();
    let ours = text(&h.transmits()[0]);
    assert!(header(&ours, "To")
        .unwrap()
        .ends_with(&format!(";tag={PHONE_TAG}")));
}

#[test]
fn hangup_after_answer_sends_bye_in_the_dialog() {
    let mut h = Harness::new();
    let (leg, invite) = h.place(|_| {});
    let rr = "Record-Route: <sip:198.51.100.1;lr>\r\n";
    h.send_phone(&answer(
        &invite,
        "200 OK",
        Some(PHONE_TAG),
        &format!("{rr}{PHONE_CONTACT}"),
        SDP,
    ));
    h.events();
    h.ep.hangup(h.now, leg).unwrap();
    let out = h.transmits();
    let bye = text(&out[0]);
    assert!(
        bye.starts_with("BYE sip:op1@198.51.100.30:5070 SIP/2.0\r\n"),
        "{bye}"
    );
    assert_eq!(header(&bye, "From"), header(&invite, "From"), "From = us");
    assert_eq!(
        header(&bye, "To"),
        Some(format!("<sip:op1@198.51.100.30:5070>;tag={PHONE_TAG}").as_str())
    );
    assert_eq!(header(&bye, "CSeq"), Some("2 BYE"));
    assert_eq!(header(&bye, "Route"), Some("<sip:198.51.100.1;lr>"));
    assert_eq!(header(&bye, "Call-ID"), header(&invite, "Call-ID"));
    assert_eq!(
        out[0].destination,
        "198.51.100.1:5060".parse::<SocketAddr>().unwrap()
    );
    h.send_phone(&response_to(&bye, "200 OK"));
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
    h.advance(70_000);
    assert_eq!(h.ep.active_transactions(), 0);
    assert_eq!(h.ep.active_dialogs(), 0);
}

#[test]
fn bye_from_the_phone_gets_200_and_a_remote_hangup() {
    let mut h = Harness::new();
    let (leg, invite, _) = h.answered();
    let out = h.send_phone(&from_phone(&invite, "BYE", 1, "pb1", ""));
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![200]);
    assert_eq!(out[0].destination, phone());
    assert_eq!(
        h.events(),
        vec![
            SipEvent::RemoteHangup { leg },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn reinvite_from_the_phone_is_an_event_answered_like_on_incoming_legs() {
    let mut h = Harness::new();
    let (leg, invite, _) = h.answered();
    let hold = SDP.replace("a=sendrecv", "a=sendonly");
    let out = h.send_phone(&from_phone(&invite, "INVITE", 1, "re1", &hold));
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![100]);
    let request = match h.events().as_slice() {
        [SipEvent::ReInvite {
            leg: l,
            request,
            sdp: Some(_),
        }] if *l == leg => *request,
        other => panic!("{other:?}"),
    };
    h.ep.answer_reinvite(h.now, leg, request, Ok(ANSWER))
        .unwrap();
    let ok = text(&h.transmits()[0]);
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"));
    assert_eq!(header(&ok, "CSeq"), Some("1 INVITE"));
}

#[test]
fn in_dialog_requests_from_a_stranger_tag_get_481() {
    let mut h = Harness::new();
    let (_, invite, _) = h.answered();
    let msg = from_phone(&invite, "BYE", 1, "pb1", "").replace(PHONE_TAG, "other");
    assert_eq!(status(&h.send_phone(&msg)[0]), 481);
}

#[test]
fn unparseable_request_uri_fails_without_sending() {
    let mut h = Harness::new();
    let leg = h.ep.invite(
        h.now,
        OutboundCall {
            request_uri: "not a uri".into(),
            ..call()
        },
    );
    assert!(h.transmits().is_empty());
    assert_eq!(
        h.events(),
        vec![
            SipEvent::OutgoingFailed { leg, status: 400 },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn caller_data_cannot_inject_headers() {
    let mut h = Harness::new();
    let (_, invite) = h.place(|c| {
        c.from_user = "03\r\nVia: x".into();
        c.from_display = Some("A\"\r\nB".into());
        c.extra_headers = vec![("X-Note".into(), "a\r\nCSeq: 9 BYE".into())];
    });
    assert_eq!(invite.matches("\r\nVia: ").count(), 1, "{invite}");
    assert_eq!(invite.matches("\r\nCSeq: ").count(), 1);
    assert!(header(&invite, "From")
        .unwrap()
        .starts_with("\"A\\\"B\" <sip:03%0D%0AVia%3A%20x@"));
}
