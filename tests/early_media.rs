//! End to end: free waiting (`answer = "operator"`, tests/dialplans/early.toml) with the real
//! binary. The caller gets a 183 with SDP and hears the greeting and the music over RTP
//! before any 200 OK; its 200 OK comes only once an operator (a sipp phone) answers, or at
//! the entry's `early_limit` (tests/dialplans/early_limit.toml, early_callback.toml).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::center::{live, register, set_state, wait_for_state, Center, SippProcess};
use support::phone::Phone;
use support::{repo_root, sipp, EngineProcess};

fn early_engine(center: &Center) -> EngineProcess {
    center.start_with(&repo_root().join("tests/dialplans/early.toml"), &[])
}

/// The record of one call by the sipp caller `scenario` to the early engine, which a sipp
/// desk phone of op1, the only operator and available, answers.
fn call_answered_by_a_desk_phone(scenario: &str) -> Value {
    let center = Center::with_operators(&["op1"]);
    let engine = early_engine(&center);
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);

    let (code, output) = sipp(scenario, engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}\n{}", engine.log());
    assert_eq!(
        desk_phone.wait(Duration::from_secs(10)),
        Some(0),
        "{}",
        desk_phone.output()
    );
    engine.wait_for_calls(1)["calls"][0].clone()
}

#[test]
fn a_sipp_caller_gets_183_with_sdp_then_200_once_the_operator_answers() {
    let call = &call_answered_by_a_desk_phone("early_caller.xml");
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["operator"], "op1", "{call}");
    // The caller's 200 OK went out when the operator connected, not at arrival.
    assert_eq!(call["answered_at"], call["connected_at"], "{call}");
    assert_ne!(call["answered_at"], call["arrived_at"], "{call}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_hears_audio_before_any_200_and_is_answered_by_the_operator() {
    let center = Center::with_operators(&["op1"]);
    let engine = early_engine(&center);
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let (status, body) = set_state(&engine, "op1", r#"{"state":"paused","reason":"break"}"#);
    assert_eq!(status, 200, "{body}");
    wait_for_state(&engine, "op1", "paused");
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);

    let mut caller = Phone::new(engine.sip).await;
    // No operator to take the call: no final response within 4 s, but audio.
    let early = tokio::time::timeout(Duration::from_secs(4), caller.call("0120000000")).await;
    let status = early.ok().and_then(|m| m.status());
    assert_eq!(status, None, "a final response came before any operator");
    let samples = caller.heard_samples(0);
    assert!(
        samples.len() > 8000,
        "only {} samples heard in early media\n{}",
        samples.len(),
        engine.log()
    );
    assert!(
        samples.iter().any(|s| s.unsigned_abs() > 1000),
        "early media is silent"
    );

    let (status, body) = set_state(&engine, "op1", r#"{"state":"available"}"#);
    assert_eq!(status, 200, "{body}");
    let answer = caller.final_response().await;
    assert_eq!(answer.status(), Some(200));
    wait_for_state(&engine, "op1", "on_call");
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        desk_phone.output()
    );

    let record = engine.record_of(&caller.call_id);
    assert_eq!(record["disposition"], "answered", "{record}");
    assert_eq!(record["answered_at"], record["connected_at"], "{record}");
}

/// Milliseconds of a record field.
fn ms(record: &Value, field: &str) -> i64 {
    record[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {record}"))
}

/// `to - from` in ms, from two RFC 3339 fields of a record.
fn between(record: &Value, from: &str, to: &str) -> i64 {
    let at = |field: &str| {
        record[field]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .unwrap_or_else(|| panic!("{field} in {record}"))
    };
    (at(to) - at(from)).num_milliseconds()
}

#[test]
fn a_caller_requiring_100rel_acknowledges_the_183_and_gets_its_200_once_the_operator_answers() {
    let call = &call_answered_by_a_desk_phone("early_caller_100rel.xml");
    assert_eq!(call["disposition"], "answered", "{call}");
    assert_eq!(call["answer_mode"], "operator", "{call}");
    assert_eq!(call["answered_by"], "operator", "{call}");
    assert_eq!(call["answered_at"], call["connected_at"], "{call}");
    // The greeting plays in early media before the desk phone is rung at all.
    assert!(ms(call, "unanswered_ms") >= 1000, "{call}");
    // The instants are stored to the millisecond, the duration from the exact ones.
    let from_instants = between(call, "arrived_at", "answered_at");
    assert!(
        (ms(call, "unanswered_ms") - from_instants).abs() <= 1,
        "{call}"
    );
    assert!(ms(call, "answered_ms") >= 1000, "a second of talk: {call}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_operator_the_200_comes_at_the_early_limit() {
    let center = Center::with_operators(&[]);
    let engine = center.start_with(&repo_root().join("tests/dialplans/early_limit.toml"), &[]);

    let mut caller = Phone::new(engine.sip).await;
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), caller.call("0120000000"))
        .await
        .unwrap_or_else(|_| panic!("no answer within 10 s\n{}", engine.log()));
    let waited = started.elapsed();
    assert_eq!(answer.status(), Some(200));
    assert!(
        (Duration::from_secs(3)..=Duration::from_secs(5)).contains(&waited),
        "the 200 came after {waited:?}, not at the 4 s limit"
    );
    tokio::time::sleep(Duration::from_secs(1)).await; // answered time, in the queue
    assert_eq!(caller.hangup().await.status(), Some(200));

    let record = engine.record_of(&caller.call_id);
    assert_eq!(record["answered_by"], "early_limit", "{record}");
    assert_eq!(record["answer_mode"], "operator", "{record}");
    let unanswered = ms(&record, "unanswered_ms");
    assert!((4000..5000).contains(&unanswered), "{record}");
    assert!(ms(&record, "answered_ms") >= 1000, "{record}");
}

#[test]
fn at_the_early_limit_a_callback_step_answers_says_so_and_hangs_up() {
    let center = Center::with_operators(&[]);
    let engine = center.start_with(
        &repo_root().join("tests/dialplans/early_callback.toml"),
        &[],
    );

    let (code, output) = sipp("early_caller_callback.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}\n{}", engine.log());

    let calls = engine.wait_for_calls(1);
    let call = &calls["calls"][0];
    assert_eq!(call["disposition"], "callback_requested", "{call}");
    assert_eq!(call["hangup_side"], "engine", "{call}");
    assert_eq!(call["answered_by"], "early_limit", "{call}");
    assert!(ms(call, "unanswered_ms") >= 4000, "{call}");
    // The engine hung up once the prompt (about 12 s) had played.
    assert!(ms(call, "answered_ms") >= 10_000, "{call}");

    // The manager finds it: the board's counter, and the call list filtered from its link.
    let today = todays_callbacks(&engine, 1);
    let since = today["since"].as_str().expect("the day's start");
    let (status, body) = engine.get(&format!(
        "/api/v1/calls?disposition=callback_requested&from={since}"
    ));
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("calls json");
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["calls"][0]["id"], call["id"], "{listed}");
    let (status, body) = engine.get("/api/v1/calls?disposition=abandoned");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""total":0"#), "{body}");
    let (status, body) = engine.get("/api/v1/calls?disposition=called_back_already");
    assert_eq!(status, 400, "{body}");
}

/// `today` of GET /api/v1/queues once it counts `count` callback requests (the live state is
/// published a moment after the record is made); fails after 10 s.
fn todays_callbacks(engine: &EngineProcess, count: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let today = live(engine)["today"].clone();
        if today["callbacks"].as_u64() == Some(count) {
            return today;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected {count} callback requests today: {today}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn with_prack_supported_a_caller_merely_supporting_100rel_gets_a_reliable_183() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start_with(
        &repo_root().join("tests/dialplans/early.toml"),
        &["--prack".to_owned(), "supported".to_owned()],
    );
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);

    let (code, output) = sipp("early_caller_supports_100rel.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}\n{}", engine.log());
    assert_eq!(
        desk_phone.wait(Duration::from_secs(10)),
        Some(0),
        "{}",
        desk_phone.output()
    );
    let calls = engine.wait_for_calls(1);
    assert_eq!(calls["calls"][0]["answered_by"], "operator", "{calls}");
}
