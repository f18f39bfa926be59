//! End to end: an operator on node `b` answers a caller queued on node `a` (issue 8,
//! docs/continuity-design.md §2 "How a console on B takes a call queued on A").
//!
//! Two engine processes on one fresh PostgreSQL schema (127.0.0.1:5432, database `test`;
//! `MADOGUCHI_TEST_PG_URL` overrides), both on tests/dialplans/queue.toml (queue `desk`, ring
//! timeout 4 s, wrap-up 1 s). The operator's phone registers on `b` only; `a` mirrors the
//! operator from `b`'s published state and rings it through `b` (a peer INVITE). The caller
//! stays on `a`, which relays the media and writes the one record; `b` writes the operator's
//! history and wrap-up under `a`'s call id.
//!
//! Audio is checked by frequency as in tests/queue.rs: caller and operator each send their own
//! tone, and each must hear the other's. The last test puts the operator in the browser
//! console (headless Chromium on `b`'s `/agent`, tests/dialplans/console.toml) instead of a
//! SIP phone. The measured times are printed.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use madoguchi_store::{CallQuery, CallRecord, Disposition, HangupSide, Store};
use serde_json::Value;
use support::browser::{
    answer_by_enter, artifacts_dir, page_hears, sign_in_console, write_tone, Chromedriver,
    PAGE_QUIET,
};
use support::center::{add_operator, operator, password, register, wait_for_state, SippProcess};
use support::pg::Schema;
use support::phone::{hear, Phone, HEARD};
use support::sip_text::Message;
use support::tone::{CALLER_HZ, FAR_END_HZ};
use support::{create_token, eventually, repo_root, request, EngineProcess, Options};

const LOGIN: &str = "op1";

/// `login`'s operator history as (node_id, status), oldest first.
fn history(schema: &Schema, login: &str) -> Vec<(String, String)> {
    schema
        .rows(&format!(
            "SELECT node_id, status FROM operator_state_changes \
             WHERE login = '{login}' ORDER BY at, id"
        ))
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [node, status] => Some((node.clone(), status.clone())),
            _ => None,
        })
        .collect()
}

/// The node that stored the wrap-up of `call_id`, if one is stored.
fn wrap_up_node(schema: &Schema, call_id: &str) -> Option<String> {
    let node = schema.value(&format!(
        "SELECT node_id FROM call_wrap_ups WHERE call_id = '{call_id}'"
    ));
    (!node.is_empty()).then_some(node)
}

/// Node `id` on the queue test dialplan (MD5 challenged first: sipp registers the phone).
fn node(schema: &Schema, id: &str) -> EngineProcess {
    node_on(schema, id, "queue.toml")
}

/// Node `id` on tests/dialplans/`dialplan`.
fn node_on(schema: &Schema, id: &str, dialplan: &str) -> EngineProcess {
    EngineProcess::start(Options {
        database_url: Some(schema.url()),
        dialplan: Some(repo_root().join("tests/dialplans").join(dialplan)),
        extra_args: vec![
            "--node-id".to_owned(),
            id.to_owned(),
            "--sip-digest".to_owned(),
            "MD5,SHA-256".to_owned(),
        ],
        ..Options::default()
    })
}

/// Nodes `a` and `b` with `op1`'s phone registered on `b` (from the returned port), once
/// `a`'s board shows `op1` available on `b`: `a` then offers its callers to it.
fn center_with_operator_on_b(schema: &Schema) -> (EngineProcess, EngineProcess, u16) {
    add_operator(&schema.url(), LOGIN, &password(LOGIN));
    let a = node(schema, "a");
    let b = node(schema, "b");
    let port = register(&b, LOGIN);
    wait_for_state(&b, LOGIN, "available");
    wait_until_mirrored(&a, &b, LOGIN);
    (a, b, port)
}

/// Waits until `a`'s board shows `login` available on node `b`.
fn wait_until_mirrored(a: &EngineProcess, b: &EngineProcess, login: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = operator(a, login);
        if seen["state"] == "available" && seen["node"] == "b" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a never showed {login} available on b; last {seen}\nA:\n{}\nB:\n{}",
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Waits for an INVITE on `phone`; returns it and when it arrived.
async fn ringing(phone: &mut Phone, timeout: Duration) -> (Message, Instant) {
    loop {
        let message = phone.recv(timeout).await;
        if message.method() == Some("INVITE") {
            return (message, Instant::now());
        }
    }
}

/// Answers `invite` with 200 OK and the phone's SDP; returns once the ACK came.
async fn answer(phone: &mut Phone, invite: &Message) {
    let sdp = phone.offer();
    let mut text = String::from("SIP/2.0 200 OK\r\n");
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        for value in invite.headers_named(name) {
            text.push_str(&format!("{name}: {value}"));
            if name == "To" && !value.contains(";tag=") {
                text.push_str(";tag=op1phone");
            }
            text.push_str("\r\n");
        }
    }
    text.push_str(&format!(
        "Contact: <sip:{LOGIN}@127.0.0.1:{}>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        phone.sip_port(),
        sdp.len()
    ));
    phone.send(&text).await;
    loop {
        let message = phone.recv(Duration::from_secs(10)).await;
        if message.method() == Some("ACK") {
            return;
        }
    }
}

/// Every stored record, once `count` exist (records are written after the call ends).
async fn records(store: &Store, count: usize) -> Vec<CallRecord> {
    let query = CallQuery {
        limit: 100,
        ..CallQuery::default()
    };
    let mut found = Vec::new();
    eventually(
        &format!("{count} call record(s) stored"),
        Duration::from_secs(20),
        async || {
            found = store
                .list_calls(&query)
                .await
                .map(|page| page.items)
                .unwrap_or_default();
            found.len() >= count
        },
    )
    .await;
    found
}

/// `GET` on `engine` with `token` as the bearer.
fn get_as(engine: &EngineProcess, token: &str, path: &str) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let response = request(
        engine.http,
        "GET",
        path,
        &[("Authorization", bearer.as_str())],
        None,
    );
    let body = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_on_b_answers_a_caller_queued_on_a_with_audio_both_ways_and_a_writes_the_one_record(
) {
    let schema = Schema::new("cluster_calls_audio");
    let (a, b, port) = tokio::task::block_in_place(|| center_with_operator_on_b(&schema));
    let store = Store::connect(&schema.url()).await.expect("side store");
    let mut desk_phone = Phone::on_sip_port(b.sip, port).await;
    let mut caller = Phone::new(a.sip).await;

    let dialled = Instant::now();
    let (answer_to_caller, (invite, rang)) = tokio::join!(
        caller.call("0120000000"),
        ringing(&mut desk_phone, Duration::from_secs(15))
    );
    assert_eq!(answer_to_caller.status(), Some(200), "a answers the caller");
    let caller_answered = dialled.elapsed();
    let ring_delay = rang - dialled;
    let to_caller_media = answer_to_caller.sdp_media().expect("a's media");
    let _caller_talks = caller.send_tone(to_caller_media, CALLER_HZ);
    let call_id = invite
        .header("X-Madoguchi-Call-Id")
        .unwrap_or_default()
        .to_owned();
    assert!(!call_id.is_empty(), "b's ring names the call: {invite:?}");

    answer(&mut desk_phone, &invite).await;
    let set_up = dialled.elapsed();
    let to_operator_media = invite.sdp_media().expect("b's media");
    let _operator_talks = desk_phone.send_tone(to_operator_media, FAR_END_HZ);

    // a's board shows the operator on the call, on b.
    let on_call = tokio::task::block_in_place(|| wait_for_state(&a, LOGIN, "on_call"));
    assert_eq!(on_call["node"], "b", "{on_call}");

    // caller → a → b → phone, and back.
    let (operator_heard, _) = hear(&mut desk_phone, CALLER_HZ, FAR_END_HZ).await;
    let (caller_heard, own) = hear(&mut caller, FAR_END_HZ, CALLER_HZ).await;
    let bridged = dialled.elapsed();
    println!(
        "caller INVITE on a → 200 from a {caller_answered:?}; → the phone on b rang \
         {ring_delay:?}; → answered and ACKed {set_up:?}; both tones heard by {bridged:?}"
    );
    assert!(
        operator_heard > HEARD,
        "the caller's {CALLER_HZ} Hz reached the phone on b only {operator_heard:.1}x over \
         other tones\nA:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    assert!(
        caller_heard > HEARD,
        "the operator's {FAR_END_HZ} Hz reached the caller on a only {caller_heard:.1}x over \
         other tones\nA:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    assert!(own < 1.0, "the caller heard its own tone back ({own:.1}x)");

    assert_eq!(caller.hangup().await.status(), Some(200));
    desk_phone.until_bye(Duration::from_secs(10)).await;

    let stored = records(&store, 1).await;
    assert_eq!(stored.len(), 1, "one record for the call: {stored:#?}");
    let record = &stored[0];
    println!(
        "record: connected {:?} after arrival",
        record
            .connected_at
            .map(|at| (at - record.arrived_at).to_std().unwrap_or_default())
    );
    assert_eq!(record.id, call_id, "b rang under a's call id");
    assert_eq!(record.node_id, "a");
    assert_eq!(record.operator.as_deref(), Some(LOGIN));
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.hangup_side, Some(HangupSide::Caller), "{record:?}");
    assert!(record.talk_ms.is_some_and(|t| t > 0), "{record:?}");

    // b wrote the operator's history; a wrote none of it.
    eventually(
        "b's history of op1 shows the ring and the call",
        Duration::from_secs(10),
        async || {
            let history = history(&schema, LOGIN);
            ["ringing", "on_call"]
                .iter()
                .all(|s| history.contains(&("b".to_owned(), (*s).to_owned())))
        },
    )
    .await;
    let history = history(&schema, LOGIN);
    assert!(
        history.iter().all(|(node, _)| node == "b"),
        "only b writes op1's history: {history:?}"
    );
    assert_eq!(schema.open_journal_rows(None), 0, "no call left open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_hanging_up_on_b_ends_the_call_on_a_as_an_operator_hang_up() {
    let schema = Schema::new("cluster_calls_bye");
    let (a, _b, port) = tokio::task::block_in_place(|| center_with_operator_on_b(&schema));
    let store = Store::connect(&schema.url()).await.expect("side store");
    // Answers after half a second, talks two seconds, sends BYE.
    let mut desk_phone =
        SippProcess::phone("operator_hangs_up.xml", port, &["-m", "1", "-d", "2000"]);
    let mut caller = Phone::new(a.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));

    caller.until_bye(Duration::from_secs(20)).await;
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "the phone's BYE was answered:\n{}",
        desk_phone.output()
    );

    let stored = records(&store, 1).await;
    assert_eq!(stored.len(), 1, "{stored:#?}");
    let record = &stored[0];
    assert_eq!(record.node_id, "a");
    assert_eq!(record.operator.as_deref(), Some(LOGIN));
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.hangup_side, Some(HangupSide::Engine), "{record:?}");
    assert_eq!(
        record.hangup_cause.as_deref(),
        Some("operator_bye"),
        "{record:?}"
    );
    assert!(
        record.talk_ms.is_some_and(|t| t >= 1500),
        "about two seconds of talk: {record:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classification_filed_on_b_attaches_to_the_record_a_wrote() {
    let schema = Schema::new("cluster_calls_wrap_up");
    let (a, b, port) = tokio::task::block_in_place(|| center_with_operator_on_b(&schema));
    let store = Store::connect(&schema.url()).await.expect("side store");
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);
    let mut caller = Phone::new(a.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));
    tokio::task::block_in_place(|| wait_for_state(&b, LOGIN, "on_call"));
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        desk_phone.output()
    );
    let call_id = records(&store, 1).await[0].id.clone();

    // The operator files from b's console API, as the console would.
    let token = create_token(&schema.url(), LOGIN);
    let bearer = format!("Bearer {token}");
    let body = r#"{"category": "イ", "outcome": "resolved_faq", "complaint": false}"#;
    let filed = request(
        b.http,
        "POST",
        &format!("/api/v1/calls/{call_id}/classification"),
        &[("Authorization", bearer.as_str())],
        Some(body),
    );
    assert_eq!(filed.status, 200, "{}", filed.body);

    // a's call API shows it on a's record; the operator reads it back on a too.
    let (status, call) = support::http_get(a.http, &format!("/api/v1/calls/{call_id}"));
    assert_eq!(status, 200, "{call}");
    let call: Value = serde_json::from_str(&call).expect("call json");
    assert_eq!(call["node_id"], "a", "{call}");
    assert_eq!(call["classification"]["category"], "イ", "{call}");
    assert_eq!(call["classification"]["operator"], LOGIN, "{call}");
    let (status, own) = get_as(
        &a,
        &token,
        &format!("/api/v1/calls/{call_id}/classification"),
    );
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["outcome"], "resolved_faq");

    // The wrap-up (1 s here) was b's, under a's call id.
    eventually(
        "b stores op1's wrap-up under a's call id",
        Duration::from_secs(10),
        async || wrap_up_node(&schema, &call_id).as_deref() == Some("b"),
    )
    .await;
}

/// The console test's operator.
const CONSOLE_LOGIN: &str = "suzuki";

/// Milliseconds since the Unix epoch by this machine's clock (the page's `Date.now()`).
fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A failed test leaves both engines' logs beside its screenshots.
struct KeepLogs<'a>(&'a EngineProcess, &'a EngineProcess);

impl Drop for KeepLogs<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for (id, engine) in [("a", self.0), ("b", self.1)] {
                let path = artifacts_dir("cluster_calls").join(format!("node-{id}.log"));
                let _ = std::fs::write(path, engine.log());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_on_b_answers_a_caller_queued_on_a_with_audio_both_ways() {
    let schema = Schema::new("cluster_calls_console");
    add_operator(&schema.url(), CONSOLE_LOGIN, &password(CONSOLE_LOGIN));
    let (a, b) = tokio::task::block_in_place(|| {
        (
            node_on(&schema, "a", "console.toml"),
            node_on(&schema, "b", "console.toml"),
        )
    });
    let _logs = KeepLogs(&a, &b);
    let store = Store::connect(&schema.url()).await.expect("side store");

    let microphone = tempfile::tempdir().expect("temp dir");
    let tone_file = microphone.path().join("operator.wav");
    write_tone(&tone_file, FAR_END_HZ);
    let chromedriver = Chromedriver::start().await;
    let mut browser = chromedriver.open(&tone_file).await;
    browser.describe_with("JSON.stringify(window.madoguchi.state())");
    browser.goto(&format!("http://{}/agent", b.http)).await;
    sign_in_console(&browser, CONSOLE_LOGIN).await;
    browser.click("#go-available").await;
    tokio::task::block_in_place(|| {
        wait_for_state(&b, CONSOLE_LOGIN, "available");
        wait_until_mirrored(&a, &b, CONSOLE_LOGIN);
    });
    // The page notes when the offer shows (its clock is this machine's).
    browser
        .eval(
            "(() => { window.offeredAt = null; window.offerWatch = setInterval(() => { \
               if (window.madoguchi.state().call?.phase === 'offered') { \
                 window.offeredAt = Date.now(); clearInterval(window.offerWatch); } }, 2); \
               return true; })()",
        )
        .await;

    let mut caller = Phone::new(a.sip).await;
    let dialled = epoch_ms();
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "a answers the caller");
    let caller_media = answer.sdp_media().expect("a's media");
    browser
        .until(
            "window.madoguchi.state().call?.phase === 'offered' \
             && document.activeElement?.id === 'answer'",
            "the console on b shows a's caller, ready to answer",
        )
        .await;
    let ring_ms = browser
        .eval("window.offeredAt")
        .await
        .as_f64()
        .expect("the page noted when the offer showed")
        - dialled;
    answer_by_enter(&browser).await;
    let connected_ms = epoch_ms() - dialled;
    let on_call = tokio::task::block_in_place(|| wait_for_state(&a, CONSOLE_LOGIN, "on_call"));
    assert_eq!(on_call["node"], "b", "{on_call}");
    browser
        .screenshot("cluster_calls", "console-on-b-with-a-caller")
        .await;

    // The operator greets, then the caller talks (the echo canceller mutes a microphone
    // that plays while the far end talks without pause, tests/console_browser.rs).
    let (heard, _) = hear(&mut caller, FAR_END_HZ, CALLER_HZ).await;
    let operator_heard_ms = epoch_ms() - dialled;
    assert!(
        heard > HEARD,
        "the console's {FAR_END_HZ} Hz reached the caller on a only {heard:.1}x over other \
         tones"
    );
    let talking = caller.send_tone(caller_media, CALLER_HZ);
    let (_, other) = page_hears(&browser, CALLER_HZ, FAR_END_HZ).await;
    assert!(
        other < PAGE_QUIET,
        "the console hears the caller but also its own tone ({other:.2})"
    );
    println!(
        "console on b: caller INVITE on a → offer shown on b's console {ring_ms:.0} ms; \
         → answered (Enter) and connected {connected_ms:.0} ms; → caller heard the console \
         by {operator_heard_ms:.0} ms"
    );
    drop(talking);

    assert_eq!(caller.hangup().await.status(), Some(200));
    browser
        .until(
            "window.madoguchi.state().call?.phase === 'ended'",
            "the console shows the call over",
        )
        .await;
    let stored = records(&store, 1).await;
    assert_eq!(stored.len(), 1, "{stored:#?}");
    assert_eq!(stored[0].node_id, "a");
    assert_eq!(stored[0].operator.as_deref(), Some(CONSOLE_LOGIN));
    assert_eq!(stored[0].disposition, Disposition::Answered);
    browser.close().await;
}
