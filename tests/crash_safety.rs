//! End to end: the engine is killed with SIGKILL while 100 callers wait in the queue, then
//! restarted on the same SQLite file. Every finished call's record is there as it was
//! written; every call in progress is closed as interrupted between its arrival and the
//! kill; the operator's phone and paused state come back.

mod support;

use std::time::Duration;

use chrono::Utc;
use madoguchi_store::{CallQuery, CallRecord, Disposition, HangupSide, Store, NODE_LOST_CAUSE};
use support::center::{
    register, set_state, wait_for_operator, wait_for_state, Center, SippProcess,
};
use support::{eventually, free_udp_port, repo_root, sipp};

/// Calls that finish (the caller hangs up after 300 ms) before the crash.
const FINISHED: usize = 20;
/// Calls waiting in the queue when the engine is killed.
const IN_FLIGHT: usize = 100;

async fn all_calls(store: &Store) -> Vec<CallRecord> {
    let query = CallQuery {
        limit: 500,
        with_events: true,
        ..CallQuery::default()
    };
    let page = store.list_calls(&query).await.expect("calls listed");
    assert!(page.next.is_none(), "one page holds them all");
    page.items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_finished_calls_are_intact_and_calls_in_progress_are_closed_as_interrupted() {
    let center = Center::with_operators(&["op1"]);
    let waiting = repo_root().join("tests/dialplans/waiting.toml");
    let mut engine = center.start_with(&waiting, &[]);
    let store = Store::connect(&center.database_url)
        .await
        .expect("side store on the engine's SQLite file");

    // An operator with a registered phone, paused: nobody answers, so callers wait.
    register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let (status, body) = set_state(&engine, "op1", r#"{"state":"paused","reason":"lunch"}"#);
    assert_eq!(status, 200, "{body}");
    wait_for_state(&engine, "op1", "paused");

    // Calls that end before the crash: each caller waits 300 ms, then hangs up.
    let (code, output) = sipp(
        "bench_call.xml",
        engine.sip,
        &[
            "-d",
            "300",
            "-m",
            &FINISHED.to_string(),
            "-r",
            "20",
            "-l",
            "100",
        ],
    );
    assert_eq!(code, 0, "every finished call succeeded:\n{output}");

    // 100 callers who would wait ten minutes.
    let callers = SippProcess::spawn(
        "bench_call.xml",
        Some(engine.sip),
        free_udp_port(),
        tempfile::tempdir().expect("temp dir"),
        &[
            "-d",
            "600000",
            "-m",
            &IN_FLIGHT.to_string(),
            "-r",
            "50",
            "-l",
            &IN_FLIGHT.to_string(),
        ],
    );
    // Journaled means the record writer, which writes in order, also stored every record
    // before them: what the crash must not lose is on disk.
    eventually(
        "100 calls journaled as open",
        Duration::from_secs(30),
        async || store.open_calls("node1").await.expect("journal").len() == IN_FLIGHT,
    )
    .await;
    assert_eq!(all_calls(&store).await.len(), FINISHED);
    let before: Vec<CallRecord> = all_calls(&store).await;

    engine.kill();
    let killed_at = Utc::now();
    drop(callers);

    let engine = center.start_with(&waiting, &[]);
    let after = all_calls(&store).await;
    assert_eq!(after.len(), FINISHED + IN_FLIGHT, "one record per call");
    for record in &before {
        let again = after
            .iter()
            .find(|r| r.id == record.id)
            .expect("a finished call's record survives");
        assert_eq!(again, record, "record {} is intact", record.id);
        assert_eq!(record.hangup_side, Some(HangupSide::Caller), "{record:?}");
    }
    let interrupted: Vec<&CallRecord> = after
        .iter()
        .filter(|r| r.disposition == Disposition::Interrupted)
        .collect();
    assert_eq!(interrupted.len(), IN_FLIGHT);
    for call in interrupted {
        assert_eq!(call.hangup_cause.as_deref(), Some(NODE_LOST_CAUSE));
        assert_eq!(call.hangup_side, Some(HangupSide::Engine));
        assert!(call.arrived_at <= call.ended_at, "{call:?}");
        assert!(
            call.ended_at <= killed_at,
            "ended at the last heartbeat, not at the restart: {call:?}"
        );
        assert!(call.caller.starts_with("0467"), "{call:?}");
    }
    assert!(store.open_calls("node1").await.expect("journal").is_empty());
    if let Some(last) = after.iter().map(|r| r.ended_at).max() {
        eprintln!(
            "{IN_FLIGHT} calls closed as interrupted; recorded end {} ms before the kill",
            (killed_at - last).num_milliseconds()
        );
    }

    // The phone's registration and the operator's pause came back.
    let op = wait_for_operator(&engine, "op1", "paused with its phone", |op| {
        op["state"] == "paused" && op["phones"] == 1
    });
    assert_eq!(op["reason"], "lunch", "{op}");
}
