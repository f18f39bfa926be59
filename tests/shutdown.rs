//! End to end: SIGTERM drains. The real binary runs tests/dialplans/waiting.toml (the caller
//! hears the greeting, then hold music in a queue nobody serves, so a call stays up); after
//! SIGTERM a call in progress keeps its audio, new calls get 503 with Retry-After, the HTTP
//! API keeps answering, and the process exits 0 once the last call ends — or, when the drain
//! limit comes first, after ending the calls left and recording them as interrupted.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::phone::Phone;
use support::{EngineProcess, Options};

fn engine(drain_limit_seconds: u64) -> EngineProcess {
    EngineProcess::start(Options {
        dialplan: Some(support::repo_root().join("tests/dialplans/waiting.toml")),
        extra_args: vec![
            "--drain-limit-seconds".to_owned(),
            drain_limit_seconds.to_string(),
        ],
        ..Options::default()
    })
}

/// SIGTERM without waiting for the exit; returns once the engine says it is draining.
fn sigterm(engine: &EngineProcess) {
    let status = Command::new("kill")
        .args(["-TERM", &engine.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !engine.log().contains("refusing new calls, draining") {
        assert!(
            Instant::now() < deadline,
            "no drain after SIGTERM:\n{}",
            engine.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A caller that is answered and hears audio.
async fn caller_in_progress(engine: &EngineProcess) -> Phone {
    let mut phone = Phone::new(engine.sip).await;
    let answer = phone.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "{}", engine.log());
    phone.listen(10, Duration::from_secs(5)).await;
    assert!(phone.heard.len() >= 10, "the caller hears the greeting");
    phone
}

/// Packets heard in the next second (50 are sent).
async fn packets_in_a_second(phone: &mut Phone) -> usize {
    phone.forget_heard().await;
    phone.listen(usize::MAX, Duration::from_secs(1)).await;
    phone.heard.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigterm_a_call_in_progress_keeps_its_audio_and_a_new_call_gets_503_with_retry_after()
{
    let mut engine = engine(30);
    let mut first = caller_in_progress(&engine).await;
    sigterm(&engine);

    let heard = packets_in_a_second(&mut first).await;
    assert!(heard >= 40, "audio goes on after SIGTERM: {heard} packets");
    let mut second = Phone::new(engine.sip).await;
    let refused = second.call("0120000000").await;
    assert_eq!(refused.status(), Some(503), "{}", engine.log());
    let retry_after = refused.header("Retry-After").unwrap_or_default();
    assert!(
        retry_after.trim().parse::<u32>().is_ok_and(|s| s > 0),
        "Retry-After: {retry_after:?}"
    );
    assert_eq!(engine.get("/healthz").0, 200, "HTTP keeps serving");
    let heard = packets_in_a_second(&mut first).await;
    assert!(heard >= 40, "and still goes on: {heard} packets");

    assert_eq!(first.hangup().await.status(), Some(200));
    engine.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_last_call_hangs_up_the_engine_exits_0_promptly_with_its_record_written() {
    let mut engine = engine(30);
    let mut caller = caller_in_progress(&engine).await;
    sigterm(&engine);

    assert_eq!(caller.hangup().await.status(), Some(200));
    let hung_up = Instant::now();
    assert_eq!(engine.terminate(), Some(0), "{}", engine.log());
    let took = hung_up.elapsed();
    assert!(took < Duration::from_secs(5), "exit took {took:?}");

    let records = records(&engine).await;
    assert_eq!(records.len(), 1);
    assert_ne!(
        records[0].disposition.as_str(),
        "interrupted",
        "the caller ended it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_drain_limit_a_call_still_up_is_ended_recorded_interrupted_and_the_engine_exits_0() {
    let mut engine = engine(1);
    let mut caller = caller_in_progress(&engine).await;
    let started = Instant::now();
    sigterm(&engine);

    let bye = caller.until_bye(Duration::from_secs(10)).await;
    assert_eq!(bye.method(), Some("BYE"));
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "the BYE came {after:?} after SIGTERM with a 1 s limit"
    );
    assert_eq!(engine.terminate(), Some(0), "{}", engine.log());

    let records = records(&engine).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].disposition.as_str(), "interrupted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_draining_options_gets_503_so_trunks_send_calls_elsewhere() {
    let mut engine = engine(30);
    let _caller = caller_in_progress(&engine).await;
    let mut probe = Phone::new(engine.sip).await;
    let options = probe.request("OPTIONS", None, None);
    probe.send(&options).await;
    assert_eq!(probe.recv(Duration::from_secs(5)).await.status(), Some(200));

    sigterm(&engine);
    let options = probe.request("OPTIONS", None, None);
    probe.send(&options).await;
    let answer = probe.recv(Duration::from_secs(5)).await;
    assert_eq!(answer.status(), Some(503), "{}", engine.log());
    assert!(answer.header("Retry-After").is_some());
    engine.kill();
}

/// Every call record in the engine's database (after it exited).
async fn records(engine: &EngineProcess) -> Vec<madoguchi_store::CallRecord> {
    let url = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    let store = madoguchi_store::Store::connect(&url)
        .await
        .expect("the database is there");
    store
        .list_calls(&madoguchi_store::CallQuery::default())
        .await
        .expect("list")
        .items
}
