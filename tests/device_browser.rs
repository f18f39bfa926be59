//! End to end: the counter device's page `/device` in a real headless Chromium against the
//! real binary. The page is opened with a device token (from `madoguchi device add`) in the
//! URL fragment, as a counter tablet would be set up; under the pages' Content Security
//! Policy it beats on its own, the device's last beat shows in `GET /api/v1/devices`, the
//! page tells its last success in Japanese, and the token leaves the address bar but stays
//! in the browser for the next visit.
//!
//! A screenshot goes to `target/test-artifacts/device/` (1280×720).

mod support;

use serde_json::Value;
use support::browser::chromium;
use support::{add_counter_device, EngineProcess, Options};

const DEVICE: &str = "counter-1";

/// `GET /api/v1/devices`'s entry for the device, read with the test admin's token.
fn listed(engine: &EngineProcess) -> Value {
    let (status, body) = engine.get("/api/v1/devices");
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).expect("json");
    list["devices"]
        .as_array()
        .and_then(|devices| devices.iter().find(|d| d["id"] == DEVICE).cloned())
        .unwrap_or_else(|| panic!("{DEVICE} is listed: {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_page_beats_with_the_token_of_its_fragment() {
    let engine = tokio::task::block_in_place(|| EngineProcess::start(Options::default()));
    let database = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    let token = tokio::task::block_in_place(|| add_counter_device(&database, DEVICE, &[]));
    assert!(
        tokio::task::block_in_place(|| listed(&engine))["last_seen_at"].is_null(),
        "not heard from before the page opens"
    );

    let (_chromedriver, mut browser, _microphone) = chromium(440.0).await;
    browser.describe_with("JSON.stringify(window.madoguchiDevice?.state())");
    browser
        .goto(&format!("http://{}/device#token={token}", engine.http))
        .await;
    browser
        .until(
            "window.madoguchiDevice.state().beats >= 1",
            "the page's first beat is accepted",
        )
        .await;
    browser
        .until(
            "document.getElementById('summary').textContent === '正常に送信しています'",
            "the page says it is sending",
        )
        .await;
    assert_ne!(browser.text("#last-success").await, "—");
    browser.screenshot("device", "beating").await;

    let device = tokio::task::block_in_place(|| listed(&engine));
    assert!(device["last_seen_at"].is_string(), "{device}");
    assert_eq!(device["last_status"], "ok", "{device}");
    // The first beat has no previous round trip; the page says it is online.
    assert_eq!(device["last_rtt_ms"], Value::Null, "{device}");
    let detail = device["last_detail"].as_str().unwrap_or_default();
    assert!(detail.contains("オンライン"), "{device}");

    // The token left the address bar and stays for the next visit.
    assert_eq!(browser.eval("window.location.hash").await, "");
    browser
        .goto(&format!("http://{}/device", engine.http))
        .await;
    browser
        .until(
            "window.madoguchiDevice.state().token === true",
            "the page finds the kept token",
        )
        .await;
    browser.close().await;
}
