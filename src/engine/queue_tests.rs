//! The queue core in virtual time: operator phones register with digest and are rung, callers
//! wait, are bridged, overflow, abandon and are transferred — SIP text in from the caller's
//! trunk, the phones and the city line, each at its own address; SIP text, media commands,
//! records and operator history out. Uses tests/dialplans/queue.toml (always open, one queue
//! `desk`: ring 4 s, wrap-up 1 s, auto-pause after 2 ring-outs, max wait 120 s, overflow to
//! the city line) and dialplans/zama.toml where the city office's calendar matters.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_sip::{LegId, Transport};
use madoguchi_store::Disposition;

use super::test_harness::*;
use super::*;

mod browser_phones;
mod languages;
mod reload;
mod transfers;
mod variants;

/// A Wednesday morning: every calendar is open.
fn wednesday() -> DateTime<Utc> {
    jst(2026, 11, 25, 10, 0)
}

fn city() -> Phone {
    Phone::new("city", CITY_LINE)
}

/// queue.toml with the city line configured and the operators in the directory (not yet
/// registered).
fn desk_with(phones: &[&Phone]) -> Harness {
    let mut h = Harness::with_targets(queue_dialplan(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, phones.iter().map(|p| p.entry()).collect());
    h.drain();
    h
}

/// queue.toml with `phones` registered (available).
fn desk(phones: &mut [&mut Phone]) -> Harness {
    let mut h = desk_with(&phones.iter().map(|p| &**p).collect::<Vec<_>>());
    for phone in phones.iter_mut() {
        let ok = phone.register(&mut h, 600);
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    }
    h
}

fn op1() -> Phone {
    Phone::new("op1", "127.0.0.1:5070")
}

fn op2() -> Phone {
    Phone::new("op2", "127.0.0.1:5071")
}

fn state_of(h: &Harness, login: &str) -> (&'static str, Option<String>) {
    let live = h.engine.live(h.now);
    let op = live
        .operators
        .into_iter()
        .find(|o| o.login == login)
        .unwrap_or_else(|| panic!("{login} is on the live board"));
    (op.state, op.reason)
}

fn history_of<'a>(h: &'a Harness, login: &str) -> Vec<(&'static str, Option<&'a str>)> {
    h.history
        .iter()
        .filter(|row| row.login == login)
        .map(|row| (row.status, row.reason.as_deref()))
        .collect()
}

fn bridged(h: &Harness) -> Vec<(LegId, LegId)> {
    h.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Bridge { a, b } => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("")
}

fn methods_to(h: &Harness, to: SocketAddr) -> Vec<String> {
    h.sent_to(to)
        .iter()
        .map(|m| first_line(m).split(' ').next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn an_operator_registering_with_digest_becomes_available_and_the_binding_is_saved() {
    let mut phone = op1();
    let mut h = desk_with(&[&phone]);
    assert_eq!(state_of(&h, "op1").0, "logged_out");

    let ok = phone.register(&mut h, 600);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(state_of(&h, "op1").0, "available");
    match h.registrations.as_slice() {
        [RegistrationChange::Save {
            login,
            contact,
            source,
            expires_at,
            ..
        }] => {
            assert_eq!(login, "op1");
            assert_eq!(contact, &phone.contact());
            assert_eq!(*source, phone.addr);
            assert_eq!(*expires_at, h.now.wall + chrono::Duration::seconds(600));
        }
        other => panic!("one Save expected: {other:?}"),
    }
    assert_eq!(history_of(&h, "op1"), vec![("available", None)]);
}

#[test]
fn un_register_logs_the_operator_out_and_deletes_the_binding() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    h.registrations.clear();

    let ok = phone.register(&mut h, 0);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(state_of(&h, "op1").0, "logged_out");
    assert_eq!(
        h.registrations,
        vec![RegistrationChange::Delete {
            login: "op1".to_owned(),
            contact: phone.contact(),
        }]
    );
    assert_eq!(
        history_of(&h, "op1"),
        vec![("available", None), ("logged_out", None)]
    );
}

/// A caller joins `desk`; the first free operator's phone rings at once.
fn call_in(h: &mut Harness, n: u32) -> Caller {
    let mut caller = Caller::new(n);
    caller.call(h);
    caller
}

/// The phone rings (180) for `ring`, then answers: returns the engine's INVITE.
fn pick_up(h: &mut Harness, phone: &Phone, ring: Duration) -> String {
    let invite = phone.last_invite(h);
    phone.respond(h, &invite, "180 Ringing", "");
    h.advance(ring);
    phone.respond(h, &invite, "200 OK", &phone.sdp(""));
    invite
}

/// The operator leg: the call's second leg the media shell was asked to bridge.
fn operator_leg(h: &Harness) -> LegId {
    bridged(h).first().map(|(_, b)| *b).expect("a bridge")
}

#[test]
fn a_queued_caller_rings_the_operators_phone_with_our_offer_and_the_call_headers() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    call_in(&mut h, 1);

    let invite = phone.last_invite(&h);
    assert!(
        invite.starts_with(&format!("INVITE {} SIP/2.0", phone.contact())),
        "rings the registered contact:\n{invite}"
    );
    assert!(
        body(&invite).contains("m=audio 40000 RTP/AVP 0 8 101"),
        "our SDP offer:\n{invite}"
    );
    let from = header(&invite, "From").expect("From");
    assert!(from.contains(&format!("<sip:{CALLER_NUMBER}@")), "{from}");
    let call_id = header(&invite, "X-Madoguchi-Call-Id").expect("the call id travels");
    let live = h.engine.live(h.now);
    let waiting = &live.queues[0].waiting;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].call_id, call_id);
    assert_eq!(state_of(&h, "op1").0, "ringing");
}

#[test]
fn an_answered_offer_is_acked_bridged_and_recorded_with_wait_and_talk_time() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    let mut caller = call_in(&mut h, 1);
    let caller_leg = h.leg();

    pick_up(&mut h, &phone, Duration::from_secs(2));
    assert_eq!(
        methods_to(&h, phone.addr).last().map(String::as_str),
        Some("ACK"),
        "the phone's 200 OK is acknowledged"
    );
    let op_leg = h.opened_legs()[1];
    assert_eq!(bridged(&h), vec![(caller_leg, op_leg)]);
    assert_eq!(state_of(&h, "op1").0, "on_call");

    h.advance(Duration::from_secs(30));
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(h.records.len(), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.operator.as_deref(), Some("op1"));
    assert_eq!(record.queue.as_deref(), Some("desk"));
    assert_eq!(record.waited_ms, Some(2_000));
    assert_eq!(record.talk_ms, Some(30_000));
    assert_eq!(phone.requests(&h, "BYE").len(), 1);
}

#[test]
fn after_the_call_the_operator_wraps_up_then_is_available_again() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    let mut caller = call_in(&mut h, 1);
    pick_up(&mut h, &phone, Duration::from_secs(1));
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(state_of(&h, "op1").0, "wrap_up");

    h.advance(Duration::from_millis(999));
    assert_eq!(state_of(&h, "op1").0, "wrap_up");
    h.advance(Duration::from_millis(1));
    assert_eq!(state_of(&h, "op1").0, "available");
    assert_eq!(
        history_of(&h, "op1"),
        vec![
            ("available", None),
            ("ringing", None),
            ("on_call", None),
            ("wrap_up", None),
            ("available", None),
        ]
    );
}

#[test]
fn the_operators_bye_ends_the_callers_call_too() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    call_in(&mut h, 1);
    let invite = pick_up(&mut h, &phone, Duration::from_secs(1));
    h.advance(Duration::from_secs(10));

    let bye = phone.send_in_dialog(&mut h, &invite, "BYE", "", "");
    assert!(phone
        .response_to(&h, &bye)
        .is_some_and(|r| r.starts_with("SIP/2.0 200")));
    let to_caller = h.sent_to_starting(Harness::source(), "BYE ");
    assert_eq!(to_caller.len(), 1, "the caller gets BYE");
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.hangup_cause.as_deref(), Some("operator_bye"));
    assert_eq!(record.talk_ms, Some(10_000));
    assert_eq!(state_of(&h, "op1").0, "wrap_up");
}

#[test]
fn a_ring_out_cancels_the_phone_and_rings_the_next_operator() {
    let (mut a, mut b) = (op1(), op2());
    let mut h = desk(&mut [&mut a, &mut b]);
    call_in(&mut h, 1);
    // Longest idle first: op1 registered first.
    let first = a.last_invite(&h);
    assert!(b.invites(&h).is_empty(), "one operator at a time");
    a.respond(&mut h, &first, "180 Ringing", "");

    h.advance(Duration::from_millis(3_999));
    assert!(a.requests(&h, "CANCEL").is_empty());
    h.advance(Duration::from_millis(1));
    let cancel = a.requests(&h, "CANCEL");
    assert_eq!(cancel.len(), 1, "the phone that rang out is cancelled");
    assert_eq!(header(&cancel[0], "Call-ID"), header(&first, "Call-ID"));
    assert_eq!(b.invites(&h).len(), 1, "the next operator rings");
    assert_eq!(state_of(&h, "op2").0, "ringing");
    assert_eq!(state_of(&h, "op1").0, "available");
}

#[test]
fn an_operator_who_lets_auto_pause_after_offers_ring_out_is_paused_no_answer() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    call_in(&mut h, 1);
    let first = phone.last_invite(&h);
    phone.respond(&mut h, &first, "180 Ringing", "");
    h.advance(Duration::from_secs(4));
    phone.cancelled(&mut h, &first);
    assert_eq!(state_of(&h, "op1").0, "ringing", "rung again, one ring-out");
    let second = phone.last_invite(&h);
    assert_ne!(header(&second, "Call-ID"), header(&first, "Call-ID"));
    phone.respond(&mut h, &second, "180 Ringing", "");

    h.advance(Duration::from_secs(4));
    assert_eq!(
        state_of(&h, "op1"),
        ("paused", Some("no_answer".to_owned()))
    );
    phone.cancelled(&mut h, &second);
    assert_eq!(
        history_of(&h, "op1").last(),
        Some(&("paused", Some("no_answer")))
    );
    assert_eq!(phone.requests(&h, "CANCEL").len(), 2);
    assert_eq!(phone.invites(&h).len(), 2, "a paused operator is not rung");
}

#[test]
fn a_caller_hanging_up_while_the_phone_rings_is_abandoned_and_the_phone_cancelled() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    let mut caller = call_in(&mut h, 1);
    let invite = phone.last_invite(&h);
    phone.respond(&mut h, &invite, "180 Ringing", "");
    h.advance(Duration::from_secs(3));

    h.sip(&caller.request("BYE", 2, "", false));
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Abandoned);
    assert_eq!(record.waited_ms, Some(3_000));
    assert_eq!(record.operator, None);
    let cancel = phone.requests(&h, "CANCEL");
    assert_eq!(cancel.len(), 1);
    assert_eq!(header(&cancel[0], "Call-ID"), header(&invite, "Call-ID"));
    assert_eq!(state_of(&h, "op1").0, "available");
}

#[test]
fn with_nobody_logged_in_the_caller_overflows_to_the_city_line_and_busy_plays_the_failed_steps() {
    let mut h = desk_with(&[]);
    call_in(&mut h, 1);
    let leg = h.leg();
    let city = city();

    let invite = city.last_invite(&h);
    assert!(invite.starts_with(&format!("INVITE {CITY_LINE_URI} SIP/2.0")));
    assert_eq!(
        header(&invite, "P-Asserted-Identity"),
        Some(format!("<sip:{CALLER_NUMBER}@127.0.0.1>").as_str())
    );
    assert!(header(&invite, "From").is_some_and(|f| f.contains(CALLER_NUMBER)));
    city.respond(&mut h, &invite, "486 Busy Here", "");

    assert_eq!(
        h.played().last().map(String::as_str),
        Some("transfer_failed")
    );
    h.finish_prompt(leg);
    h.advance(call::PLAYOUT_TAIL);
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Overflowed);
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.transfer_result.as_deref(), Some("busy"));
    assert!(record
        .events
        .iter()
        .any(|e| e.kind == "queue_left" && e.detail["reason"] == "no_operator"));
}

/// `phone`'s operator pauses (break) through the API: logged in, offered nothing.
fn pause(h: &mut Harness, login: &str) {
    let now = h.now;
    h.engine
        .request_status(
            now,
            login,
            &StatusRequest::Paused {
                reason: "break".to_owned(),
            },
        )
        .expect("a logged-in operator may pause");
    h.drain();
}

#[test]
fn reaching_max_wait_overflows_the_caller_to_the_city_line() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    pause(&mut h, "op1");
    let mut caller = call_in(&mut h, 1);
    let caller_leg = h.leg();
    let city = city();

    h.advance(Duration::from_millis(119_999));
    assert!(city.invites(&h).is_empty(), "still waiting");
    h.advance(Duration::from_millis(1));
    let invite = city.last_invite(&h);
    city.respond(&mut h, &invite, "200 OK", &city.sdp(""));
    let city_leg = *h.opened_legs().last().expect("the city line leg");
    assert_eq!(bridged(&h).last(), Some(&(caller_leg, city_leg)));

    h.advance(Duration::from_secs(5));
    h.sip(&caller.request("BYE", 2, "", false));
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Overflowed);
    assert_eq!(record.waited_ms, Some(120_000));
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.transfer_result.as_deref(), Some("answered"));
    assert!(record
        .events
        .iter()
        .any(|e| e.kind == "queue_left" && e.detail["reason"] == "max_wait"));
    assert_eq!(city.requests(&h, "BYE").len(), 1, "the city leg ends too");
}

#[test]
fn a_waiting_caller_hears_please_wait_then_the_position_then_looped_hold_music() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    pause(&mut h, "op1");
    call_in(&mut h, 1);
    let leg = h.leg();

    for _ in 0..4 {
        h.finish_prompt(leg);
    }
    assert_eq!(
        h.played(),
        vec![
            "please_wait",
            "position_prefix",
            "position_1",
            "position_suffix",
            "hold_music"
        ]
    );
    assert!(matches!(
        h.media
            .iter()
            .rev()
            .find(|m| matches!(m, MediaCommand::Play { .. })),
        Some(MediaCommand::Play { looped: true, .. })
    ));
    assert!(
        !matches!(
            h.media
                .iter()
                .find(|m| matches!(m, MediaCommand::Play { .. })),
            Some(MediaCommand::Play { looped: true, .. })
        ),
        "announcements are played once"
    );
}

#[test]
fn the_position_is_announced_again_every_announce_every_seconds_cutting_the_music() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    pause(&mut h, "op1");
    call_in(&mut h, 1);
    call_in(&mut h, 2);
    let second = h.opened_legs()[1];
    for _ in 0..4 {
        h.finish_prompt(second);
    }
    let before = h.played().len();

    h.advance(Duration::from_secs(20));
    let now_playing: Vec<String> = h
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Play { leg, prompt, .. } if *leg == second => h.prompt_name(*prompt),
            _ => None,
        })
        .collect();
    assert!(h.played().len() > before);
    assert_eq!(
        now_playing.last().map(String::as_str),
        Some("position_prefix")
    );
    h.finish_prompt(second);
    assert_eq!(
        h.played().last().map(String::as_str),
        Some("position_2"),
        "the second caller is second"
    );
}

#[test]
fn an_operator_hold_reinvite_unbridges_and_plays_hold_music_and_resume_bridges_again() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    call_in(&mut h, 1);
    let caller_leg = h.leg();
    let invite = pick_up(&mut h, &phone, Duration::from_secs(1));
    let op_leg = operator_leg(&h);

    let hold = phone.send_in_dialog(&mut h, &invite, "INVITE", "", &phone.sdp("a=sendonly\r\n"));
    let ok = phone.response_to(&h, &hold).expect("the hold is answered");
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert!(body(ok).contains("a=recvonly"), "{ok}");
    assert!(h
        .media
        .contains(&MediaCommand::Unbridge { leg: caller_leg }));
    assert_eq!(h.played().last().map(String::as_str), Some("hold_music"));
    assert!(matches!(
        h.media.iter().rev().find(|m| matches!(m, MediaCommand::Play { .. })),
        Some(MediaCommand::Play { leg, looped: true, .. }) if *leg == caller_leg
    ));
    phone.send_in_dialog(&mut h, &invite, "ACK", "", "");

    let resume = phone.send_in_dialog(&mut h, &invite, "INVITE", "", &phone.sdp(""));
    assert!(phone
        .response_to(&h, &resume)
        .is_some_and(|r| r.starts_with("SIP/2.0 200")));
    assert_eq!(
        bridged(&h),
        vec![(caller_leg, op_leg), (caller_leg, op_leg)],
        "bridged again on resume"
    );
}

#[test]
fn a_caller_who_joins_while_the_only_operator_talks_is_rung_when_the_wrap_up_ends() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    let mut first = call_in(&mut h, 1);
    pick_up(&mut h, &phone, Duration::from_secs(1));
    call_in(&mut h, 2);
    assert_eq!(phone.invites(&h).len(), 1, "not rung while on a call");

    h.advance(Duration::from_secs(5));
    h.sip(&first.request("BYE", 2, "", false));
    assert_eq!(phone.invites(&h).len(), 1, "not rung during the wrap-up");
    h.advance(Duration::from_secs(1));
    assert_eq!(phone.invites(&h).len(), 2);
    assert_eq!(state_of(&h, "op1").0, "ringing");
}

/// zama.toml with the city line configured and `phone` registered; the caller chooses 1 in
/// the menu and `phone` answers.
fn zama_connected(wall: DateTime<Utc>, phone: &mut Phone) -> (Harness, Caller, String) {
    let mut h = Harness::with_targets(zama(), city_line_targets(), wall);
    let now = h.now;
    h.engine.set_directory(now, vec![phone.entry()]);
    h.drain();
    phone.register(&mut h, 600);
    let mut caller = Caller::new(1);
    caller.call(&mut h);
    let leg = h.leg();
    h.finish_prompt(leg); // greeting
    h.finish_prompt(leg); // recording notice
    h.media_event(MediaEvent::Digit { leg, digit: '1' });
    let invite = pick_up(&mut h, phone, Duration::from_secs(1));
    (h, caller, invite)
}

#[test]
fn the_callers_menu_choice_travels_to_the_operators_phone() {
    let mut phone = op1();
    let (_h, _caller, invite) = zama_connected(wednesday(), &mut phone);
    assert_eq!(header(&invite, "X-Madoguchi-Menu"), Some("1"));
    assert_eq!(header(&invite, "X-Madoguchi-Queue"), Some("card"));
    let from = header(&invite, "From").expect("From");
    assert!(
        from.starts_with("\"[1] 申請・受け取り\" <sip:0467001234@"),
        "{from}"
    );
}

/// The feature code call from `phone`: INVITE, ACK of the 200; returns the caller leg.
fn dial_feature(h: &mut Harness, phone: &mut Phone, code: &str) -> LegId {
    let invite = phone.dial(code);
    h.sip_from(phone.addr, &invite);
    let ok = phone
        .response_to(h, &invite)
        .filter(|r| r.starts_with("SIP/2.0 200"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("the feature call is answered: {:#?}", h.sent));
    h.sip_from(phone.addr, &phone.ack(&invite, &ok));
    *h.opened_legs().last().expect("media for the feature call")
}

fn zama_with(phone: &mut Phone) -> Harness {
    let mut h = Harness::with_targets(zama(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine.set_directory(now, vec![phone.entry()]);
    h.drain();
    phone.register(&mut h, 600);
    h
}

#[test]
fn star_50_from_a_registered_phone_pauses_the_operator_for_a_break_and_confirms() {
    let mut phone = op1();
    let mut h = zama_with(&mut phone);

    let leg = dial_feature(&mut h, &mut phone, "*50");
    assert_eq!(state_of(&h, "op1"), ("paused", Some("break".to_owned())));
    assert_eq!(
        history_of(&h, "op1").last(),
        Some(&("paused", Some("break")))
    );
    assert_eq!(h.played(), vec!["feature_paused"]);
    h.finish_prompt(leg);
    h.advance(call::PLAYOUT_TAIL);
    assert_eq!(
        h.sent_to_starting(phone.addr, "BYE ").len(),
        1,
        "hung up after the prompt"
    );
}

#[test]
fn star_50_from_an_address_no_phone_of_that_login_registered_from_is_refused() {
    let mut phone = op1();
    let mut h = zama_with(&mut phone);
    let rows = h.history.len();
    let mut stranger = Phone::new("op1", "127.0.0.2:5070");

    dial_feature(&mut h, &mut stranger, "*50");
    assert_eq!(h.played(), vec!["feature_refused"]);
    assert_eq!(state_of(&h, "op1").0, "available");
    assert_eq!(h.history.len(), rows, "no status change");
}

fn stored(phone: &Phone, expires_at: DateTime<Utc>) -> StoredBinding {
    StoredBinding {
        login: phone.login.clone(),
        contact: phone.contact(),
        source: phone.addr,
        transport: Transport::Udp,
        call_id: format!("reg-{}", phone.login),
        cseq: 1,
        expires_at,
    }
}

#[test]
fn after_a_restart_a_stored_binding_whose_operator_was_paused_comes_back_paused() {
    let phone = op1();
    let mut h = desk_with(&[&phone]);
    let now = h.now;
    let last_status = std::collections::HashMap::from([(
        "op1".to_owned(),
        ("paused".to_owned(), Some("lunch".to_owned())),
    )]);

    h.engine.restore(
        now,
        vec![stored(&phone, now.wall + chrono::Duration::seconds(300))],
        last_status,
    );
    h.drain();
    assert_eq!(state_of(&h, "op1"), ("paused", Some("lunch".to_owned())));
    assert_eq!(
        history_of(&h, "op1").last(),
        Some(&("paused", Some("lunch")))
    );
    call_in(&mut h, 1);
    assert!(
        phone.invites(&h).is_empty(),
        "a paused operator is not rung"
    );
}

#[test]
fn a_restored_binding_is_where_the_operator_is_rung() {
    let phone = op1();
    let mut h = desk_with(&[&phone]);
    let now = h.now;
    h.engine.restore(
        now,
        vec![stored(&phone, now.wall + chrono::Duration::seconds(300))],
        Default::default(),
    );
    h.drain();
    assert_eq!(state_of(&h, "op1").0, "available");

    call_in(&mut h, 1);
    assert_eq!(phone.invites(&h).len(), 1);
}

#[test]
fn an_expired_stored_binding_is_not_restored() {
    let phone = op1();
    let mut h = desk_with(&[&phone]);
    let now = h.now;
    h.engine
        .restore(now, vec![stored(&phone, now.wall)], Default::default());
    h.drain();
    assert_eq!(state_of(&h, "op1").0, "logged_out");
}

#[test]
fn the_live_state_lists_waiting_callers_in_order_by_call_id_without_their_numbers() {
    let mut phone = op1();
    let op2 = op2();
    let mut h = desk_with(&[&phone, &op2]);
    phone.register(&mut h, 600);
    pause(&mut h, "op1");
    let mut first = call_in(&mut h, 1);
    h.advance(Duration::from_secs(5));
    let mut second = call_in(&mut h, 2);
    h.advance(Duration::from_secs(2));

    let live = h.engine.live(h.now);
    let desk = &live.queues[0];
    assert_eq!(desk.name, "desk");
    let waiting: Vec<(usize, i64)> = desk
        .waiting
        .iter()
        .map(|w| (w.position, w.waited_s))
        .collect();
    assert_eq!(waiting, vec![(1, 7), (2, 2)]);
    assert_eq!(desk.longest_wait_s, 7);
    assert_eq!((desk.operators_logged_in, desk.operators_available), (1, 0));
    let states: Vec<(&str, &str, Option<&str>)> = live
        .operators
        .iter()
        .map(|o| (o.login.as_str(), o.state, o.reason.as_deref()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("op1", "paused", Some("break")),
            ("op2", "logged_out", None)
        ]
    );
    let json = serde_json::to_string(&live).expect("serializes");
    assert!(!json.contains(CALLER_NUMBER), "no caller numbers: {json}");

    let ids: Vec<String> = desk.waiting.iter().map(|w| w.call_id.clone()).collect();
    h.sip(&first.request("BYE", 2, "", false));
    h.sip(&second.request("BYE", 2, "", false));
    let recorded: Vec<String> = h.records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, recorded, "the live ids are the calls' ids");
}

/// Regression: an operator set available through the API without a registered phone got each
/// offer rejected at once, and the ACD offered the same caller to the same operator again in
/// the same pump — the engine spun forever. Such an operator is now logged out at the offer.
#[test]
fn an_operator_available_without_a_phone_is_logged_out_and_the_caller_moves_on() {
    let (phoneless, mut b) = (op1(), op2());
    let mut h = desk_with(&[&phoneless, &b]);
    let now = h.now;
    h.engine
        .request_status(now, "op1", &StatusRequest::Available)
        .expect("the API may log an operator in");
    h.drain();
    h.advance(Duration::from_secs(1));
    b.register(&mut h, 600);

    call_in(&mut h, 1);
    assert_eq!(state_of(&h, "op1").0, "logged_out");
    assert_eq!(history_of(&h, "op1").last(), Some(&("logged_out", None)));
    assert_eq!(b.invites(&h).len(), 1, "the next operator rings");
}

/// Regression: a queued call ended otherwise than by the caller's BYE (shutdown) stayed in
/// the ACD; its ringing operator was freed by the ring timeout and the ACD offered the gone
/// caller again and again in one pump. Every end of a queued call now leaves the ACD.
#[test]
fn a_queued_call_ended_by_shutdown_leaves_the_queue_and_frees_its_ringing_operator() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    call_in(&mut h, 1);
    let invite = phone.last_invite(&h);
    phone.respond(&mut h, &invite, "180 Ringing", "");
    let now = h.now;

    h.engine.interrupt_all(now);
    h.drain();
    assert_eq!(h.records[0].disposition, Disposition::Interrupted);
    assert_eq!(phone.requests(&h, "CANCEL").len(), 1);
    assert_eq!(state_of(&h, "op1").0, "available");
    assert!(h.engine.live(h.now).queues[0].waiting.is_empty());
    h.advance(Duration::from_secs(10));
    assert_eq!(phone.invites(&h).len(), 1, "nobody is offered again");
}

#[test]
fn a_caller_joining_a_queue_nobody_can_serve_marks_the_live_state_changed() {
    // Joining raises no ACD event when nobody is free, yet the board must show the caller.
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    pause(&mut h, "op1");
    let _ = h.engine.take_live_changed();
    call_in(&mut h, 1);
    assert!(h.engine.take_live_changed());
    assert_eq!(h.engine.live(h.now).queues[0].waiting.len(), 1);
}
