//! Transfers to the city line by the operator: REFER from the phone (RFC 3515, with NOTIFY
//! progress), the API, the toll-fraud guard, and the city office's calendar.

use std::time::Duration;

use madoguchi_store::Disposition;

use super::super::test_harness::*;
use super::super::*;
use super::{bridged, call_in, city, desk, op1, pause, pick_up, state_of, zama_connected};

/// op1 answered caller 1; returns the harness, the phone, the caller and the engine's INVITE
/// to the phone.
fn connected() -> (Harness, Phone, Caller, String) {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    let caller = call_in(&mut h, 1);
    let invite = pick_up(&mut h, &phone, Duration::from_secs(1));
    (h, phone, caller, invite)
}

fn refer_to(uri: &str) -> String {
    format!("Refer-To: <{uri}>\r\nReferred-By: <sip:op1@127.0.0.1>\r\n")
}

/// The sipfrag status line of each NOTIFY sent to `phone`, with its Subscription-State.
fn notifies(h: &Harness, phone: &Phone) -> Vec<(String, String)> {
    phone
        .requests(h, "NOTIFY")
        .iter()
        .map(|n| {
            (
                body(n).trim().to_owned(),
                header(n, "Subscription-State").unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_refer_from_the_operator_to_the_city_line_is_accepted_notified_and_dialled() {
    let (mut h, mut phone, _caller, invite) = connected();
    let city = city();

    let refer = phone.send_in_dialog(
        &mut h,
        &invite,
        "REFER",
        &refer_to("sip:city_line@127.0.0.1"),
        "",
    );
    assert!(phone
        .response_to(&h, &refer)
        .is_some_and(|r| r.starts_with("SIP/2.0 202")));
    assert_eq!(
        notifies(&h, &phone),
        vec![(
            "SIP/2.0 100 Trying".to_owned(),
            "active;expires=60".to_owned()
        )]
    );
    let dialled = city.last_invite(&h);
    assert!(dialled.starts_with(&format!("INVITE {CITY_LINE_URI} ")));
    assert!(header(&dialled, "From").is_some_and(|f| f.contains(CALLER_NUMBER)));
    assert_eq!(
        state_of(&h, "op1").0,
        "wrap_up",
        "the operator is done with the caller"
    );
}

#[test]
fn the_city_lines_answer_to_a_refer_transfer_notifies_200_and_ends_the_operator_leg() {
    let (mut h, mut phone, mut caller, invite) = connected();
    let city = city();
    let caller_leg = h.leg();
    h.advance(Duration::from_secs(20));
    phone.send_in_dialog(
        &mut h,
        &invite,
        "REFER",
        &refer_to("sip:city_line@127.0.0.1"),
        "",
    );
    let dialled = city.last_invite(&h);
    city.respond(&mut h, &dialled, "200 OK", &city.sdp(""));

    assert_eq!(
        notifies(&h, &phone).last(),
        Some(&(
            "SIP/2.0 200 OK".to_owned(),
            "terminated;reason=noresource".to_owned()
        ))
    );
    assert_eq!(phone.requests(&h, "BYE").len(), 1, "the operator leg ends");
    let city_leg = *h.opened_legs().last().expect("the city leg");
    assert_eq!(bridged(&h).last(), Some(&(caller_leg, city_leg)));

    h.sip(&caller.request("BYE", 2, "", false));
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Transferred);
    assert_eq!(record.operator.as_deref(), Some("op1"));
    assert_eq!(record.talk_ms, Some(20_000), "talk time with the operator");
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.transfer_result.as_deref(), Some("answered"));
}

#[test]
fn a_refer_to_a_destination_the_dialplan_does_not_name_is_refused_and_nothing_is_dialled() {
    let (mut h, mut phone, _caller, invite) = connected();
    let before = h.sent.len();

    let refer = phone.send_in_dialog(
        &mut h,
        &invite,
        "REFER",
        &refer_to("sip:0901234567@evil.example"),
        "",
    );
    assert!(phone
        .response_to(&h, &refer)
        .is_some_and(|r| r.starts_with("SIP/2.0 403")));
    assert!(
        !h.sent[before..].iter().any(|m| m.starts_with("INVITE ")),
        "nothing dialled: {:#?}",
        &h.sent[before..]
    );
    assert_eq!(state_of(&h, "op1").0, "on_call", "the call goes on");
    assert!(h
        .media
        .iter()
        .all(|m| !matches!(m, MediaCommand::Unbridge { .. })));
}

#[test]
fn a_refer_from_the_callers_own_leg_is_refused_with_403() {
    let (mut h, _phone, mut caller, _invite) = connected();
    let before = h.sent.len();
    let refer = caller.request("REFER", 2, "", false).replace(
        "Max-Forwards: 70\r\n",
        &format!(
            "Max-Forwards: 70\r\n{}",
            refer_to("sip:city_line@127.0.0.1")
        ),
    );
    h.sip(&refer);
    let answer = h
        .sent_to(Harness::source())
        .into_iter()
        .rev()
        .find(|m| header(m, "CSeq") == Some("2 REFER"))
        .expect("the REFER is answered");
    assert!(answer.starts_with("SIP/2.0 403"), "{answer}");
    assert!(!h.sent[before..].iter().any(|m| m.starts_with("INVITE ")));
}

/// The engine's call id of the call `phone` was rung for.
fn call_id_of(invite: &str) -> String {
    header(invite, "X-Madoguchi-Call-Id")
        .expect("the call id travels")
        .to_owned()
}

#[test]
fn an_api_transfer_of_a_call_with_an_operator_dials_the_city_line_and_ends_the_operator_leg() {
    let (mut h, phone, mut caller, invite) = connected();
    let city = city();
    let now = h.now;

    h.engine
        .transfer(now, &call_id_of(&invite), "city_line")
        .expect("the call is with an operator");
    h.drain();
    assert_eq!(city.invites(&h).len(), 1);
    assert_eq!(phone.requests(&h, "BYE").len(), 1, "the operator leg ends");
    assert!(
        phone.requests(&h, "NOTIFY").is_empty(),
        "no REFER to notify"
    );
    let dialled = city.last_invite(&h);
    city.respond(&mut h, &dialled, "200 OK", &city.sdp(""));
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(h.records[0].disposition, Disposition::Transferred);
    assert_eq!(h.records[0].transfer_result.as_deref(), Some("answered"));
}

#[test]
fn an_api_transfer_names_what_is_wrong_with_the_request() {
    let mut phone = op1();
    let mut h = desk(&mut [&mut phone]);
    pause(&mut h, "op1");
    call_in(&mut h, 1);
    let now = h.now;
    let waiting = h.engine.live(now).queues[0].waiting[0].call_id.clone();

    assert_eq!(
        h.engine.transfer(now, "no-such-call", "city_line"),
        Err(TransferError::UnknownCall("no-such-call".to_owned()))
    );
    assert_eq!(
        h.engine.transfer(now, &waiting, "city_line"),
        Err(TransferError::NotWithOperator)
    );
    assert_eq!(
        h.engine.transfer(now, &waiting, "home"),
        Err(TransferError::UnknownTarget("home".to_owned()))
    );
    h.drain();
    assert!(city().invites(&h).is_empty());
}

#[test]
fn a_transfer_while_the_city_office_is_closed_plays_the_closed_steps_and_dials_nothing() {
    // Saturday: the hotline is open, the city office is not.
    let mut phone = op1();
    let (mut h, _caller, invite) = zama_connected(jst(2026, 11, 28, 10, 0), &mut phone);
    let leg = h.leg();
    let now = h.now;

    h.engine
        .transfer(now, &call_id_of(&invite), "city_line")
        .expect("the call is with an operator");
    h.drain();
    assert_eq!(h.played().last().map(String::as_str), Some("city_closed"));
    h.finish_prompt(leg);
    assert_eq!(h.played().last().map(String::as_str), Some("goodbye"));
    h.finish_prompt(leg);
    h.advance(call::PLAYOUT_TAIL);

    assert!(
        city().invites(&h).is_empty(),
        "the empty office is not rung"
    );
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    let record = &h.records[0];
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.transfer_result.as_deref(), Some("closed"));
    assert_eq!(record.operator.as_deref(), Some("op1"));
}

#[test]
fn a_refer_while_the_city_office_is_closed_is_notified_as_failed_and_dials_nothing() {
    // 18:00 on a weekday: the hotline is open until 20:00, the city office until 17:15.
    let mut phone = op1();
    let (mut h, _caller, invite) = zama_connected(jst(2026, 11, 25, 18, 0), &mut phone);

    phone.send_in_dialog(
        &mut h,
        &invite,
        "REFER",
        &refer_to("sip:city_line@127.0.0.1"),
        "",
    );
    let last = notifies(&h, &phone).last().cloned().expect("NOTIFYs");
    assert!(last.0.starts_with("SIP/2.0 5"), "{last:?}");
    assert_eq!(last.1, "terminated;reason=noresource");
    assert_eq!(h.played().last().map(String::as_str), Some("city_closed"));
    assert!(city().invites(&h).is_empty());
}
