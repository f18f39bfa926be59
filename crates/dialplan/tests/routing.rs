//! Routing rules: which entry takes a call, the `closed` fallback, notices per entry, and the
//! simulation built on top.

mod common;

use std::fs;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_dialplan::{Branch, Dialplan, FlowAction, RecordingDecision, Simulation};

const TEXT: &str = r#"
sounds_dir = "."
[prompts]
greeting = "greeting.wav"
recording_notice = "recording_notice.wav"
closed = "closed.wav"
office_closed = "office_closed.wav"
maintenance = "maintenance.wav"
menu = "menu.wav"

[calendars.hotline]
hours = [{ days = "every day", ranges = ["08:30-20:00"] }]
closures = [{ yearly = "12-29..01-03", label = "年末年始" }, { date = "2026-07-01", label = "臨時" }]

[calendars.office]
tz = "Asia/Tokyo"
hours = [{ days = "weekdays", ranges = ["08:30-17:15"] }]
holidays = "closed"
special_hours = [{ date = "2026-06-13", ranges = ["09:00-12:00"], label = "土曜開庁" }]

[queues.main]
overflow = "city_line"

[targets.city_line]
setting = "city_line"

[[entries]]
name = "fallback"
match = "*"
calendar = "hotline"
open = [{ hangup = true }]
closed = [{ play = "closed" }]

[[entries]]
name = "office"
match = "0462"
calendar = "office"
open = [{ transfer = "city_line" }]
closed = [{ play = "office_closed" }]

[[entries]]
name = "freedial"
match = "0120*"
calendar = "hotline"
greeting = "greeting"
recording = true
open = [{ menu = { prompt = "menu", choices = { "1" = [{ queue = "main" }] } } }]
closed = [{ play = "closed" }]

[[notices]]
name = "maint"
days = "2026-06-10"
prompt = "maintenance"
entries = ["freedial"]
"#;

fn parse(text: &str) -> Dialplan {
    let dir = tempfile::tempdir().unwrap();
    for p in [
        "greeting",
        "recording_notice",
        "closed",
        "office_closed",
        "maintenance",
        "menu",
    ] {
        fs::write(dir.path().join(format!("{p}.wav")), b"RIFF").unwrap();
    }
    common::write_announcement_prompts(dir.path());
    match Dialplan::parse("routing.toml", text, dir.path()) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

fn dialplan() -> Dialplan {
    parse(TEXT)
}

/// The same dialplan with the first entry matching only "9999", so "0120*" is reachable.
fn without_catch_all() -> Dialplan {
    parse(&TEXT.replacen("match = \"*\"", "match = \"9999\"", 1))
}

fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn exact_match_wins_over_an_earlier_wildcard() {
    let r = dialplan()
        .route("0462", jst(2026, 6, 10, 10, 0), 0.0)
        .unwrap();
    assert_eq!(r.entry, "office");
}

#[test]
fn wildcards_are_tried_in_file_order() {
    // "*" comes before "0120*" in the file, so it takes 0120… calls too.
    let r = dialplan()
        .route("0120123456", jst(2026, 6, 10, 10, 0), 0.0)
        .unwrap();
    assert_eq!(r.entry, "fallback");
}

#[test]
fn no_matching_entry_gives_no_route() {
    let d = without_catch_all();
    assert!(d.route("5555", jst(2026, 6, 10, 10, 0), 0.0).is_none());
    assert_eq!(
        d.route("0120999", jst(2026, 6, 10, 10, 0), 0.0)
            .unwrap()
            .entry,
        "freedial"
    );
    let sim = d.simulate("5555", jst(2026, 6, 10, 10, 0));
    assert_eq!(sim.entry, None);
    assert!(sim.to_string().contains("no entry matches"));
}

#[test]
fn closed_fallback_serves_every_closed_branch() {
    let d = dialplan();
    for (at, branch) in [
        (jst(2026, 6, 10, 21, 0), Branch::ClosedHours),
        (jst(2026, 12, 31, 10, 0), Branch::ClosedYearEnd),
        (jst(2026, 7, 1, 10, 0), Branch::ClosedSpecial),
    ] {
        let r = d.route("x", at, 0.0).unwrap();
        assert_eq!(r.branch, branch);
        assert_eq!(
            r.start().poll_action(),
            Some(FlowAction::Play {
                prompt: "closed".into()
            })
        );
    }
}

#[test]
fn holiday_closed_calendar_gives_closed_holiday_with_its_name() {
    // 2026-07-20 海の日 (Monday).
    let r = dialplan()
        .route("0462", jst(2026, 7, 20, 10, 0), 0.0)
        .unwrap();
    assert_eq!(r.branch, Branch::ClosedHoliday);
    assert_eq!(r.holiday, Some("海の日"));
}

#[test]
fn special_hours_open_a_saturday() {
    let r = dialplan()
        .route("0462", jst(2026, 6, 13, 10, 0), 0.0)
        .unwrap();
    assert_eq!(r.branch, Branch::Open);
}

#[test]
fn notice_applies_only_to_its_entries() {
    let d = without_catch_all();
    let at = jst(2026, 6, 10, 10, 0);
    assert_eq!(d.route("0120", at, 0.0).unwrap().notices, ["maint"]);
    assert!(d.route("9999", at, 0.0).unwrap().notices.is_empty());
}

#[test]
fn recording_is_requested_only_on_the_open_branch() {
    let d = without_catch_all();
    let open = d.route("0120", jst(2026, 6, 10, 10, 0), 0.0).unwrap();
    assert_eq!(open.recording, RecordingDecision::Record);
    let closed = d.route("0120", jst(2026, 6, 10, 21, 0), 0.0).unwrap();
    assert_eq!(closed.recording, RecordingDecision::Off);
}

#[test]
fn simulation_lists_steps_menu_choices_and_targets() {
    let d = dialplan();
    let sim: Simulation = d.simulate("0462", jst(2026, 6, 10, 10, 0));
    assert_eq!(sim.entry.as_deref(), Some("office"));
    assert_eq!(sim.branch, Some(Branch::Open));
    assert_eq!(sim.local_time.as_deref(), Some("2026-06-10T10:00:00+09:00"));
    assert_eq!(sim.transfers.len(), 1);
    assert_eq!(sim.transfers[0].setting, "city_line");
    let kinds: Vec<&str> = sim.steps.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["transfer", "end"]);
}

#[test]
fn simulation_json_has_stable_keys() {
    let sim = dialplan().simulate("0462", jst(2026, 7, 20, 10, 0));
    let json = serde_json::to_value(&sim).unwrap();
    assert_eq!(json["branch"], "closed_holiday");
    assert_eq!(json["holiday"], "海の日");
    assert_eq!(json["entry"], "office");
    assert_eq!(json["steps"][0]["kind"], "play");
}

#[test]
fn simulation_display_shows_branch_and_indented_menu_choices() {
    let d = without_catch_all();
    let shown = d.simulate("0120", jst(2026, 6, 10, 10, 0)).to_string();
    assert!(shown.contains("branch:     open"), "{shown}");
    assert!(shown.contains("notices:    maint"), "{shown}");
    assert!(
        shown.contains("    choice 1\n      queue main (overflow: transfer city_line, open now)"),
        "{shown}"
    );
    assert!(
        shown.contains("transfers:\n  city_line (setting city_line): open (no calendar)"),
        "{shown}"
    );
}

#[test]
fn dialplan_and_runner_can_move_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Dialplan>();
    assert_send_sync::<madoguchi_dialplan::FlowRunner>();
    assert_send_sync::<madoguchi_dialplan::Route>();
}

#[test]
fn prompt_files_keep_the_order_of_the_file_then_add_the_announcement_words() {
    let d = dialplan();
    let names: Vec<&str> = d.prompt_files().map(|(n, _)| n).collect();
    assert_eq!(
        names[..6],
        [
            "greeting",
            "recording_notice",
            "closed",
            "office_closed",
            "maintenance",
            "menu"
        ]
    );
    assert_eq!(names[6], "position_prefix");
    assert!(names.contains(&"wait_soon"));
}
