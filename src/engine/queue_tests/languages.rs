//! Callers who choose another language (issue 9): they hear that language's prompts, wait for
//! an operator who speaks it (any operator after the language's `after`, or its fallback
//! target), do not hold up the callers behind them, and the language travels with the call.
//! Uses tests/dialplans/languages.toml ("9" = English, after 2 s any operator) and
//! languages_target.toml (English falls back to the city line).

use std::time::Duration;

use madoguchi_dialplan::Dialplan;
use madoguchi_store::{Disposition, LanguageFallbackUsed};

use super::super::test_harness::*;
use super::super::*;
use super::{city, op1, op2, pick_up, wednesday};

fn languages_dialplan(file: &str) -> Dialplan {
    Dialplan::load(&repo().join("tests/dialplans").join(file)).expect("the dialplan checks")
}

/// `phone` as the directory gives it, speaking `languages`.
fn speaking(phone: &Phone, languages: &[&str]) -> DirectoryEntry {
    DirectoryEntry {
        languages: languages.iter().map(|l| l.to_string()).collect(),
        ..phone.entry()
    }
}

/// `file` with the city line configured and `phones` (each with its languages) registered.
fn staffed(file: &str, phones: &mut [(&mut Phone, &[&str])]) -> Harness {
    let mut h = Harness::with_targets(languages_dialplan(file), city_line_targets(), wednesday());
    let now = h.now;
    let entries = phones.iter().map(|(p, l)| speaking(p, l)).collect();
    h.engine.set_directory(now, entries);
    h.drain();
    for (phone, _) in phones.iter_mut() {
        let ok = phone.register(&mut h, 600);
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    }
    h
}

/// The caller's leg of call `n` (its first opened media leg).
fn caller_leg_of(h: &Harness, before: usize) -> LegId {
    h.opened_legs()[before]
}

/// Caller `n` calls and presses `digit` in the menu (`None`: silence, the default language).
fn caller_choosing(h: &mut Harness, n: u32, digit: Option<char>) -> Caller {
    let legs_before = h.opened_legs().len();
    let mut caller = Caller::new(n);
    caller.call(h);
    let leg = caller_leg_of(h, legs_before);
    match digit {
        Some(digit) => h.media_event(MediaEvent::Digit { leg, digit }),
        None => {
            h.finish_prompt(leg); // the menu
            h.advance(Duration::from_secs(3));
        }
    }
    caller
}

/// Plays out the announcements on `leg` until the music loops; what played, in order.
fn until_music(h: &mut Harness, leg: LegId) -> Vec<String> {
    for _ in 0..20 {
        if h.played().last().is_some_and(|p| p.ends_with("hold_music")) {
            break;
        }
        h.finish_prompt(leg);
    }
    h.played()
}

fn record_of<'a>(h: &'a Harness, caller: &Caller) -> &'a madoguchi_store::CallRecord {
    h.records
        .iter()
        .find(|r| r.sip_call_id == caller.call_id)
        .expect("the call's record")
}

#[test]
fn an_english_caller_hears_the_english_prompts_after_choosing_english() {
    let mut h = staffed("languages.toml", &mut []);
    caller_choosing(&mut h, 1, Some('9'));
    let leg = h.leg();
    let played = until_music(&mut h, leg);
    assert_eq!(played[0], "menu", "the menu in the default language");
    assert_eq!(played[1], "en/please_wait", "the queue's announcement");
    assert!(
        played[2..].iter().any(|p| p.starts_with("en/position_")),
        "the position words: {played:?}"
    );
    assert!(
        played[1..].iter().all(|p| p.starts_with("en/")),
        "everything after the choice in English: {played:?}"
    );
    assert_eq!(played.last().map(String::as_str), Some("en/hold_music"));
}

#[test]
fn a_caller_in_the_default_language_hears_the_default_prompts() {
    let mut h = staffed("languages.toml", &mut []);
    caller_choosing(&mut h, 1, None);
    let leg = h.leg();
    let played = until_music(&mut h, leg);
    assert_eq!(played[1], "please_wait");
    assert!(played.iter().all(|p| !p.contains('/')), "{played:?}");
}

#[test]
fn only_an_operator_speaking_the_language_is_offered_an_english_caller() {
    let (mut ja, mut en) = (op1(), op2());
    let mut h = staffed("languages.toml", &mut [(&mut ja, &[]), (&mut en, &["en"])]);
    caller_choosing(&mut h, 1, Some('9'));
    assert_eq!(ja.invites(&h).len(), 0, "op1 does not speak English");
    let invite = en.last_invite(&h);
    assert_eq!(header(&invite, "X-Madoguchi-Language"), Some("en"));
}

#[test]
fn after_the_languages_wait_any_operator_is_offered_the_caller() {
    let mut ja = op1();
    let mut h = staffed("languages.toml", &mut [(&mut ja, &[])]);
    let mut caller = caller_choosing(&mut h, 1, Some('9'));
    h.advance(Duration::from_millis(1_999));
    assert_eq!(ja.invites(&h).len(), 0);
    h.advance(Duration::from_millis(1));
    assert_eq!(
        ja.invites(&h).len(),
        1,
        "rung once `after` (2 s) has passed"
    );

    pick_up(&mut h, &ja, Duration::from_secs(1));
    h.sip(&caller.request("BYE", 2, "", false));
    let record = record_of(&h, &caller);
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.language.as_deref(), Some("en"));
    assert_eq!(record.language_fallback, Some(LanguageFallbackUsed::Any));
}

#[test]
fn a_caller_served_in_its_language_is_recorded_with_it_and_no_fallback() {
    let mut en = op2();
    let mut h = staffed("languages.toml", &mut [(&mut en, &["en"])]);
    let mut caller = caller_choosing(&mut h, 1, Some('9'));
    pick_up(&mut h, &en, Duration::from_secs(1));
    h.sip(&caller.request("BYE", 2, "", false));
    let record = record_of(&h, &caller);
    assert_eq!(record.operator.as_deref(), Some("op2"));
    assert_eq!(record.language.as_deref(), Some("en"));
    assert_eq!(record.language_fallback, None);
    let enqueued = record
        .events
        .iter()
        .find(|e| e.kind == "enqueued")
        .expect("an enqueued event");
    assert_eq!(enqueued.detail["language"], "en");
}

#[test]
fn a_caller_in_the_default_language_is_recorded_without_a_language() {
    let mut ja = op1();
    let mut h = staffed("languages.toml", &mut [(&mut ja, &[])]);
    let mut caller = caller_choosing(&mut h, 1, None);
    let invite = pick_up(&mut h, &ja, Duration::from_secs(1));
    assert_eq!(header(&invite, "X-Madoguchi-Language"), None);
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(record_of(&h, &caller).language, None);
}

#[test]
fn with_a_target_fallback_the_caller_is_transferred_there_after_the_wait() {
    let mut ja = op1();
    let city = city();
    let mut h = staffed("languages_target.toml", &mut [(&mut ja, &[])]);
    let mut caller = caller_choosing(&mut h, 1, Some('9'));
    let leg = h.leg();
    until_music(&mut h, leg);
    h.advance(Duration::from_secs(2));
    assert_eq!(ja.invites(&h).len(), 0, "never offered to op1");
    // The target's announcement (in English) plays before the city line is dialled.
    assert_eq!(
        h.played().last().map(String::as_str),
        Some("en/transfer_city")
    );
    h.finish_prompt(leg);
    let dialled = city.last_invite(&h);
    assert_eq!(header(&dialled, "X-Madoguchi-Language"), Some("en"));
    city.respond(&mut h, &dialled, "200 OK", &city.sdp(""));
    h.sip(&caller.request("BYE", 2, "", false));
    let record = record_of(&h, &caller);
    assert_eq!(record.disposition, Disposition::Overflowed);
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.language_fallback, Some(LanguageFallbackUsed::Target));
}

#[test]
fn an_english_caller_no_one_can_serve_does_not_hold_up_the_japanese_caller_behind_it() {
    let mut ja = op1();
    let mut h = staffed("languages_target.toml", &mut [(&mut ja, &[])]);
    caller_choosing(&mut h, 1, Some('9'));
    assert!(ja.invites(&h).is_empty());
    caller_choosing(&mut h, 2, Some('1'));
    let invite = ja.last_invite(&h);
    let live = h.engine.live(h.now);
    let waiting = &live.queues[0].waiting;
    assert_eq!(waiting.len(), 2);
    assert_eq!(waiting[0].language.as_deref(), Some("en"), "first in line");
    assert_eq!(waiting[1].language, None);
    assert_eq!(
        header(&invite, "X-Madoguchi-Call-Id"),
        Some(waiting[1].call_id.as_str()),
        "op1 rings for the Japanese caller behind"
    );
}

#[test]
fn the_console_is_offered_the_caller_with_its_language() {
    let mut h =
        super::super::console_tests::desk_with_console_on(languages_dialplan("languages.toml"));
    caller_choosing(&mut h, 1, Some('9'));
    h.advance(Duration::from_secs(2)); // op1 speaks no English: offered after `after`
    let languages: Vec<Option<String>> = h
        .console
        .iter()
        .filter_map(|e| match e {
            console::ConsoleEvent::Offered { offer, .. } => Some(offer.language.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(languages, vec![Some("en".to_owned())]);
}

/// The board's view of the only waiting caller: its language wait and its fallback.
fn waiting_language(h: &Harness) -> (Option<u64>, Option<String>) {
    let live = h.engine.live(h.now);
    let waiting = &live.queues[0].waiting;
    assert_eq!(waiting.len(), 1, "one caller waits");
    (
        waiting[0].language_wait_s,
        waiting[0].language_fallback.clone(),
    )
}

#[test]
fn the_board_shows_an_english_caller_waiting_for_a_speaker_until_after_then_for_anyone() {
    // Nobody logged in who could answer: the caller stays in the queue past `after`.
    let mut h = staffed("languages.toml", &mut []);
    caller_choosing(&mut h, 1, Some('9'));
    assert_eq!(waiting_language(&h), (Some(2), None), "waits for English");
    h.advance(Duration::from_millis(1_999));
    assert_eq!(
        waiting_language(&h),
        (Some(2), None),
        "still, just before `after`"
    );
    h.advance(Duration::from_millis(1));
    assert_eq!(
        waiting_language(&h),
        (Some(2), Some("any".to_owned())),
        "any operator from `after` (2 s) on"
    );
}

#[test]
fn the_board_shows_no_language_wait_for_a_caller_in_the_default_language() {
    let mut h = staffed("languages.toml", &mut []);
    caller_choosing(&mut h, 1, None);
    h.advance(Duration::from_secs(3));
    assert_eq!(waiting_language(&h), (None, None));
}

#[test]
fn the_console_is_told_the_caller_comes_by_the_language_fallback() {
    let mut h =
        super::super::console_tests::desk_with_console_on(languages_dialplan("languages.toml"));
    caller_choosing(&mut h, 1, Some('9'));
    h.advance(Duration::from_secs(2)); // op1 speaks no English: offered after `after`
    let fallbacks: Vec<Option<&str>> = h
        .console
        .iter()
        .filter_map(|e| match e {
            console::ConsoleEvent::Offered { offer, .. } => Some(offer.language_fallback),
            _ => None,
        })
        .collect();
    assert_eq!(fallbacks, vec![Some("any")]);
}

#[test]
fn the_console_offered_an_english_caller_by_a_speaker_is_told_no_fallback() {
    let mut h =
        super::super::console_tests::desk_with_console_on(languages_dialplan("languages.toml"));
    let now = h.now;
    let op1 = Phone::new("op1", "127.0.0.1:5070");
    h.engine.set_directory(now, vec![speaking(&op1, &["en"])]);
    h.drain();
    caller_choosing(&mut h, 1, Some('9'));
    let fallbacks: Vec<Option<&str>> = h
        .console
        .iter()
        .filter_map(|e| match e {
            console::ConsoleEvent::Offered { offer, .. } => Some(offer.language_fallback),
            _ => None,
        })
        .collect();
    assert_eq!(fallbacks, vec![None]);
}
