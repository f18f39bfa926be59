//! End to end: the real binary answers calls from a test phone and from sipp over loopback.
//! The wall clock is set with libfaketime (the monotonic clock stays real), so each test puts
//! its calls at a chosen instant in Asia/Tokyo.

mod support;

use std::path::Path;
use std::time::Duration;

use madoguchi_media::Codec;
use madoguchi_prompts::PromptCache;
use support::phone::{Phone, Rtp};
use support::{sipp, EngineProcess, Options};

/// Wednesday 2026-11-25 10:00 JST: the hotline is open.
const OPEN_WEDNESDAY: &str = "2026-11-25 01:00:00";
/// Wednesday 2026-12-30 10:00 JST: the year-end closure.
const DECEMBER_30: &str = "2026-12-30 01:00:00";
/// Wednesday 2026-11-25 20:00:30 JST: after hours.
const AFTER_HOURS: &str = "2026-11-25 11:00:30";

fn at(instant: &str) -> Options {
    Options {
        faketime_utc: Some(instant.to_owned()),
        ..Options::default()
    }
}

/// The PCMU frames of a bundled prompt, as the engine must send them.
fn prompt_frames(file: &str) -> Vec<Vec<u8>> {
    let path = support::repo_root().join("sounds/ja").join(file);
    let cache = PromptCache::load([("p", Path::new(&path))]).expect("prompt loads");
    let prompt = cache.get(cache.id("p").expect("id"));
    (0..prompt.frames())
        .map(|i| prompt.frame(Codec::Pcmu, i).expect("frame").to_vec())
        .collect()
}

/// Asserts that `heard` starts with exactly `frames`, as one RTP stream with consecutive
/// sequence numbers and 160-sample timestamp steps.
fn assert_heard_in_full(heard: &[Rtp], frames: &[Vec<u8>], what: &str) {
    assert!(
        heard.len() >= frames.len(),
        "{what}: heard {} of {} frames",
        heard.len(),
        frames.len()
    );
    for (i, (packet, frame)) in heard.iter().zip(frames).enumerate() {
        assert_eq!(packet.payload_type, 0, "{what}: frame {i} is PCMU");
        assert_eq!(
            &packet.payload, frame,
            "{what}: frame {i} differs from the prompt"
        );
        if i > 0 {
            let previous = &heard[i - 1];
            assert_eq!(packet.ssrc, previous.ssrc, "{what}: one SSRC");
            assert_eq!(
                packet.seq,
                previous.seq.wrapping_add(1),
                "{what}: consecutive sequence at {i}"
            );
            assert_eq!(
                packet.timestamp,
                previous.timestamp.wrapping_add(160),
                "{what}: 20 ms timestamps at {i}"
            );
        }
    }
    assert!(
        heard[0].marker,
        "{what}: the first packet of a talkspurt carries the marker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_in_hours_is_answered_and_hears_the_whole_greeting() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let greeting = prompt_frames("greeting.wav");
    let mut phone = Phone::new(engine.sip).await;

    let answer = phone.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "{}", engine.log());
    assert!(answer.to_tag().is_some(), "200 OK carries a To-tag");
    assert_eq!(
        answer.sdp_media().map(|a| a.ip().to_string()),
        Some("127.0.0.1".to_owned())
    );
    phone.listen(greeting.len(), Duration::from_secs(30)).await;
    assert_heard_in_full(&phone.heard, &greeting, "greeting");

    assert_eq!(phone.hangup().await.status(), Some(200));
    let calls = engine.wait_for_calls(1);
    let record = &calls["calls"][0];
    assert_eq!(record["branch"], "open");
    assert_eq!(record["disposition"], "caller_hangup");
    assert_eq!(record["hangup_side"], "caller");
    assert_eq!(record["sip_call_id"], phone.call_id.as_str());
    assert!(record["answered_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_on_december_30_hears_the_closure_and_the_engine_hangs_up() {
    let engine = EngineProcess::start(at(DECEMBER_30));
    let closure = prompt_frames("closed_year_end.wav");
    let mut phone = Phone::new(engine.sip).await;

    assert_eq!(phone.call("0120000000").await.status(), Some(200));
    let bye = phone.until_bye(Duration::from_secs(60)).await;
    assert!(bye.header("CSeq").is_some_and(|c| c.ends_with("BYE")));
    assert_heard_in_full(&phone.heard, &closure, "year-end closure");

    let calls = engine.wait_for_calls(1);
    let record = &calls["calls"][0];
    assert_eq!(record["branch"], "closed_year_end");
    assert_eq!(record["disposition"], "closed_year_end");
    assert_eq!(record["hangup_side"], "engine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_after_hours_hears_the_hours_announcement() {
    let engine = EngineProcess::start(at(AFTER_HOURS));
    let hours = prompt_frames("outside_hours.wav");
    let mut phone = Phone::new(engine.sip).await;

    assert_eq!(phone.call("0120000000").await.status(), Some(200));
    phone.until_bye(Duration::from_secs(60)).await;
    assert_heard_in_full(&phone.heard, &hours, "outside hours");
    let calls = engine.wait_for_calls(1);
    assert_eq!(calls["calls"][0]["disposition"], "closed_hours");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_simultaneous_calls_all_hear_the_greeting() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let greeting = std::sync::Arc::new(prompt_frames("greeting.wav"));
    let mut calls = Vec::new();
    for _ in 0..100 {
        let greeting = greeting.clone();
        let sip = engine.sip;
        calls.push(tokio::spawn(async move {
            let mut phone = Phone::new(sip).await;
            assert_eq!(phone.call("0120000000").await.status(), Some(200));
            phone.listen(greeting.len(), Duration::from_secs(60)).await;
            assert_heard_in_full(&phone.heard, &greeting, "greeting");
            assert_eq!(phone.hangup().await.status(), Some(200));
        }));
    }
    for call in calls {
        call.await.expect("every call heard its greeting");
    }
    let records = engine.wait_for_calls(100);
    assert_eq!(records["total"], 100);
}

#[test]
fn cancel_before_answer_gets_487_and_200_for_the_cancel() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let (code, output) = sipp("cancel.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "sipp failed:\n{output}\n{}", engine.log());
    let calls = engine.wait_for_calls(1);
    assert_eq!(calls["calls"][0]["disposition"], "cancelled");
}

#[test]
fn a_caller_requiring_100rel_gets_a_reliable_180_and_is_answered_after_its_prack() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let (code, output) = sipp("caller_100rel.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "sipp failed:\n{output}\n{}", engine.log());
    let calls = engine.wait_for_calls(1);
    assert_eq!(calls["calls"][0]["hangup_side"], "caller", "{calls}");
    assert!(
        !calls["calls"][0]["answered_at"].is_null(),
        "the call was answered: {calls}"
    );
}

#[test]
fn malformed_invite_gets_400_and_the_next_call_is_still_served() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let (code, output) = sipp("malformed_then_call.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "sipp failed:\n{output}\n{}", engine.log());
    let (_, metrics) = engine.get("/metrics");
    assert!(
        metrics.contains("madoguchi_sip_parse_errors_total 1"),
        "{metrics}"
    );
}

#[test]
fn options_over_tcp_gets_200_with_allow() {
    let engine = EngineProcess::start(Options::default());
    let (code, output) = sipp("options.xml", engine.sip, &["-m", "1", "-t", "t1"]);
    assert_eq!(code, 0, "sipp over TCP failed:\n{output}\n{}", engine.log());
}

#[tokio::test]
async fn sigterm_exits_zero_after_flushing_records() {
    let mut engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let (code, output) = sipp("cancel.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(engine.terminate(), Some(0), "{}", engine.log());

    let url = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    let store = madoguchi_store::Store::connect(&url)
        .await
        .expect("the database is there");
    let calls = store
        .list_calls(&madoguchi_store::CallQuery::default())
        .await
        .expect("list");
    assert_eq!(calls.total, 1, "the call's record was written before exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_choice_over_rtp_is_taken_once_and_recorded() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let before_menu =
        prompt_frames("greeting.wav").len() + prompt_frames("recording_notice.wav").len();
    let mut phone = Phone::new(engine.sip).await;
    let answer = phone.call("0120000000").await;
    let engine_rtp = answer.sdp_media().expect("the answer has media");
    // Into the menu prompt, then press 1: start, interim and three end packets of one event.
    phone
        .listen(before_menu + 25, Duration::from_secs(30))
        .await;
    phone.send_dtmf(engine_rtp, b'1', 1000, 160_000).await;
    phone.until_bye(Duration::from_secs(60)).await;

    let calls = engine.wait_for_calls(1);
    let record = &calls["calls"][0];
    assert_eq!(record["dtmf"], serde_json::json!(["1"]), "{record}");
    // Choice 1 queues the caller; with nobody logged in the queue overflows to the city line.
    assert_eq!(record["disposition"], "overflowed", "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_with_a_broken_cseq_gets_400_naming_the_fault() {
    let engine = EngineProcess::start(Options::default());
    let mut phone = Phone::new(engine.sip).await;
    let text = phone
        .request("OPTIONS", None, None)
        .replace("CSeq: 1 OPTIONS", "CSeq: abc OPTIONS");
    phone.send(&text).await;
    let response = phone.recv(Duration::from_secs(5)).await;
    assert_eq!(response.status(), Some(400));
    assert!(
        response.start_line.contains("CSeq"),
        "{}",
        response.start_line
    );
}

#[test]
fn call_api_pages_filters_and_refuses_bad_parameters() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    for _ in 0..3 {
        let (code, output) = sipp("cancel.xml", engine.sip, &["-m", "1"]);
        assert_eq!(code, 0, "{output}");
    }
    engine.wait_for_calls(3);
    let (status, body) = engine.get("/api/v1/calls?per_page=2&page=2");
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["total"], 3);
    assert_eq!(page["calls"].as_array().map(Vec::len), Some(1));

    let (status, body) = engine.get("/api/v1/calls?from=2026-11-26T00:00:00Z");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).expect("json")["total"],
        0
    );

    let (status, body) = engine.get("/api/v1/calls?per_page=0");
    assert_eq!(status, 400, "{body}");
    let (status, _) = engine.get("/api/v1/calls?from=yesterday");
    assert_eq!(status, 400);
    let (status, _) = engine.get("/api/v1/calls/no-such-call");
    assert_eq!(status, 404);
}

#[test]
fn metrics_and_openapi_describe_the_engine() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let (code, output) = sipp("cancel.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}");
    engine.wait_for_calls(1);
    assert_eq!(engine.get("/healthz"), (200, "ok\n".to_owned()));
    // The SIP counters are exported once a second; wait for the INVITE to show.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let (_, metrics) = engine.get("/metrics");
        if metrics.contains("method=\"INVITE\"") || std::time::Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        metrics.contains("madoguchi_calls_total{disposition=\"cancelled\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("madoguchi_sip_messages_total{direction=\"in\",method=\"INVITE\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("status=\"487\""), "{metrics}");
    assert!(metrics.contains("madoguchi_active_calls"), "{metrics}");
    let (status, openapi) = engine.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(openapi.contains("/api/v1/calls"), "{openapi}");
}

#[test]
fn call_over_tcp_is_answered_and_hung_up() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let (code, output) = sipp(
        "bench_call.xml",
        engine.sip,
        &["-m", "1", "-t", "t1", "-d", "1000"],
    );
    assert_eq!(code, 0, "sipp over TCP failed:\n{output}\n{}", engine.log());
    let calls = engine.wait_for_calls(1);
    assert_eq!(calls["calls"][0]["disposition"], "caller_hangup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_reinvite_silences_the_announcement_and_resume_brings_it_back() {
    let engine = EngineProcess::start(at(OPEN_WEDNESDAY));
    let mut phone = Phone::new(engine.sip).await;
    assert_eq!(phone.call("0120000000").await.status(), Some(200));
    phone.listen(10, Duration::from_secs(10)).await;

    let hold = phone.offer().replace("a=sendrecv", "a=sendonly");
    let reinvite = phone.request("INVITE", Some(&hold), None);
    phone.send(&reinvite).await;
    let ok = phone.final_response().await;
    assert_eq!(ok.status(), Some(200));
    assert!(
        String::from_utf8_lossy(&ok.body).contains("a=recvonly"),
        "hold is answered recvonly"
    );
    // Packets already in flight may still arrive; then the stream must stay silent.
    phone.listen(usize::MAX, Duration::from_millis(100)).await;
    let on_hold = phone.heard.len();
    phone.listen(usize::MAX, Duration::from_millis(500)).await;
    assert_eq!(phone.heard.len(), on_hold, "no audio while on hold");

    let resume = phone.offer();
    let reinvite = phone.request("INVITE", Some(&resume), None);
    phone.send(&reinvite).await;
    assert_eq!(phone.final_response().await.status(), Some(200));
    phone.listen(on_hold + 10, Duration::from_secs(5)).await;
    assert!(
        phone.heard.len() >= on_hold + 10,
        "audio resumes after unhold"
    );
    assert!(
        phone.heard[on_hold].marker,
        "the resumed talkspurt is marked"
    );
    assert_eq!(phone.hangup().await.status(), Some(200));
}

/// The same binary on PostgreSQL (`DATABASE_URL=postgres://…`), in a schema of its own.
#[test]
fn records_land_in_postgresql_when_the_database_url_says_so() {
    let base = std::env::var("MADOGUCHI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("e2e_{}_{}", std::process::id(), support::free_udp_port());
    let psql = |sql: &str| {
        let status = std::process::Command::new("psql")
            .args([base.as_str(), "-q", "-c", sql])
            .status()
            .expect("psql runs");
        assert!(status.success(), "psql {sql}");
    };
    psql(&format!("CREATE SCHEMA {schema}"));
    let url = format!("{base}?options=-csearch_path%3D{schema}");
    let engine = EngineProcess::start(Options {
        database_url: Some(url),
        ..at(OPEN_WEDNESDAY)
    });
    let (code, output) = sipp("cancel.xml", engine.sip, &["-m", "1"]);
    let calls = engine.wait_for_calls(1);
    drop(engine);
    psql(&format!("DROP SCHEMA {schema} CASCADE"));
    assert_eq!(code, 0, "{output}");
    assert_eq!(calls["calls"][0]["disposition"], "cancelled");
}
