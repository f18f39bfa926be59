//! A whole call over a simulated lossy UDP network (seeded loss, virtual time): a minimal
//! caller retransmits its INVITE (Timer A), ACKs every 2xx it sees and answers every BYE, while
//! the endpoint's timers recover from the losses.

use super::*;
use crate::HangupOutcome;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Outcome of one simulated call.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    confirmed: bool,
    hangup: Option<HangupOutcome>,
    terminated: bool,
}

fn simulate(seed: u64, loss: f64) -> Run {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = Harness::new();
    let mut run = Run {
        confirmed: false,
        hangup: None,
        terminated: false,
    };
    let invite_msg = invite("sim1", "");
    // The caller's INVITE client transaction: Timer A until any response.
    let mut next_a = Some((h.t0, Duration::from_millis(500)));
    let mut heard = false;
    let mut leg = None;
    let mut hung_up = false;
    for _ in 0..10_000 {
        let caller_due = next_a.map(|(at, _)| at);
        let ep_due = h.ep.poll_timeout();
        let Some(next) = [caller_due, ep_due].into_iter().flatten().min() else {
            break;
        };
        if next > h.t0 + Duration::from_secs(120) {
            break;
        }
        h.now = h.now.max(next);
        if let Some((_, interval)) = next_a.filter(|(at, _)| *at <= h.now) {
            if !rng.gen_bool(loss) {
                h.ep.handle_input(h.now, Transport::Udp, peer(), invite_msg.as_bytes());
            }
            next_a = Some((h.now + interval, interval * 2));
        }
        h.ep.handle_timeout(h.now);
        // Deliver what the endpoint sent, through the lossy network, to the caller.
        let mut replies = Vec::new();
        for t in h.transmits() {
            if rng.gen_bool(loss) {
                continue;
            }
            let msg = text(&t);
            if msg.starts_with("SIP/2.0 ") {
                heard = true;
                if status(&t) == 200 && msg.contains("CSeq: 1 INVITE") {
                    replies.push(in_dialog("ACK", 1, "simack", &to_tag(&msg), ""));
                }
            } else if msg.starts_with("BYE ") {
                replies.push(response_to(&msg, "200 OK"));
            }
        }
        if heard {
            next_a = None;
        }
        for reply in replies {
            if !rng.gen_bool(loss) {
                h.ep.handle_input(h.now, Transport::Udp, peer(), reply.as_bytes());
            }
        }
        for e in h.events() {
            match e {
                SipEvent::IncomingCall { leg: l, .. } => {
                    leg = Some(l);
                    h.ep.accept(h.now, l, ANSWER).unwrap();
                }
                SipEvent::CallConfirmed { leg: l, .. } | SipEvent::AckTimedOut { leg: l } => {
                    run.confirmed |= matches!(e, SipEvent::CallConfirmed { .. });
                    if !hung_up {
                        hung_up = true;
                        h.ep.hangup(h.now, l).unwrap();
                    }
                }
                SipEvent::HangupCompleted { outcome, .. } => run.hangup = Some(outcome),
                SipEvent::LegTerminated { leg: l } => run.terminated = Some(l) == leg,
                _ => {}
            }
        }
        // A BYE queued by `hangup` above reaches the caller on the next iteration.
    }
    run
}

#[test]
fn call_completes_over_a_network_losing_30_percent_of_datagrams() {
    for seed in 0..40 {
        let run = simulate(seed, 0.3);
        assert!(run.confirmed, "seed {seed}: {run:?}");
        assert_eq!(
            run.hangup,
            Some(HangupOutcome::Completed { status: 200 }),
            "seed {seed}"
        );
        assert!(run.terminated, "seed {seed}");
    }
}

#[test]
fn call_over_a_dead_network_ends_by_timers_alone() {
    // Nothing gets through after the INVITE: the 2xx is never ACKed, the BYE never answered.
    let mut h = Harness::new();
    let leg = h.incoming("");
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    h.advance(32_000);
    assert_eq!(h.events(), vec![SipEvent::AckTimedOut { leg }]);
    h.ep.hangup(h.now, leg).unwrap();
    h.advance(64_000);
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
    h.advance(200_000);
    assert_eq!(h.ep.active_transactions(), 0);
}
