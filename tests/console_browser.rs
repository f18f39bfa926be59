//! End to end: the operator console at `/agent` in a real headless Chromium against the real
//! binary. An operator (made with `madoguchi user add`) signs in through the page's form, goes
//! available, and takes a call from the test phone by pressing Enter; the audio runs through
//! the engine's WebRTC leg both ways; the wrap-up form files the classification; a second test
//! transfers from the console to a sipp city line. The dialplan is
//! tests/dialplans/console.toml: always open, queue `desk` with a wrap-up far longer than a
//! test, so only filing the classification makes the operator available again.
//!
//! Audio is checked by frequency: the browser's fake microphone plays [`OPERATOR_HZ`], the
//! caller sends [`CALLER_HZ`]. The caller's Goertzel filter must hear the operator's tone, at
//! a speaking level; the page's analyser (`window.madoguchi.remoteLevel`) must hear the
//! caller's. The two take turns, as people do: the operator greets, then the caller talks.
//! (Chromium's echo canceller, which the console keeps on, all but mutes a microphone that
//! plays while the far end talks without pause, for the first ten seconds or so.)
//!
//! Screenshots of each state of the console are saved under
//! `target/test-artifacts/console/` (`answer-*.png`, `transfer-*.png`).

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::browser::{
    answer_by_enter, artifacts_dir, page_hears, write_tone, Browser, Chromedriver, PAGE_QUIET,
};
use support::center::{password, wait_for_state, Center, SippProcess};
use support::phone::Phone;
use support::tone::{self, CALLER_HZ, FAR_END_HZ};
use support::{free_udp_port, repo_root, EngineProcess, Options};

/// The operator's microphone tone (the far end, for the caller).
const OPERATOR_HZ: f64 = FAR_END_HZ;
const LOGIN: &str = "suzuki";
/// The test phone's number (its From header), which the console shows.
const CALLER_NUMBER: &str = "0467001234";
/// How much stronger than every other probe a tone must be for the caller to hear it.
const HEARD: f64 = 30.0;
/// The quietest the caller may hear it (RMS of 16-bit samples, about -40 dBFS; the tone is
/// played at about -9 dBFS): a tone the browser's audio processing has all but removed
/// does not count.
const AUDIBLE_RMS: f64 = 300.0;

/// An engine with one operator and that operator's browser on `/agent`, showing the sign-in
/// form.
struct Desk {
    browser: Browser,
    engine: EngineProcess,
    /// The test's name, for its artefacts.
    name: &'static str,
    _chromedriver: Chromedriver,
    _microphone: tempfile::TempDir,
    _center: Center,
}

impl Desk {
    async fn open(name: &'static str, extra_args: Vec<String>) -> Desk {
        let center = Center::with_operators(&[LOGIN]);
        let engine = tokio::task::block_in_place(|| {
            EngineProcess::start(Options {
                dialplan: Some(repo_root().join("tests/dialplans/console.toml")),
                database_url: Some(center.database_url.clone()),
                extra_args,
                ..Options::default()
            })
        });
        let microphone = tempfile::tempdir().expect("temp dir");
        let tone_file = microphone.path().join("operator.wav");
        write_tone(&tone_file, OPERATOR_HZ);
        let chromedriver = Chromedriver::start().await;
        let mut browser = chromedriver.open(&tone_file).await;
        browser.describe_with("JSON.stringify(window.madoguchi.state())");
        browser.goto(&format!("http://{}/agent", engine.http)).await;
        browser
            .until(
                "window.madoguchi.state().session === 'signed_out' \
                 && document.activeElement?.id === 'sign-in-login'",
                "the sign-in form is shown",
            )
            .await;
        Desk {
            browser,
            engine,
            name,
            _chromedriver: chromedriver,
            _microphone: microphone,
            _center: center,
        }
    }

    async fn screenshot(&self, state: &str) {
        self.browser
            .screenshot("console", &format!("{}-{state}", self.name))
            .await;
    }

    /// Signs in through the form; returns once the console's socket and audio are up.
    async fn sign_in(&self) {
        self.browser.type_into("#sign-in-login", LOGIN).await;
        self.browser
            .type_into("#sign-in-password", &password(LOGIN))
            .await;
        self.browser.click("#sign-in-submit").await;
        self.browser
            .until(
                "window.madoguchi.state().connection === 'open' \
                 && window.madoguchi.state().media === 'up'",
                "the console's socket and audio come up",
            )
            .await;
    }

    /// Presses 受付可 and waits until the page and the live queue state agree.
    async fn go_available(&self) {
        self.browser.click("#go-available").await;
        self.browser
            .until(
                "window.madoguchi.state().operator.state === 'available'",
                "the console shows the operator available",
            )
            .await;
        let seen = tokio::task::block_in_place(|| wait_for_state(&self.engine, LOGIN, "available"));
        assert_eq!(seen["state"], "available", "{seen}");
    }

    /// Places a call from the test phone (silent for now); waits until the console shows the
    /// offer with the answer button focused. Returns the phone and where its audio goes.
    async fn call_in(&self) -> (Phone, SocketAddr) {
        let mut caller = Phone::new(self.engine.sip).await;
        let answer = caller.call("0120000000").await;
        assert_eq!(answer.status(), Some(200), "the hotline answers the caller");
        let media = answer.sdp_media().expect("the engine's answer has media");
        self.browser
            .until(
                "window.madoguchi.state().call?.phase === 'offered' \
                 && window.madoguchi.state().operator.state === 'ringing' \
                 && document.activeElement?.id === 'answer'",
                "the console shows the offer, ready to answer",
            )
            .await;
        (caller, media)
    }

    /// Answers the offered call with Enter, as an operator at the keyboard; waits until the
    /// console and the engine have the call connected.
    async fn answer_by_keyboard(&self) {
        answer_by_enter(&self.browser).await;
        tokio::task::block_in_place(|| wait_for_state(&self.engine, LOGIN, "on_call"));
    }

    /// The call record whose inbound SIP Call-ID is `sip_call_id` (records are written
    /// when calls end, asynchronously).
    fn record(&self, sip_call_id: &str) -> Value {
        tokio::task::block_in_place(|| self.engine.record_of(sip_call_id))
    }

    async fn close(self) {
        self.browser.close().await;
    }
}

impl Drop for Desk {
    /// A failed test leaves the engine's log beside its screenshots.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir("console").join(format!("{}-engine.log", self.name));
            let _ = std::fs::write(path, self.engine.log());
        }
    }
}

/// Listens in half-second windows until one is dominated by `hz` at an audible level (or
/// 15 s pass); returns the strongest dominance among the audible windows and the loudest
/// level heard.
async fn hear(phone: &mut Phone, hz: f64) -> (f64, f64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let (mut best, mut loudest) = (0.0f64, 0.0f64);
    while Instant::now() < deadline && best <= HEARD {
        phone.heard.clear();
        phone.listen(25, Duration::from_secs(2)).await;
        let samples = phone.heard_samples(0);
        if samples.len() < 25 * tone::FRAME {
            continue;
        }
        let level = rms(&samples);
        loudest = loudest.max(level);
        if level >= AUDIBLE_RMS {
            best = best.max(tone::dominance(&samples, hz));
        }
    }
    (best, loudest)
}

fn rms(samples: &[i16]) -> f64 {
    let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    (energy / samples.len().max(1) as f64).sqrt()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_takes_a_call_in_the_browser_and_classifies_it() {
    let desk = Desk::open("answer", Vec::new()).await;
    desk.screenshot("1-signed-out").await;
    desk.sign_in().await;
    desk.go_available().await;
    desk.screenshot("2-available").await;

    let (mut caller, caller_media) = desk.call_in().await;
    assert_eq!(desk.browser.text("#call-caller").await, CALLER_NUMBER);
    desk.screenshot("3-offered").await;
    desk.answer_by_keyboard().await;

    let (heard, level) = hear(&mut caller, OPERATOR_HZ).await;
    assert!(
        heard > HEARD,
        "the caller heard the operator's {OPERATOR_HZ} Hz only {heard:.1}x over other tones \
         (loudest RMS {level:.0})\n{}",
        desk.engine.log()
    );
    let talking = caller.send_tone(caller_media, CALLER_HZ);
    let (caller_share, other_share) = page_hears(&desk.browser, CALLER_HZ, OPERATOR_HZ).await;
    assert!(
        other_share < PAGE_QUIET,
        "the console hears {CALLER_HZ} Hz ({caller_share:.2}) but also {OPERATOR_HZ} Hz ({other_share:.2})"
    );
    desk.screenshot("4-on-call").await;

    // The operator fills the form while talking, as operators do.
    let note = "カード申請の方法を案内した";
    desk.browser.select("#wu-category", "イ").await;
    desk.browser.click("#wu-outcome-resolved_faq").await;
    desk.browser.type_into("#wu-note", note).await;
    drop(talking);
    assert_eq!(caller.hangup().await.status(), Some(200));
    // (The `ended` a caller's BYE sends once named no call, and the card stayed connected.)
    desk.browser
        .until(
            "window.madoguchi.state().call?.phase === 'ended' \
             && window.madoguchi.state().operator.state === 'wrap_up'",
            "the console shows the call over and the operator in wrap-up",
        )
        .await;
    tokio::task::block_in_place(|| wait_for_state(&desk.engine, LOGIN, "wrap_up"));
    desk.screenshot("5-wrap-up").await;

    desk.browser.click("#wu-save").await;
    // The queue's wrap-up lasts 10 minutes: only the filing can have ended it.
    tokio::task::block_in_place(|| wait_for_state(&desk.engine, LOGIN, "available"));
    // A saved form is put away as soon as the operator is available again (which filing
    // does at once); a refused one would be back to editing.
    desk.browser
        .until(
            "(() => { const s = window.madoguchi.state(); \
               return s.operator.state === 'available' && s.call === null \
                 && (s.wrapup === null || s.wrapup.status === 'saved'); })()",
            "the console has filed the form and shows the operator available again",
        )
        .await;
    desk.screenshot("6-saved-available").await;

    let record = desk.record(&caller.call_id);
    assert_eq!(record["disposition"], "answered", "{record}");
    assert_eq!(record["operator"], LOGIN, "{record}");
    let id = record["id"].as_str().expect("the record has an id");
    let (status, body) = desk.engine.get(&format!("/api/v1/calls/{id}"));
    assert_eq!(status, 200, "{body}");
    let call: Value = serde_json::from_str(&body).expect("json");
    let classification = &call["classification"];
    assert_eq!(classification["category"], "イ", "{call}");
    assert_eq!(classification["outcome"], "resolved_faq", "{call}");
    assert_eq!(classification["complaint"], false, "{call}");
    assert_eq!(classification["note"], note, "{call}");
    assert_eq!(classification["operator"], LOGIN, "{call}");
    desk.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_from_the_console_reaches_the_city_line() {
    let city_port = free_udp_port();
    let desk = Desk::open(
        "transfer",
        vec![
            "--city-line".to_owned(),
            format!("sip:city@127.0.0.1:{city_port}"),
        ],
    )
    .await;
    let mut city = SippProcess::phone("city_line.xml", city_port, &["-m", "1", "-rtp_echo"]);
    desk.sign_in().await;
    desk.go_available().await;
    let (mut caller, caller_media) = desk.call_in().await;
    desk.answer_by_keyboard().await;
    let (heard, level) = hear(&mut caller, OPERATOR_HZ).await;
    assert!(
        heard > HEARD,
        "before the transfer the caller hears the operator: only {heard:.1}x (RMS {level:.0})\n{}",
        desk.engine.log()
    );
    let _talking = caller.send_tone(caller_media, CALLER_HZ);

    // One click transfers.
    desk.browser.click("#transfer").await;
    desk.browser
        .until(
            "window.madoguchi.state().call?.phase === 'ended'",
            "the console's call ends with the transfer",
        )
        .await;
    assert_eq!(
        desk.browser
            .eval("document.getElementById('wu-outcome-transferred_city').checked")
            .await,
        true,
        "the wrap-up form takes the transfer as the outcome"
    );
    desk.screenshot("1-transferred").await;

    // The caller is with the city line now: its own tone comes back from the echo.
    let (heard, level) = hear(&mut caller, CALLER_HZ).await;
    assert!(
        heard > HEARD,
        "the city line's echo of the caller: only {heard:.1}x (RMS {level:.0})\n{}\n{}",
        city.output(),
        desk.engine.log()
    );
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        city.exited(Duration::from_secs(15)).await,
        Some(0),
        "the city line answered and got the BYE:\n{}",
        city.output()
    );

    let record = desk.record(&caller.call_id);
    assert_eq!(record["disposition"], "transferred", "{record}");
    assert_eq!(record["operator"], LOGIN, "{record}");
    assert_eq!(record["transfer_target"], "city_line", "{record}");
    assert_eq!(record["transfer_result"], "answered", "{record}");
    desk.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_socket_during_a_call_keeps_the_caller_and_the_console_resyncs() {
    let desk = Desk::open("reconnect", Vec::new()).await;
    desk.sign_in().await;
    desk.go_available().await;
    let (mut caller, _) = desk.call_in().await;
    desk.answer_by_keyboard().await;
    let (heard, _) = hear(&mut caller, OPERATOR_HZ).await;
    assert!(heard > HEARD, "the call is up: {heard:.1}x");

    // The control socket drops (a network blip); the audio is a connection of its own.
    desk.browser.eval("window.madoguchi.dropSocket()").await;
    let welcome = desk
        .browser
        .until(
            "(() => { const m = window.madoguchi.lastMessage; \
               return m && m.type === 'welcome' && m.call && m.call.connected ? m : null; })()",
            "the reconnected console is greeted with its connected call",
        )
        .await;
    assert_eq!(welcome["media"], true, "{welcome}");
    assert_eq!(welcome["state"], "on_call", "{welcome}");
    let (heard, _) = hear(&mut caller, OPERATOR_HZ).await;
    assert!(
        heard > HEARD,
        "the caller still hears the operator after the socket dropped: {heard:.1}x\n{}",
        desk.engine.log()
    );
    desk.screenshot("1-after-reconnect").await;

    // The console still controls the call through its new socket.
    desk.browser
        .until(
            "window.madoguchi.state().connection === 'open' \
             && window.madoguchi.state().call?.phase === 'connected'",
            "the console shows the call connected again",
        )
        .await;
    desk.browser.click("#hangup").await;
    caller.until_bye(Duration::from_secs(10)).await;
    let record = desk.record(&caller.call_id);
    assert_eq!(record["disposition"], "answered", "{record}");
    assert_eq!(record["hangup_cause"], "operator_bye", "{record}");
    desk.close().await;
}
