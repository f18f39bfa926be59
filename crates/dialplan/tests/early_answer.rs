//! The entry keys of free waiting: `answer`, `early_limit`, `on_early_limit`.

mod common;

use std::fs;
use std::time::Duration;

use madoguchi_dialplan::{AnswerMode, CheckErrors, Dialplan, OnEarlyLimit, Step};

/// A valid dialplan; `ANSWER` is replaced by the entry's answer keys (line 14).
const BASE: &str = r#"sounds_dir = "sounds"
[prompts]
greeting = "greeting.wav"
callback_taken = "callback_taken.wav"

[calendars.always]
hours = [{ days = "mon-sun", ranges = ["00:00-24:00"] }]
holidays = "open"

[[entries]]
match = "*"
calendar = "always"
open = [{ play = "greeting" }]
ANSWER
"#;

fn check(answer_keys: &str) -> Result<Dialplan, CheckErrors> {
    let dir = tempfile::tempdir().unwrap();
    let sounds = dir.path().join("sounds");
    fs::create_dir(&sounds).unwrap();
    fs::write(sounds.join("greeting.wav"), b"RIFF").unwrap();
    fs::write(sounds.join("callback_taken.wav"), b"RIFF").unwrap();
    common::write_announcement_prompts(&sounds);
    Dialplan::parse(
        "test.toml",
        &BASE.replace("ANSWER", answer_keys),
        dir.path(),
    )
}

fn answer_of(answer_keys: &str) -> AnswerMode {
    match check(answer_keys) {
        Ok(d) => d.entries()[0].answer.clone(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn answer_defaults_to_engine() {
    assert_eq!(answer_of(""), AnswerMode::Engine);
    assert_eq!(answer_of("answer = \"engine\""), AnswerMode::Engine);
}

#[test]
fn operator_answer_defaults_to_a_150_s_limit_then_answer() {
    assert_eq!(
        answer_of("answer = \"operator\""),
        AnswerMode::Operator {
            early_limit: Duration::from_secs(150),
            on_early_limit: OnEarlyLimit::Answer
        }
    );
}

#[test]
fn early_limit_and_on_early_limit_are_read() {
    assert_eq!(
        answer_of("answer = \"operator\"\nearly_limit = 5\non_early_limit = \"answer\""),
        AnswerMode::Operator {
            early_limit: Duration::from_secs(5),
            on_early_limit: OnEarlyLimit::Answer
        }
    );
}

#[test]
fn early_limit_over_170_s_is_refused_naming_its_line() {
    let e = check("answer = \"operator\"\nearly_limit = 171")
        .unwrap_err()
        .errors;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].key, "entries[0].early_limit");
    assert_eq!(e[0].line, 15);
    assert!(e[0].to_string().starts_with("test.toml:15:"), "{}", e[0]);
    assert!(e[0].message.contains("over 170 s"), "{}", e[0].message);
}

#[test]
fn unknown_answer_mode_is_refused() {
    let e = check("answer = \"robot\"").unwrap_err().errors;
    assert_eq!(e[0].key, "entries[0].answer");
}

#[test]
fn on_early_limit_other_than_answer_is_refused() {
    let e = check("answer = \"operator\"\non_early_limit = \"hangup\"")
        .unwrap_err()
        .errors;
    assert_eq!(e[0].key, "entries[0].on_early_limit");
}

#[test]
fn early_limit_without_operator_answer_is_refused() {
    let e = check("early_limit = 100").unwrap_err().errors;
    assert_eq!(e[0].key, "entries[0].early_limit");
    assert!(
        e[0].message.contains("answer = \"operator\""),
        "{}",
        e[0].message
    );
}

#[test]
fn on_early_limit_steps_are_read_with_a_callback_step() {
    let answer = answer_of(
        "answer = \"operator\"\non_early_limit = [{ callback = { prompt = \"callback_taken\" } }]",
    );
    let AnswerMode::Operator {
        on_early_limit: OnEarlyLimit::Steps(steps),
        ..
    } = answer
    else {
        panic!("{answer:?}");
    };
    assert_eq!(
        steps[..],
        [Step::Callback {
            prompt: "callback_taken".into()
        }]
    );
}

#[test]
fn a_callback_step_naming_no_prompt_is_refused() {
    let e =
        check("answer = \"operator\"\non_early_limit = [{ callback = { prompt = \"nothing\" } }]")
            .unwrap_err()
            .errors;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].key, "entries[0].on_early_limit[0].callback.prompt");
}

#[test]
fn a_callback_step_without_a_prompt_is_refused() {
    let e = check("answer = \"operator\"\non_early_limit = [{ callback = {} }]")
        .unwrap_err()
        .errors;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].key, "entries[0].on_early_limit[0].callback.prompt");
}

#[test]
fn simulate_shows_the_answer_mode_and_the_early_limit_steps() {
    let dialplan = check(
        "answer = \"operator\"\nearly_limit = 120\non_early_limit = [{ callback = { prompt = \"callback_taken\" } }]",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let at = "2026-11-25T01:00:00Z".parse().unwrap();
    let shown = dialplan.simulate("0120", at).to_string();
    assert!(
        shown.contains("answer:     operator (early media, at most 120 s)"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "  early_limit after 120 s unanswered: answer, leave the queue, then\n    callback callback_taken"
        ),
        "{shown}"
    );
}
