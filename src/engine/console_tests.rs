//! Browser consoles as operator endpoints, in virtual time: tests/dialplans/queue.toml (one
//! queue `desk`: ring 4 s, wrap-up 1 s, auto-pause after 2 ring-outs) with operator op1 working
//! in a console whose media leg the shell opened, and callers from the trunk.

use std::time::Duration;

use madoguchi_sip::LegId;
use madoguchi_store::Disposition;

use super::console::{ConsoleCommand, ConsoleError, ConsoleEvent};
use super::test_harness::*;
use super::*;

/// The media leg the shell opened for op1's console.
pub(super) const CONSOLE: LegId = LegId(900_000);

pub(super) fn wednesday() -> DateTime<Utc> {
    jst(2026, 11, 25, 10, 0)
}

/// queue.toml with op1 signed in at a console and available.
fn desk_with_console() -> Harness {
    desk_with_console_on(queue_dialplan())
}

/// `dialplan` (a variant of queue.toml) with op1 signed in at a console and available.
pub(super) fn desk_with_console_on(dialplan: Dialplan) -> Harness {
    let mut h = Harness::with_targets(dialplan, city_line_targets(), wednesday());
    let now = h.now;
    let op1 = Phone::new("op1", "127.0.0.1:5070");
    h.engine.set_directory(now, vec![op1.entry()]);
    h.engine
        .console_attach(now, "op1", CONSOLE)
        .expect("op1 is an operator");
    h.engine
        .request_status(now, "op1", &StatusRequest::Available)
        .expect("available");
    h.drain();
    h
}

fn state_of(h: &Harness, login: &str) -> &'static str {
    h.engine
        .live(h.now)
        .operators
        .into_iter()
        .find(|o| o.login == login)
        .map(|o| o.state)
        .unwrap_or("absent")
}

pub(super) fn call_in(h: &mut Harness, n: u32) -> Caller {
    let mut caller = Caller::new(n);
    caller.call(h);
    caller
}

/// The id of the call last offered to the console.
pub(super) fn offered(h: &Harness) -> String {
    h.console
        .iter()
        .rev()
        .find_map(|e| match e {
            ConsoleEvent::Offered { offer, .. } => Some(offer.call_id.clone()),
            _ => None,
        })
        .expect("a call was offered to the console")
}

pub(super) fn command(h: &mut Harness, command: ConsoleCommand) -> Result<(), ConsoleError> {
    let now = h.now;
    let result = h.engine.console_command(now, "op1", command);
    h.drain();
    result
}

pub(super) fn answer(h: &mut Harness) -> String {
    let call_id = offered(h);
    command(
        h,
        ConsoleCommand::Answer {
            call_id: call_id.clone(),
        },
    )
    .expect("the console answers");
    call_id
}

/// The reasons of the `Ended` events so far; each must name the call that was offered.
fn ended(h: &Harness) -> Vec<&'static str> {
    let offered: Vec<&str> = h
        .console
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Offered { offer, .. } => Some(offer.call_id.as_str()),
            _ => None,
        })
        .collect();
    h.console
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Ended {
                reason, call_id, ..
            } => {
                assert!(
                    offered.contains(&call_id.as_str()),
                    "ended names call {call_id:?}, offered were {offered:?}"
                );
                Some(*reason)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn signing_in_at_a_console_does_not_make_the_operator_available_by_itself() {
    let mut h = Harness::with_targets(queue_dialplan(), city_line_targets(), wednesday());
    let now = h.now;
    h.engine
        .set_directory(now, vec![Phone::new("op1", "127.0.0.1:5070").entry()]);
    h.engine
        .console_attach(now, "op1", CONSOLE)
        .expect("attach");
    h.drain();
    assert_eq!(state_of(&h, "op1"), "logged_out");
    assert_eq!(
        h.engine.console_attach(now, "nobody", LegId(900_001)),
        Err(ConsoleError::UnknownLogin("nobody".to_owned()))
    );
}

#[test]
fn a_queued_caller_is_offered_to_the_console_with_number_queue_and_wait() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);

    let offers: Vec<_> = h
        .console
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Offered { login, offer } => Some((login.clone(), offer.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(offers.len(), 1, "{:?}", h.console);
    let (login, offer) = &offers[0];
    assert_eq!(login, "op1");
    assert_eq!(offer.caller, CALLER_NUMBER);
    assert_eq!(offer.queue, "desk");
    assert_eq!(offer.menu_choice, None);
    assert_eq!(state_of(&h, "op1"), "ringing");
    assert!(
        h.sent.iter().all(|m| !m.starts_with("INVITE ")),
        "no SIP leg is placed for a console"
    );
}

#[test]
fn answering_bridges_the_caller_to_the_console_leg_and_records_the_operator() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    let caller_leg = h.leg();
    h.advance(Duration::from_secs(3));

    let call_id = answer(&mut h);
    assert!(h.media.contains(&MediaCommand::Bridge {
        a: caller_leg,
        b: CONSOLE
    }));
    assert!(h.console.contains(&ConsoleEvent::Connected {
        login: "op1".to_owned(),
        call_id: call_id.clone(),
    }));
    assert_eq!(state_of(&h, "op1"), "on_call");

    h.advance(Duration::from_secs(20));
    h.sip(&caller.request("BYE", 2, "", false));
    let record = &h.records[0];
    assert_eq!(record.id, call_id);
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.operator.as_deref(), Some("op1"));
    assert_eq!(record.waited_ms, Some(3_000));
    assert_eq!(record.talk_ms, Some(20_000));
    assert_eq!(ended(&h), vec!["ended"]);
    assert_eq!(state_of(&h, "op1"), "wrap_up");
}

#[test]
fn the_console_leg_outlives_the_call_only_its_bridge_goes() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    answer(&mut h);
    h.sip(&caller.request("BYE", 2, "", false));

    assert!(!h.media.contains(&MediaCommand::Close { leg: CONSOLE }));
    assert!(h.media.contains(&MediaCommand::Unbridge { leg: CONSOLE }));
    assert_eq!(h.engine.console_leg("op1"), Some(CONSOLE));
}

#[test]
fn the_console_hanging_up_ends_the_callers_call() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    let call_id = answer(&mut h);
    h.advance(Duration::from_secs(5));

    command(&mut h, ConsoleCommand::Hangup { call_id }).expect("hang up");
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.hangup_cause.as_deref(), Some("operator_bye"));
    assert_eq!(record.talk_ms, Some(5_000));
}

#[test]
fn a_second_call_is_offered_to_the_same_console_after_the_wrap_up() {
    let mut h = desk_with_console();
    let mut first = call_in(&mut h, 1);
    answer(&mut h);
    call_in(&mut h, 2);
    let offers = |h: &Harness| {
        h.console
            .iter()
            .filter(|e| matches!(e, ConsoleEvent::Offered { .. }))
            .count()
    };
    assert_eq!(offers(&h), 1, "not offered while on a call");

    h.sip(&first.request("BYE", 2, "", false));
    h.advance(Duration::from_secs(1));
    assert_eq!(offers(&h), 2, "offered once the wrap-up is over");
    answer(&mut h);
    assert_eq!(state_of(&h, "op1"), "on_call");
}

#[test]
fn declining_withdraws_the_offer_and_counts_towards_auto_pause() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    let call_id = offered(&h);

    command(&mut h, ConsoleCommand::Decline { call_id }).expect("decline");
    assert_eq!(ended(&h), vec!["withdrawn"]);
    assert_eq!(h.records.len(), 0, "the caller still waits");
    let live = h.engine.live(h.now);
    assert_eq!(live.queues[0].waiting.len(), 1);

    // Offered again to the only operator, declined again: auto-pause after 2 misses.
    let call_id = offered(&h);
    command(&mut h, ConsoleCommand::Decline { call_id }).expect("decline");
    assert_eq!(state_of(&h, "op1"), "paused");
}

#[test]
fn a_ring_out_withdraws_the_offer_from_the_console() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    h.advance(Duration::from_secs(4));

    assert_eq!(ended(&h).first(), Some(&"withdrawn"));
    assert!(
        !h.media.contains(&MediaCommand::Close { leg: CONSOLE }),
        "the console keeps its audio"
    );
}

#[test]
fn a_caller_hanging_up_while_the_console_rings_withdraws_the_offer() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    h.sip(&caller.request("BYE", 2, "", false));

    assert_eq!(ended(&h), vec!["withdrawn"]);
    assert_eq!(h.records[0].disposition, Disposition::Abandoned);
    assert_eq!(state_of(&h, "op1"), "available");
}

#[test]
fn a_command_about_another_call_is_refused() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);

    let result = command(
        &mut h,
        ConsoleCommand::Answer {
            call_id: "not-this-one".to_owned(),
        },
    );
    assert_eq!(
        result,
        Err(ConsoleError::NotYourCall("not-this-one".to_owned()))
    );
    assert_eq!(state_of(&h, "op1"), "ringing");
}

#[test]
fn a_command_from_an_operator_without_a_console_is_refused() {
    let mut h = desk_with_console();
    let now = h.now;
    let result = h.engine.console_command(
        now,
        "op2",
        ConsoleCommand::Hangup {
            call_id: "x".to_owned(),
        },
    );
    assert_eq!(result, Err(ConsoleError::NotAttached));
}

#[test]
fn hold_plays_music_to_the_caller_and_resume_bridges_again() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    let caller_leg = h.leg();
    let call_id = answer(&mut h);

    command(
        &mut h,
        ConsoleCommand::Hold {
            call_id: call_id.clone(),
            on: true,
        },
    )
    .expect("hold");
    assert!(h
        .media
        .contains(&MediaCommand::Unbridge { leg: caller_leg }));
    assert_eq!(h.played().last().map(String::as_str), Some("hold_music"));

    command(&mut h, ConsoleCommand::Hold { call_id, on: false }).expect("resume");
    let bridges = h
        .media
        .iter()
        .filter(|m| {
            **m == MediaCommand::Bridge {
                a: caller_leg,
                b: CONSOLE,
            }
        })
        .count();
    assert_eq!(bridges, 2, "bridged on answer and again on resume");
}

#[test]
fn transfer_from_the_console_sends_the_caller_to_the_city_line() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    let call_id = answer(&mut h);

    command(
        &mut h,
        ConsoleCommand::Transfer {
            call_id,
            target: "city_line".to_owned(),
        },
    )
    .expect("transfer");
    let city: std::net::SocketAddr = CITY_LINE.parse().expect("addr");
    assert_eq!(h.sent_to_starting(city, "INVITE ").len(), 1);
    assert_eq!(
        ended(&h),
        vec!["ended"],
        "the console is done with the call"
    );
    assert_eq!(state_of(&h, "op1"), "wrap_up");
}

#[test]
fn signing_out_during_a_call_ends_it_and_logs_the_operator_out() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    answer(&mut h);
    let now = h.now;

    h.engine.console_detach(now, "op1");
    h.drain();
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    assert_eq!(h.engine.console_leg("op1"), None);
    assert!(
        h.media.contains(&MediaCommand::Close { leg: CONSOLE }),
        "the browser's audio leg is released"
    );
    assert!(h.console.contains(&ConsoleEvent::SignedOut {
        login: "op1".to_owned(),
        leg: CONSOLE
    }));
    h.advance(Duration::from_secs(1));
    assert_eq!(state_of(&h, "op1"), "logged_out");
}

#[test]
fn a_second_console_of_the_same_operator_takes_over_and_the_first_ones_call_ends() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    answer(&mut h);
    let now = h.now;

    h.engine
        .console_attach(now, "op1", LegId(900_001))
        .expect("takeover");
    h.drain();
    assert_eq!(h.engine.console_leg("op1"), Some(LegId(900_001)));
    assert!(h.console.contains(&ConsoleEvent::Replaced {
        login: "op1".to_owned(),
        leg: CONSOLE
    }));
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    h.advance(Duration::from_secs(1));
    assert_eq!(
        state_of(&h, "op1"),
        "available",
        "still signed in, on the new console"
    );
}

#[test]
fn a_browser_whose_audio_is_gone_is_signed_out_and_its_call_ends() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    answer(&mut h);

    h.media_event(MediaEvent::BrowserGone { leg: CONSOLE });
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    assert_eq!(h.engine.console_leg("op1"), None);
    assert_eq!(state_of(&h, "op1"), "logged_out");
}

#[test]
fn a_console_that_drops_its_socket_keeps_its_call() {
    // The socket is the shell's; the engine only hears commands. Nothing reaches the engine
    // when a socket drops, so the call and the console's leg stay as they were.
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    let call_id = answer(&mut h);
    h.advance(Duration::from_secs(60));

    assert_eq!(state_of(&h, "op1"), "on_call");
    assert!(h.records.is_empty());
    command(&mut h, ConsoleCommand::Hangup { call_id }).expect("the reconnected console hangs up");
    assert_eq!(h.records.len(), 1);
}

#[test]
fn filing_the_classification_ends_the_wrap_up_at_once() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    answer(&mut h);
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(state_of(&h, "op1"), "wrap_up");

    let now = h.now;
    h.engine.classification_filed(now, "op1");
    h.drain();
    assert_eq!(state_of(&h, "op1"), "available");
}

#[test]
fn a_wrap_up_cut_short_by_the_classification_is_measured_for_its_call() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    answer(&mut h);
    h.advance(Duration::from_secs(20));
    h.sip(&caller.request("BYE", 2, "", false));
    h.advance(Duration::from_millis(400));

    let now = h.now;
    h.engine.classification_filed(now, "op1");
    h.drain();
    let record = &h.records[0];
    assert_eq!(h.wrap_ups.len(), 1);
    assert_eq!(h.wrap_ups[0].call_id, record.id, "the call it followed");
    assert_eq!(h.wrap_ups[0].wrap_up_ms, 400, "not the queue's 1 s");
}

#[test]
fn a_wrap_up_that_runs_out_is_measured_at_the_queues_length() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    answer(&mut h);
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(h.wrap_ups.is_empty(), "still in wrap-up");
    h.advance(Duration::from_secs(2));
    assert_eq!(state_of(&h, "op1"), "available");
    assert_eq!(h.wrap_ups.len(), 1);
    assert_eq!(h.wrap_ups[0].wrap_up_ms, 1_000);
}

#[test]
fn the_board_seeded_at_start_counts_the_stored_wrap_ups() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    answer(&mut h);
    h.advance(Duration::from_secs(60));
    h.sip(&caller.request("BYE", 2, "", false));
    h.advance(Duration::from_secs(2));
    let (records, wrap_ups) = (h.records.clone(), h.wrap_ups.clone());
    let before = h.engine.live(h.now).board.today;

    h.engine.seed_board(&records, &[]);
    let unknown = h.engine.live(h.now).board.today;
    h.engine.seed_board(&records, &wrap_ups);
    let after = h.engine.live(h.now).board.today;
    assert_eq!(unknown.aht_s, Some(60.0), "talk only without the wrap-up");
    assert_eq!(after.aht_s, before.aht_s);
    assert_eq!(after.aht_s, Some(61.0));
}

#[test]
fn a_reconnecting_console_learns_the_call_it_has() {
    let mut h = desk_with_console();
    call_in(&mut h, 1);
    let call_id = offered(&h);
    h.advance(Duration::from_secs(2));

    let view = h.engine.console_view(h.now, "op1").expect("a console");
    assert_eq!(view.leg, CONSOLE);
    let (card, connected) = view.call.expect("the ringing call");
    assert_eq!(
        (card.call_id.as_str(), connected),
        (call_id.as_str(), false)
    );
    assert_eq!(card.waited, Duration::from_secs(2));

    answer(&mut h);
    h.advance(Duration::from_secs(30));
    let (card, connected) = h
        .engine
        .console_view(h.now, "op1")
        .and_then(|v| v.call)
        .expect("the connected call");
    assert!(connected);
    assert_eq!(
        card.waited,
        Duration::from_secs(2),
        "the wait ended at the answer"
    );
}

#[test]
fn the_live_board_names_the_call_an_operator_took() {
    let mut h = desk_with_console();
    let mut caller = call_in(&mut h, 1);
    let call_id = answer(&mut h);
    let on_call = |h: &Harness| {
        h.engine
            .live(h.now)
            .operators
            .into_iter()
            .find(|o| o.login == "op1")
            .and_then(|o| o.call_id)
    };
    assert_eq!(on_call(&h).as_deref(), Some(call_id.as_str()));
    h.sip(&caller.request("BYE", 2, "", false));
    assert_eq!(
        on_call(&h).as_deref(),
        Some(call_id.as_str()),
        "kept through the wrap-up, for the classification"
    );
}

#[test]
fn the_board_counts_service_level_asa_and_aht_from_the_days_calls() {
    let mut h = desk_with_console();
    let mut first = call_in(&mut h, 1);
    h.advance(Duration::from_secs(3));
    answer(&mut h);
    h.advance(Duration::from_secs(60));
    h.sip(&first.request("BYE", 2, "", false));
    h.advance(Duration::from_secs(1)); // the queue's 1 s wrap-up
    let mut second = call_in(&mut h, 2);
    h.advance(Duration::from_secs(2)); // rings the console, then the caller gives up
    h.sip(&second.request("BYE", 2, "", false));

    let board = h.engine.live(h.now).board;
    let today = board.today;
    assert_eq!(
        (
            today.tally.offered,
            today.tally.answered,
            today.tally.abandoned
        ),
        (2, 1, 1)
    );
    assert_eq!(today.tally.abandoned_short, 1, "gave up after 2 s");
    assert_eq!(
        today.service_level,
        Some(1.0),
        "1 in 20 s of 2 offered less 1 short"
    );
    assert_eq!(today.asa_s, Some(3.0));
    assert_eq!(today.aht_s, Some(61.0), "60 s talk + 1 s wrap-up");
    assert_eq!(board.last_30_min.tally.offered, 2);
    assert_eq!(board.threshold_s, 20);
}
