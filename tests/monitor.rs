//! End to end: a manager listens in on a live call, whispers to the operator and barges in,
//! from a registered SIP phone, against real peers over loopback. The operator is a sipp phone
//! that answers and plays a 2800 Hz tone (a pcap: root or CAP_NET_RAW, as tests/recording.rs);
//! the caller is the test phone sending 1900 Hz; the manager `boss` (role manager, with a SIP
//! secret) registers with sipp and then answers the engine's INVITE with a second test phone
//! on that port, speaking 1200 Hz. What each side hears is checked with Goertzel probes: the
//! manager hears both sides; the caller does not hear a whisper but does hear a barge. Every
//! request is in the audit log as `call.monitor`.
//!
//! What the operator hears cannot be told from a sipp phone, so two more tests put op1 on a
//! test phone too (registered like the manager's) that answers and speaks 2800 Hz: whispering,
//! the operator hears the caller and the manager while the caller hears only the operator;
//! listening, the operator does not hear the manager.

mod support;

use std::net::SocketAddrV4;
use std::time::Duration;

use serde_json::Value;
use support::center::{password, register, wait_for_state, Center, SippProcess};
use support::phone::{Phone, ToneSender};
use support::tone::{self, goertzel, CALLER_HZ, FAR_END_HZ, PROBES};
use support::{create_token, free_udp_port, madoguchi_cli, request, sipp_on, EngineProcess};

/// The manager's voice: a probe neither the caller nor the operator uses.
const MANAGER_HZ: f64 = 1200.0;
/// How much stronger than every probe not expected a tone must be to count as present …
const PRESENT: f64 = 30.0;
/// … and how much weaker than the strongest expected tone to count as absent.
const ABSENT: f64 = 0.01;
const MANAGER: &str = "boss";

/// Power of `hz` relative to the strongest probe that is none of `heard` (the tones that
/// are expected in `samples`).
fn presence(samples: &[i16], hz: f64, heard: &[f64]) -> f64 {
    let others = PROBES
        .iter()
        .filter(|&&p| heard.iter().all(|&h| (p - h).abs() > 1.0))
        .map(|&p| goertzel(samples, p))
        .fold(0.0f64, f64::max);
    goertzel(samples, hz) / others.max(1.0)
}

/// Power of `hz` relative to the loudest of `heard`.
fn relative(samples: &[i16], hz: f64, heard: &[f64]) -> f64 {
    let loudest = heard
        .iter()
        .map(|&h| goertzel(samples, h))
        .fold(0.0f64, f64::max);
    goertzel(samples, hz) / loudest.max(1.0)
}

/// About a second of what `phone` hears from now on, decoded.
async fn hear(phone: &mut Phone) -> Vec<i16> {
    phone.forget_heard().await;
    phone.listen(60, Duration::from_secs(3)).await;
    // The first packets may still be from before a mode change.
    phone.heard_samples(10)
}

/// `method` on the monitor resource of `call_id`, as the manager.
fn monitor(
    engine: &EngineProcess,
    token: &str,
    method: &str,
    call_id: &str,
    body: Option<&str>,
) -> (u16, String) {
    let bearer = format!("Bearer {token}");
    let response = request(
        engine.http,
        method,
        &format!("/api/v1/calls/{call_id}/monitor"),
        &[("Authorization", bearer.as_str())],
        body,
    );
    (response.status, response.body)
}

/// Creates the manager `boss` (role manager, with a SIP secret) through the real CLI.
fn add_manager(center: &Center) {
    let (code, _, stderr) = madoguchi_cli(
        &[
            "user",
            "add",
            "--login",
            MANAGER,
            "--role",
            "manager",
            "--password-stdin",
            "--sip",
            "--database-url",
            &center.database_url,
        ],
        &format!("{}\n", password(MANAGER)),
    );
    assert_eq!(code, 0, "user add {MANAGER}: {stderr}");
}

/// Registers the manager's phone with sipp; returns the SIP port it registered from.
fn register_manager(engine: &EngineProcess) -> u16 {
    let boss_port = free_udp_port();
    let (code, output) = sipp_on(
        "register.xml",
        engine.sip,
        boss_port,
        &[
            "-s",
            MANAGER,
            "-au",
            MANAGER,
            "-ap",
            &password(MANAGER),
            "-m",
            "1",
        ],
    );
    assert_eq!(code, 0, "{MANAGER} registers:\n{output}\n{}", engine.log());
    boss_port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_listens_whispers_and_barges_in_from_a_sip_phone() {
    let center = Center::with_operators(&["op1"]);
    add_manager(&center);
    let engine = center.start(&[]);
    let token = create_token(&center.database_url, MANAGER);

    // op1: a sipp phone that answers and plays the operator's tone for longer than the test.
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let phone_dir = tempfile::tempdir().expect("temp dir");
    let frames: Vec<Vec<u8>> = (0..1500).map(|i| tone::pcmu_frame(FAR_END_HZ, i)).collect();
    support::pcap::write_rtp_stream(
        &phone_dir.path().join("tone.pcap"),
        &frames,
        0x0b0e_0001,
        SocketAddrV4::new([127, 0, 0, 1].into(), 40_000),
        SocketAddrV4::new([127, 0, 0, 1].into(), 40_002),
    )
    .expect("write pcap");
    let mut operator = SippProcess::spawn(
        "operator_plays_tone.xml",
        None,
        port,
        phone_dir,
        &["-m", "1"],
    );

    // The manager's phone registers from a port the test phone then answers on.
    let mut boss = Phone::on_sip_port(engine.sip, register_manager(&engine)).await;

    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    let _caller_talks = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    let call_id = wait_for_state(&engine, "op1", "on_call")["call_id"]
        .as_str()
        .expect("the call op1 is on")
        .to_owned();

    // Refusals first: a bad mode, a call that is not live.
    let (status, body) = monitor(
        &engine,
        &token,
        "POST",
        &call_id,
        Some(r#"{"mode":"shout"}"#),
    );
    assert_eq!(status, 422, "{body}");
    let (status, body) = monitor(
        &engine,
        &token,
        "POST",
        "no-such-call",
        Some(r#"{"mode":"listen"}"#),
    );
    assert_eq!(status, 404, "{body}");

    // An agent may not listen in; an admin without a registered phone cannot.
    let agent = create_token(&center.database_url, "op1");
    let (status, body) = monitor(
        &engine,
        &agent,
        "POST",
        &call_id,
        Some(r#"{"mode":"listen"}"#),
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = monitor(
        &engine,
        &engine.token,
        "POST",
        &call_id,
        Some(r#"{"mode":"listen"}"#),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("no registered phone"), "{body}");

    // Listen: the manager's phone rings, answers, and hears both sides.
    let (status, body) = monitor(
        &engine,
        &token,
        "POST",
        &call_id,
        Some(r#"{"mode":"listen"}"#),
    );
    assert_eq!(status, 202, "{body}");
    let invite = boss.answer_incoming(Duration::from_secs(10)).await;
    let _boss_talks = boss.send_tone(invite.sdp_media().expect("the engine's media"), MANAGER_HZ);
    let (status, body) = monitor(
        &engine,
        &token,
        "POST",
        &call_id,
        Some(r#"{"mode":"listen"}"#),
    );
    assert_eq!(status, 409, "one manager at a time: {body}");

    let heard = hear(&mut boss).await;
    assert!(
        heard.len() >= 160 * 40,
        "the manager hears the call: {} samples",
        heard.len()
    );
    let both = [CALLER_HZ, FAR_END_HZ];
    for hz in both {
        let p = presence(&heard, hz, &both);
        assert!(p > PRESENT, "listening, the manager hears {hz} Hz ({p:.1})");
    }
    let heard = hear(&mut caller).await;
    let p = presence(&heard, FAR_END_HZ, &[FAR_END_HZ]);
    assert!(p > PRESENT, "the caller still hears the operator ({p:.1})");
    let r = relative(&heard, MANAGER_HZ, &[FAR_END_HZ]);
    assert!(
        r < ABSENT,
        "listening, the caller does not hear the manager ({r:.4})"
    );

    let live = support::center::live(&engine);
    let monitors = live["monitors"].as_array().expect("monitors on the board");
    assert_eq!(monitors.len(), 1, "{live}");
    assert_eq!(monitors[0]["monitored_by"], MANAGER);
    assert_eq!(monitors[0]["operator"], "op1");
    assert_eq!(monitors[0]["mode"], "listen");

    // Whisper: the caller still does not hear the manager (the operator does: see
    // `whispering_reaches_the_operator_and_not_the_caller`).
    let (status, body) = monitor(
        &engine,
        &token,
        "PUT",
        &call_id,
        Some(r#"{"mode":"whisper"}"#),
    );
    assert_eq!(status, 204, "{body}");
    let heard = hear(&mut caller).await;
    let p = presence(&heard, FAR_END_HZ, &[FAR_END_HZ]);
    assert!(
        p > PRESENT,
        "whispering, the caller hears the operator ({p:.1})"
    );
    let r = relative(&heard, MANAGER_HZ, &[FAR_END_HZ]);
    assert!(
        r < ABSENT,
        "whispering, the caller does not hear the manager ({r:.4})"
    );

    // Barge: the caller hears the manager too.
    let (status, body) = monitor(
        &engine,
        &token,
        "PUT",
        &call_id,
        Some(r#"{"mode":"barge"}"#),
    );
    assert_eq!(status, 204, "{body}");
    let heard = hear(&mut caller).await;
    let three = [FAR_END_HZ, MANAGER_HZ];
    for hz in three {
        let p = presence(&heard, hz, &three);
        assert!(p > PRESENT, "barging in, the caller hears {hz} Hz ({p:.1})");
    }

    // The manager leaves: their phone gets a BYE, the call goes on with both sides heard.
    let (status, body) = monitor(&engine, &token, "DELETE", &call_id, None);
    assert_eq!(status, 204, "{body}");
    boss.until_bye(Duration::from_secs(5)).await;
    let heard = hear(&mut caller).await;
    let p = presence(&heard, FAR_END_HZ, &[FAR_END_HZ]);
    assert!(
        p > PRESENT,
        "after the manager left, the caller hears the operator ({p:.1})"
    );
    assert_eq!(operator_state(&engine), "on_call");

    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        operator.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        operator.output()
    );
    engine.wait_for_calls(1);

    // Every request is audited, with the mode.
    let (status, body) = engine.get("/api/v1/audit?per_page=500&action=call.monitor");
    assert_eq!(status, 200, "{body}");
    let audit: Value = serde_json::from_str(&body).expect("json");
    let mut details: Vec<String> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["subject"] == call_id.as_str() && e["login"] == MANAGER)
        .map(|e| e["detail"].as_str().unwrap_or("").to_owned())
        .collect();
    details.reverse();
    assert_eq!(
        details,
        ["listen", "listen", "whisper", "barge", "stop"],
        "{audit}"
    );

    let (status, body) = engine.get(&format!("/api/v1/calls/{call_id}"));
    assert_eq!(status, 200, "{body}");
    let call: Value = serde_json::from_str(&body).expect("json");
    let kinds: Vec<&str> = call["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("monitor_"))
        .collect();
    assert_eq!(
        kinds,
        [
            "monitor_ringing",
            "monitor_started",
            "monitor_mode",
            "monitor_mode",
            "monitor_ended"
        ],
        "{call}"
    );
}

fn operator_state(engine: &EngineProcess) -> String {
    support::center::operator(engine, "op1")["state"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// A call between the caller (1900 Hz) and op1 on a test phone (2800 Hz), with the manager's
/// test phone joined in `mode` and speaking 1200 Hz.
struct Monitored {
    engine: EngineProcess,
    _center: Center,
    caller: Phone,
    operator: Phone,
    _boss: Phone,
    _voices: [ToneSender; 3],
}

async fn monitored_call(mode: &str) -> Monitored {
    let center = Center::with_operators(&["op1"]);
    add_manager(&center);
    let engine = center.start(&[]);
    let token = create_token(&center.database_url, MANAGER);

    let mut operator = Phone::on_sip_port(engine.sip, register(&engine, "op1")).await;
    wait_for_state(&engine, "op1", "available");
    let mut boss = Phone::on_sip_port(engine.sip, register_manager(&engine)).await;

    let mut caller = Phone::new(engine.sip).await;
    let (answer, rung) = tokio::join!(
        caller.call("0120000000"),
        operator.answer_incoming(Duration::from_secs(10))
    );
    assert_eq!(answer.status(), Some(200));
    let caller_talks = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    let operator_talks = operator.send_tone(
        rung.sdp_media().expect("the engine's media for op1"),
        FAR_END_HZ,
    );
    let call_id = wait_for_state(&engine, "op1", "on_call")["call_id"]
        .as_str()
        .expect("the call op1 is on")
        .to_owned();

    let body = format!(r#"{{"mode":"{mode}"}}"#);
    let (status, body) = monitor(&engine, &token, "POST", &call_id, Some(&body));
    assert_eq!(status, 202, "{body}");
    let invite = boss.answer_incoming(Duration::from_secs(10)).await;
    let boss_talks = boss.send_tone(invite.sdp_media().expect("the engine's media"), MANAGER_HZ);
    Monitored {
        engine,
        _center: center,
        caller,
        operator,
        _boss: boss,
        _voices: [caller_talks, operator_talks, boss_talks],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whispering_reaches_the_operator_and_not_the_caller() {
    let mut call = monitored_call("whisper").await;

    let heard = hear(&mut call.operator).await;
    assert!(
        heard.len() >= 160 * 40,
        "the operator hears the call: {} samples\n{}",
        heard.len(),
        call.engine.log()
    );
    let both = [CALLER_HZ, MANAGER_HZ];
    for hz in both {
        let p = presence(&heard, hz, &both);
        assert!(
            p > PRESENT,
            "whispered to, the operator hears {hz} Hz ({p:.1})"
        );
    }

    let heard = hear(&mut call.caller).await;
    let p = presence(&heard, FAR_END_HZ, &[FAR_END_HZ]);
    assert!(p > PRESENT, "the caller hears the operator ({p:.1})");
    let r = relative(&heard, MANAGER_HZ, &[FAR_END_HZ]);
    assert!(r < ABSENT, "the caller does not hear the whisper ({r:.4})");

    assert_eq!(call.caller.hangup().await.status(), Some(200));
    call.operator.until_bye(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_in_the_manager_is_not_heard_by_the_operator() {
    let mut call = monitored_call("listen").await;

    let heard = hear(&mut call.operator).await;
    let p = presence(&heard, CALLER_HZ, &[CALLER_HZ]);
    assert!(
        p > PRESENT,
        "the operator hears the caller ({p:.1})\n{}",
        call.engine.log()
    );
    let r = relative(&heard, MANAGER_HZ, &[CALLER_HZ]);
    assert!(
        r < ABSENT,
        "the operator does not hear the manager ({r:.4})"
    );

    assert_eq!(call.caller.hangup().await.status(), Some(200));
    call.operator.until_bye(Duration::from_secs(5)).await;
}
