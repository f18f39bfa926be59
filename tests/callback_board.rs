//! End to end: a manager finds today's callback requests (issue 9) in a real headless
//! Chromium against the real binary. Calls stored before the engine starts (a callback
//! request and an abandoned call) are today's counts; the board's 「折り返し希望」 counter
//! shows 1 as a link, which opens the call page listing the callback request only, with the
//! caller's number; its row opens the call, named 折り返し希望.
//!
//! Screenshots are saved under `target/test-artifacts/manager/`.

mod support;

use chrono::Utc;
use madoguchi_store::{CallRecord, Disposition, Store};
use support::browser::{chromium, sign_in_board};
use support::center::Center;
use support::ensure_user;

const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
const CALLER: &str = "0462001234";

/// A call that arrived a minute ago (today) and left the queue as `disposition`.
fn stored_call(id: &str, disposition: Disposition) -> CallRecord {
    let arrived_at = Utc::now() - chrono::Duration::minutes(1);
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: CALLER.into(),
        called: "0120000000".into(),
        arrived_at,
        answered_at: Some(arrived_at),
        ended_at: arrived_at + chrono::Duration::seconds(160),
        entry: None,
        branch: Some("open".into()),
        disposition,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: None,
        waited_ms: Some(150_000),
        operator: None,
        connected_at: None,
        talk_ms: None,
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node1".into(),
        events: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boards_callback_counter_opens_the_list_of_todays_callback_requests() {
    let center = Center::with_operators(&[]);
    ensure_user(&center.database_url, MANAGER, "manager", MANAGER_PASSWORD);
    let store = Store::connect(&center.database_url)
        .await
        .expect("the engine's database");
    store
        .insert_calls(&[
            stored_call("call-callback", Disposition::CallbackRequested),
            stored_call("call-abandoned", Disposition::Abandoned),
        ])
        .await
        .expect("records");
    store.close().await;
    let engine = tokio::task::block_in_place(|| center.start(&[]));

    let (_chromedriver, mut browser, _microphone) = chromium(440.0).await;
    browser.describe_with(
        "JSON.stringify(window.madoguchiBoard?.state() ?? window.madoguchiCall?.state())",
    );
    browser
        .goto(&format!("http://{}/manager", engine.http))
        .await;
    sign_in_board(&browser, MANAGER, MANAGER_PASSWORD).await;

    browser
        .until(
            "document.querySelector('#today-callbacks a')?.textContent === '1'",
            "the board's callback counter shows 1 as a link",
        )
        .await;
    browser.screenshot("manager", "callbacks-1-board").await;
    browser.click("#today-callbacks a").await;

    let listed = browser
        .until(
            "(() => { const s = window.madoguchiCall?.state(); \
               return s?.list?.status === 'shown' ? s.list : null; })()",
            "the call page lists today's callback requests",
        )
        .await;
    assert_eq!(listed["disposition"], "callback_requested", "{listed}");
    assert_eq!(
        listed["ids"],
        serde_json::json!(["call-callback"]),
        "{listed}"
    );
    let row = browser.text("#list-rows tr").await;
    assert!(
        row.contains(CALLER),
        "the row shows the number to call: {row}"
    );
    let heading = browser.text("#list-heading").await;
    assert!(heading.contains("折り返し希望"), "{heading}");
    browser.screenshot("manager", "callbacks-2-list").await;

    browser.click("#list-rows a").await;
    browser
        .until(
            "window.madoguchiCall.state().callId === 'call-callback' \
             && window.madoguchiCall.state().status === 'shown'",
            "the listed call opens",
        )
        .await;
    let disposition = browser.text("#facts dd[data-fact='disposition']").await;
    assert_eq!(disposition, "折り返し希望");
    browser.close().await;
}
