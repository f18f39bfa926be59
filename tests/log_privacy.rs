//! Caller numbers never reach the log: a call through the real binary with every target at
//! TRACE (the most the engine and its libraries can write) leaves no trace of the caller's
//! number in the engine's stderr, while the call record holds it.

mod support;

use std::time::Duration;

use support::phone::Phone;
use support::{EngineProcess, Options};

/// The number the test phone calls from (its From header).
const CALLER: &str = "0467001234";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_logged_at_trace_leaves_no_caller_number_in_the_log() {
    let engine = EngineProcess::start(Options {
        // Wednesday 2026-11-25 10:00 JST: open, so the call is greeted and queued.
        faketime_utc: Some("2026-11-25 01:00:00".to_owned()),
        rust_log: Some("trace".to_owned()),
        ..Options::default()
    });
    let mut phone = Phone::new(engine.sip).await;

    assert_eq!(phone.call("0120000000").await.status(), Some(200));
    phone.listen(50, Duration::from_secs(10)).await;
    phone.hangup().await;
    let calls = engine.wait_for_calls(1);

    assert_eq!(
        calls["calls"][0]["caller"], CALLER,
        "the record holds the number"
    );
    let log = engine.log();
    assert!(log.lines().count() > 100, "TRACE logging was on:\n{log}");
    let digits = &CALLER[1..]; // also without the trunk prefix
    let leaked: Vec<&str> = log.lines().filter(|l| l.contains(digits)).collect();
    assert!(
        leaked.is_empty(),
        "caller number in the log:\n{}",
        leaked.join("\n")
    );
}
