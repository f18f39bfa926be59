//! End to end: the counter support log's page at `/counter` in a real headless Chromium
//! against the real binary on the reference dialplan, its clock at Wednesday 2026-06-10 10:00
//! JST (libfaketime). A counter clerk signs in through the page's form, tries to record a
//! loss re-issue (紛失再交付) as completed without ticking the fee-payment confirmation — the
//! page refuses and nothing is stored — then ticks it and records it; the case appears in
//! today's list and counts, and the API has it with `fee_payment_confirmed: true`. The seat
//! typed once is there again after a reload.
//!
//! Screenshots of each state go to `target/test-artifacts/counter/` (1280×720).

mod support;

use serde_json::Value;
use support::browser::{artifacts_dir, write_tone, Browser, Chromedriver};
use support::{ensure_user, http_get, EngineProcess, Options};

const LOGIN: &str = "tanaka";
const PASSWORD: &str = "counter-password-1";
/// Wednesday 2026-06-10 10:00 JST: the counter is open.
const WEDNESDAY_10_JST: &str = "2026-06-10 01:00:00";

/// The engine and a browser on `/counter` showing the sign-in form.
struct Desk {
    browser: Browser,
    engine: EngineProcess,
    name: &'static str,
    _chromedriver: Chromedriver,
    _files: tempfile::TempDir,
}

impl Desk {
    async fn open(name: &'static str) -> Desk {
        let files = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", files.path().join("counter.db").display());
        let engine = tokio::task::block_in_place(|| {
            ensure_user(&database_url, LOGIN, "agent", PASSWORD);
            EngineProcess::start(Options {
                faketime_utc: Some(WEDNESDAY_10_JST.to_owned()),
                database_url: Some(database_url),
                ..Options::default()
            })
        });
        // The page needs no microphone; the browser helper wants a file for the fake one.
        let tone = files.path().join("silence.wav");
        write_tone(&tone, 440.0);
        let chromedriver = Chromedriver::start().await;
        let mut browser = chromedriver.open(&tone).await;
        browser.describe_with("JSON.stringify(window.madoguchi?.state())");
        browser
            .goto(&format!("http://{}/counter", engine.http))
            .await;
        browser
            .until(
                "window.madoguchi.state().view === 'signed_out' \
                 && document.activeElement?.id === 'sign-in-login'",
                "the sign-in form is shown with the login focused",
            )
            .await;
        Desk {
            browser,
            engine,
            name,
            _chromedriver: chromedriver,
            _files: files,
        }
    }

    async fn screenshot(&self, state: &str) {
        self.browser
            .screenshot("counter", &format!("{}-{state}", self.name))
            .await;
    }

    async fn sign_in(&self) {
        self.browser.type_into("#sign-in-login", LOGIN).await;
        self.browser.type_into("#sign-in-password", PASSWORD).await;
        self.browser.click("#sign-in-submit").await;
        self.browser
            .until(
                "window.madoguchi.state().view === 'signed_in' \
                 && window.madoguchi.state().today.status === 'ready'",
                "the form and today's cases are shown",
            )
            .await;
    }

    /// The cases the API has, as the test admin sees them.
    fn stored_cases(&self) -> Value {
        let (status, body) = tokio::task::block_in_place(|| {
            http_get(self.engine.http, "/api/v1/counter/cases?date=2026-06-10")
        });
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    async fn close(self) {
        self.browser.close().await;
    }
}

impl Drop for Desk {
    /// A failed test leaves the engine's log beside its screenshots.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir("counter").join(format!("{}-engine.log", self.name));
            let _ = std::fs::write(path, self.engine.log());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loss_reissue_is_recorded_only_with_the_fee_payment_confirmed() {
    let desk = Desk::open("loss-reissue").await;
    desk.screenshot("sign-in").await;
    desk.sign_in().await;
    let hours = desk.browser.text("#hours-text").await;
    assert_eq!(hours, "08:30〜17:15（受付中）");
    desk.screenshot("empty").await;

    desk.browser.type_into("#seat", "窓口1").await;
    desk.browser
        .click("#kind-field label:has(> input[value='loss_reissue'])")
        .await;
    desk.browser
        .until(
            "!document.getElementById('fee-field').hidden \
             && !document.getElementById('fee-req').hidden",
            "the fee-payment question appears, required for a completed re-issue",
        )
        .await;

    // Without the confirmation: refused on the page, nothing sent.
    desk.browser.click("#entry-save").await;
    desk.browser
        .until(
            "window.madoguchi.state().errors.fee === 'entry.error.fee_required' \
             && !document.getElementById('fee-error').hidden \
             && document.activeElement?.id === 'fee'",
            "the page refuses and puts the focus on the fee confirmation",
        )
        .await;
    let error = desk.browser.text("#fee-error").await;
    assert_eq!(
        error,
        "紛失再交付を完了とするには、手数料の納付確認が必要です。"
    );
    assert_eq!(desk.stored_cases()["total"], 0, "nothing was recorded");
    desk.screenshot("without-fee-refused").await;

    // With it: recorded, listed and counted.
    desk.browser.click("#fee").await;
    desk.browser.click("#entry-save").await;
    desk.browser
        .until(
            "window.madoguchi.state().lastSaved?.kind === 'loss_reissue' \
             && window.madoguchi.state().today.total === 1 \
             && document.querySelectorAll('#today-rows tr').length === 1",
            "the case is recorded and listed",
        )
        .await;
    let stored = desk.stored_cases();
    assert_eq!(stored["total"], 1);
    let case = &stored["cases"][0];
    assert_eq!(case["kind"], "loss_reissue");
    assert_eq!(case["fee_payment_confirmed"], true);
    assert_eq!(case["outcome"], "completed");
    assert_eq!(case["seat"], "窓口1");
    assert_eq!(case["staff"], LOGIN);
    assert_eq!(case["outside_hours"], false);
    let row = desk.browser.text("#today-rows tr").await;
    assert!(
        row.contains("紛失再交付") && row.contains("納付確認済") && row.contains("10:0"),
        "{row}"
    );
    let status = desk.browser.text("#entry-status").await;
    assert_eq!(status, "紛失再交付を記録しました。");
    // The form is ready for the next case: no kind, 完了, the same seat, the box cleared.
    let ready = desk
        .browser
        .eval(
            "[document.querySelector('input[name=kind]:checked')?.value ?? null, \
              document.querySelector('input[name=outcome]:checked')?.value, \
              document.getElementById('seat').value, document.getElementById('fee').checked, \
              document.getElementById('fee-field').hidden]",
        )
        .await;
    assert_eq!(
        ready,
        serde_json::json!([null, "completed", "窓口1", false, true])
    );
    desk.screenshot("recorded").await;

    // The seat is remembered across a reload; the session too.
    desk.browser
        .goto(&format!("http://{}/counter", desk.engine.http))
        .await;
    desk.browser
        .until(
            "window.madoguchi.state().view === 'signed_in' \
             && document.getElementById('seat').value === '窓口1' \
             && window.madoguchi.state().today.total === 1",
            "after a reload the seat is filled in and today's case listed",
        )
        .await;

    desk.browser.click("#lang-toggle").await;
    desk.browser
        .until(
            "document.documentElement.lang === 'en' \
             && document.getElementById('today-rows').textContent.includes('Loss re-issue')",
            "the page switches to English",
        )
        .await;
    desk.screenshot("english").await;
    desk.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_of_today_is_corrected_from_its_row() {
    let desk = Desk::open("correction").await;
    desk.sign_in().await;
    desk.browser.type_into("#seat", "窓口2").await;
    desk.browser
        .click("#kind-field label:has(> input[value='renewal'])")
        .await;
    desk.browser.click("#entry-save").await;
    desk.browser
        .until(
            "window.madoguchi.state().today.total === 1 \
             && document.querySelector('#today-rows button') !== null",
            "the renewal is listed with its correction button",
        )
        .await;

    desk.browser.click("#today-rows button").await;
    desk.browser
        .until(
            "window.madoguchi.state().editing !== null \
             && document.querySelector('input[name=kind]:checked')?.value === 'renewal' \
             && !document.getElementById('entry-cancel').hidden",
            "the form holds the case for correcting",
        )
        .await;
    desk.browser
        .click("#outcome-field label:has(> input[value='continued_later'])")
        .await;
    desk.screenshot("correcting").await;
    desk.browser.click("#entry-save").await;
    desk.browser
        .until(
            "window.madoguchi.state().editing === null \
             && window.madoguchi.state().lastSaved?.outcome === 'continued_later' \
             && document.getElementById('today-rows').textContent.includes('後日継続')",
            "the correction is saved and listed",
        )
        .await;
    let stored = desk.stored_cases();
    assert_eq!(stored["total"], 1, "a correction adds no case");
    assert_eq!(stored["cases"][0]["outcome"], "continued_later");
    assert_eq!(stored["cases"][0]["seat"], "窓口2");
    desk.screenshot("corrected").await;
    desk.close().await;
}
