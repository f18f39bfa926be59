//! Recording policy in the dialplan: each form of `recording` on an entry and on a queue, the
//! errors the checker gives (with their line), the notice in the route's prelude for a call
//! that may be recorded, and a queue's policy replacing the entry's decision on joining.

mod common;

use std::fs;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_dialplan::{CheckError, Dialplan, RecordingDecision, RecordingPolicy, Route, Step};

/// `{entry}` and `{queue}` are replaced by extra lines of the entry and of `[queues.main]`.
const TEMPLATE: &str = r#"sounds_dir = "."
[prompts]
greeting = "greeting.wav"
recording_notice = "recording_notice.wav"
short_notice = "short_notice.wav"
closed = "closed.wav"

[calendars.hotline]
hours = [{ days = "every day", ranges = ["08:30-20:00"] }]
holidays = "open"

[queues.main]
{queue}

[queues.other]

[[entries]]
match = "*"
calendar = "hotline"
greeting = "greeting"
{entry}
open = [{ queue = "main" }]
closed = [{ play = "closed" }]
"#;

fn text(entry: &str, queue: &str) -> String {
    TEMPLATE.replace("{entry}", entry).replace("{queue}", queue)
}

/// The same dialplan without the prompt named "recording_notice".
fn text_without_default_notice(entry: &str, queue: &str) -> String {
    text(entry, queue).replace("recording_notice = \"recording_notice.wav\"\n", "")
}

fn check(text: &str) -> Result<Dialplan, Vec<CheckError>> {
    let dir = tempfile::tempdir().unwrap();
    for p in ["greeting", "recording_notice", "short_notice", "closed"] {
        fs::write(dir.path().join(format!("{p}.wav")), b"RIFF").unwrap();
    }
    common::write_announcement_prompts(dir.path());
    Dialplan::parse("rec.toml", text, dir.path()).map_err(|e| e.errors)
}

fn parse(text: &str) -> Dialplan {
    check(text).unwrap_or_else(|e| panic!("{e:#?}"))
}

/// The single error of a broken dialplan.
fn only_error(text: &str) -> CheckError {
    match check(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(mut e) => {
            assert_eq!(e.len(), 1, "{e:#?}");
            e.remove(0)
        }
    }
}

/// 1-based line of the first line of `text` starting with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(start))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starting with {start:?}"))
}

fn entry_policy(entry_line: &str) -> RecordingPolicy {
    parse(&text(entry_line, "")).entries()[0].recording
}

fn jst(h: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(2026, 6, 10, h, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

const OPEN: u32 = 10;
const CLOSED: u32 = 21;

fn played(route: &Route) -> Vec<&str> {
    route
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Play { prompt } => Some(prompt.as_str()),
            _ => None,
        })
        .collect()
}

// --- the forms of `recording` ---

#[test]
fn every_form_of_recording_on_an_entry_reads_as_its_policy() {
    let cases = [
        ("", RecordingPolicy::Off),
        ("recording = true", RecordingPolicy::All),
        ("recording = false", RecordingPolicy::Off),
        ("recording = \"all\"", RecordingPolicy::All),
        ("recording = \"off\"", RecordingPolicy::Off),
        ("recording = \"on_demand\"", RecordingPolicy::OnDemand),
        ("recording = 0.3", RecordingPolicy::Share(0.3)),
        ("recording = 1", RecordingPolicy::All),
        ("recording = 1.0", RecordingPolicy::All),
        ("recording = 0.000_5", RecordingPolicy::Share(0.0005)),
    ];
    for (line, policy) in cases {
        assert_eq!(entry_policy(line), policy, "{line}");
    }
}

#[test]
fn every_form_of_recording_on_a_queue_reads_as_its_policy_and_absent_inherits() {
    let cases = [
        ("", None),
        ("recording = true", Some(RecordingPolicy::All)),
        ("recording = \"off\"", Some(RecordingPolicy::Off)),
        ("recording = \"on_demand\"", Some(RecordingPolicy::OnDemand)),
        ("recording = 0.25", Some(RecordingPolicy::Share(0.25))),
    ];
    for (line, policy) in cases {
        let d = parse(&text("", line));
        assert_eq!(d.queue("main").unwrap().recording, policy, "{line}");
    }
}

#[test]
fn a_policy_that_may_record_gets_the_default_notice_or_the_one_named() {
    let d = parse(&text("recording = 0.5", "recording = \"on_demand\""));
    assert_eq!(
        d.entries()[0].recording_notice.as_deref(),
        Some("recording_notice")
    );
    assert_eq!(
        d.queue("main").unwrap().recording_notice.as_deref(),
        Some("recording_notice")
    );
    let d = parse(&text(
        "recording = \"all\"\nrecording_notice = \"short_notice\"",
        "recording = true\nrecording_notice = \"short_notice\"",
    ));
    assert_eq!(
        d.entries()[0].recording_notice.as_deref(),
        Some("short_notice")
    );
    assert_eq!(
        d.queue("main").unwrap().recording_notice.as_deref(),
        Some("short_notice")
    );
}

// --- errors ---

#[test]
fn a_share_out_of_range_is_an_error_at_its_line() {
    for value in ["0", "0.0", "-0.2", "1.5", "2", "nan", "inf", "-inf"] {
        let t = text(&format!("recording = {value}"), "");
        let e = only_error(&t);
        assert_eq!(e.key, "entries[0].recording", "{value}");
        assert_eq!(e.line, line_of(&t, "recording = "), "{value}");
        assert!(e.message.contains("out of range"), "{value}: {}", e.message);
    }
}

#[test]
fn an_unknown_word_or_a_wrong_type_is_an_error_naming_the_forms() {
    for value in ["\"sometimes\"", "\"On_Demand\"", "[]", "{ share = 0.3 }"] {
        let t = text(&format!("recording = {value}"), "");
        let e = only_error(&t);
        assert_eq!(e.key, "entries[0].recording", "{value}");
        assert_eq!(e.line, line_of(&t, "recording = "), "{value}");
        assert!(
            e.message.contains("\"on_demand\""),
            "{value}: {}",
            e.message
        );
    }
}

#[test]
fn a_bad_queue_recording_is_an_error_at_its_line() {
    let t = text("", "recording = 0");
    let e = only_error(&t);
    assert_eq!(e.key, "queues.main.recording");
    assert_eq!(e.line, line_of(&t, "recording = 0"));
}

#[test]
fn each_policy_that_may_record_needs_a_notice_prompt() {
    for value in ["true", "\"all\"", "\"on_demand\"", "0.3"] {
        let t = text_without_default_notice(&format!("recording = {value}"), "");
        let e = only_error(&t);
        assert_eq!(e.key, "entries[0].recording", "{value}");
        assert_eq!(e.line, line_of(&t, "recording = "), "{value}");
        assert!(e.message.contains("needs a prompt"), "{}", e.message);

        let t = text_without_default_notice("", &format!("recording = {value}"));
        let e = only_error(&t);
        assert_eq!(e.key, "queues.main.recording", "{value}");
        assert_eq!(e.line, line_of(&t, "recording = "), "{value}");
    }
}

#[test]
fn off_and_an_inheriting_queue_need_no_notice_prompt() {
    let d = check(&text_without_default_notice(
        "recording = \"off\"",
        "music = \"closed\"",
    ))
    .unwrap();
    assert_eq!(d.queue("main").unwrap().recording, None);
    assert_eq!(d.queue("main").unwrap().recording_notice, None);
}

#[test]
fn an_unknown_notice_prompt_on_a_queue_is_an_error() {
    let t = text("", "recording = true\nrecording_notice = \"nope\"");
    let e = only_error(&t);
    assert_eq!(e.key, "queues.main.recording_notice");
    assert_eq!(e.line, line_of(&t, "recording_notice = \"nope\""));
}

// --- routing ---

#[test]
fn a_call_drawn_into_the_share_is_recorded_and_told_and_one_drawn_out_is_neither() {
    let d = parse(&text("recording = 0.3", ""));
    let inside = d.route("0120", jst(OPEN), 0.29).unwrap();
    assert_eq!(inside.recording, RecordingDecision::Record);
    assert_eq!(played(&inside), ["greeting", "recording_notice"]);

    let outside = d.route("0120", jst(OPEN), 0.3).unwrap();
    assert_eq!(outside.recording, RecordingDecision::Off);
    assert_eq!(played(&outside), ["greeting"]);
}

#[test]
fn on_demand_tells_the_caller_without_recording() {
    let d = parse(&text("recording = \"on_demand\"", ""));
    let r = d.route("0120", jst(OPEN), 0.99).unwrap();
    assert_eq!(r.recording, RecordingDecision::OnDemand);
    assert_eq!(played(&r), ["greeting", "recording_notice"]);
}

#[test]
fn recording_off_plays_no_notice() {
    let d = parse(&text("recording = false", ""));
    let r = d.route("0120", jst(OPEN), 0.0).unwrap();
    assert_eq!(r.recording, RecordingDecision::Off);
    assert_eq!(played(&r), ["greeting"]);
}

#[test]
fn the_named_notice_is_the_one_played() {
    let d = parse(&text(
        "recording = \"all\"\nrecording_notice = \"short_notice\"",
        "",
    ));
    let r = d.route("0120", jst(OPEN), 0.5).unwrap();
    assert_eq!(played(&r), ["greeting", "short_notice"]);
}

#[test]
fn a_closed_branch_is_never_recorded_nor_announced() {
    let d = parse(&text("recording = \"all\"", ""));
    let r = d.route("0120", jst(CLOSED), 0.0).unwrap();
    assert_eq!(r.recording, RecordingDecision::Off);
    assert_eq!(played(&r), ["closed"]);
}

// --- queues ---

#[test]
fn a_queue_recording_all_records_a_call_the_entry_did_not_and_asks_for_the_notice() {
    let d = parse(&text("recording = 0.3", "recording = \"all\""));
    let route = d.route("0120", jst(OPEN), 0.9).unwrap();
    assert_eq!(route.recording, RecordingDecision::Off);
    let main = d.queue("main").unwrap();
    assert_eq!(
        main.recording_at_join(route.recording, false, 0.9),
        (
            RecordingDecision::Record,
            Some("recording_notice".to_string())
        )
    );
}

#[test]
fn a_queue_turning_recording_off_stops_it_and_announces_nothing() {
    let d = parse(&text("recording = true", "recording = \"off\""));
    let route = d.route("0120", jst(OPEN), 0.0).unwrap();
    assert_eq!(route.recording, RecordingDecision::Record);
    assert_eq!(
        d.queue("main")
            .unwrap()
            .recording_at_join(route.recording, true, 0.0),
        (RecordingDecision::Off, None)
    );
}

#[test]
fn a_queue_without_recording_keeps_the_entry_decision_and_the_notice_heard() {
    let d = parse(&text("recording = \"on_demand\"", ""));
    let route = d.route("0120", jst(OPEN), 0.0).unwrap();
    let other = d.queue("other").unwrap();
    assert_eq!(other.recording, None);
    assert_eq!(
        other.recording_at_join(route.recording, true, 0.0),
        (RecordingDecision::OnDemand, None)
    );
}

#[test]
fn a_queue_share_draws_again_on_joining() {
    let d = parse(&text("recording = true", "recording = 0.5"));
    let main = d.queue("main").unwrap();
    assert_eq!(
        main.recording_at_join(RecordingDecision::Record, true, 0.4),
        (RecordingDecision::Record, None)
    );
    assert_eq!(
        main.recording_at_join(RecordingDecision::Record, true, 0.6),
        (RecordingDecision::Off, None)
    );
}

// --- simulation ---

#[test]
fn the_simulation_shows_the_policy_of_the_entry_and_of_the_queue() {
    let d = parse(&text("recording = 0.3", "recording = \"on_demand\""));
    let sim = d.simulate("0120", jst(OPEN));
    assert_eq!(sim.recording, RecordingPolicy::Share(0.3));
    let json = serde_json::to_value(&sim).unwrap();
    assert_eq!(json["recording"], serde_json::json!({ "share": 0.3 }));
    assert_eq!(json["queues"][0]["recording"], "on_demand");
    let shown = sim.to_string();
    assert!(shown.contains("recording:  30% of calls"), "{shown}");
    assert!(shown.contains("play recording_notice"), "{shown}");
    assert!(
        shown.contains("recording on demand (notice recording_notice)"),
        "{shown}"
    );

    let closed = d.simulate("0120", jst(CLOSED));
    assert_eq!(closed.recording, RecordingPolicy::Off);
}
