//! End to end: the manager's live board at `/manager` in a real headless Chromium against the
//! real binary (tests/dialplans/queue.toml: always open, one queue `desk`, 1 s wrap-up). A
//! manager signs in through the page's form; an operator's phone (sipp) registers and the
//! board shows them available within a second; paused, a caller from the test phone waits and
//! the board shows the caller and a longest wait that ticks; the operator answers, the caller
//! hangs up, and the complaint the operator files through the API appears on the board as an
//! alert (list, banner and announcement). At the end every figure on the board matches
//! `GET /api/v1/queues`. A complaint filed before the manager opened the board is listed
//! when it loads, without the banner, which only news raises. An operator signing in is told
//! the board is for managers only. An operator on a call gets 傍聴 / ささやき / 三者通話:
//! the board's manager, without a SIP phone, is told so; a manager with one is shown
//! monitoring, switched and ended from the board.
//!
//! Screenshots (normal and large-type mode, 1280×720 and 1920×1080) are saved under
//! `target/test-artifacts/manager/`.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use madoguchi_store::{CallRecord, Disposition, Store};
use serde_json::Value;
use support::browser::{artifacts_dir, write_tone, Browser, Chromedriver};
use support::center::{live, password, register, set_state, wait_for_state, Center, SippProcess};
use support::phone::Phone;
use support::{
    create_token, ensure_user, free_udp_port, madoguchi_cli, request, sipp_on, EngineProcess,
};

const OPERATOR: &str = "op1";
const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
/// How soon a change in the engine must be on the board.
const WITHIN: Duration = Duration::from_secs(1);
const AREA: &str = "manager";

/// The engine with an operator and a manager, and a Chromium on the board's page.
struct Room {
    browser: Browser,
    engine: EngineProcess,
    center: Center,
    name: &'static str,
    _chromedriver: Chromedriver,
    _microphone: tempfile::TempDir,
}

impl Room {
    async fn open(name: &'static str) -> Room {
        Room::open_with(name, |_| {}).await
    }

    /// [`Room::open`] with more set up in the center's database before the engine starts.
    async fn open_with(name: &'static str, setup: impl FnOnce(&Center)) -> Room {
        let center = Center::with_operators(&[OPERATOR]);
        ensure_user(&center.database_url, MANAGER, "manager", MANAGER_PASSWORD);
        setup(&center);
        let engine = tokio::task::block_in_place(|| center.start(&[]));
        // The board needs no microphone, but the browser helper gives every page one.
        let microphone = tempfile::tempdir().expect("temp dir");
        let tone_file = microphone.path().join("silence.wav");
        write_tone(&tone_file, 440.0);
        let chromedriver = Chromedriver::start().await;
        let mut browser = chromedriver.open(&tone_file).await;
        browser.describe_with("JSON.stringify(window.madoguchiBoard?.state())");
        browser
            .goto(&format!("http://{}/manager", engine.http))
            .await;
        browser
            .until(
                "window.madoguchiBoard.state().view === 'sign_in' \
                 && document.activeElement?.id === 'sign-in-login'",
                "the sign-in form is shown",
            )
            .await;
        Room {
            browser,
            engine,
            center,
            name,
            _chromedriver: chromedriver,
            _microphone: microphone,
        }
    }

    async fn screenshot(&self, state: &str) {
        self.browser
            .screenshot(AREA, &format!("{}-{state}", self.name))
            .await;
    }

    async fn sign_in(&self, login: &str, password: &str) {
        self.browser.type_into("#sign-in-login", login).await;
        self.browser.type_into("#sign-in-password", password).await;
        self.browser.click("#sign-in-submit").await;
    }

    /// Polls the board until `expression` holds, failing if that takes longer than [`WITHIN`]
    /// from `since`; returns how long it took.
    async fn within_a_second(&self, since: Instant, expression: &str, what: &str) -> Duration {
        let left = WITHIN.saturating_sub(since.elapsed());
        self.browser.until_within(expression, what, left).await;
        since.elapsed()
    }

    /// The operator's row on the board: its state and the text of its badge.
    async fn operator_row(&self) -> Value {
        self.browser
            .eval(&format!(
                "(() => {{ const row = document.querySelector('#operator-rows tr[data-login=\"{OPERATOR}\"]'); \
                   return row ? {{ state: row.dataset.state, label: row.querySelector('.badge').textContent }} : null; }})()"
            ))
            .await
    }

    /// Whether the page fits its width (no horizontal scroll bar).
    async fn fits_width(&self) -> bool {
        self.browser
            .eval("document.documentElement.scrollWidth <= window.innerWidth")
            .await
            == Value::Bool(true)
    }

    /// Sizes the window so that the page itself is `width`×`height`.
    async fn set_page_size(&self, width: u32, height: u32) {
        let client = &self.browser.client;
        client
            .set_window_size(width, height)
            .await
            .expect("the window can be sized");
        let inner = self
            .browser
            .eval("[window.innerWidth, window.innerHeight]")
            .await;
        let (Some(inner_width), Some(inner_height)) = (inner[0].as_u64(), inner[1].as_u64()) else {
            return;
        };
        let outer = |wanted: u32, got: u64| wanted + wanted.saturating_sub(got as u32);
        client
            .set_window_size(outer(width, inner_width), outer(height, inner_height))
            .await
            .expect("the window can be sized");
    }

    async fn toggle_wall(&self, on: bool) {
        self.browser.click("#wall-toggle").await;
        self.browser
            .until(
                &format!(
                    "window.madoguchiBoard.state().wall === {on} \
                     && document.body.classList.contains('wall') === {on}"
                ),
                "the large-type mode switches",
            )
            .await;
    }
}

impl Drop for Room {
    /// A failed test leaves the engine's log beside its screenshots.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir(AREA).join(format!("{}-engine.log", self.name));
            let _ = std::fs::write(path, self.engine.log());
        }
    }
}

/// A ratio as the board shows it: a whole percent, or a dash.
fn percent(value: &Value) -> String {
    match value.as_f64() {
        Some(ratio) => format!("{}%", (ratio.clamp(0.0, 1.0) * 100.0).round() as i64),
        None => "—".to_owned(),
    }
}

/// Seconds as the board shows them: m:ss (rounded), or a dash.
fn duration(value: &Value) -> String {
    match value.as_f64() {
        Some(seconds) => {
            let total = seconds.max(0.0).round() as i64;
            if total >= 3600 {
                format!(
                    "{}:{:02}:{:02}",
                    total / 3600,
                    total % 3600 / 60,
                    total % 60
                )
            } else {
                format!("{}:{:02}", total / 60, total % 60)
            }
        }
        None => "—".to_owned(),
    }
}

/// What each `data-field` of the board must say for the live state `api`.
fn expected_fields(api: &Value) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for key in [
        "offered",
        "answered",
        "abandoned",
        "overflowed",
        "transferred",
    ] {
        fields.push((key.to_owned(), api["today"][key].to_string()));
    }
    let board = &api["board"];
    fields.push(("sl-today".into(), percent(&board["today"]["service_level"])));
    fields.push((
        "sl-30".into(),
        percent(&board["last_30_min"]["service_level"]),
    ));
    fields.push(("asa".into(), duration(&board["today"]["asa_s"])));
    fields.push(("aht".into(), duration(&board["today"]["aht_s"])));
    fields.push((
        "abandon-rate".into(),
        percent(&board["today"]["abandon_rate"]),
    ));
    fields.push((
        "answer-rate".into(),
        percent(&board["today"]["answer_rate"]),
    ));
    let waiting: usize = api["queues"].as_array().map_or(0, |queues| {
        queues
            .iter()
            .map(|q| q["waiting"].as_array().map_or(0, Vec::len))
            .sum()
    });
    fields.push(("waiting".into(), waiting.to_string()));
    fields.push((
        "threshold".into(),
        format!("{}秒以内", board["threshold_s"]),
    ));
    fields
}

/// The text of the first element with `data-field` = `name`.
async fn field(browser: &Browser, name: &str) -> String {
    browser
        .eval(&format!(
            "document.querySelector('[data-field=\"{name}\"]')?.textContent ?? null"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_follows_operators_callers_and_complaints_live_and_matches_the_api() {
    let room = Room::open("live").await;
    room.screenshot("1-sign-in").await;
    room.sign_in(MANAGER, MANAGER_PASSWORD).await;
    room.browser
        .until(
            "(() => { const s = window.madoguchiBoard.state(); \
               return s.view === 'board' && s.connection === 'open' && s.states > 0; })()",
            "the board is shown with its live stream open",
        )
        .await;
    assert_eq!(
        room.operator_row().await["state"],
        "logged_out",
        "before the phone registers"
    );

    // The operator's phone registers: available on the board within a second.
    let port = tokio::task::block_in_place(|| register(&room.engine, OPERATOR));
    let registered = Instant::now();
    let took = room
        .within_a_second(
            registered,
            &format!(
                "document.querySelector('#operator-rows tr[data-login=\"{OPERATOR}\"]')\
                   ?.dataset.state === 'available'"
            ),
            "the board shows the operator available",
        )
        .await;
    assert_eq!(room.operator_row().await["label"], "受付可");
    eprintln!("available on the board {took:?} after the registration");

    // Paused for lunch, so the next caller waits.
    let (status, body) = tokio::task::block_in_place(|| {
        set_state(
            &room.engine,
            OPERATOR,
            r#"{"state":"paused","reason":"lunch"}"#,
        )
    });
    assert_eq!(status, 200, "{body}");
    room.browser
        .until(
            "document.querySelector('#operator-rows tr[data-login=\"op1\"] .badge')\
               ?.textContent === '休憩（昼食）'",
            "the board shows the operator paused with the reason",
        )
        .await;

    let mut caller = Phone::new(room.engine.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));
    let queued = Instant::now();
    let took = room
        .within_a_second(
            queued,
            "document.querySelector('[data-field=\"waiting\"]').textContent === '1' \
             && document.querySelector('#queue-rows tr[data-queue=\"desk\"] td').textContent === '1'",
            "the board shows one caller waiting",
        )
        .await;
    eprintln!("the waiting caller on the board {took:?} after the hotline answered");
    // The longest wait ticks on the page between the engine's pushes.
    room.browser
        .until_within(
            "['0:02', '0:03'].includes(document.querySelector('[data-field=\"longest\"]').textContent)",
            "the longest wait ticks",
            Duration::from_secs(4),
        )
        .await;
    assert!(room.fits_width().await, "no horizontal scroll at 1280×720");
    room.screenshot("2-waiting").await;
    room.toggle_wall(true).await;
    assert!(
        room.fits_width().await,
        "no horizontal scroll in large type at 1280×720"
    );
    room.screenshot("3-waiting-wall").await;
    room.toggle_wall(false).await;

    // The operator's phone answers once they are available again.
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);
    let (status, body) = tokio::task::block_in_place(|| {
        set_state(&room.engine, OPERATOR, r#"{"state":"available"}"#)
    });
    assert_eq!(status, 200, "{body}");
    let on_call = tokio::task::block_in_place(|| wait_for_state(&room.engine, OPERATOR, "on_call"));
    room.within_a_second(
        Instant::now(),
        "document.querySelector('#operator-rows tr[data-login=\"op1\"]')?.dataset.state === 'on_call' \
         && document.querySelector('[data-field=\"waiting\"]').textContent === '0'",
        "the board shows the operator on the call and nobody waiting",
    )
    .await;
    let call_id = on_call["call_id"]
        .as_str()
        .expect("the live state names the operator's call")
        .to_owned();
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "the operator's leg ended with the caller's:\n{}",
        desk_phone.output()
    );

    // The operator files a complaint; the board raises it.
    let token = create_token(&room.center.database_url, OPERATOR);
    let authorization = format!("Bearer {token}");
    let filed = tokio::task::block_in_place(|| {
        request(
            room.engine.http,
            "POST",
            &format!("/api/v1/calls/{call_id}/classification"),
            &[("Authorization", authorization.as_str())],
            Some(
                r#"{"category": "イ", "outcome": "other", "complaint": true, "faq_id": null, "note": "強い口調での苦情"}"#,
            ),
        )
    });
    assert!(
        (200..300).contains(&filed.status),
        "the classification is filed: {} {}",
        filed.status,
        filed.body
    );
    let filed_at = Instant::now();
    room.within_a_second(
        filed_at,
        &format!(
            "(() => {{ const s = window.madoguchiBoard.state(); \
               return s.alerts.length === 1 && s.alerts[0].callId === '{call_id}' \
                 && s.banner === '{call_id}'; }})()"
        ),
        "the complaint appears on the board",
    )
    .await;
    let item = room.browser.text("#alert-list li").await;
    assert!(
        item.contains(OPERATOR) && item.contains("イ カードの申請"),
        "the alert names the operator and the category: {item}"
    );
    assert!(
        !item.contains("強い口調"),
        "the alert keeps the note to itself: {item}"
    );
    let banner = room.browser.text("#alert-banner-text").await;
    assert!(banner.contains(OPERATOR), "the banner: {banner}");
    room.browser
        .until(
            "document.getElementById('live-assertive').textContent.includes('苦情')",
            "the complaint is announced to screen readers",
        )
        .await;

    // Once the call's record is counted, every figure on the board is the API's.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (api, expected) = loop {
        let api = tokio::task::block_in_place(|| live(&room.engine));
        let expected = expected_fields(&api);
        let mut shown = Vec::new();
        for (name, _) in &expected {
            shown.push((name.clone(), field(&room.browser, name).await));
        }
        if api["today"]["answered"] == 1 && shown == expected {
            break (api, expected);
        }
        assert!(
            Instant::now() < deadline,
            "the board shows {shown:?}, the API {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(api["today"]["offered"], 1, "{api}");
    assert!(
        expected
            .iter()
            .any(|(name, text)| name == "sl-today" && text != "—"),
        "the service level has a value to compare: {expected:?}"
    );
    let bars = room
        .browser
        .eval("document.querySelectorAll('#chart rect.bar.offered').length")
        .await;
    assert!(
        bars.as_u64().unwrap_or(0) >= 20,
        "08:00–18:00 at least: {bars}"
    );
    room.screenshot("4-complaint").await;

    room.set_page_size(1920, 1080).await;
    room.toggle_wall(true).await;
    assert!(
        room.fits_width().await,
        "no horizontal scroll in large type at 1920×1080"
    );
    room.screenshot("5-complaint-wall-1920").await;

    // English by the toggle, the numbers unchanged.
    room.browser.click("#lang-toggle").await;
    room.browser
        .until(
            "document.getElementById('queues-heading').textContent === 'Queues' \
             && document.querySelector('#operator-rows .badge').textContent === 'Available'",
            "the board switches to English",
        )
        .await;
    assert_eq!(field(&room.browser, "threshold").await, "within 20 s");
    room.screenshot("6-english-wall-1920").await;

    // The month's report is downloaded from the board with the manager's session.
    room.browser
        .eval(
            "(() => { const m = document.getElementById('report-month'); \
               m.value = '2026-11'; m.dispatchEvent(new Event('input')); })()",
        )
        .await;
    let href = room
        .browser
        .eval("document.getElementById('report-xlsx').getAttribute('href')")
        .await;
    assert_eq!(href, "/api/v1/reports/monthly?month=2026-11&format=xlsx");
    room.browser
        .eval(
            "(() => { window.reportFetch = null; \
               fetch(document.getElementById('report-xlsx').href) \
                 .then(r => { window.reportFetch = [r.status, r.headers.get('content-type')]; }); })()",
        )
        .await;
    let fetched = room
        .browser
        .until("window.reportFetch", "the report downloads")
        .await;
    assert_eq!(fetched[0], 200, "{fetched}");
    assert!(
        fetched[1]
            .as_str()
            .is_some_and(|t| t.contains("spreadsheetml")),
        "{fetched}"
    );
    room.browser.close().await;
}

/// A call `id` the operator took a few minutes ago, stored as the engine would have.
fn taken_call(id: &str) -> CallRecord {
    let arrived_at = Utc::now() - chrono::Duration::minutes(5);
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "0462001234".into(),
        called: "0120000000".into(),
        arrived_at,
        answered_at: Some(arrived_at),
        ended_at: arrived_at + chrono::Duration::seconds(90),
        entry: None,
        branch: Some("open".into()),
        disposition: Disposition::Answered,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("desk".into()),
        waited_ms: Some(5_000),
        operator: Some(OPERATOR.into()),
        connected_at: Some(arrived_at + chrono::Duration::seconds(5)),
        talk_ms: Some(85_000),
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

/// The operator files a complaint on `call_id` through the API, as the console does.
fn file_complaint(engine: &EngineProcess, authorization: &str, call_id: &str) {
    let filed = request(
        engine.http,
        "POST",
        &format!("/api/v1/calls/{call_id}/classification"),
        &[("Authorization", authorization)],
        Some(
            r#"{"category": "ウ", "outcome": "callback_needed", "complaint": true, "note": "受取が遅いとの苦情"}"#,
        ),
    );
    assert!(
        (200..300).contains(&filed.status),
        "the classification is filed: {} {}",
        filed.status,
        filed.body
    );
}

/// The banner, the list and how often the banner was raised since the page loaded.
const ALERTS: &str = "(() => { const s = window.madoguchiBoard.state(); \
    return JSON.stringify({ ids: s.alerts.map(a => a.callId), banner: s.banner, raised: s.raised, \
      bannerShown: !document.getElementById('alert-banner').hidden, \
      items: document.querySelectorAll('#alert-list li').length }); })()";

async fn alerts_shown(browser: &Browser) -> Value {
    let text = browser.eval(ALERTS).await;
    serde_json::from_str(text.as_str().unwrap_or("null")).expect("the board's alerts as JSON")
}

/// A complaint filed before the manager signs in is listed once the board loads, without
/// the banner (it is not news); one filed while the board is open raises it. A reload lists
/// both again, quietly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaints_filed_before_the_board_opened_are_listed_and_only_new_ones_raise_the_banner() {
    let room = Room::open("history").await;
    let store = Store::connect(&room.center.database_url)
        .await
        .expect("the engine's database");
    store
        .insert_calls(&[taken_call("call-earlier"), taken_call("call-later")])
        .await
        .expect("records");
    store.close().await;
    let token = create_token(&room.center.database_url, OPERATOR);
    let authorization = format!("Bearer {token}");
    tokio::task::block_in_place(|| file_complaint(&room.engine, &authorization, "call-earlier"));

    room.sign_in(MANAGER, MANAGER_PASSWORD).await;
    room.browser
        .until(
            "(() => { const s = window.madoguchiBoard.state(); \
               return s.view === 'board' && s.alerts.length === 1; })()",
            "the complaint filed before sign-in is listed",
        )
        .await;
    assert_eq!(
        alerts_shown(&room.browser).await,
        serde_json::json!({"ids": ["call-earlier"], "banner": null, "raised": 0,
                           "bannerShown": false, "items": 1}),
        "listed, and the banner never raised for it"
    );
    let item = room.browser.text("#alert-list li").await;
    assert!(
        item.contains(OPERATOR) && item.contains("ウ カードの交付") && !item.contains("受取が遅い"),
        "the listed alert names the operator and the category, not the note: {item}"
    );
    room.screenshot("1-listed").await;

    tokio::task::block_in_place(|| file_complaint(&room.engine, &authorization, "call-later"));
    room.within_a_second(
        Instant::now(),
        "window.madoguchiBoard.state().banner === 'call-later'",
        "the complaint filed while the board is open raises the banner",
    )
    .await;
    assert_eq!(
        alerts_shown(&room.browser).await,
        serde_json::json!({"ids": ["call-later", "call-earlier"], "banner": "call-later",
                           "raised": 1, "bannerShown": true, "items": 2})
    );
    room.screenshot("2-new-one").await;

    // A reload forgets nothing filed today, and raises nothing that is not news.
    room.browser
        .goto(&format!("http://{}/manager", room.engine.http))
        .await;
    room.browser
        .until(
            "(() => { const s = window.madoguchiBoard.state(); \
               return s.view === 'board' && s.alerts.length === 2; })()",
            "both complaints are listed after a reload",
        )
        .await;
    assert_eq!(
        alerts_shown(&room.browser).await,
        serde_json::json!({"ids": ["call-later", "call-earlier"], "banner": null,
                           "raised": 0, "bannerShown": false, "items": 2})
    );
    room.browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_who_signs_in_is_told_the_board_is_for_managers_only() {
    let room = Room::open("agent").await;
    room.sign_in(OPERATOR, &password(OPERATOR)).await;
    room.browser
        .until(
            "window.madoguchiBoard.state().view === 'forbidden'",
            "the page says it is for managers",
        )
        .await;
    assert_eq!(
        room.browser.text("#forbidden-message").await,
        "このページは管理者専用です。"
    );
    assert_eq!(
        room.browser
            .eval("window.madoguchiBoard.state().connection")
            .await,
        "closed",
        "no stream is opened for an operator"
    );
    room.screenshot("managers-only").await;
    room.browser.close().await;
}

/// A manager with a SIP phone (the board's manager has none).
const PHONE_MANAGER: &str = "boss";

/// What the operator's row says about monitoring: status line, button modes, message.
const MONITOR_ROW: &str =
    "(() => { const row = document.querySelector('#operator-rows tr[data-login=\"op1\"]'); \
    if (!row) return null; \
    const visible = (e) => !!e && e.getClientRects().length > 0; \
    return JSON.stringify({ \
      status: row.querySelector('[data-role=\"monitor-status\"]')?.textContent ?? null, \
      buttons: [...row.querySelectorAll('button[data-monitor]')].map((b) => b.dataset.monitor), \
      labels: [...row.querySelectorAll('button[data-monitor]')].map((b) => b.textContent), \
      shown: [...row.querySelectorAll('button[data-monitor]')].filter(visible).length, \
      error: row.querySelector('[data-role=\"monitor-error\"]')?.textContent ?? null }); })()";

async fn monitor_row(browser: &Browser) -> Value {
    let text = browser.eval(MONITOR_ROW).await;
    serde_json::from_str(text.as_str().unwrap_or("null")).expect("the operator's row as JSON")
}

/// An operator on a call gets 傍聴 / ささやき / 三者通話 on the board. The board's manager has
/// no registered SIP phone: 傍聴 is refused and the board says why next to the operator.
/// Another manager joins from their phone: the row shows who and how (呼出中 while the
/// phone rings), offers the other modes and 終了, which ends it from the board. Large type
/// shows no buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_starts_and_ends_monitoring_from_the_operator_row() {
    let room = Room::open_with("monitor", |center| {
        let (code, _, stderr) = madoguchi_cli(
            &[
                "user",
                "add",
                "--login",
                PHONE_MANAGER,
                "--role",
                "manager",
                "--password-stdin",
                "--sip",
                "--database-url",
                &center.database_url,
            ],
            &format!("{}\n", password(PHONE_MANAGER)),
        );
        assert_eq!(code, 0, "user add {PHONE_MANAGER}: {stderr}");
    })
    .await;
    room.sign_in(MANAGER, MANAGER_PASSWORD).await;
    room.browser
        .until(
            "(() => { const s = window.madoguchiBoard.state(); \
               return s.view === 'board' && s.connection === 'open' && s.states > 0; })()",
            "the board is shown with its live stream open",
        )
        .await;

    // The operator answers a caller.
    let port = tokio::task::block_in_place(|| register(&room.engine, OPERATOR));
    tokio::task::block_in_place(|| wait_for_state(&room.engine, OPERATOR, "available"));
    let mut desk_phone = SippProcess::phone("operator_answer.xml", port, &["-m", "1"]);
    let mut caller = Phone::new(room.engine.sip).await;
    assert_eq!(caller.call("0120000000").await.status(), Some(200));
    let call_id = tokio::task::block_in_place(|| wait_for_state(&room.engine, OPERATOR, "on_call"))
        ["call_id"]
        .as_str()
        .expect("the live state names the operator's call")
        .to_owned();
    room.browser
        .until(
            "document.querySelectorAll('#operator-rows tr[data-login=\"op1\"] button[data-monitor]').length === 3",
            "the operator on a call gets the monitor buttons",
        )
        .await;
    let shown = monitor_row(&room.browser).await;
    assert_eq!(
        shown,
        serde_json::json!({"status": null, "buttons": ["listen", "whisper", "barge"],
                           "labels": ["傍聴", "ささやき", "三者通話"], "shown": 3, "error": null}),
    );
    let label = room
        .browser
        .eval("document.querySelector('#operator-rows button[data-monitor=\"listen\"]').getAttribute('aria-label')")
        .await;
    assert_eq!(label, "op1 の通話: 傍聴", "the button names whose call");

    // 傍聴 by the keyboard: the POST is refused (no registered phone) and the board says so.
    room.browser
        .eval("document.querySelector('#operator-rows button[data-monitor=\"listen\"]').focus()")
        .await;
    room.browser.press('\u{e007}').await;
    room.browser
        .until(
            "document.querySelector('#operator-rows tr[data-login=\"op1\"] [data-role=\"monitor-error\"]')\
               ?.textContent === 'モニター用の電話が登録されていません'",
            "the refusal's reason is shown next to the operator",
        )
        .await;
    assert_eq!(
        room.browser
            .eval("document.activeElement?.dataset.monitor ?? null")
            .await,
        "listen",
        "the focus stays on the button through the redraw"
    );
    assert!(
        room.fits_width().await,
        "no horizontal scroll with the buttons"
    );
    room.screenshot("1-no-phone").await;

    // Large type: who is monitored stays, the buttons go.
    room.toggle_wall(true).await;
    assert_eq!(
        monitor_row(&room.browser).await["shown"],
        0,
        "no buttons in large type"
    );
    room.toggle_wall(false).await;

    // The other manager's phone registers and joins: ringing, then listening.
    let boss_port = free_udp_port();
    let (code, output) = tokio::task::block_in_place(|| {
        sipp_on(
            "register.xml",
            room.engine.sip,
            boss_port,
            &[
                "-s",
                PHONE_MANAGER,
                "-au",
                PHONE_MANAGER,
                "-ap",
                &password(PHONE_MANAGER),
                "-m",
                "1",
            ],
        )
    });
    assert_eq!(code, 0, "{PHONE_MANAGER} registers:\n{output}");
    let mut boss = Phone::on_sip_port(room.engine.sip, boss_port).await;
    let token = create_token(&room.center.database_url, PHONE_MANAGER);
    let bearer = format!("Bearer {token}");
    let started = tokio::task::block_in_place(|| {
        request(
            room.engine.http,
            "POST",
            &format!("/api/v1/calls/{call_id}/monitor"),
            &[("Authorization", bearer.as_str())],
            Some(r#"{"mode":"listen"}"#),
        )
    });
    assert_eq!(started.status, 202, "{}", started.body);
    room.within_a_second(
        Instant::now(),
        "document.querySelector('#operator-rows tr[data-login=\"op1\"] [data-role=\"monitor-status\"]')\
           ?.textContent === 'モニター中: boss（呼出中）'",
        "the board shows the manager's phone ringing",
    )
    .await;
    assert_eq!(
        monitor_row(&room.browser).await["buttons"],
        serde_json::json!(["stop"]),
        "while it rings the monitoring can only be ended"
    );
    boss.answer_incoming(Duration::from_secs(10)).await;
    room.within_a_second(
        Instant::now(),
        "document.querySelector('#operator-rows tr[data-login=\"op1\"] [data-role=\"monitor-status\"]')\
           ?.textContent === 'モニター中: boss（傍聴）'",
        "the board shows who listens in",
    )
    .await;
    let shown = monitor_row(&room.browser).await;
    assert_eq!(
        shown["buttons"],
        serde_json::json!(["whisper", "barge", "stop"])
    );
    assert_eq!(
        shown["labels"],
        serde_json::json!(["ささやき", "三者通話", "終了"])
    );
    room.screenshot("2-monitored").await;

    // ささやき from the board switches the mode (PUT).
    room.browser
        .click("#operator-rows tr[data-login=\"op1\"] button[data-monitor=\"whisper\"]")
        .await;
    room.browser
        .until(
            "document.querySelector('#operator-rows tr[data-login=\"op1\"] [data-role=\"monitor-status\"]')\
               ?.textContent === 'モニター中: boss（ささやき）'",
            "the board switched the manager to whispering",
        )
        .await;

    // 終了 from the board hangs the manager's phone up; the call goes on.
    room.browser
        .click("#operator-rows tr[data-login=\"op1\"] button[data-monitor=\"stop\"]")
        .await;
    boss.until_bye(Duration::from_secs(10)).await;
    room.browser
        .until(
            "(() => { const row = document.querySelector('#operator-rows tr[data-login=\"op1\"]'); \
               return row?.dataset.state === 'on_call' \
                 && !row.querySelector('[data-role=\"monitor-status\"]') \
                 && row.querySelectorAll('button[data-monitor]').length === 3; })()",
            "the monitoring ended and the call goes on",
        )
        .await;

    // The call ends: no buttons for an operator in wrap-up.
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk_phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "the operator's leg ended with the caller's:\n{}",
        desk_phone.output()
    );
    room.browser
        .until(
            "(() => { const row = document.querySelector('#operator-rows tr[data-login=\"op1\"]'); \
               return row && row.dataset.state !== 'on_call' \
                 && row.querySelectorAll('button[data-monitor]').length === 0; })()",
            "no monitor buttons once the call is over",
        )
        .await;
    room.browser.close().await;
}
