//! Free waiting (`answer = "operator"`) in virtual time: the flow runs behind a 183 with SDP
//! and the caller's 200 OK waits for an operator or the cap. Uses tests/dialplans/early.toml
//! (greeting `please_wait`, queue `desk` joinable with nobody logged in, cap 150 s).

use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_dialplan::Dialplan;
use madoguchi_store::{AnswerMode as StoredAnswerMode, AnsweredBy, Disposition};

use super::media::{MediaCommand, MediaEvent};
use super::test_harness::*;

fn wednesday() -> DateTime<Utc> {
    jst(2026, 11, 25, 10, 0)
}

fn early_dialplan() -> Dialplan {
    Dialplan::load(&repo().join("tests/dialplans/early.toml")).expect("early.toml checks")
}

/// early.toml with `from` replaced by `to` (a variant for one test).
fn early_variant(from: &str, to: &str) -> Dialplan {
    early_variants(&[(from, to)])
}

/// early.toml with each `from` replaced by its `to`.
fn early_variants(changes: &[(&str, &str)]) -> Dialplan {
    let path = repo().join("tests/dialplans/early.toml");
    let mut text = std::fs::read_to_string(&path).expect("early.toml");
    for (from, to) in changes {
        assert_eq!(text.matches(from).count(), 1, "{from:?} once in early.toml");
        text = text.replace(from, to);
    }
    Dialplan::parse("early.toml", &text, path.parent().expect("dir")).expect("variant checks")
}

fn op1() -> Phone {
    Phone::new("op1", "127.0.0.1:5070")
}

/// early.toml with `phones` in the directory, registered.
fn desk(dialplan: Dialplan, phones: &mut [&mut Phone]) -> Harness {
    let mut h = Harness::with(dialplan, wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, phones.iter().map(|p| p.entry()).collect());
    h.drain();
    for phone in phones.iter_mut() {
        let ok = phone.register(&mut h, 600);
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    }
    h
}

/// INVITE from caller `n`; nothing answers it yet.
fn invite(h: &mut Harness, n: u32) -> (Caller, String) {
    let mut caller = Caller::new(n);
    let invite = caller.invite(&offer("0 8"));
    h.sip(&invite);
    (caller, invite)
}

/// INVITE from caller `n`, whose greeting then ends: the caller waits in `desk`.
fn queued(h: &mut Harness, n: u32) -> (Caller, String) {
    let call = invite(h, n);
    let leg = *h.opened_legs().last().expect("media opened");
    h.finish_prompt(leg);
    call
}

/// Responses with `status` sent to the caller.
fn count(h: &Harness, status: u16) -> usize {
    let prefix = format!("SIP/2.0 {status} ");
    h.sent_to(CALLER.parse().expect("addr"))
        .iter()
        .filter(|m| m.starts_with(&prefix))
        .count()
}

#[test]
fn an_operator_mode_call_gets_a_183_with_sdp_and_no_200() {
    let mut h = desk(early_dialplan(), &mut []);
    invite(&mut h, 1);
    h.advance(Duration::from_secs(10));

    let statuses = h.statuses();
    assert!(statuses.contains(&183), "{statuses:?}");
    assert!(
        !statuses.contains(&180),
        "no ringing in operator mode: {statuses:?}"
    );
    assert!(
        !statuses.contains(&200),
        "nobody answered yet: {statuses:?}"
    );
    let early = h.last_response(183);
    assert!(body(early).contains("m=audio 40000 RTP/AVP 0"), "{early}");
}

#[test]
fn the_flow_plays_the_greeting_then_music_in_early_media() {
    let mut h = desk(early_dialplan(), &mut []);
    invite(&mut h, 1);
    let leg = h.leg();
    assert!(
        h.media
            .iter()
            .any(|m| matches!(m, MediaCommand::Start { leg: l, .. } if *l == leg)),
        "media started before any 200"
    );
    assert_eq!(h.played(), vec!["please_wait"]);
    h.finish_prompt(leg);
    let played = h.played();
    assert_eq!(played[..2], ["please_wait", "hold_music"]);
    assert_eq!(count(&h, 200), 0);
}

#[test]
fn the_200_waits_for_the_operator_and_repeats_the_183_sdp() {
    let mut phone = op1();
    let mut h = desk(early_dialplan(), &mut [&mut phone]);
    let (mut caller, _) = queued(&mut h, 1);
    let ringing = phone.last_invite(&h);
    phone.respond(&mut h, &ringing, "180 Ringing", "");
    h.advance(Duration::from_secs(5));
    assert_eq!(count(&h, 200), 0, "no 200 while the operator's phone rings");

    phone.respond(&mut h, &ringing, "200 OK", &phone.sdp(""));
    assert_eq!(count(&h, 200), 1);
    let ok = h.last_response(200).to_owned();
    assert_eq!(body(&ok), body(h.last_response(183)), "same SDP bytes");
    h.sip(&caller.ack(&ok));
    h.advance(Duration::from_secs(20));
    h.sip(&caller.request("BYE", 2, "", false));

    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(
        record.answered_at,
        Some(wednesday() + chrono::Duration::seconds(5))
    );
    assert_eq!(record.operator.as_deref(), Some("op1"));
}

#[test]
fn at_the_early_limit_the_engine_answers_and_the_caller_stays_queued() {
    let mut h = desk(early_dialplan(), &mut []);
    queued(&mut h, 1);
    h.advance(Duration::from_millis(149_999));
    assert_eq!(count(&h, 200), 0);
    h.advance(Duration::from_millis(1));
    assert_eq!(count(&h, 200), 1, "answered at 150 s");
    let live = h.engine.live(h.now);
    assert_eq!(live.queues[0].waiting.len(), 1, "still in the queue");
}

#[test]
fn the_183_is_sent_again_every_60_seconds_while_unanswered() {
    let mut h = desk(early_dialplan(), &mut []);
    invite(&mut h, 1);
    assert_eq!(count(&h, 183), 1);
    h.advance(Duration::from_secs(59));
    assert_eq!(count(&h, 183), 1);
    h.advance(Duration::from_secs(1));
    assert_eq!(count(&h, 183), 2, "at 60 s");
    h.advance(Duration::from_secs(60));
    assert_eq!(count(&h, 183), 3, "at 120 s");
    h.advance(Duration::from_secs(60));
    assert_eq!(count(&h, 183), 3, "answered at 150 s: no refresh at 180 s");
}

#[test]
fn a_flow_hangup_in_early_media_rejects_the_call_480() {
    // Nobody logged in and the queue not joinable: goodbye, then the flow hangs up.
    let mut h = desk(
        early_variant("join_empty = true", "join_empty = false"),
        &mut [],
    );
    invite(&mut h, 1);
    let leg = h.leg();
    h.finish_prompt(leg); // please_wait
    h.finish_prompt(leg); // goodbye
    h.advance(Duration::from_secs(1));
    let finals: Vec<u16> = h.statuses().into_iter().filter(|s| *s >= 200).collect();
    assert_eq!(finals.first(), Some(&480), "{finals:?}");
    assert_eq!(count(&h, 200), 0);
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].answered_at, None);
}

#[test]
fn a_cancel_while_queued_in_early_media_is_abandoned() {
    let mut h = desk(early_dialplan(), &mut []);
    let (_, invite) = queued(&mut h, 1);
    h.advance(Duration::from_secs(30));
    h.sip(&cancel_of(&invite));
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::Abandoned);
}

#[test]
fn the_journal_hold_keeps_early_media_behind_the_held_183() {
    let mut h = Harness::with(early_dialplan(), wednesday());
    h.auto_journal = false;
    invite(&mut h, 1);
    let leg = h.leg();
    assert!(
        !h.media.iter().any(|m| matches!(
            m,
            MediaCommand::Start { leg: l, .. } | MediaCommand::Play { leg: l, .. } if *l == leg
        )),
        "no media before the 183 goes out: {:?}",
        h.media
    );
    assert_eq!(count(&h, 183), 0);

    let id = h.opened[0].id.clone();
    let now = h.now;
    h.engine.journaled(now, &id);
    h.drain();
    assert_eq!(count(&h, 183), 1);
    let start = h
        .media
        .iter()
        .position(|m| matches!(m, MediaCommand::Start { leg: l, .. } if *l == leg))
        .expect("media started once released");
    let play = h
        .media
        .iter()
        .position(|m| matches!(m, MediaCommand::Play { leg: l, .. } if *l == leg))
        .expect("greeting played once released");
    assert!(start < play, "released in order");
}

/// A CANCEL for `invite`.
fn cancel_of(invite: &str) -> String {
    let cancel = invite
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    cancel
        .split("Content-Type")
        .next()
        .expect("head")
        .to_owned()
        + "Content-Length: 0\r\n\r\n"
}

#[test]
fn a_menu_digit_in_early_media_routes_the_caller() {
    let mut h = desk(
        early_variant(
            r#"open = [{ play = "please_wait" }, { queue = "desk" },"#,
            r#"open = [{ menu = { prompt = "please_wait", choices = { "1" = [{ queue = "desk" }] } } },"#,
        ),
        &mut [],
    );
    invite(&mut h, 1);
    let leg = h.leg();
    h.media_event(MediaEvent::Digit { leg, digit: '1' });
    let live = h.engine.live(h.now);
    assert_eq!(live.queues[0].waiting.len(), 1, "queued by the digit");
    assert_eq!(count(&h, 200), 0, "still unanswered");
}

#[test]
fn a_shutdown_in_early_media_refuses_the_call_503() {
    let mut h = desk(early_dialplan(), &mut []);
    invite(&mut h, 1);
    let now = h.now;
    h.engine.interrupt_all(now);
    h.drain();
    assert_eq!(count(&h, 503), 1, "{:?}", h.statuses());
    assert_eq!(count(&h, 200), 0);
}

#[test]
fn a_transfer_target_answering_answers_the_caller() {
    let dialplan = early_variants(&[
        (
            r#"open = [{ play = "please_wait" }, { queue = "desk" },"#,
            r#"open = [{ transfer = "city_line" },"#,
        ),
        (
            "[[entries]]",
            "[targets.city_line]\nsetting = \"city_line\"\nring_timeout = 10\n\n[[entries]]",
        ),
    ]);
    let mut h = Harness::with_targets(dialplan, city_line_targets(), wednesday());
    invite(&mut h, 1);
    let city = Phone::new("city", CITY_LINE);
    let dialled = city.last_invite(&h);
    city.respond(&mut h, &dialled, "180 Ringing", "");
    h.advance(Duration::from_secs(3));
    assert_eq!(count(&h, 200), 0, "no 200 while the city line rings");
    city.respond(&mut h, &dialled, "200 OK", &city.sdp(""));
    assert_eq!(count(&h, 200), 1, "the target's answer answers the caller");
}

/// early.toml whose cap runs a callback step instead of only answering.
fn callback_at_the_limit() -> Dialplan {
    early_variant(
        "early_limit = 150\n",
        "early_limit = 150\non_early_limit = [{ callback = { prompt = \"callback_taken\" } }]\n",
    )
}

/// Requests with `method` the engine sent to the caller.
fn requests_to_caller(h: &Harness, method: &str) -> usize {
    h.sent_to_starting(CALLER.parse().expect("addr"), &format!("{method} "))
        .len()
}

#[test]
fn at_the_early_limit_steps_run_answered_after_the_caller_leaves_the_queue() {
    let mut h = desk(callback_at_the_limit(), &mut []);
    queued(&mut h, 1);
    h.advance(Duration::from_secs(150));

    assert_eq!(count(&h, 200), 1, "answered at the limit");
    let live = h.engine.live(h.now);
    assert!(live.queues[0].waiting.is_empty(), "out of the queue");
    assert_eq!(
        h.played().last().map(String::as_str),
        Some("callback_taken"),
        "the limit's steps play instead of the music"
    );
}

#[test]
fn a_callback_step_plays_its_prompt_then_the_engine_hangs_up_callback_requested() {
    let mut h = desk(callback_at_the_limit(), &mut []);
    let (mut caller, _) = queued(&mut h, 1);
    h.advance(Duration::from_secs(150));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    assert_eq!(
        requests_to_caller(&h, "BYE"),
        0,
        "not before the prompt ends"
    );

    let leg = h.leg();
    h.finish_prompt(leg);
    h.advance(Duration::from_millis(300)); // the playout tail, before any retransmission
    assert_eq!(requests_to_caller(&h, "BYE"), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::CallbackRequested);
    assert_eq!(record.caller, CALLER_NUMBER, "the number to call back");
    assert_eq!(record.answered_by, Some(AnsweredBy::EarlyLimit));
    assert_eq!(record.waited_ms, Some(150_000), "waited until the limit");
    assert_eq!(record.queue.as_deref(), Some("desk"), "counted as offered");
}

#[test]
fn a_caller_hanging_up_during_the_callback_prompt_still_requested_it() {
    let mut h = desk(callback_at_the_limit(), &mut []);
    let (mut caller, _) = queued(&mut h, 1);
    h.advance(Duration::from_secs(150));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    h.advance(Duration::from_secs(3));
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(h.records[0].disposition, Disposition::CallbackRequested);
}

#[test]
fn an_operator_answer_records_the_unanswered_and_answered_times() {
    let mut phone = op1();
    let mut h = desk(early_dialplan(), &mut [&mut phone]);
    let (mut caller, _) = queued(&mut h, 1);
    let ringing = phone.last_invite(&h);
    h.advance(Duration::from_secs(5));
    phone.respond(&mut h, &ringing, "200 OK", &phone.sdp(""));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    h.advance(Duration::from_secs(20));
    h.sip(&caller.request("BYE", 2, "", false));

    let record = &h.records[0];
    assert_eq!(record.answer_mode, Some(StoredAnswerMode::Operator));
    assert_eq!(record.answered_by, Some(AnsweredBy::Operator));
    assert_eq!(record.unanswered_ms, Some(5_000));
    assert_eq!(record.answered_ms, Some(20_000));
}

#[test]
fn the_cap_answering_is_recorded_as_answered_by_the_early_limit() {
    let mut h = desk(early_dialplan(), &mut []);
    let (mut caller, _) = queued(&mut h, 1);
    h.advance(Duration::from_secs(150));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    h.advance(Duration::from_secs(30));
    h.sip(&caller.request("BYE", 2, "", false));

    let record = &h.records[0];
    assert_eq!(record.answered_by, Some(AnsweredBy::EarlyLimit));
    assert_eq!(record.unanswered_ms, Some(150_000));
    assert_eq!(record.answered_ms, Some(30_000));
}

#[test]
fn a_call_never_answered_was_all_unanswered_time() {
    let mut h = desk(early_dialplan(), &mut []);
    let (_, invite) = queued(&mut h, 1);
    h.advance(Duration::from_secs(30));
    h.sip(&cancel_of(&invite));

    let record = &h.records[0];
    assert_eq!(record.answer_mode, Some(StoredAnswerMode::Operator));
    assert_eq!(record.answered_by, None);
    assert_eq!(record.unanswered_ms, Some(30_000));
    assert_eq!(record.answered_ms, None);
}

#[test]
fn an_engine_mode_call_is_answered_by_the_engine_after_its_ring() {
    let dialplan = early_variants(&[
        (
            "answer = \"operator\"\n",
            "answer = \"engine\"\nring = 2000\n",
        ),
        ("early_limit = 150\n", ""),
    ]);
    let mut h = desk(dialplan, &mut []);
    let (mut caller, _) = invite(&mut h, 1);
    h.advance(Duration::from_secs(2));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    h.advance(Duration::from_secs(10));
    h.sip(&caller.request("BYE", 2, "", false));

    let record = &h.records[0];
    assert_eq!(record.answer_mode, Some(StoredAnswerMode::Engine));
    assert_eq!(record.answered_by, Some(AnsweredBy::Engine));
    assert_eq!(record.unanswered_ms, Some(2_000));
    assert_eq!(record.answered_ms, Some(10_000));
}

#[test]
fn a_reliable_183_never_acknowledged_fails_the_call_prack_timeout() {
    let mut h = desk(early_dialplan(), &mut []);
    let invite = Caller::new(1).invite(&offer("0 8")).replacen(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRequire: 100rel\r\nSupported: 100rel\r\n",
        1,
    );
    h.sip(&invite);
    assert!(h.last_response(183).contains("RSeq:"), "a reliable 183");
    h.advance(Duration::from_secs(33)); // 64·T1 = 32 s without PRACK

    assert_eq!(h.records.len(), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Failed);
    assert_eq!(record.hangup_cause.as_deref(), Some("prack_timeout"));
}
