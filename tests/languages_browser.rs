//! End to end: the caller's language (issue 9) from the test phone through the real binary to
//! a real headless Chromium. The dialplan is tests/dialplans/languages_browser.toml: always
//! open, a menu where "9" chooses English, one queue `desk`; an English caller is offered only
//! to operators who speak English for longer than any test lasts, so an offer seen here was
//! routed by the skill. Operators' languages are set with `madoguchi user languages` on the
//! engine's database before it starts, as an administrator does.
//!
//! The operator who speaks English takes the call on the console at `/agent`: the offer and
//! the connected call carry the 「English」 badge, audio flows both ways (the operator's fake
//! microphone plays [`FAR_END_HZ`], the caller sends [`CALLER_HZ`]; they take turns, see
//! tests/console_browser.rs), and the stored record says `en`. The manager's board at
//! `/manager` lists an English caller waiting, with the badge, while the only operator free
//! speaks Japanese only.
//!
//! Screenshots: `target/test-artifacts/console/language-*.png` and
//! `target/test-artifacts/manager/language-*.png`.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::browser::{
    answer_by_enter, artifacts_dir, chromium, page_hears, sign_in_board, sign_in_console, Browser,
    PAGE_QUIET,
};
use support::center::{operator, register, wait_for_state, Center};
use support::phone::{hear, Phone, HEARD};
use support::tone::{CALLER_HZ, FAR_END_HZ};
use support::{ensure_user, madoguchi_cli, repo_root, EngineProcess};

/// The operator who speaks English.
const ENGLISH_SPEAKER: &str = "en1";
/// An operator who speaks only the default language, Japanese.
const JAPANESE_SPEAKER: &str = "ja1";
const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
/// The test phone's number (its From header), which the console shows.
const CALLER_NUMBER: &str = "0467001234";
/// The badge's words for a screen reader in the Japanese display.
const BADGE_LABEL: &str = "発信者の言語: 英語";

/// A center with `logins` as operators, `ENGLISH_SPEAKER` speaking English.
fn center(logins: &[&str]) -> Center {
    let center = Center::with_operators(logins);
    let (code, _, stderr) = madoguchi_cli(
        &[
            "user",
            "languages",
            ENGLISH_SPEAKER,
            "en",
            "--database-url",
            &center.database_url,
        ],
        "",
    );
    assert_eq!(code, 0, "user languages {ENGLISH_SPEAKER} en: {stderr}");
    center
}

fn start(center: &Center) -> EngineProcess {
    tokio::task::block_in_place(|| {
        center.start_with(
            &repo_root().join("tests/dialplans/languages_browser.toml"),
            &[],
        )
    })
}

/// A caller answered by the hotline, into the menu, pressing 9 (English); returns the phone
/// and where its audio goes.
async fn english_caller(engine: &EngineProcess) -> (Phone, std::net::SocketAddr) {
    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "{}", engine.log());
    let media = answer.sdp_media().expect("the answer has media");
    // The menu prompt is playing once its first frames arrive.
    caller.listen(5, Duration::from_secs(10)).await;
    caller.send_dtmf(media, b'9', 1000, 160_000).await;
    (caller, media)
}

/// Whether the element `css` is on the page and shown.
fn visible(css: &str) -> String {
    format!(
        "(() => {{ const e = document.querySelector('{css}'); \
           return Boolean(e) && !e.closest('[hidden]') && e.offsetParent !== null; }})()"
    )
}

/// The console's language badge as the page shows it.
async fn console_badge(browser: &Browser) -> Value {
    browser
        .eval(&format!(
            "(() => {{ const e = document.getElementById('call-language'); \
               return {{ shown: {shown}, text: e.textContent, lang: e.lang, \
                 label: e.getAttribute('aria-label') }}; }})()",
            shown = visible("#call-language"),
        ))
        .await
}

/// A failed test leaves the engine's log beside its screenshots.
struct KeepLog<'a> {
    engine: &'a EngineProcess,
    area: &'static str,
}

impl Drop for KeepLog<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir(self.area).join("language-engine.log");
            let _ = std::fs::write(path, self.engine.log());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_english_speaking_operator_takes_an_english_caller_on_the_console_with_the_badge() {
    let center = center(&[ENGLISH_SPEAKER]);
    let engine = start(&center);
    let _log = KeepLog {
        engine: &engine,
        area: "console",
    };
    let (_chromedriver, mut browser, _microphone) = chromium(FAR_END_HZ).await;
    browser.describe_with("JSON.stringify(window.madoguchi.state())");
    browser.goto(&format!("http://{}/agent", engine.http)).await;
    sign_in_console(&browser, ENGLISH_SPEAKER).await;
    browser.click("#go-available").await;
    tokio::task::block_in_place(|| wait_for_state(&engine, ENGLISH_SPEAKER, "available"));

    let (mut caller, caller_media) = english_caller(&engine).await;
    browser
        .until(
            &format!(
                "window.madoguchi.state().call?.phase === 'offered' \
                 && document.activeElement?.id === 'answer' && {}",
                visible("#call-language")
            ),
            "the console shows the English caller's offer with its badge",
        )
        .await;
    let badge = console_badge(&browser).await;
    assert_eq!(badge["text"], "English", "{badge}");
    assert_eq!(badge["lang"], "en", "{badge}");
    assert_eq!(badge["label"], BADGE_LABEL, "{badge}");
    assert_eq!(browser.text("#call-caller").await, CALLER_NUMBER);
    assert_eq!(browser.eval("document.documentElement.lang").await, "ja");
    browser.screenshot("console", "language-offered").await;

    answer_by_enter(&browser).await;
    tokio::task::block_in_place(|| wait_for_state(&engine, ENGLISH_SPEAKER, "on_call"));

    // The operator greets, then the caller talks.
    let (heard, _) = hear(&mut caller, FAR_END_HZ, CALLER_HZ).await;
    assert!(
        heard > HEARD,
        "the caller heard the operator's {FAR_END_HZ} Hz only {heard:.1}x over other tones\n{}",
        engine.log()
    );
    let talking = caller.send_tone(caller_media, CALLER_HZ);
    let (_, own) = page_hears(&browser, CALLER_HZ, FAR_END_HZ).await;
    assert!(
        own < PAGE_QUIET,
        "the console hears the caller but also its own tone ({own:.2})"
    );

    let badge = console_badge(&browser).await;
    assert_eq!(badge["shown"], true, "the badge stays on the call: {badge}");
    assert_eq!(badge["text"], "English", "{badge}");
    browser.screenshot("console", "language-on-call").await;

    drop(talking);
    assert_eq!(caller.hangup().await.status(), Some(200));
    browser
        .until(
            "window.madoguchi.state().call?.phase === 'ended'",
            "the console shows the call over",
        )
        .await;
    let record = tokio::task::block_in_place(|| engine.record_of(&caller.call_id));
    assert_eq!(record["language"], "en", "{record}");
    assert_eq!(record["operator"], ENGLISH_SPEAKER, "{record}");
    assert_eq!(record["disposition"], "answered", "{record}");
    assert_eq!(record["language_fallback"], Value::Null, "{record}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_lists_an_english_caller_waiting_with_the_badge_while_no_english_speaker_is_free()
{
    let center = center(&[JAPANESE_SPEAKER, ENGLISH_SPEAKER]);
    ensure_user(&center.database_url, MANAGER, "manager", MANAGER_PASSWORD);
    let engine = start(&center);
    let _log = KeepLog {
        engine: &engine,
        area: "manager",
    };
    // The English speaker never signs in; the Japanese speaker's phone registers.
    tokio::task::block_in_place(|| {
        register(&engine, JAPANESE_SPEAKER);
        wait_for_state(&engine, JAPANESE_SPEAKER, "available");
    });
    let (_chromedriver, mut browser, _microphone) = chromium(FAR_END_HZ).await;
    browser.describe_with("JSON.stringify(window.madoguchiBoard?.state())");
    browser
        .goto(&format!("http://{}/manager", engine.http))
        .await;
    sign_in_board(&browser, MANAGER, MANAGER_PASSWORD).await;
    browser
        .until(
            "(() => { const s = window.madoguchiBoard.state(); \
               return s.view === 'board' && s.connection === 'open' && s.states > 0; })()",
            "the board is shown with its live stream open",
        )
        .await;

    let (mut caller, _) = english_caller(&engine).await;
    let row = browser
        .until(
            "(() => { const rows = [...document.querySelectorAll('#waiting-rows tr')]; \
               if (rows.length !== 1) return null; \
               const badge = rows[0].querySelector('.language-badge'); \
               return badge ? { queue: rows[0].cells[1].textContent, text: badge.textContent, \
                 lang: badge.lang, label: badge.getAttribute('aria-label') } : null; })()",
            "the board lists the English caller with a badge",
        )
        .await;
    assert_eq!(row["text"], "English", "{row}");
    assert_eq!(row["lang"], "en", "{row}");
    assert_eq!(row["label"], BADGE_LABEL, "{row}");
    assert_eq!(row["queue"], "desk", "{row}");
    // The Japanese speaker is free and stays so: the caller waits for English.
    assert_eq!(
        browser
            .eval(&format!(
                "document.querySelector('#operator-rows tr[data-login=\"{JAPANESE_SPEAKER}\"]')\
                   ?.dataset.state"
            ))
            .await,
        "available"
    );
    let japanese = tokio::task::block_in_place(|| operator(&engine, JAPANESE_SPEAKER));
    assert_eq!(japanese["state"], "available", "{japanese}");
    browser.screenshot("manager", "language-waiting").await;

    assert_eq!(caller.hangup().await.status(), Some(200));
    browser.close().await;
}
