//! Reliable provisional responses (RFC 3262) on a virtual clock: which INVITEs get them, RSeq
//! and Require in our 18x, retransmission until PRACK, the 200 held behind an early-media 183,
//! the 504 after 64·T1, and a whole early-media call over a lossy network.

use super::*;
use crate::{EndpointError, PrackPolicy};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const REQUIRE_100REL: &str = "Supported: 100rel\r\nRequire: 100rel\r\n";

/// The caller's PRACK for the provisional numbered `rseq` (our INVITE's CSeq is 1).
fn prack(cseq: u32, branch: &str, our_tag: &str, rseq: u32) -> String {
    in_dialog("PRACK", cseq, branch, our_tag, "").replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: 70\r\nRAck: {rseq} 1 INVITE\r\n"),
    )
}

fn rseq(msg: &str) -> u32 {
    header(msg, "RSeq").unwrap().parse().unwrap()
}

fn cseq(t: &Transmit) -> String {
    header(&text(t), "CSeq").unwrap().to_owned()
}

/// A leg whose INVITE required 100rel, after our 183 with SDP: (leg, our tag, its RSeq).
fn early(h: &mut Harness) -> (LegId, String, u32) {
    let leg = h.incoming(REQUIRE_100REL);
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    let out = h.transmits();
    assert_eq!(out.len(), 1);
    let msg = text(&out[0]);
    (leg, to_tag(&msg), rseq(&msg))
}

fn harness_with(policy: PrackPolicy) -> Harness {
    let mut h = Harness::new();
    h.ep = Endpoint::new(
        EndpointConfig {
            prack: policy,
            ..config()
        },
        42,
    );
    h
}

#[test]
fn invite_requiring_100rel_is_offered_and_its_183_carries_require_and_rseq() {
    let mut h = Harness::new();
    let leg = h.incoming(REQUIRE_100REL);
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    let out = h.transmits();
    let msg = text(&out[0]);
    assert_eq!(status(&out[0]), 183);
    assert_eq!(header(&msg, "Require"), Some("100rel"));
    assert!((1..1u32 << 31).contains(&rseq(&msg)));
    assert!(msg.ends_with(std::str::from_utf8(ANSWER).unwrap()));
}

#[test]
fn unacknowledged_provisional_is_retransmitted_at_t1_doubling_for_32_s() {
    let mut h = Harness::new();
    let leg = h.incoming(REQUIRE_100REL);
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    let first = h.transmits().remove(0);
    let resent = h.advance(31_999);
    let offsets: Vec<u64> = resent.iter().map(|(ms, _)| *ms).collect();
    assert_eq!(offsets, vec![500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    assert!(resent.iter().all(|(_, t)| t.payload == first.payload));
    assert_eq!(h.ep.stats().retransmissions, 6);
}

#[test]
fn reliable_provisional_is_retransmitted_over_tcp_too() {
    // RFC 3262 §3 puts the retransmission in the TU, above the transport.
    let mut h = Harness::new();
    h.send_from(Transport::Tcp, peer(), &invite("tcp1", REQUIRE_100REL));
    let leg = LegId(1);
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    h.transmits();
    let resent = h.advance(600);
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].1.transport, Transport::Tcp);
}

#[test]
fn prack_gets_200_and_stops_the_retransmissions() {
    let mut h = Harness::new();
    let (_, tag, rseq) = early(&mut h);
    let out = h.send(&prack(2, "pr1", &tag, rseq));
    assert_eq!(out.len(), 1);
    assert_eq!(status(&out[0]), 200);
    assert_eq!(cseq(&out[0]), "2 PRACK");
    assert!(h.advance(40_000).is_empty());
    assert!(h.events().is_empty());
}

#[test]
fn prack_with_a_wrong_rack_gets_481_and_retransmissions_go_on() {
    let mut h = Harness::new();
    let (_, tag, rseq) = early(&mut h);
    let out = h.send(&prack(2, "pr1", &tag, rseq + 1));
    assert_eq!(status(&out[0]), 481);
    let wrong_cseq =
        prack(3, "pr2", &tag, rseq).replace(&format!("RAck: {rseq} 1"), &format!("RAck: {rseq} 7"));
    assert_eq!(status(&h.send(&wrong_cseq)[0]), 481);
    assert_eq!(h.advance(600).len(), 1);
}

#[test]
fn prack_with_a_body_gets_488() {
    let mut h = Harness::new();
    let (_, tag, rseq) = early(&mut h);
    let with_sdp = in_dialog("PRACK", 2, "pr1", &tag, SDP).replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: 70\r\nRAck: {rseq} 1 INVITE\r\n"),
    );
    assert_eq!(status(&h.send(&with_sdp)[0]), 488);
}

#[test]
fn later_provisional_waits_for_the_prack_of_the_earlier_and_takes_the_next_rseq() {
    let mut h = Harness::new();
    let leg = h.incoming(REQUIRE_100REL);
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    let ringing = text(&h.transmits()[0]);
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    assert!(h.transmits().is_empty(), "one unacknowledged at a time");
    let out = h.send(&prack(2, "pr1", &to_tag(&ringing), rseq(&ringing)));
    assert_eq!(out.len(), 2);
    assert_eq!(cseq(&out[0]), "2 PRACK");
    assert_eq!(status(&out[1]), 183);
    assert_eq!(rseq(&text(&out[1])), rseq(&ringing) + 1);
}

#[test]
fn answer_is_held_until_the_prack_of_the_early_media_183() {
    let mut h = Harness::new();
    let (leg, tag, rseq) = early(&mut h);
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    assert!(h.transmits().is_empty(), "no 200 before the PRACK");
    assert_eq!(
        h.ep.send_provisional(h.now, leg, 180, None),
        Err(EndpointError::InvalidState(leg))
    );
    let out = h.send(&prack(2, "pr1", &tag, rseq));
    assert_eq!(out.len(), 2);
    assert_eq!(cseq(&out[0]), "2 PRACK");
    assert_eq!(status(&out[1]), 200);
    assert_eq!(cseq(&out[1]), "1 INVITE");
    h.send(&in_dialog("ACK", 1, "ack1", &tag, ""));
    assert_eq!(h.events(), vec![SipEvent::CallConfirmed { leg, sdp: None }]);
}

#[test]
fn cancel_while_the_answer_is_held_ends_the_call_with_487() {
    let mut h = Harness::new();
    let (leg, _, _) = early(&mut h);
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let cancel = invite("inv1", "")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    let out = h.send(&cancel);
    let statuses: Vec<u16> = out.iter().map(status).collect();
    assert_eq!(statuses, vec![200, 487]);
    assert_eq!(
        h.events(),
        vec![
            SipEvent::CallCancelled { leg },
            SipEvent::LegTerminated { leg }
        ]
    );
}

#[test]
fn hangup_while_the_answer_is_held_rejects_the_invite_with_480() {
    let mut h = Harness::new();
    let (leg, _, _) = early(&mut h);
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    h.ep.hangup(h.now, leg).unwrap();
    let out = h.transmits();
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), vec![480]);
    assert_eq!(h.events(), vec![SipEvent::LegTerminated { leg }]);
    assert!(h.advance(40_000).iter().all(|(_, t)| status(t) == 480));
}

#[test]
fn answer_after_a_reliable_180_without_sdp_goes_at_once_and_its_late_prack_is_still_answered() {
    let mut h = Harness::new();
    let leg = h.incoming(REQUIRE_100REL);
    h.ep.send_provisional(h.now, leg, 180, None).unwrap();
    let ringing = text(&h.transmits()[0]);
    let tag = to_tag(&ringing);
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let out = h.transmits();
    assert_eq!(status(&out[0]), 200);
    h.send(&in_dialog("ACK", 1, "ack1", &tag, ""));
    assert!(
        h.advance(10_000).is_empty(),
        "the 180 is no longer retransmitted"
    );
    let out = h.send(&prack(2, "pr1", &tag, rseq(&ringing)));
    assert_eq!(status(&out[0]), 200);
}

#[test]
fn no_prack_within_64_t1_rejects_the_invite_with_504() {
    let mut h = Harness::new();
    let (leg, _, _) = early(&mut h);
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let out = h.advance(32_000);
    let (at, last) = out.last().unwrap();
    assert_eq!((*at, status(last)), (32_000, 504));
    assert!(
        out.iter().all(|(_, t)| status(t) != 200),
        "the held 200 never goes"
    );
    assert_eq!(
        h.events(),
        vec![
            SipEvent::ProvisionalNotAcked { leg },
            SipEvent::LegTerminated { leg }
        ]
    );
    assert_eq!(h.ep.active_dialogs(), 0);
}

#[test]
fn supported_only_gets_unreliable_provisionals_by_default() {
    let mut h = Harness::new();
    let leg = h.incoming("Supported: 100rel\r\n");
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    let msg = text(&h.transmits()[0]);
    assert_eq!(header(&msg, "RSeq"), None);
    assert_eq!(header(&msg, "Require"), None);
    assert!(h.advance(5_000).is_empty());
}

#[test]
fn supported_only_gets_reliable_provisionals_when_the_policy_says_when_supported() {
    let mut h = harness_with(PrackPolicy::WhenSupported);
    let leg = h.incoming("Supported: timer, 100rel\r\n");
    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
        .unwrap();
    let msg = text(&h.transmits()[0]);
    assert_eq!(header(&msg, "Require"), Some("100rel"));
    assert!(header(&msg, "RSeq").is_some());
    assert_eq!(h.advance(600).len(), 1);
}

#[test]
fn invite_without_100rel_gets_unreliable_provisionals_under_either_policy() {
    for policy in [PrackPolicy::WhenRequired, PrackPolicy::WhenSupported] {
        let mut h = harness_with(policy);
        let leg = h.incoming("");
        h.ep.send_provisional(h.now, leg, 180, None).unwrap();
        assert_eq!(header(&text(&h.transmits()[0]), "RSeq"), None, "{policy:?}");
    }
}

/// A caller that requires 100rel, PRACKs the first reliable 183 it hears (retransmitting the
/// PRACK on Timer E until its 200) and ACKs every 2xx, against an endpoint that answers at
/// once behind its 183: returns whether the call was confirmed.
fn early_media_call(seed: u64, loss: f64) -> bool {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = Harness::new();
    let invite_msg = invite("rel1", REQUIRE_100REL);
    let mut next_a = Some((h.t0, Duration::from_millis(500)));
    // The PRACK client transaction: (request, next retransmission, interval).
    let mut prack_tx: Option<(String, Instant, Duration)> = None;
    let mut pracked = false;
    let mut confirmed = false;
    for _ in 0..10_000 {
        let due = [
            next_a.map(|(at, _)| at),
            prack_tx.as_ref().map(|(_, at, _)| *at),
            h.ep.poll_timeout(),
        ];
        let Some(next) = due.into_iter().flatten().min() else {
            break;
        };
        if next > h.t0 + Duration::from_secs(60) {
            break;
        }
        h.now = h.now.max(next);
        let mut sends = Vec::new();
        if let Some((_, interval)) = next_a.filter(|(at, _)| *at <= h.now) {
            sends.push(invite_msg.clone());
            next_a = Some((h.now + interval, interval * 2));
        }
        if let Some((msg, at, interval)) = prack_tx.as_mut().filter(|(_, at, _)| *at <= h.now) {
            sends.push(msg.clone());
            *interval = (*interval * 2).min(Duration::from_secs(4));
            *at = h.now + *interval;
        }
        for msg in sends {
            if !rng.gen_bool(loss) {
                h.ep.handle_input(h.now, Transport::Udp, peer(), msg.as_bytes());
            }
        }
        h.ep.handle_timeout(h.now);
        let mut replies = Vec::new();
        for t in h.transmits() {
            let msg = text(&t);
            if rng.gen_bool(loss) || !msg.starts_with("SIP/2.0 ") {
                continue;
            }
            next_a = None;
            match (status(&t), cseq(&t).as_str()) {
                (183, _) if !pracked => {
                    let request = prack(2, "relpr", &to_tag(&msg), rseq(&msg));
                    replies.push(request.clone());
                    let interval = Duration::from_millis(500);
                    prack_tx.get_or_insert((request, h.now + interval, interval));
                }
                (200, "2 PRACK") => {
                    pracked = true;
                    prack_tx = None;
                }
                (200, "1 INVITE") => replies.push(in_dialog("ACK", 1, "relack", &to_tag(&msg), "")),
                _ => {}
            }
        }
        for reply in replies {
            if !rng.gen_bool(loss) {
                h.ep.handle_input(h.now, Transport::Udp, peer(), reply.as_bytes());
            }
        }
        for e in h.events() {
            match e {
                SipEvent::IncomingCall { leg, .. } => {
                    h.ep.send_provisional(h.now, leg, 183, Some(ANSWER))
                        .unwrap();
                    h.ep.accept(h.now, leg, ANSWER).unwrap();
                }
                SipEvent::CallConfirmed { .. } => confirmed = true,
                SipEvent::ProvisionalNotAcked { .. } => return false,
                _ => {}
            }
        }
    }
    confirmed
}

#[test]
fn early_media_call_with_prack_completes_over_a_network_losing_30_percent_of_datagrams() {
    for seed in 0..40 {
        assert!(early_media_call(seed, 0.3), "seed {seed}");
    }
}

#[test]
fn early_media_call_with_prack_completes_without_loss() {
    assert!(early_media_call(0, 0.0));
}
