//! Queue settings, transfer targets (calendar, closed/failed steps), feature codes and queue
//! announcements as the engine reads them from a checked dialplan.

mod common;

use std::fs;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_dialplan::{
    CallerIdPolicy, Dialplan, FeatureCode, FlowAction, OnFailure, QueueMember, QueueStrategy,
    TargetSteps,
};

const TEXT: &str = r#"
sounds_dir = "."
[prompts]
sorry = "sorry.wav"
office_hours = "office_hours.wav"
connecting = "connecting.wav"
feature_paused = "feature_paused.wav"

[calendars.hotline]
hours = [{ days = "every day", ranges = ["00:00-24:00"] }]
holidays = "open"

[calendars.office]
hours = [{ days = "mon-fri", ranges = ["08:30-17:15"] }]
holidays = "closed"

[queues.plain]

[queues.tuned]
strategy = "round_robin"
ring_timeout = 20
wrap_up = 45
join_empty = false
leave_when_empty = true
auto_pause_after = 0
max_callers = 12
announce_position = false
announce_wait = false
members = ["tanaka", { login = "counter1", tier = 2, penalty = 5 }, { login = "sato" }]
overflow = "office"

[targets.office]
setting = "city_line"
calendar = "office"
announce = "connecting"
closed = [{ play = "office_hours" }, { hangup = true }]
failed = [{ play = "sorry" }, { transfer = "backup" }]
on_failure = "requeue"
ring_timeout = 40
caller_id = "anonymous"

[targets.backup]
setting = "backup_line"

[[entries]]
match = "*"
calendar = "hotline"
open = [{ queue = { name = "tuned", priority = 5 } }, { queue = { name = "plain", priority = -2 } }, { queue = "plain" }]
"#;

fn parse(text: &str) -> Dialplan {
    let dir = tempfile::tempdir().unwrap();
    for p in ["sorry", "office_hours", "connecting", "feature_paused"] {
        fs::write(dir.path().join(format!("{p}.wav")), b"RIFF").unwrap();
    }
    common::write_announcement_prompts(dir.path());
    match Dialplan::parse("queues.toml", text, dir.path()) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_queue_without_settings_gets_the_defaults() {
    let d = parse(TEXT);
    let q = d.queue("plain").unwrap();
    assert_eq!(q.strategy, QueueStrategy::LongestIdle);
    assert_eq!(q.ring_timeout, Duration::from_secs(15));
    assert_eq!(q.wrap_up, Duration::from_secs(10));
    assert!(q.join_empty);
    assert!(!q.leave_when_empty);
    assert_eq!(q.auto_pause_after, Some(3));
    assert_eq!(q.max_callers, None);
    assert!(q.announce_position);
    assert!(q.announce_wait);
    assert_eq!(q.members, None);
}

#[test]
fn queue_settings_are_read_as_written() {
    let d = parse(TEXT);
    let q = d.queue("tuned").unwrap();
    assert_eq!(q.strategy, QueueStrategy::RoundRobin);
    assert_eq!(q.ring_timeout, Duration::from_secs(20));
    assert_eq!(q.wrap_up, Duration::from_secs(45));
    assert!(!q.join_empty);
    assert!(q.leave_when_empty);
    assert_eq!(q.max_callers, Some(12));
    assert!(!q.announce_position);
    assert!(!q.announce_wait);
}

#[test]
fn auto_pause_after_zero_turns_auto_pause_off() {
    assert_eq!(parse(TEXT).queue("tuned").unwrap().auto_pause_after, None);
}

#[test]
fn members_mix_plain_logins_at_tier_1_and_tables() {
    let d = parse(TEXT);
    let member = |login: &str, tier, penalty| QueueMember {
        login: login.into(),
        tier,
        penalty,
    };
    assert_eq!(
        d.queue("tuned").unwrap().members.as_deref(),
        Some(
            &[
                member("tanaka", 1, 0),
                member("counter1", 2, 5),
                member("sato", 1, 0)
            ][..]
        )
    );
}

#[test]
fn every_strategy_name_is_accepted() {
    for s in QueueStrategy::ALL {
        let text = TEXT.replace("\"round_robin\"", &format!("\"{}\"", s.label()));
        assert_eq!(parse(&text).queue("tuned").unwrap().strategy, s);
    }
}

#[test]
fn queue_step_priority_reaches_the_flow_action() {
    let mut run = parse(TEXT)
        .route("x", jst(2026, 6, 10, 10, 0), 0.0)
        .unwrap()
        .start();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "tuned".into(),
            priority: 5
        })
    );
    run.handle_handoff_done();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "plain".into(),
            priority: -2
        })
    );
    run.handle_handoff_done();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "plain".into(),
            priority: 0
        })
    );
}

#[test]
fn target_settings_are_read_as_written() {
    let d = parse(TEXT);
    let t = d.target("office").unwrap();
    assert_eq!(t.calendar.as_deref(), Some("office"));
    assert_eq!(t.announce.as_deref(), Some("connecting"));
    assert_eq!(t.on_failure, OnFailure::Requeue);
    assert_eq!(t.ring_timeout, Duration::from_secs(40));
    assert_eq!(t.caller_id, CallerIdPolicy::Anonymous);
}

#[test]
fn a_target_without_settings_gets_the_defaults() {
    let d = parse(TEXT);
    let t = d.target("backup").unwrap();
    assert_eq!(t.calendar, None);
    assert_eq!(t.closed, None);
    assert_eq!(t.failed, None);
    assert_eq!(t.on_failure, OnFailure::Steps);
    assert_eq!(t.ring_timeout, Duration::from_secs(30));
    assert_eq!(t.caller_id, CallerIdPolicy::Caller);
    assert_eq!(t.announce, None);
}

#[test]
fn target_is_open_inside_its_calendar_only() {
    let d = parse(TEXT);
    assert!(d.target_is_open("office", jst(2026, 6, 10, 10, 0)));
    assert!(!d.target_is_open("office", jst(2026, 6, 10, 17, 15)));
    // 2026-06-13 is a Saturday.
    assert!(!d.target_is_open("office", jst(2026, 6, 13, 10, 0)));
}

#[test]
fn target_without_a_calendar_is_always_open() {
    assert!(parse(TEXT).target_is_open("backup", jst(2026, 12, 31, 3, 0)));
}

#[test]
fn an_undeclared_target_is_never_open() {
    assert!(!parse(TEXT).target_is_open("somewhere", jst(2026, 6, 10, 10, 0)));
}

#[test]
fn closed_steps_run_in_their_own_runner() {
    let d = parse(TEXT);
    let mut run = d.target_steps("office", TargetSteps::Closed).unwrap();
    assert_eq!(run.target(), Some(("office", TargetSteps::Closed)));
    assert_eq!(run.branch(), None);
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "office_hours".into()
        })
    );
    run.handle_prompt_finished();
    assert_eq!(run.poll_action(), Some(FlowAction::Hangup));
}

#[test]
fn failed_steps_may_transfer_to_another_target() {
    let d = parse(TEXT);
    let mut run = d.target_steps("office", TargetSteps::Failed).unwrap();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "sorry".into()
        })
    );
    run.handle_prompt_finished();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Transfer {
            target: "backup".into()
        })
    );
}

#[test]
fn target_steps_not_written_give_no_runner() {
    let d = parse(TEXT);
    assert!(d.target_steps("backup", TargetSteps::Closed).is_none());
    assert!(d.target_steps("backup", TargetSteps::Failed).is_none());
    assert!(d.target_steps("nowhere", TargetSteps::Failed).is_none());
}

#[test]
fn features_default_to_star_50_51_52_and_break() {
    let d = parse(TEXT);
    let f = d.features();
    assert_eq!(f.feature("*50"), Some(FeatureCode::Pause));
    assert_eq!(f.feature("*51"), Some(FeatureCode::Available));
    assert_eq!(f.feature("*52"), Some(FeatureCode::Logout));
    assert_eq!(f.feature("*53"), None);
    assert_eq!(f.pause_reason, "break");
}

#[test]
fn a_default_feature_prompt_is_used_only_when_declared() {
    let d = parse(TEXT);
    let f = d.features();
    assert_eq!(f.prompt(FeatureCode::Pause), Some("feature_paused"));
    assert_eq!(f.prompt_available, None);
    assert_eq!(f.prompt_refused, None);
}

#[test]
fn feature_codes_and_prompts_can_be_changed() {
    let text = format!(
        "{TEXT}\n[features]\npause = \"#1\"\navailable = \"#2\"\nlogout = \"#3\"\npause_reason = \"lunch\"\nprompt_refused = \"sorry\"\n"
    );
    let d = parse(&text);
    let f = d.features();
    assert_eq!(f.feature("#1"), Some(FeatureCode::Pause));
    assert_eq!(f.feature("*50"), None);
    assert_eq!(f.pause_reason, "lunch");
    assert_eq!(f.prompt_refused.as_deref(), Some("sorry"));
}

#[test]
fn every_announcement_prompt_is_a_loaded_prompt() {
    let d = parse(TEXT);
    let loaded: Vec<&str> = d.prompt_files().map(|(n, _)| n).collect();
    for position in [0, 1, 3, 30, 31, 500] {
        for secs in [0, 30, 61, 300, 3570, 3660, 100_000] {
            for name in d.queue_announcement(position, Some(Duration::from_secs(secs))) {
                assert!(loaded.contains(&name.as_str()), "{name}");
            }
        }
    }
}

#[test]
fn announcement_words_are_not_loaded_when_no_queue_says_position_or_wait() {
    let text = TEXT.replace(
        "[queues.plain]\n",
        "[queues.plain]\nannounce_position = false\nannounce_wait = false\n",
    );
    let d = parse(&text);
    assert!(d.prompt_file("position_1").is_none());
    assert!(d.prompt_file("wait_soon").is_none());
}

#[test]
fn a_prompt_declared_under_an_announcement_name_keeps_its_own_file() {
    let text = TEXT.replace(
        "sorry = \"sorry.wav\"\n",
        "sorry = \"sorry.wav\"\nposition_3 = \"sorry.wav\"\n",
    );
    let d = parse(&text);
    assert!(d.prompt_file("position_3").unwrap().ends_with("sorry.wav"));
    assert_eq!(
        d.prompt_files().filter(|(n, _)| *n == "position_3").count(),
        1
    );
}

#[test]
fn simulation_shows_queue_settings_and_whether_the_target_is_open() {
    let d = parse(TEXT);
    let evening = d.simulate("x", jst(2026, 6, 10, 18, 0));
    let tuned = &evening.queues[0];
    assert_eq!(tuned.name, "tuned");
    assert_eq!(tuned.strategy, QueueStrategy::RoundRobin);
    assert_eq!(tuned.ring_timeout_s, 20);
    assert_eq!(evening.transfers[0].target, "office");
    assert!(!evening.transfers[0].open);
    assert!(evening.steps[0]
        .detail
        .contains("overflow: transfer office, closed now"));
    let morning = d.simulate("x", jst(2026, 6, 10, 10, 0));
    assert!(morning.transfers[0].open);
}

#[test]
fn simulation_json_carries_queue_and_transfer_settings() {
    let sim = parse(TEXT).simulate("x", jst(2026, 6, 10, 18, 0));
    let json = serde_json::to_value(&sim).unwrap();
    assert_eq!(json["queues"][0]["strategy"], "round_robin");
    assert_eq!(json["queues"][0]["members"][1]["tier"], 2);
    assert_eq!(json["queues"][1]["members"], serde_json::Value::Null);
    assert_eq!(json["transfers"][0]["open"], false);
    assert_eq!(json["transfers"][0]["caller_id"], "anonymous");
    assert_eq!(json["transfers"][0]["on_failure"], "requeue");
}

#[test]
fn simulated_transfer_to_a_closed_target_lists_its_closed_steps() {
    let text = TEXT.replace(
        "open = [{ queue = { name = \"tuned\", priority = 5 } },",
        "open = [{ transfer = \"office\" }, { queue = { name = \"tuned\", priority = 5 } },",
    );
    let sim = parse(&text).simulate("x", jst(2026, 6, 10, 18, 0));
    let kinds: Vec<(usize, &str)> = sim
        .steps
        .iter()
        .take(4)
        .map(|s| (s.depth, s.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [(0, "transfer"), (1, "closed"), (2, "play"), (2, "hangup")]
    );
}
