//! End to end: queue and seats against real peers over loopback. Operators are sipp phones
//! that REGISTER with digest and then answer (or ring, or transfer) on the same port, callers
//! are sipp or the test phone, the city line is a sipp UAS. The dialplan is
//! tests/dialplans/queue.toml: always open, queue `desk` (ring timeout 4 s, wrap-up 1 s,
//! auto-pause after 2 ring-outs, no joining an empty queue: overflow to `city_line`).
//!
//! Audio is checked by frequency: the caller sends a tone, the far end echoes it or plays
//! another, and a Goertzel filter on what the caller hears says which one came back.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use support::center::{
    operator, password, register, register_with, set_state, wait_for_operator, wait_for_state,
    Center, SippProcess,
};
use support::phone::{hear, Phone, HEARD};
use support::tone::{self, CALLER_HZ, FAR_END_HZ};
use support::{free_udp_port, pcap, sipp, sipp_on, EngineProcess};

fn city_line(port: u16) -> Vec<String> {
    vec![
        "--city-line".to_owned(),
        format!("sip:city@127.0.0.1:{port}"),
    ]
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

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("not an instant: {value}"))
}

#[test]
fn a_wrong_digest_password_gets_401_again_and_no_registration() {
    let center = Center::with_operators(&["op1", "op2"]);
    let engine = center.start(&[]);
    let (code, output) = register_with(
        &engine,
        "register_wrong_password.xml",
        "op1",
        "not-the-password",
        free_udp_port(),
    );
    assert_eq!(code, 0, "the answered challenge gets 401 again:\n{output}");

    // op2 registering afterwards orders the snapshots: once it shows op2, it shows what
    // op1's attempt did.
    register(&engine, "op2");
    wait_for_state(&engine, "op2", "available");
    let op1 = operator(&engine, "op1");
    assert_eq!(op1["state"], "logged_out", "{op1}");
    assert_eq!(op1["phones"], 0, "{op1}");
}

#[test]
fn a_registered_operator_is_available_and_unregister_logs_out() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    let port = register(&engine, "op1");
    wait_for_operator(&engine, "op1", "available with one phone", |op| {
        op["state"] == "available" && op["phones"] == 1
    });

    let (code, output) = register_with(&engine, "unregister.xml", "op1", &password("op1"), port);
    assert_eq!(code, 0, "Expires: 0 is accepted:\n{output}");
    wait_for_operator(&engine, "op1", "logged out without phones", |op| {
        op["state"] == "logged_out" && op["phones"] == 0
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_survive_a_restart() {
    let center = Center::with_operators(&["op1"]);
    let mut engine = center.start(&[]);
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    assert_eq!(engine.terminate(), Some(0), "{}", engine.log());
    drop(engine);

    let engine = center.start(&[]);
    wait_for_operator(&engine, "op1", "available with one phone", |op| {
        op["state"] == "available" && op["phones"] == 1
    });
    // The restored binding still knows where the phone is: a call rings it.
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);
    let mut caller = Phone::new(engine.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));
    wait_for_state(&engine, "op1", "on_call");
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        desk_phone.output()
    );
}

#[test]
fn callers_reach_operators_in_fifo_order_with_three_operators_and_ten_callers() {
    let center = Center::with_operators(&["op1", "op2", "op3"]);
    let engine = center.start(&[]);
    // Different talk times keep two operators from freeing up in the same instant, when
    // two offers would race and FIFO could not be told from network jitter.
    let talk = [("op1", "1500"), ("op2", "2500"), ("op3", "3500")];
    let _desk_phones: Vec<SippProcess> = talk
        .iter()
        .map(|(login, ms)| {
            let port = register(&engine, login);
            SippProcess::phone("operator_hangs_up.xml", port, &["-d", ms])
        })
        .collect();
    for (login, _) in talk {
        wait_for_state(&engine, login, "available");
    }

    // Ten callers, one every 300 ms; each stays until the engine hangs up on it.
    let started = Instant::now();
    let (code, output) = sipp(
        "caller_waits.xml",
        engine.sip,
        &["-m", "10", "-r", "1", "-rp", "300", "-l", "10"],
    );
    assert_eq!(
        code,
        0,
        "every caller was served:\n{output}\n{}",
        engine.log()
    );
    assert!(started.elapsed() < Duration::from_secs(45));

    let records = engine.wait_for_calls(10);
    let mut calls: Vec<Value> = records["calls"].as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 10);
    for call in &calls {
        assert_eq!(call["disposition"], "answered", "{call}");
        assert_eq!(call["queue"], "desk", "{call}");
        assert!(call["connected_at"].is_string(), "{call}");
    }
    calls.sort_by_key(|c| instant(&c["arrived_at"]));
    // sipp's Call-IDs start with its call number: the order it placed them.
    let placed: Vec<u32> = calls
        .iter()
        .filter_map(|c| c["sip_call_id"].as_str()?.split('-').next()?.parse().ok())
        .collect();
    assert_eq!(placed, (1..=10).collect::<Vec<u32>>(), "arrival order");
    let arrival: Vec<&str> = calls.iter().filter_map(|c| c["id"].as_str()).collect();
    let mut by_connection = calls.clone();
    by_connection.sort_by_key(|c| instant(&c["connected_at"]));
    let connection: Vec<&str> = by_connection
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(connection, arrival, "connected in arrival order");
    for (login, _) in talk {
        assert!(
            calls.iter().any(|c| c["operator"] == login),
            "{login} took calls"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_flows_both_ways_through_the_bridge() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    let port = register(&engine, "op1");
    // The operator's phone sends back what it hears: the caller hearing its own tone proves
    // caller → operator and operator → caller.
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1", "-rtp_echo"]);
    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    let _talking = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    wait_for_state(&engine, "op1", "on_call");

    let (heard, _) = hear(&mut caller, CALLER_HZ, FAR_END_HZ).await;
    assert!(
        heard > HEARD,
        "the caller's {CALLER_HZ} Hz came back only {heard:.1}x over other tones\n{}",
        engine.log()
    );
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "the operator's leg ended with the caller's:\n{}",
        desk_phone.output()
    );
}

/// sipp plays a pcap through a raw socket: this test needs root or CAP_NET_RAW.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tone_the_operator_plays_is_heard_by_the_caller_at_its_frequency() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    let port = register(&engine, "op1");
    let dir = tempfile::tempdir().expect("temp dir");
    let frames: Vec<Vec<u8>> = (0..400).map(|i| tone::pcmu_frame(FAR_END_HZ, i)).collect();
    // sipp rewrites the addresses and ports; only the payloads and the timing matter.
    let (from, to) = (
        SocketAddrV4::new([127, 0, 0, 1].into(), 40_000),
        SocketAddrV4::new([127, 0, 0, 1].into(), 40_002),
    );
    pcap::write_rtp_stream(
        &dir.path().join("tone.pcap"),
        &frames,
        0x0b0e_0001,
        from,
        to,
    )
    .expect("write pcap");
    let mut desk_phone =
        SippProcess::spawn("operator_plays_tone.xml", None, port, dir, &["-m", "1"]);

    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    // The caller talks too: what it hears must be the operator's tone, not its own.
    let _talking = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    wait_for_state(&engine, "op1", "on_call");

    let (heard, own) = hear(&mut caller, FAR_END_HZ, CALLER_HZ).await;
    assert!(
        heard > HEARD,
        "the operator's {FAR_END_HZ} Hz reached the caller only {heard:.1}x over other tones\n{}",
        desk_phone.output()
    );
    assert!(own < 1.0, "the caller heard its own tone back ({own:.1}x)");
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        desk_phone.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_timeout_moves_to_the_next_operator_and_auto_pauses_the_one_who_did_not_answer() {
    let center = Center::with_operators(&["op1", "op2"]);
    let engine = center.start(&[]);
    // op1 logs in first, so it has been idle longest and is offered the first caller.
    let silent_port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let answering_port = register(&engine, "op2");
    wait_for_state(&engine, "op2", "available");
    let mut silent = SippProcess::phone("operator_rings_only.xml", silent_port, &["-m", "2"]);
    let _answering = SippProcess::phone("operator_answer.xml", answering_port, &[]);

    let mut first = Phone::new(engine.sip).await;
    assert_eq!(first.call("0120000000").await.status(), Some(200));
    wait_for_state(&engine, "op2", "on_call");
    assert_eq!(
        operator(&engine, "op1")["state"],
        "available",
        "one ring-out does not pause yet"
    );

    // op2 is busy: the second caller can only ring op1, whose second ring-out pauses it.
    let mut second = Phone::new(engine.sip).await;
    assert_eq!(second.call("0120000000").await.status(), Some(200));
    let paused = wait_for_operator(&engine, "op1", "paused for no answer", |op| {
        op["state"] == "paused"
    });
    assert_eq!(paused["reason"], "no_answer", "{paused}");
    assert_eq!(
        silent.exited(Duration::from_secs(10)).await,
        Some(0),
        "both offers to op1 were cancelled cleanly:\n{}",
        silent.output()
    );

    assert_eq!(first.hangup().await.status(), Some(200));
    assert_eq!(second.hangup().await.status(), Some(200));
    let first_record = record(&engine, &first.call_id);
    assert_eq!(first_record["operator"], "op2", "{first_record}");
    assert_eq!(first_record["disposition"], "answered", "{first_record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_operator_the_caller_overflows_to_the_city_line_with_audio() {
    let center = Center::with_operators(&[]);
    let city_port = free_udp_port();
    let engine = center.start(&city_line(city_port));
    let mut city = SippProcess::phone("city_line.xml", city_port, &["-m", "1", "-rtp_echo"]);

    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    let _talking = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    let (heard, _) = hear(&mut caller, CALLER_HZ, FAR_END_HZ).await;
    assert!(
        heard > HEARD,
        "the caller's tone came back from the city line only {heard:.1}x over other tones\n{}",
        engine.log()
    );
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        city.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        city.output()
    );

    let record = record(&engine, &caller.call_id);
    assert_eq!(record["disposition"], "overflowed", "{record}");
    assert_eq!(record["transfer_target"], "city_line", "{record}");
    assert_eq!(record["transfer_result"], "answered", "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_while_waiting_is_recorded_abandoned_with_the_wait() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let (status, body) = set_state(&engine, "op1", r#"{"state":"paused","reason":"break"}"#);
    assert_eq!(status, 200, "{body}");
    wait_for_state(&engine, "op1", "paused");

    let mut caller = Phone::new(engine.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));
    // The caller gives up after two seconds of hold music.
    caller.listen(usize::MAX, Duration::from_secs(2)).await;
    assert_eq!(caller.hangup().await.status(), Some(200));

    let record = record(&engine, &caller.call_id);
    assert_eq!(record["disposition"], "abandoned", "{record}");
    assert_eq!(record["queue"], "desk", "{record}");
    assert!(record["operator"].is_null(), "{record}");
    let waited = record["waited_ms"].as_i64().unwrap_or(-1);
    assert!(
        (1300..=2700).contains(&waited),
        "waited_ms {waited}, expected about 2000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_refer_sends_the_caller_to_the_city_line_and_ends_the_operator_leg() {
    let center = Center::with_operators(&["op1"]);
    let city_port = free_udp_port();
    let engine = center.start(&city_line(city_port));
    let port = register(&engine, "op1");
    let mut city = SippProcess::phone("city_line.xml", city_port, &["-m", "1", "-rtp_echo"]);
    let mut desk_phone = SippProcess::phone("operator_refers.xml", port, &["-m", "1"]);

    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    let _talking = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    // The operator's scenario ends with the engine's BYE after the NOTIFY of the answer.
    assert_eq!(
        desk_phone.exited(Duration::from_secs(20)).await,
        Some(0),
        "REFER, 202, NOTIFY 100 and 200, BYE:\n{}\n{}",
        desk_phone.output(),
        engine.log()
    );
    // The caller is with the city line now: its tone comes back from there.
    let (heard, _) = hear(&mut caller, CALLER_HZ, FAR_END_HZ).await;
    assert!(
        heard > HEARD,
        "the city line echo: only {heard:.1}x\n{}\n{}",
        city.output(),
        engine.log()
    );
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        city.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        city.output()
    );

    let record = record(&engine, &caller.call_id);
    assert_eq!(record["disposition"], "transferred", "{record}");
    assert_eq!(record["operator"], "op1", "{record}");
    assert_eq!(record["transfer_target"], "city_line", "{record}");
    assert_eq!(record["transfer_result"], "answered", "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refer_to_a_destination_the_dialplan_does_not_allow_is_refused_with_403() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&city_line(free_udp_port()));
    let port = register(&engine, "op1");
    let mut desk_phone = SippProcess::phone("operator_refer_refused.xml", port, &["-m", "1"]);

    let mut caller = Phone::new(engine.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));
    // After its 403 the operator hangs up, which ends the caller's leg too.
    caller.until_bye(Duration::from_secs(20)).await;
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "REFER to 0990123456 answered 403:\n{}",
        desk_phone.output()
    );

    let record = record(&engine, &caller.call_id);
    assert_eq!(record["disposition"], "answered", "{record}");
    assert!(record["transfer_target"].is_null(), "{record}");
}

/// The next `event: state` of a Server-Sent Events stream, parsed.
fn next_state_event(reader: &mut impl BufRead) -> Value {
    let mut data = String::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).expect("read the stream");
        assert!(read > 0, "the stream ended");
        let line = line.trim_end();
        if let Some(json) = line.strip_prefix("data:") {
            data.push_str(json.trim_start());
        } else if line.is_empty() && !data.is_empty() {
            return serde_json::from_str(&data).expect("event json");
        }
    }
}

fn state_of(live: &Value, login: &str) -> Value {
    live["operators"]
        .as_array()
        .and_then(|ops| ops.iter().find(|op| op["login"] == login))
        .map(|op| op["state"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn the_queue_stream_pushes_a_change_within_a_second() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");

    // HTTP/1.0: the body is the plain event stream, not chunked.
    let mut stream = TcpStream::connect(engine.http).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET /api/v1/queues/stream HTTP/1.0\r\nAccept: text/event-stream\r\n\
         Authorization: Bearer {}\r\n\r\n",
        engine.token
    )
    .expect("request");
    let mut reader = BufReader::new(stream);
    let first = next_state_event(&mut reader);
    assert_eq!(state_of(&first, "op1"), "available", "{first}");

    // The stream's keep-alive push comes 5 s after the last event; one within a second of
    // the change is the change being pushed.
    let (status, body) = set_state(&engine, "op1", r#"{"state":"paused","reason":"break"}"#);
    assert_eq!(status, 200, "{body}");
    let changed = Instant::now();
    let next = next_state_event(&mut reader);
    assert!(
        changed.elapsed() < Duration::from_secs(1),
        "pushed after {:?}",
        changed.elapsed()
    );
    assert_eq!(state_of(&next, "op1"), "paused", "{next}");
}

#[test]
fn the_api_pauses_and_resumes_an_operator() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");

    let (status, body) = set_state(&engine, "op1", r#"{"state":"paused","reason":"lunch"}"#);
    assert_eq!(status, 200, "{body}");
    let paused = wait_for_state(&engine, "op1", "paused");
    assert_eq!(paused["reason"], "lunch", "{paused}");

    let (status, body) = set_state(&engine, "op1", r#"{"state":"available"}"#);
    assert_eq!(status, 200, "{body}");
    let back = wait_for_state(&engine, "op1", "available");
    assert!(back["reason"].is_null(), "{back}");
}

#[test]
fn the_api_refuses_an_unknown_state_or_reason_with_400_and_an_unknown_login_with_404() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");

    let (status, body) = set_state(&engine, "op1", r#"{"state":"asleep"}"#);
    assert_eq!(status, 400, "{body}");
    let (status, body) = set_state(&engine, "op1", r#"{"state":"paused","reason":"nap"}"#);
    assert_eq!(status, 400, "{body}");
    let (status, body) = set_state(&engine, "ghost", r#"{"state":"paused","reason":"break"}"#);
    assert_eq!(status, 404, "{body}");
    assert_eq!(operator(&engine, "op1")["state"], "available");
}

/// A REGISTER from an operator's phone with the right password but a login that is not a user
/// gets 401 too (no hint which part was wrong).
#[test]
fn a_phone_of_an_unknown_login_is_not_registered() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    let (code, output) = sipp_on(
        "register_wrong_password.xml",
        engine.sip,
        free_udp_port(),
        &["-s", "ghost", "-au", "ghost", "-ap", "pw", "-m", "1"],
    );
    assert_eq!(code, 0, "{output}");
    assert!(operator(&engine, "ghost").is_null());
}

#[test]
fn prometheus_shows_the_queue_and_the_operators_by_state() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&city_line(free_udp_port()));
    register(&engine, "op1");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, metrics) = engine.get("/metrics");
        assert_eq!(status, 200);
        if metrics.contains("madoguchi_operators{state=\"available\"} 1")
            && metrics.contains("madoguchi_queue_waiting{queue=\"desk\"} 0")
            && metrics.contains("madoguchi_queue_longest_wait_seconds{queue=\"desk\"} 0")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gauges never showed op1 available and nobody waiting:\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The wrap-up the engine measures is stored with the call it followed, so the board's AHT
/// (talk + wrap-up) is the same after a restart as before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_measured_wrap_up_is_stored_and_counts_in_the_aht_after_a_restart() {
    let center = Center::with_operators(&["op1"]);
    let mut engine = center.start(&[]);
    let port = register(&engine, "op1");
    let _desk_phone = SippProcess::phone("operator_hangs_up.xml", port, &["-d", "1000"]);
    wait_for_state(&engine, "op1", "available");
    let (code, output) = sipp("caller_waits.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}\n{}", engine.log());
    let call_id = engine.wait_for_calls(1)["calls"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    wait_for_state(&engine, "op1", "wrap_up");
    wait_for_state(&engine, "op1", "available");

    let store = madoguchi_store::Store::connect(&center.database_url)
        .await
        .expect("store");
    let deadline = Instant::now() + Duration::from_secs(10);
    let wrap_up = loop {
        let stored = store
            .wrap_ups_since(DateTime::<Utc>::UNIX_EPOCH)
            .await
            .expect("wrap-ups");
        if let Some(w) = stored.into_iter().next() {
            break w;
        }
        assert!(Instant::now() < deadline, "no wrap-up stored");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    store.close().await;
    assert_eq!(wrap_up.call_id, call_id);
    assert!(
        (950..1_500).contains(&wrap_up.wrap_up_ms),
        "the queue's 1 s wrap-up ran out: {wrap_up:?}"
    );

    let aht = |engine: &EngineProcess| {
        support::center::live(engine)["board"]["today"]["aht_s"]
            .as_f64()
            .expect("an AHT")
    };
    let before = aht(&engine);
    assert_eq!(engine.terminate(), Some(0), "{}", engine.log());
    drop(engine);
    let engine = center.start(&[]);
    let after = aht(&engine);
    assert!(
        (after - before).abs() < 0.01,
        "AHT {before} s before the restart, {after} s after"
    );
    assert!(
        before > wrap_up.wrap_up_ms as f64 / 1000.0 + 0.9,
        "talk counts too"
    );
}
