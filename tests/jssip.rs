//! A standard browser SIP phone as an operator (issue 4, item 6): JsSIP — the npm package
//! `jssip`, bundled for the browser at test time — in headless Chromium registers over
//! `ws://…/ws/sip` (RFC 7118) with digest, becomes available, and answers a queue call from the
//! test phone. The engine's INVITE carries its WebRTC offer; audio runs DTLS-SRTP both ways:
//! Chromium's fake microphone tone is heard by the caller, and the caller's tone by the page's
//! Web Audio analyser.
//!
//! Needs node/npm (the npm registry, the first time: the bundle is kept in
//! `target/jssip/`), chromium and chromium-driver; scripts/test.sh installs them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::http::header;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use support::browser::{Browser, Chromedriver, PAGE_DEADLINE};
use support::center::{self, Center};
use support::phone::Phone;
use support::tone::{self, CALLER_HZ, FAR_END_HZ, PROBES};

const PAGE: &str = include_str!("jssip/phone.html");
const LOGIN: &str = "op1";
/// The JsSIP release line the test is written against, and the bundler for it.
const NPM_PACKAGES: [&str; 2] = ["jssip@3", "esbuild@0.28"];
/// How much stronger than every other probe the caller must hear the browser's tone.
const HEARD: f64 = 30.0;
/// How far above every other probe the page's analyser must put the caller's tone.
const MARGIN_DB: f64 = 20.0;

/// Where cargo keeps build output (`target/`), wherever it is.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| support::repo_root().join("target"))
}

fn run(program: &Path, arguments: &[&str], dir: &Path) {
    let output = Command::new(program)
        .args(arguments)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} cannot run ({e}): install nodejs and npm (scripts/test.sh does)",
                program.display()
            )
        });
    assert!(
        output.status.success(),
        "{} {arguments:?} failed:\n{}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// JsSIP as one browser script defining `JsSIP` (the package ships CommonJS only): installed
/// with npm and bundled with esbuild into `target/jssip/jssip.js` the first time, then kept.
fn jssip_bundle() -> &'static Path {
    static BUNDLE: OnceLock<PathBuf> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = target_dir().join("jssip");
        let bundle = dir.join("jssip.js");
        if bundle.exists() {
            return bundle;
        }
        std::fs::create_dir_all(&dir).expect("target/jssip can be made");
        let mut install = vec!["install", "--no-audit", "--no-fund", "--loglevel=error"];
        install.extend(NPM_PACKAGES);
        run(Path::new("npm"), &install, &dir);
        // Written aside and renamed, so an interrupted run never leaves half a bundle.
        let partial = dir.join("jssip.js.partial");
        let outfile = format!("--outfile={}", partial.display());
        run(
            &dir.join("node_modules/.bin/esbuild"),
            &[
                "node_modules/jssip/lib/JsSIP.js",
                "--bundle",
                "--format=iife",
                "--global-name=JsSIP",
                "--platform=browser",
                "--log-level=warning",
                &outfile,
            ],
            &dir,
        );
        std::fs::rename(&partial, &bundle).expect("the bundle can be moved into place");
        bundle
    })
}

/// Serves the phone page and the JsSIP bundle on a port of its own; returns the page's URL.
async fn serve_page(bundle: &Path) -> String {
    let script = std::fs::read(bundle).expect("the bundle can be read");
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/jssip.js",
            get(move || async move { ([(header::CONTENT_TYPE, "text/javascript")], script) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the page");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service()).await;
    });
    format!("http://{address}/")
}

/// Listens in half-second windows until one is dominated by `hz` (or 10 s pass); returns the
/// strongest dominance heard.
async fn hear(phone: &mut Phone, hz: f64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut best = 0.0f64;
    while Instant::now() < deadline && best <= HEARD {
        phone.heard.clear();
        phone.listen(25, Duration::from_secs(2)).await;
        let samples = phone.heard_samples(0);
        if samples.len() >= 25 * tone::FRAME {
            best = best.max(tone::dominance(&samples, hz));
        }
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jssip_phone_registers_over_websocket_and_answers_a_queue_call_with_audio_both_ways() {
    let bundle = tokio::task::spawn_blocking(jssip_bundle)
        .await
        .expect("the bundle is made");
    let center = Center::with_operators(&[LOGIN]);
    let page = serve_page(bundle).await;
    // The page comes from a port of its own: the engine must trust that origin for /ws/sip.
    let origin = page.trim_end_matches('/').to_owned();
    let engine = center.start(&["--web-origin".to_owned(), origin]);

    let scratch = tempfile::tempdir().expect("a scratch folder");
    let microphone = scratch.path().join("operator.wav");
    support::browser::write_tone(&microphone, FAR_END_HZ);
    let chromedriver = Chromedriver::start().await;
    let mut browser: Browser = chromedriver.open(&microphone).await;
    browser.describe_with("JSON.stringify(window.phone)");
    let query = format!(
        "?ws=ws://{}/ws/sip&user={LOGIN}&domain=127.0.0.1&password={}",
        engine.http,
        center::password(LOGIN)
    );
    browser.goto(&format!("{page}{query}")).await;

    // Registered with digest over the WebSocket: the operator is available.
    browser
        .until(
            "window.phone.registration === 'registered'",
            "JsSIP registers",
        )
        .await;
    tokio::task::block_in_place(|| center::wait_for_state(&engine, LOGIN, "available"));

    // A caller reaches the queue; the engine rings the browser with a WebRTC offer.
    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "the hotline answers");
    let _talking = caller.send_tone(answer.sdp_media().expect("an RTP address"), CALLER_HZ);
    browser
        .until(
            "window.phone.call === 'confirmed'",
            "JsSIP answers the call",
        )
        .await;
    let offer = browser.eval("window.phone.offer").await;
    let offer = offer.as_str().unwrap_or_default();
    assert!(
        offer.contains("UDP/TLS/RTP/SAVPF") && offer.contains("a=ice-lite"),
        "a WebRTC offer: {offer}"
    );
    browser
        .until(
            "window.phone.connection === 'connected'",
            "DTLS-SRTP comes up",
        )
        .await;
    tokio::task::block_in_place(|| center::wait_for_state(&engine, LOGIN, "on_call"));
    browser.screenshot("jssip", "on-call").await;

    // The browser's microphone reaches the caller…
    let heard = hear(&mut caller, FAR_END_HZ).await;
    assert!(
        heard > HEARD,
        "the caller heard the browser's {FAR_END_HZ} Hz only {heard:.1}x over other tones\n{}",
        engine.log()
    );
    // …and the caller's tone reaches the page.
    let verdict = tokio::time::timeout(
        PAGE_DEADLINE + Duration::from_secs(5),
        browser.client.execute_async(
            "const [wanted, probes, margin, limit, done] = arguments;\
             window.waitForTone(wanted, probes, margin, limit).then(done);",
            vec![
                json!(CALLER_HZ),
                json!(PROBES.to_vec()),
                json!(MARGIN_DB),
                json!(PAGE_DEADLINE.as_millis() as f64),
            ],
        ),
    )
    .await
    .expect("the page answers in time")
    .expect("the page's script runs");
    assert_eq!(
        verdict["dominant"],
        json!(true),
        "the page's analyser did not hear the caller's {CALLER_HZ} Hz: {verdict}"
    );

    // The caller hangs up: the browser's call ends and the call is the operator's.
    assert_eq!(caller.hangup().await.status(), Some(200));
    browser
        .until(
            "window.phone.call.startsWith('ended')",
            "the browser's call ends",
        )
        .await;
    let calls = tokio::task::block_in_place(|| engine.wait_for_calls(1));
    let record = &calls["calls"][0];
    assert_eq!(record["disposition"], "answered", "{record}");
    assert_eq!(record["operator"], LOGIN, "{record}");
    browser.close().await;
}
