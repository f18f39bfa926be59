//! Call recording in virtual time: what the core asks of the media shell (start, pause,
//! resume, stop), when the consent notice plays, and what the call record and the console
//! are told. tests/dialplans/queue.toml with the entry's or the queue's `recording` set, and
//! op1 answering at a console.

use std::path::PathBuf;
use std::time::Duration;

use super::console::{ConsoleCommand, ConsoleError, ConsoleEvent};
use super::console_tests::{answer, call_in, command, desk_with_console_on, CONSOLE};
use super::test_harness::*;
use super::*;

/// queue.toml with `entry` added to its entry and `queue` to its queue, and the notice prompt.
fn dialplan(entry: &str, queue: &str) -> Dialplan {
    let base = repo().join("tests/dialplans");
    let text = std::fs::read_to_string(base.join("queue.toml")).expect("queue.toml");
    let text = text
        .replace(
            "[prompts]\n",
            "[prompts]\nrecording_notice = \"recording_notice.wav\"\n",
        )
        .replace("[queues.desk]\n", &format!("[queues.desk]\n{queue}\n"))
        .replace(
            "calendar = \"always\"\n",
            &format!("calendar = \"always\"\n{entry}\n"),
        );
    Dialplan::parse("queue.toml", &text, &base).expect("the variant checks")
}

/// A caller whose entry plays the recording notice first: it plays to its end, and the
/// caller is queued and offered to op1.
fn call_past_the_notice(h: &mut Harness, n: u32) -> Caller {
    let caller = call_in(h, n);
    let leg = *h.opened_legs().last().expect("the caller's leg");
    assert_eq!(
        h.played().last().map(String::as_str),
        Some("recording_notice")
    );
    h.finish_prompt(leg);
    caller
}

fn recording_commands(h: &Harness) -> Vec<&MediaCommand> {
    h.media
        .iter()
        .filter(|c| {
            matches!(
                c,
                MediaCommand::StartRecording { .. }
                    | MediaCommand::PauseRecording { .. }
                    | MediaCommand::ResumeRecording { .. }
                    | MediaCommand::StopRecording { .. }
            )
        })
        .collect()
}

fn console_states(h: &Harness) -> Vec<&'static str> {
    h.console
        .iter()
        .filter_map(|e| match e {
            ConsoleEvent::Recording { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

fn event_kinds(h: &Harness) -> Vec<String> {
    h.records[0].events.iter().map(|e| e.kind.clone()).collect()
}

fn pause(h: &mut Harness, call_id: &str, action: RecordingAction) -> Result<(), ConsoleError> {
    command(
        h,
        ConsoleCommand::Recording {
            call_id: call_id.to_owned(),
            action,
        },
    )
}

#[test]
fn a_call_recorded_by_its_entry_hears_the_notice_and_is_recorded_from_the_bridge_to_the_hangup() {
    let mut h = desk_with_console_on(dialplan("recording = \"all\"", ""));
    let mut caller = call_in(&mut h, 1);
    let caller_leg = h.leg();
    assert_eq!(
        h.played().first().map(String::as_str),
        Some("recording_notice")
    );
    h.finish_prompt(caller_leg);
    assert!(
        recording_commands(&h).is_empty(),
        "nothing is recorded while queued"
    );

    let call_id = answer(&mut h);
    let expected_file = PathBuf::from(format!("2026/11/25/{call_id}.wav"));
    match recording_commands(&h).as_slice() {
        [MediaCommand::StartRecording {
            key,
            caller,
            operator,
            file,
        }] => {
            assert_eq!(key, &call_id);
            assert_eq!((*caller, *operator), (caller_leg, CONSOLE));
            assert_eq!(file, &expected_file);
        }
        other => panic!("one start, got {other:?}"),
    }
    assert_eq!(console_states(&h), vec!["recording"]);

    h.advance(Duration::from_secs(30));
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(matches!(
        recording_commands(&h).last(),
        Some(MediaCommand::StopRecording { key }) if *key == call_id
    ));
    let kinds = event_kinds(&h);
    let started = kinds.iter().position(|k| k == "recording_started");
    let stopped = kinds.iter().position(|k| k == "recording_stopped");
    assert!(
        matches!((started, stopped), (Some(a), Some(b)) if a < b),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"recording_decided".to_owned()));
    let news: Vec<RecordingNews> = std::iter::from_fn(|| h.engine.poll_recording()).collect();
    assert!(matches!(
        news.as_slice(),
        [RecordingNews::Started { call_id: id, file, .. }] if *id == call_id && *file == expected_file
    ));
}

#[test]
fn a_call_without_a_recording_policy_hears_no_notice_and_is_not_recorded() {
    let mut h = desk_with_console_on(dialplan("", ""));
    let mut caller = call_in(&mut h, 1);
    assert!(!h.played().contains(&"recording_notice".to_owned()));
    let call_id = answer(&mut h);
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(recording_commands(&h).is_empty());
    assert!(console_states(&h).is_empty());
    assert_eq!(
        pause(&mut h, &call_id, RecordingAction::Pause),
        Err(ConsoleError::NotYourCall(call_id.clone())),
        "the call is over"
    );
}

#[test]
fn the_operator_pauses_and_resumes_and_each_is_a_command_a_state_and_an_event() {
    let mut h = desk_with_console_on(dialplan("recording = true", ""));
    let mut caller = call_past_the_notice(&mut h, 1);
    let call_id = answer(&mut h);
    assert_eq!(
        pause(&mut h, &call_id, RecordingAction::Resume),
        Err(ConsoleError::Recording("resume")),
        "not paused"
    );
    pause(&mut h, &call_id, RecordingAction::Pause).expect("pauses");
    assert_eq!(
        pause(&mut h, &call_id, RecordingAction::Pause),
        Err(ConsoleError::Recording("pause")),
        "already paused"
    );
    h.advance(Duration::from_secs(5));
    pause(&mut h, &call_id, RecordingAction::Resume).expect("resumes");
    h.sip(&caller.request("BYE", 2, "", false));

    let kinds: Vec<&str> = recording_commands(&h)
        .iter()
        .map(|c| match c {
            MediaCommand::StartRecording { .. } => "start",
            MediaCommand::PauseRecording { .. } => "pause",
            MediaCommand::ResumeRecording { .. } => "resume",
            _ => "stop",
        })
        .collect();
    assert_eq!(kinds, vec!["start", "pause", "resume", "stop"]);
    assert_eq!(
        console_states(&h),
        vec!["recording", "paused", "recording", "stopped"]
    );
    let events = event_kinds(&h);
    assert!(events.contains(&"recording_paused".to_owned()));
    assert!(events.contains(&"recording_resumed".to_owned()));
}

#[test]
fn on_demand_records_only_once_the_operator_starts_it() {
    let mut h = desk_with_console_on(dialplan("recording = \"on_demand\"", ""));
    // A call that may be recorded is told so.
    let mut caller = call_past_the_notice(&mut h, 1);
    let call_id = answer(&mut h);
    assert!(recording_commands(&h).is_empty());
    pause(&mut h, &call_id, RecordingAction::Start).expect("starts");
    assert!(matches!(
        recording_commands(&h).as_slice(),
        [MediaCommand::StartRecording { .. }]
    ));
    assert_eq!(
        pause(&mut h, &call_id, RecordingAction::Start),
        Err(ConsoleError::Recording("start")),
        "already recording"
    );
    h.sip(&caller.request("BYE", 2, "", false));
    let started = h.records[0]
        .events
        .iter()
        .find(|e| e.kind == "recording_started")
        .expect("started");
    assert_eq!(started.detail["by"], "operator");
}

#[test]
fn an_operator_cannot_start_recording_a_call_whose_policy_is_off() {
    let mut h = desk_with_console_on(dialplan("recording = \"off\"", ""));
    call_in(&mut h, 1);
    let call_id = answer(&mut h);
    assert_eq!(
        pause(&mut h, &call_id, RecordingAction::Start),
        Err(ConsoleError::Recording("start"))
    );
    assert!(recording_commands(&h).is_empty());
}

#[test]
fn a_queue_that_records_plays_the_notice_before_the_caller_joins_it() {
    let mut h = desk_with_console_on(dialplan("", "recording = \"all\""));
    call_in(&mut h, 1);
    let caller_leg = h.leg();
    assert_eq!(h.played(), vec!["recording_notice"]);
    assert!(
        !h.console
            .iter()
            .any(|e| matches!(e, ConsoleEvent::Offered { .. })),
        "not offered to an operator before the notice has played"
    );
    h.finish_prompt(caller_leg);
    answer(&mut h);
    assert!(matches!(
        recording_commands(&h).as_slice(),
        [MediaCommand::StartRecording { .. }]
    ));
}

#[test]
fn a_queue_that_does_not_record_overrides_an_entry_that_does() {
    let mut h = desk_with_console_on(dialplan("recording = \"all\"", "recording = false"));
    call_in(&mut h, 1);
    let caller_leg = h.leg();
    h.finish_prompt(caller_leg); // the entry's notice: the entry meant to record
    answer(&mut h);
    assert!(recording_commands(&h).is_empty());
}

#[test]
fn a_transfer_by_the_operator_stops_the_recording() {
    let mut h = desk_with_console_on(dialplan("recording = \"all\"", ""));
    call_past_the_notice(&mut h, 1);
    let call_id = answer(&mut h);
    h.advance(Duration::from_secs(10));
    command(
        &mut h,
        ConsoleCommand::Transfer {
            call_id: call_id.clone(),
            target: "city_line".into(),
        },
    )
    .expect("transfers");
    assert!(matches!(
        recording_commands(&h).last(),
        Some(MediaCommand::StopRecording { key }) if *key == call_id
    ));
}

#[test]
fn a_failed_recording_is_news_and_a_call_event_and_the_call_goes_on() {
    let mut h = desk_with_console_on(dialplan("recording = \"all\"", ""));
    let mut caller = call_past_the_notice(&mut h, 1);
    let call_id = answer(&mut h);
    h.media_event(MediaEvent::RecordingFailed {
        key: call_id.clone(),
        disk_full: true,
    });
    assert!(h.records.is_empty(), "the call goes on");
    h.sip(&caller.request("BYE", 2, "", false));
    let failed = h.records[0]
        .events
        .iter()
        .find(|e| e.kind == "recording_failed")
        .expect("a recording_failed event");
    assert_eq!(failed.detail["disk_full"], true);
    let news: Vec<RecordingNews> = std::iter::from_fn(|| h.engine.poll_recording()).collect();
    assert!(news.iter().any(|n| matches!(
        n,
        RecordingNews::Failed {
            disk_full: true,
            ..
        }
    )));
    let live = h.engine.live(h.now);
    assert_eq!(live.recording_failures, 1, "the board is alerted");
    assert!(live.last_recording_failure.is_some_and(|f| f.disk_full));
    assert_eq!(
        console_states(&h),
        vec!["recording", "failed", "stopped"],
        "and the operator's console"
    );
}

#[test]
fn a_share_records_some_calls_and_not_others() {
    let mut h = desk_with_console_on(dialplan("recording = 0.5", ""));
    let mut recorded = 0;
    for n in 1..=20 {
        let mut caller = call_in(&mut h, n);
        let before = recording_commands(&h).len();
        let leg = *h.opened_legs().last().expect("a leg");
        if h.played().last().map(String::as_str) == Some("recording_notice") {
            h.finish_prompt(leg);
        }
        answer(&mut h);
        recorded += usize::from(recording_commands(&h).len() > before);
        h.sip(&caller.request("BYE", 2, "", false));
        h.advance(Duration::from_secs(2)); // the wrap-up
    }
    assert!(
        (3..=17).contains(&recorded),
        "about half of 20 calls recorded: {recorded}"
    );
}
