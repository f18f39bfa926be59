//! End to end: free waiting (`answer = "operator"`, tests/dialplans/early.toml) with the real
//! binary. The caller gets a 183 with SDP and hears the greeting and the music over RTP
//! before any 200 OK; its 200 OK comes only once an operator (a sipp phone) answers.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::center::{register, set_state, wait_for_state, Center, SippProcess};
use support::phone::Phone;
use support::{repo_root, sipp, EngineProcess};

fn early_engine(center: &Center) -> EngineProcess {
    center.start_with(&repo_root().join("tests/dialplans/early.toml"), &[])
}

/// The record of the call whose inbound SIP Call-ID is `sip_call_id`.
fn record(engine: &EngineProcess, sip_call_id: &str) -> Value {
    let calls = engine.wait_for_calls(1);
    calls["calls"]
        .as_array()
        .and_then(|calls| calls.iter().find(|c| c["sip_call_id"] == sip_call_id))
        .cloned()
        .unwrap_or_else(|| panic!("no record of {sip_call_id}: {calls}"))
}

#[test]
fn a_sipp_caller_gets_183_with_sdp_then_200_once_the_operator_answers() {
    let center = Center::with_operators(&["op1"]);
    let engine = early_engine(&center);
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);

    let (code, output) = sipp("early_caller.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}\n{}", engine.log());
    assert_eq!(
        desk_phone.wait(Duration::from_secs(10)),
        Some(0),
        "{}",
        desk_phone.output()
    );

    let calls = engine.wait_for_calls(1);
    let call = &calls["calls"][0];
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

    let record = record(&engine, &caller.call_id);
    assert_eq!(record["disposition"], "answered", "{record}");
    assert_eq!(record["answered_at"], record["connected_at"], "{record}");
}
