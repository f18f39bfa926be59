//! End to end: the counter devices on the manager's board (「窓口機器」) in a real headless
//! Chromium against the real binary on the reference dialplan (`[devices] calendar =
//! "counter"`), its clock at Wednesday 2026-06-10 10:00 JST (libfaketime), when the counter
//! is open. A device beats once and is listed as 正常; it goes silent past its 30 s and the
//! board turns its row to 応答なし and raises the red banner naming it; its next beat clears
//! both.
//!
//! Screenshots go to `target/test-artifacts/manager/devices-*.png`.

mod support;

use std::time::Duration;

use serde_json::json;
use support::browser::{chromium, sign_in_board};
use support::{add_counter_device, ensure_user, request, EngineProcess, Options};

const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
const DEVICE: &str = "counter-1";
/// Wednesday 2026-06-10 10:00 JST: the counter is open.
const WEDNESDAY_10_JST: &str = "2026-06-10 01:00:00";

fn row_state() -> String {
    format!("document.querySelector('#device-rows tr[data-device=\"{DEVICE}\"]')?.dataset.state")
}

fn beat(engine: &EngineProcess, token: &str) {
    let bearer = format!("Bearer {token}");
    let response = request(
        engine.http,
        "POST",
        "/api/v1/devices/heartbeat",
        &[("Authorization", &bearer)],
        Some(&json!({"status": "ok"}).to_string()),
    );
    assert_eq!(response.status, 200, "{}", response.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_device_within_counter_hours_turns_red_on_the_board_until_it_beats() {
    let files = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", files.path().join("board.db").display());
    let (engine, token) = tokio::task::block_in_place(|| {
        ensure_user(&database, MANAGER, "manager", MANAGER_PASSWORD);
        let token = add_counter_device(&database, DEVICE, &["--silent-after", "30"]);
        let engine = EngineProcess::start(Options {
            faketime_utc: Some(WEDNESDAY_10_JST.to_owned()),
            database_url: Some(database.clone()),
            ..Options::default()
        });
        beat(&engine, &token);
        (engine, token)
    });

    let (_chromedriver, mut browser, _microphone) = chromium(440.0).await;
    browser.describe_with("JSON.stringify(window.madoguchiBoard?.state().devices)");
    browser
        .goto(&format!("http://{}/manager", engine.http))
        .await;
    sign_in_board(&browser, MANAGER, MANAGER_PASSWORD).await;
    browser
        .until(
            &format!("{} === 'ok'", row_state()),
            "the device is listed as ok",
        )
        .await;
    assert!(browser.text("#device-rows").await.contains("正常"));
    assert_eq!(
        browser
            .eval("document.getElementById('device-banner').hidden")
            .await,
        true
    );

    // Silent past 30 s; the watcher looks every 5 s and the stream tells the board.
    browser
        .until_within(
            &format!(
                "{} === 'silent' && !document.getElementById('device-banner').hidden",
                row_state()
            ),
            "the device turns silent and the banner is raised",
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(
        browser.text("#device-banner").await,
        "窓口機器から応答がありません: 窓口1タブレット（本庁舎1階）"
    );
    assert!(browser.text("#device-rows").await.contains("応答なし"));
    browser.screenshot("manager", "devices-silent").await;

    tokio::task::block_in_place(|| beat(&engine, &token));
    browser
        .until(
            &format!(
                "{} === 'ok' && document.getElementById('device-banner').hidden",
                row_state()
            ),
            "the next beat clears the silence and the banner",
        )
        .await;
    browser.close().await;
}
