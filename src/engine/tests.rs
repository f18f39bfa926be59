//! The call core in virtual time: SIP text in, SIP text, media commands and records out.
//! No sockets and no sleeping; a call at 12/30 10:00 JST is just a `Now` value.

use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_dialplan::Dialplan;
use madoguchi_sip::LegId;
use madoguchi_store::{Disposition, HangupSide};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::call::PLAYOUT_TAIL;
use super::test_harness::*;
use super::*;

/// A call answered and confirmed at `wall`: returns the harness, the caller and the leg.
fn answered_call(wall: DateTime<Utc>) -> (Harness, Caller, LegId) {
    let mut h = Harness::at(wall);
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0 8")));
    h.advance(Duration::from_secs(1));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    let leg = h.leg();
    (h, caller, leg)
}

#[test]
fn open_call_rings_for_a_second_then_answers_with_pcmu_in_the_callers_order() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0 8")));
    assert_eq!(h.statuses(), vec![100, 180], "rings before answering");
    assert!(h.media.is_empty(), "no port is bound while ringing");

    h.advance(Duration::from_millis(999));
    assert!(!h.statuses().contains(&200));
    h.advance(Duration::from_millis(1));
    let ok = h.last_response(200);
    assert!(
        ok.contains("m=audio 40000 RTP/AVP 0"),
        "answers PCMU first:\n{ok}"
    );
    assert!(ok.contains("c=IN IP4 127.0.0.1"));
}

#[test]
fn greeting_then_recording_notice_play_after_the_ack() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("8 0")));
    h.advance(Duration::from_secs(1));
    assert!(h.played().is_empty(), "nothing plays before the ACK");
    let ok = h.last_response(200).to_owned();
    assert!(
        ok.contains("m=audio 40000 RTP/AVP 8"),
        "PCMA when the caller prefers it"
    );
    h.sip(&caller.ack(&ok));
    let leg = h.leg();
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Start {
            codec: madoguchi_media::Codec::Pcma,
            payload_type: 8,
            ..
        }
    )));
    assert_eq!(h.played(), vec!["greeting"]);
    h.finish_prompt(leg);
    assert_eq!(h.played(), vec!["greeting", "recording_notice"]);
}

#[test]
fn year_end_call_hears_the_closure_then_the_engine_hangs_up() {
    let (mut h, _caller, leg) = answered_call(jst(2026, 12, 30, 10, 0));
    assert_eq!(h.played(), vec!["closed_year_end"]);
    h.finish_prompt(leg);
    assert!(
        !h.sent.iter().any(|m| m.starts_with("BYE")),
        "the tail of the audio plays out first"
    );
    h.advance(PLAYOUT_TAIL);
    assert!(
        h.sent.iter().any(|m| m.starts_with("BYE")),
        "the engine sends BYE"
    );
    assert_eq!(h.records.len(), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::ClosedYearEnd);
    assert_eq!(record.branch.as_deref(), Some("closed_year_end"));
    assert_eq!(record.hangup_side, Some(HangupSide::Engine));
    assert!(
        h.media.contains(&MediaCommand::Close { leg }),
        "the RTP port is released"
    );
}

#[test]
fn after_hours_call_hears_the_hours_and_is_recorded_as_closed_hours() {
    let (mut h, _caller, leg) = answered_call(jst(2026, 11, 25, 20, 0));
    assert_eq!(h.played(), vec!["outside_hours"]);
    h.finish_prompt(leg);
    h.advance(PLAYOUT_TAIL);
    assert_eq!(h.records[0].disposition, Disposition::ClosedHours);
}

#[test]
fn cancel_while_ringing_gets_487_and_leaves_a_cancelled_record_without_media() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    let invite = caller.invite(&offer("0"));
    h.sip(&invite);
    let cancel = invite
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    let cancel = cancel
        .split("Content-Type")
        .next()
        .expect("head")
        .to_owned()
        + "Content-Length: 0\r\n\r\n";
    h.sip(&cancel);
    let statuses = h.statuses();
    assert!(
        statuses.contains(&487) && statuses.contains(&200),
        "{statuses:?}"
    );
    h.advance(Duration::from_secs(2));
    assert!(
        !h.sent
            .iter()
            .any(|m| m.starts_with("SIP/2.0 200") && m.contains("CSeq: 1 INVITE")),
        "a cancelled call is never answered"
    );
    assert!(h.media.is_empty(), "no port was bound");
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::Cancelled);
    assert_eq!(h.records[0].answered_at, None);
}

#[test]
fn offer_without_a_common_codec_gets_488_and_a_rejected_record() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("18")));
    assert!(h.statuses().contains(&488), "{:?}", h.statuses());
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::Rejected);
    assert_eq!(h.records[0].hangup_cause.as_deref(), Some("488"));
}

#[test]
fn invite_without_sdp_gets_our_offer_and_plays_after_the_answer_in_the_ack() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(""));
    h.advance(Duration::from_secs(1));
    let ok = h.last_response(200).to_owned();
    assert!(
        ok.contains("m=audio 40000 RTP/AVP 0 8 101"),
        "offers G.711 and telephone-event:\n{ok}"
    );
    let ack = caller.ack(&ok);
    let answer = "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7078 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    let ack = ack.replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        ),
    );
    h.sip(&ack);
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Start {
            payload_type: 8,
            ..
        }
    )));
    assert_eq!(h.played(), vec!["greeting"]);
}

#[test]
fn with_no_operator_logged_in_the_menu_choice_overflows_to_the_city_line() {
    let (mut h, _caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.finish_prompt(leg); // greeting
    h.finish_prompt(leg); // recording notice
    assert_eq!(h.played().last().map(String::as_str), Some("menu"));
    h.media_event(MediaEvent::Digit { leg, digit: '1' });
    assert!(
        h.media.contains(&MediaCommand::StopPlayback { leg }),
        "a digit cuts the menu prompt"
    );
    // Nobody is logged in: the card queue refuses the caller and its overflow, the city
    // line, is open on a Wednesday morning; its announcement plays before dialling.
    assert_eq!(h.played().last().map(String::as_str), Some("transfer_city"));
    h.finish_prompt(leg);
    // No city line address is configured in this harness: the transfer fails politely.
    assert_eq!(
        h.played().last().map(String::as_str),
        Some("transfer_failed")
    );
    h.finish_prompt(leg);
    h.advance(PLAYOUT_TAIL);
    assert!(h.sent.iter().any(|m| m.starts_with("BYE")));
    let record = &h.records[0];
    assert_eq!(record.dtmf, vec!["1".to_owned()]);
    assert_eq!(record.menu_choice.as_deref(), Some("1"));
    assert_eq!(record.queue.as_deref(), Some("card"));
    assert_eq!(record.disposition, Disposition::Overflowed);
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.transfer_result.as_deref(), Some("failed"));
    assert!(record
        .events
        .iter()
        .any(|e| e.kind == "queue_left" && e.detail["reason"] == "no_operator"));
}

#[test]
fn caller_bye_during_the_greeting_ends_the_call_as_caller_hangup() {
    let (mut h, mut caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(h.last_response(200).contains("BYE"));
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::CallerHangup);
    assert_eq!(h.records[0].hangup_side, Some(HangupSide::Caller));
    assert!(h.media.contains(&MediaCommand::Close { leg }));
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn hold_reinvite_stops_our_audio_and_resume_restarts_it() {
    let (mut h, mut caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    let hold = offer("0").replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    h.sip(&caller.request("INVITE", 2, &hold, false));
    assert!(
        h.last_response(200).contains("a=recvonly"),
        "answers hold with recvonly"
    );
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SetSending {
            leg,
            sending: false
        })
    );
    h.sip(&caller.request("ACK", 2, "", false));
    h.sip(&caller.request("INVITE", 3, &offer("0"), false));
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SetSending { leg, sending: true })
    );
}

#[test]
fn a_draining_engine_refuses_new_calls_with_503_and_records_them() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    h.engine.begin_drain();
    h.sip(&Caller::new(1).invite(&offer("0")));
    assert!(h.last_response(503).contains("Retry-After: 30"));
    assert_eq!(h.records.len(), 1, "a refused call still leaves its record");
    assert_eq!(h.records[0].disposition, Disposition::Rejected);
    assert_eq!(h.records[0].hangup_cause.as_deref(), Some("draining"));
    assert!(h.media.is_empty(), "no port was asked for");
}

#[test]
fn a_draining_engine_answers_options_outside_a_call_with_503_and_retry_after() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut probe = Caller::new(1);
    h.sip(&probe.request("OPTIONS", 1, "", false));
    assert!(h.last_response(200).contains("Allow:"));
    h.engine.begin_drain();
    h.sip(&probe.request("OPTIONS", 2, "", false));
    assert!(h.last_response(503).contains("Retry-After: 30"));
}

#[test]
fn a_draining_engine_still_answers_options_within_a_call() {
    let (mut h, mut caller, _leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.engine.begin_drain();
    h.sip(&caller.request("OPTIONS", 2, "", false));
    assert!(!h.statuses().contains(&503), "{:?}", h.statuses());
}

#[test]
fn interrupting_ends_every_call_with_a_record() {
    let (mut h, _caller, _leg) = answered_call(jst(2026, 11, 25, 10, 0));
    let mut ringing = Caller::new(2);
    h.sip(&ringing.invite(&offer("0")));
    h.engine.interrupt_all(h.now);
    h.drain();
    assert_eq!(h.records.len(), 2);
    assert!(h
        .records
        .iter()
        .all(|r| r.disposition == Disposition::Interrupted));
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_number_no_entry_matches_gets_404() {
    let text = std::fs::read_to_string(repo().join("dialplans/zama.toml")).expect("zama.toml");
    let text = text.replacen("match = \"*\"", "match = \"0120123456\"", 1);
    let dialplan = Dialplan::parse("zama.toml", &text, &repo().join("dialplans")).expect("checks");
    let mut h = Harness::with(dialplan, jst(2026, 11, 25, 10, 0));
    h.sip(&Caller::new(1).invite(&offer("0")));
    assert!(h.statuses().contains(&404));
    assert_eq!(h.records[0].disposition, Disposition::NoRoute);
}

/// Randomised: calls arrive, get cancelled, hung up by either side, or run to their end while
/// the clock jumps; every call leaves exactly one record and nothing is left behind.
#[test]
fn every_call_leaves_exactly_one_record_whatever_happens() {
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut h = Harness::at(jst(2026, 11, 25, 19, 59));
        let calls = 30;
        let mut callers: Vec<(Caller, String)> = Vec::new();
        for n in 0..calls {
            let mut caller = Caller::new(n + 1);
            let invite = caller.invite(&offer("0 8"));
            h.sip(&invite);
            callers.push((caller, invite));
            h.advance(Duration::from_millis(rng.gen_range(0..1500)));
        }
        for (caller, invite) in callers.iter_mut() {
            match rng.gen_range(0..4) {
                0 => {
                    let cancel = invite
                        .replacen("INVITE sip:", "CANCEL sip:", 1)
                        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
                    h.sip(&cancel);
                }
                1 => h.sip(&caller.request("BYE", 2, "", false)),
                _ => {}
            }
        }
        // Let every flow run out: prompts finish, menus time out, placeholders end.
        for _ in 0..200 {
            let playing: Vec<LegId> = h
                .media
                .iter()
                .filter_map(|m| match m {
                    MediaCommand::Play { leg, .. } => Some(*leg),
                    _ => None,
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            for leg in playing {
                h.finish_prompt(leg);
            }
            h.advance(Duration::from_secs(rng.gen_range(1..10)));
        }
        h.advance(Duration::from_secs(64));
        assert_eq!(h.engine.active_calls(), 0, "seed {seed}: calls left behind");
        assert_eq!(
            h.records.len(),
            calls as usize,
            "seed {seed}: one record per call"
        );
        let mut ids: Vec<&str> = h.records.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            calls as usize,
            "seed {seed}: record ids are unique"
        );
    }
}

#[test]
fn each_new_sdp_in_a_dialog_raises_the_origin_version() {
    let (mut h, mut caller, _leg) = answered_call(jst(2026, 11, 25, 10, 0));
    let version = |text: &str| -> u64 {
        let origin = text.lines().find(|l| l.starts_with("o=")).expect("o= line");
        origin
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .expect("version")
    };
    let first = version(h.last_response(200));
    let hold = offer("0").replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    h.sip(&caller.request("INVITE", 2, &hold, false));
    let second = version(h.last_response(200));
    assert_eq!(second, first + 1);
}

#[test]
fn digits_before_the_flow_runs_are_ignored() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    h.advance(Duration::from_secs(1));
    let leg = h.leg();
    h.media_event(MediaEvent::Digit { leg, digit: '1' });
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(h.records[0].dtmf.is_empty());
    assert!(!h.records[0].events.iter().any(|e| e.kind == "dtmf"));
}

#[test]
fn an_offerless_reinvite_takes_the_answer_from_its_ack() {
    let (mut h, mut caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.sip(&caller.request("INVITE", 2, "", false));
    assert!(
        h.last_response(200).contains("m=audio 40000"),
        "our 200 offers"
    );
    let answer = offer("0").replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    let ack = caller.request("ACK", 2, "", false);
    let ack = ack.replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        ),
    );
    h.sip(&ack);
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SetSending {
            leg,
            sending: false
        })
    );
}

/// Regression: finishes were matched by prompt, so the finish of a menu prompt cut off by an
/// invalid digit was taken for the end of its immediate replay, starting the digit timeout
/// while the menu was still being read out.
#[test]
fn a_finish_that_crossed_a_replay_of_the_same_prompt_is_ignored() {
    let text = r#"sounds_dir = "../sounds/ja"
[prompts]
menu = "menu.wav"
[calendars.always]
hours = [{ days = "every day", ranges = ["00:00-24:00"] }]
holidays = "open"
[[entries]]
match = "*"
calendar = "always"
open = [{ menu = { prompt = "menu", timeout = 5, retries = 2, choices = { "1" = [{ hangup = true }] } } }]
"#;
    let dialplan = Dialplan::parse("menu.toml", text, &repo().join("dialplans")).expect("checks");
    let mut h = Harness::with(dialplan, jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    let leg = h.leg();
    let first = h
        .media
        .iter()
        .find_map(|m| match m {
            MediaCommand::Play { playback, .. } => Some(*playback),
            _ => None,
        })
        .expect("the menu plays");
    h.media_event(MediaEvent::Digit { leg, digit: '9' });
    assert_eq!(
        h.played(),
        vec!["menu", "menu"],
        "an invalid digit replays the menu at once"
    );
    h.media_event(MediaEvent::PromptFinished {
        leg,
        playback: first,
    });
    h.advance(Duration::from_secs(6));
    assert_eq!(
        h.played().len(),
        2,
        "the replay is still being read: no timeout, no third offer"
    );
}
