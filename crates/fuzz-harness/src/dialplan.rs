//! dialplan_toml: a dialplan file as an administrator may write it, through the parser and
//! checker and, when it is accepted, through routing and the flow of every entry.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use madoguchi_dialplan::model::Match;
use madoguchi_dialplan::{Dialplan, FlowAction, FlowRunner};

/// The repository's dialplans/ folder: prompt files of the seed dialplans resolve from it.
const BASE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialplans");

pub fn dialplan_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dialplan = match Dialplan::parse("fuzz.toml", text, Path::new(BASE_DIR)) {
        Ok(dialplan) => dialplan,
        Err(errors) => {
            // A refused file says why, in a message the CLI can print.
            assert!(!errors.errors.is_empty());
            assert!(!errors.to_string().is_empty());
            return;
        }
    };
    let _ = dialplan.prompt_files().count();
    let users: Vec<String> = dialplan
        .entries()
        .iter()
        .map(|entry| match &entry.pattern {
            Match::Exact(user) => user.clone(),
            Match::Prefix(prefix) => format!("{prefix}0"),
            Match::Any => "0120000000".to_owned(),
        })
        .collect();
    for user in users {
        for at in instants() {
            let _ = dialplan.simulate(&user, at);
            for draw in [0.0, 0.5, 0.999] {
                if let Some(route) = dialplan.route(&user, at, draw) {
                    run_flow(&dialplan, route.start());
                }
            }
        }
    }
}

/// A weekday morning, a weekday night, a Sunday and New Year's Day (UTC; the calendars are
/// zoned).
fn instants() -> Vec<DateTime<Utc>> {
    [
        (2026, 1, 7, 1),
        (2026, 1, 7, 14),
        (2026, 1, 11, 3),
        (2026, 1, 1, 2),
    ]
    .into_iter()
    .filter_map(|(y, m, d, h)| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single())
    .collect()
}

/// Runs a flow as a caller who presses 1, then 9, then nothing, each prompt played out and
/// each timer run out; bounded, since a menu may loop over its attempts. Every prompt it plays,
/// in the language chosen so far, has a file.
fn run_flow(dialplan: &Dialplan, mut flow: FlowRunner) {
    let mut digits = ['1', '9'].into_iter();
    for _ in 0..200 {
        let Some(action) = flow.poll_action() else {
            return;
        };
        match action {
            FlowAction::Play { prompt } | FlowAction::Callback { prompt } => {
                let name = dialplan.prompt_for(flow.language(), &prompt);
                assert!(dialplan.prompt_file(&name).is_some(), "no file for {name}");
                flow.handle_prompt_finished()
            }
            FlowAction::StartTimer { .. } => flow.handle_timer_expired(),
            FlowAction::CollectDigits => {
                if let Some(digit) = digits.next() {
                    flow.handle_digit(digit);
                }
            }
            FlowAction::Queue { .. } | FlowAction::Transfer { .. } => flow.handle_handoff_done(),
            FlowAction::Hangup => return,
            FlowAction::StopPlayback | FlowAction::CancelTimer => {}
        }
    }
}
