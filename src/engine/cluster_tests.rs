//! Two nodes in virtual time (issue 8): node A takes the carrier's calls, operator op1 works
//! in a browser console on node B. Each node is a [`Harness`]; what A sends to B's SIP
//! address is fed to B as coming from A's, and back (tests/dialplans/queue.toml on both:
//! queue `desk`, ring 4 s, wrap-up 1 s, auto-pause after 2 ring-outs, no joining empty).

use std::net::SocketAddr;
use std::time::Duration;

use madoguchi_sip::LegId;
use madoguchi_store::{Disposition, HangupSide};

use super::cluster::RemoteOperator;
use super::console::{ConsoleCommand, ConsoleError, ConsoleEvent};
use super::console_tests::wednesday;
use super::test_harness::*;
use super::*;

const A_SIP: &str = "127.0.0.1:5060";
const B_SIP: &str = "127.0.0.1:5062";
/// op1's console media leg on B.
const CONSOLE_B: LegId = LegId(900_000);

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("addr")
}

struct Pair {
    a: Harness,
    b: Harness,
    /// Messages of `a.sent` / `b.sent` already delivered.
    a_seen: usize,
    b_seen: usize,
}

impl Pair {
    /// op1 (and op2, not signed in anywhere) on both nodes; op1 at a console on B and
    /// available; each node knows the other, and A has B's operators as published.
    fn new() -> Pair {
        let dialplan = queue_dialplan;
        let mut a = Harness::node(dialplan(), city_line_targets(), wednesday(), "A", 5060);
        let mut b = Harness::node(dialplan(), city_line_targets(), wednesday(), "B", 5062);
        let directory = vec![
            Phone::new("op1", "127.0.0.1:5070").entry(),
            Phone::new("op2", "127.0.0.1:5072").entry(),
        ];
        for h in [&mut a, &mut b] {
            let now = h.now;
            h.engine.set_directory(now, directory.clone());
            h.drain();
        }
        let now = b.now;
        b.engine
            .console_attach(now, "op1", CONSOLE_B)
            .expect("op1 is an operator");
        b.engine
            .request_status(now, "op1", &StatusRequest::Available)
            .expect("available");
        b.engine.set_remote_node(now, "A", addr(A_SIP), Vec::new());
        b.drain();
        let mut pair = Pair {
            a,
            b,
            a_seen: 0,
            b_seen: 0,
        };
        pair.publish_b();
        pair
    }

    /// B's operators as B publishes them, given to A (what the shell's cluster task does).
    fn publish_b(&mut self) {
        let operators = self
            .b
            .engine
            .live(self.b.now)
            .operators
            .into_iter()
            .map(|o| RemoteOperator {
                login: o.login,
                state: o.state.to_owned(),
                reason: o.reason,
                attached: o.attached,
            })
            .collect();
        let now = self.a.now;
        self.a
            .engine
            .set_remote_node(now, "B", addr(B_SIP), operators);
        self.a.drain();
        self.exchange();
    }

    /// Delivers what each node sent to the other until both are quiet.
    fn exchange(&mut self) {
        loop {
            let mut moved = false;
            while self.a_seen < self.a.sent.len() {
                let i = self.a_seen;
                self.a_seen += 1;
                if self.a.sent_to[i] == addr(B_SIP) {
                    let message = self.a.sent[i].clone();
                    self.b.sip_from(addr(A_SIP), &message);
                    moved = true;
                }
            }
            while self.b_seen < self.b.sent.len() {
                let i = self.b_seen;
                self.b_seen += 1;
                if self.b.sent_to[i] == addr(A_SIP) {
                    let message = self.b.sent[i].clone();
                    self.a.sip_from(addr(B_SIP), &message);
                    moved = true;
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Both clocks on, in 50 ms steps, delivering messages at every step.
    fn advance(&mut self, by: Duration) {
        let step = Duration::from_millis(50);
        let mut left = by;
        while !left.is_zero() {
            let d = left.min(step);
            self.a.advance(d);
            self.b.advance(d);
            self.exchange();
            left -= d;
        }
    }

    /// A caller through A's trunk, queued in `desk`.
    fn caller_on_a(&mut self, n: u32) -> Caller {
        let mut caller = Caller::new(n);
        caller.call(&mut self.a);
        self.exchange();
        caller
    }

    fn console_b(&mut self, command: ConsoleCommand) -> Result<(), ConsoleError> {
        let now = self.b.now;
        let result = self.b.engine.console_command(now, "op1", command);
        self.b.drain();
        self.exchange();
        result
    }

    /// INVITEs A sent to B (without retransmissions).
    fn peer_invites(&self) -> Vec<String> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for m in self.a.sent_to_starting(addr(B_SIP), "INVITE ") {
            let key = (header(m, "Call-ID"), header(m, "CSeq"));
            if !seen.contains(&key) {
                seen.push(key);
                out.push(m.to_owned());
            }
        }
        out
    }

    /// Final responses B sent A, by status.
    fn b_statuses(&self) -> Vec<u16> {
        self.b
            .sent_to(addr(A_SIP))
            .into_iter()
            .filter_map(|m| m.strip_prefix("SIP/2.0 "))
            .filter_map(|rest| rest.get(..3)?.parse().ok())
            .collect()
    }
}

fn offers(h: &Harness) -> Vec<String> {
    h.console
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Offered { offer, .. } => Some(offer.call_id.clone()),
            _ => None,
        })
        .collect()
}

fn waiting(h: &Harness) -> usize {
    h.engine
        .live(h.now)
        .queues
        .iter()
        .map(|q| q.waiting.len())
        .sum()
}

/// A caller on A, offered to op1's console on B and answered there.
fn connected_pair() -> (Pair, Caller, String) {
    let mut p = Pair::new();
    let caller = p.caller_on_a(1);
    let call_id = offers(&p.b).pop().expect("A's caller is offered on B");
    p.console_b(ConsoleCommand::Answer {
        call_id: call_id.clone(),
    })
    .expect("the console answers");
    (p, caller, call_id)
}

#[test]
fn a_caller_queued_on_a_is_answered_by_a_console_on_b_and_only_a_writes_the_record() {
    let (mut p, mut caller, call_id) = connected_pair();

    let invite = p.peer_invites().pop().expect("A rang B");
    assert_eq!(header(&invite, "X-Madoguchi-Peer"), Some("A"));
    assert_eq!(
        header(&invite, "X-Madoguchi-Call-Id"),
        Some(call_id.as_str())
    );
    assert!(invite.starts_with(&format!("INVITE sip:op1@{B_SIP} ")));
    // The audio path: carrier ↔ A's caller leg ↔ A's leg to B ↔ B's peer leg ↔ the console.
    let a_bridges =
        p.a.media
            .iter()
            .filter(|m| matches!(m, MediaCommand::Bridge { .. }))
            .count();
    assert_eq!(a_bridges, 1, "{:#?}", p.a.media);
    let b_bridge = p.b.media.iter().find_map(|m| match m {
        MediaCommand::Bridge { a, b } => Some((*a, *b)),
        _ => None,
    });
    let (peer_leg, console) = b_bridge.expect("B bridges the peer leg to the console");
    assert_eq!(console, CONSOLE_B);
    assert!(p
        .b
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Start { leg, .. } if *leg == peer_leg)));

    p.advance(Duration::from_secs(5));
    p.a.sip(&caller.request("BYE", 2, "", false));
    p.exchange();
    p.advance(Duration::from_secs(2));

    assert_eq!(p.a.records.len(), 1);
    let record = &p.a.records[0];
    assert_eq!(record.id, call_id);
    assert_eq!(record.operator.as_deref(), Some("op1"));
    assert_eq!(record.disposition, Disposition::Answered);
    assert!(p.b.records.is_empty(), "B wrote {:#?}", p.b.records);
    // B keeps op1's history and the wrap-up, under A's call id; A keeps none of op1's.
    let b_states: Vec<&str> =
        p.b.history
            .iter()
            .filter(|r| r.login == "op1")
            .map(|r| r.status)
            .collect();
    for state in ["ringing", "on_call", "wrap_up"] {
        assert!(b_states.contains(&state), "{b_states:?}");
    }
    assert!(
        p.a.history.iter().all(|r| r.login != "op1"),
        "{:#?}",
        p.a.history
    );
    assert_eq!(
        p.b.wrap_ups
            .iter()
            .map(|w| w.call_id.as_str())
            .collect::<Vec<_>>(),
        vec![call_id.as_str()]
    );
    assert!(p.a.wrap_ups.is_empty());
    // A mirror is not one of A's operators on A's board.
    let a_live = p.a.engine.live(p.a.now);
    assert!(a_live
        .operators
        .iter()
        .all(|o| o.login != "op1" || !o.attached));
    let b_live = p.b.engine.live(p.b.now);
    let op1 = b_live
        .operators
        .iter()
        .find(|o| o.login == "op1")
        .expect("op1");
    assert_eq!((op1.node.as_str(), op1.attached), ("B", true));
}

#[test]
fn a_waiting_caller_names_the_node_it_is_on() {
    let mut p = Pair::new();
    // op1 paused on B: A's caller waits.
    let now = p.b.now;
    p.b.engine
        .request_status(
            now,
            "op1",
            &StatusRequest::Paused {
                reason: "break".into(),
            },
        )
        .expect("pause");
    p.b.drain();
    p.publish_b();
    p.caller_on_a(1);

    let live = p.a.engine.live(p.a.now);
    let nodes: Vec<&str> = live
        .queues
        .iter()
        .flat_map(|q| &q.waiting)
        .map(|w| w.node.as_str())
        .collect();
    assert_eq!(nodes, vec!["A"]);
    assert!(p.peer_invites().is_empty(), "a paused mirror is not rung");
}

#[test]
fn a_peer_offer_losing_the_race_to_a_local_caller_gets_486_and_no_auto_pause() {
    let mut p = Pair::new();
    // B's own caller rings op1 first; A has not heard of it yet.
    let mut local = Caller::new(7);
    local.call(&mut p.b);
    assert_eq!(offers(&p.b).len(), 1);
    p.caller_on_a(1);

    assert_eq!(p.peer_invites().len(), 1);
    assert!(p.b_statuses().contains(&486), "{:?}", p.b_statuses());
    assert_eq!(offers(&p.b).len(), 1, "exactly one call rings op1");
    assert_eq!(waiting(&p.a), 1, "A's caller keeps waiting");
    assert!(p.a.records.is_empty());

    // B's caller is answered, talks, hangs up; op1 wraps up and is available again.
    let local_id = offers(&p.b)[0].clone();
    p.console_b(ConsoleCommand::Answer { call_id: local_id })
        .expect("answer");
    p.advance(Duration::from_secs(3));
    p.b.sip(&local.request("BYE", 2, "", false));
    p.advance(Duration::from_secs(2));
    p.publish_b();

    // Then A's caller moves on to op1: the 486 counted as no ring-out.
    assert_eq!(p.peer_invites().len(), 2);
    assert_eq!(offers(&p.b).len(), 2);
    assert!(
        p.b.history
            .iter()
            .all(|r| r.reason.as_deref() != Some("no_answer")),
        "{:#?}",
        p.b.history
    );
}

#[test]
fn a_mirror_of_a_forgotten_node_is_never_rung_and_its_ring_is_cancelled() {
    let mut p = Pair::new();
    // The INVITE to B is out and B rings op1 …
    p.caller_on_a(1);
    assert_eq!(p.peer_invites().len(), 1);
    assert_eq!(offers(&p.b).len(), 1);

    // … when B goes silent: A cancels that ring, and its caller waits for someone else.
    let now = p.a.now;
    p.a.engine.forget_remote_node(now, "B");
    p.a.drain();
    assert_eq!(p.a.sent_to_starting(addr(B_SIP), "CANCEL ").len(), 1);
    assert_eq!(waiting(&p.a), 1);

    // A second caller, and any number of seconds: B is not rung again.
    p.a.advance(Duration::from_secs(10));
    let mut second = Caller::new(2);
    second.call(&mut p.a);
    p.a.advance(Duration::from_secs(10));
    assert_eq!(p.peer_invites().len(), 1);
    // op1's history is B's, before and after A forgot B.
    assert!(
        p.a.history.iter().all(|r| r.login != "op1"),
        "{:#?}",
        p.a.history
    );
}

#[test]
fn an_offer_not_answered_on_b_rings_out_there_first_and_the_caller_waits_on_a() {
    let mut p = Pair::new();
    p.caller_on_a(1);
    assert_eq!(offers(&p.b).len(), 1);

    // B rings out a second before A would: B counts the miss, A hears 480 and cancels nothing.
    p.advance(Duration::from_millis(3500));
    assert!(p.b_statuses().contains(&480), "{:?}", p.b_statuses());
    assert!(p.a.sent_to_starting(addr(B_SIP), "CANCEL ").is_empty());
    assert_eq!(waiting(&p.a), 1);
    let b_live = p.b.engine.live(p.b.now);
    assert_eq!(
        b_live
            .operators
            .iter()
            .find(|o| o.login == "op1")
            .map(|o| o.state),
        Some("available"),
        "one ring-out of two before auto-pause"
    );
    // Not rung again until B says op1 is available.
    p.advance(Duration::from_secs(5));
    assert_eq!(p.peer_invites().len(), 1);
    p.publish_b();
    assert_eq!(p.peer_invites().len(), 2);
    assert!(p.a.records.is_empty() && p.b.records.is_empty());
}

#[test]
fn a_caller_hanging_up_on_a_while_b_rings_withdraws_the_offer_on_b() {
    let mut p = Pair::new();
    let mut caller = p.caller_on_a(1);
    assert_eq!(offers(&p.b).len(), 1);

    p.a.sip(&caller.request("BYE", 2, "", false));
    p.exchange();

    assert!(p.b.console.iter().any(|e| matches!(
        e,
        ConsoleEvent::Ended {
            reason: "withdrawn",
            ..
        }
    )));
    let b_live = p.b.engine.live(p.b.now);
    assert_eq!(
        b_live
            .operators
            .iter()
            .find(|o| o.login == "op1")
            .map(|o| o.state),
        Some("available")
    );
    assert_eq!(p.a.records.len(), 1);
    assert_eq!(p.a.records[0].disposition, Disposition::Abandoned);
    assert!(p.b.records.is_empty());
}

/// A peer INVITE for `login` with A's headers, from `source`'s Via.
fn peer_invite(login: &str, source: &str) -> String {
    let sdp = offer("0 8");
    format!(
        "INVITE sip:{login}@{B_SIP} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {source};branch=z9hG4bKpeer-{login};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:0467001234@127.0.0.1>;tag=a1\r\n\
         To: <sip:{login}@{B_SIP}>\r\nCall-ID: peer-{login}@{source}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:a@{source}>\r\nX-Madoguchi-Peer: A\r\n\
         X-Madoguchi-Call-Id: 0000-{login}\r\nX-Madoguchi-Queue: desk\r\n\
         Content-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
        len = sdp.len(),
    )
}

#[test]
fn a_peer_invite_from_an_unknown_source_is_refused() {
    let mut p = Pair::new();
    let stranger = "127.0.0.1:5999";
    p.b.sip_from(addr(stranger), &peer_invite("op1", stranger));

    let finals: Vec<&str> = p.b.sent_to_starting(addr(stranger), "SIP/2.0 4");
    assert_eq!(finals.len(), 1);
    assert!(finals[0].starts_with("SIP/2.0 403"), "{}", finals[0]);
    assert!(offers(&p.b).is_empty());
    assert!(p.b.records.is_empty());
}

#[test]
fn a_peer_invite_for_someone_not_working_on_this_node_is_refused() {
    let mut p = Pair::new();
    for login in ["nobody", "op2"] {
        p.b.sip_from(addr(A_SIP), &peer_invite(login, A_SIP));
    }

    let finals: Vec<&str> = p.b.sent_to_starting(addr(A_SIP), "SIP/2.0 4");
    assert_eq!(finals.len(), 2);
    assert!(
        finals.iter().all(|m| m.starts_with("SIP/2.0 403")),
        "{finals:#?}"
    );
    assert!(offers(&p.b).is_empty());
}

#[test]
fn the_console_hanging_up_on_b_ends_the_call_on_a_as_an_operator_hang_up() {
    let (mut p, _caller, call_id) = connected_pair();
    p.advance(Duration::from_secs(3));

    p.console_b(ConsoleCommand::Hangup {
        call_id: call_id.clone(),
    })
    .expect("hang up");
    p.advance(Duration::from_secs(1));

    assert_eq!(p.a.records.len(), 1);
    let record = &p.a.records[0];
    assert_eq!(record.operator.as_deref(), Some("op1"));
    assert_eq!(record.hangup_side, Some(HangupSide::Engine));
    assert_eq!(record.hangup_cause.as_deref(), Some("operator_bye"));
    assert!(record.talk_ms.is_some_and(|t| t >= 3000));
    // The caller got A's BYE (retransmitted: the test trunk does not answer it).
    assert!(!p.a.sent_to_starting(Harness::source(), "BYE ").is_empty());
    assert!(p.b.records.is_empty());
}

#[test]
fn hold_and_recording_of_a_peer_call_are_refused_at_the_console() {
    let (mut p, _caller, call_id) = connected_pair();

    let hold = p.console_b(ConsoleCommand::Hold {
        call_id: call_id.clone(),
        on: true,
    });
    assert_eq!(hold, Err(ConsoleError::PeerCall("hold")));
    let recording = p.console_b(ConsoleCommand::Recording {
        call_id,
        action: RecordingAction::Start,
    });
    assert_eq!(recording, Err(ConsoleError::PeerCall("recording")));
}

#[test]
fn a_blind_transfer_from_the_console_on_b_is_placed_by_a() {
    let (mut p, _caller, call_id) = connected_pair();
    p.advance(Duration::from_secs(2));

    p.console_b(ConsoleCommand::Transfer {
        call_id: call_id.clone(),
        target: "city_line".into(),
    })
    .expect("transfer");

    let refer = p.b.sent_to_starting(addr(A_SIP), "REFER ");
    assert_eq!(refer.len(), 1);
    assert_eq!(
        header(refer[0], "Refer-To"),
        Some(format!("<sip:city_line@{A_SIP}>").as_str())
    );
    let mut city = Phone::new("city", CITY_LINE);
    let dial = city.last_invite(&p.a);
    city.respond(&mut p.a, &dial, "200 OK", &city.sdp(""));
    p.exchange();
    p.advance(Duration::from_secs(1));

    // A hands the caller to the city line and lets B's leg go; the console is told.
    assert_eq!(p.a.sent_to_starting(addr(B_SIP), "BYE ").len(), 1);
    assert!(p.b.console.iter().any(|e| matches!(
        e,
        ConsoleEvent::Ended { call_id: id, .. } if *id == call_id
    )));
    p.a.sip_from(addr(CITY_LINE), &city.in_dialog(&dial, "BYE", "", ""));
    let record = p.a.records.last().expect("A's record");
    assert_eq!(record.disposition, Disposition::Transferred);
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.operator.as_deref(), Some("op1"));
    assert!(p.b.records.is_empty());
}

#[test]
fn a_peer_offer_rings_the_operators_desk_phone_on_b() {
    let mut p = Pair::new();
    // op1 is on a break; op2 works with a desk phone registered on B.
    let now = p.b.now;
    p.b.engine
        .request_status(
            now,
            "op1",
            &StatusRequest::Paused {
                reason: "break".into(),
            },
        )
        .expect("pause");
    let mut phone = Phone::new("op2", "127.0.0.1:5072");
    phone.register(&mut p.b, 3600);
    p.publish_b();
    p.caller_on_a(1);

    let invite = phone.last_invite(&p.b);
    let peer_invite = p.peer_invites().pop().expect("A rang B");
    assert!(peer_invite.starts_with(&format!("INVITE sip:op2@{B_SIP} ")));
    assert_eq!(
        header(&invite, "X-Madoguchi-Call-Id"),
        header(&peer_invite, "X-Madoguchi-Call-Id")
    );
    // B answers A only when the phone answers.
    assert!(!p.b_statuses().contains(&200));
    phone.respond(&mut p.b, &invite, "200 OK", &phone.sdp(""));
    p.exchange();
    assert!(p.b_statuses().contains(&200));
    assert!(p
        .a
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { .. })));
    assert!(p
        .b
        .media
        .iter()
        .any(|m| matches!(m, MediaCommand::Bridge { .. })));
}

#[test]
fn the_callers_language_from_the_peer_header_reaches_the_console_on_b() {
    let mut p = Pair::new();
    let invite = peer_invite("op1", A_SIP).replacen(
        "X-Madoguchi-Queue: desk\r\n",
        "X-Madoguchi-Queue: desk\r\nX-Madoguchi-Language: en\r\n",
        1,
    );
    p.b.sip_from(addr(A_SIP), &invite);

    let language = p.b.console.iter().find_map(|e| match e {
        ConsoleEvent::Offered { offer, .. } => Some(offer.language.clone()),
        _ => None,
    });
    assert_eq!(language, Some(Some("en".to_owned())));
}

#[test]
fn a_peer_header_that_is_no_language_code_is_ignored() {
    let mut p = Pair::new();
    let invite = peer_invite("op1", A_SIP).replacen(
        "X-Madoguchi-Queue: desk\r\n",
        "X-Madoguchi-Queue: desk\r\nX-Madoguchi-Language: <b>en</b>\r\n",
        1,
    );
    p.b.sip_from(addr(A_SIP), &invite);

    let language = p.b.console.iter().find_map(|e| match e {
        ConsoleEvent::Offered { offer, .. } => Some(offer.language.clone()),
        _ => None,
    });
    assert_eq!(language, Some(None));
}
