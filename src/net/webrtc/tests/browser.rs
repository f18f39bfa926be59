//! The leg against a real browser: headless Chromium (Debian's chromium and chromium-driver),
//! driven over WebDriver, its microphone a fake device playing a tone file. The page
//! (`testdata/leg.html`) offers, the test answers with [`accept`], and audio is checked both
//! ways: the browser's tone in the RTP the leg receives (Goertzel), the leg's tone in the
//! browser's Web Audio analyser.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use super::{audio, tone, LegState, GUARD, LOOPBACK};
use crate::net::webrtc::{accept, WebRtcConfig, WebRtcLeg};
use madoguchi_media::Codec;

const PAGE: &str = include_str!("../testdata/leg.html");
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser's microphone tone: a probe frequency clear of the leg's (2.8 kHz).
const BROWSER_HZ: f64 = 1000.0;
/// The browser's analyser must put the leg's tone this far above every other probe.
const MARGIN_DB: f64 = 20.0;
/// Packets from the browser skipped before analysing: its first ones may be silence.
const SETTLING_PACKETS: usize = 25;

/// Writes a second of `hz` at 48 kHz, mono, 16-bit: a whole number of cycles, so Chromium's
/// looping of the file leaves no click.
fn write_tone(path: &Path, hz: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(path, spec).expect("the tone file can be written");
    for n in 0..48_000 {
        let phase = 2.0 * std::f64::consts::PI * hz * f64::from(n) / 48_000.0;
        wav.write_sample((12_000.0 * phase.sin()) as i16)
            .expect("the tone file can be written");
    }
    wav.finalize().expect("the tone file can be written");
}

/// chromedriver on a port of its choosing, ended with the test.
struct Chromedriver {
    _process: Child,
    url: String,
}

impl Chromedriver {
    async fn start() -> Chromedriver {
        let mut process = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{CHROMEDRIVER} cannot run ({error}): install chromium and chromium-driver (scripts/test.sh does)")
            });
        let stdout = process.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(GUARD, async {
            while let Ok(Some(line)) = lines.next_line().await {
                // "ChromeDriver was started successfully on port 36345."
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    return rest.trim_end_matches('.').parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .expect("chromedriver starts in time")
        .expect("chromedriver says which port it listens on");
        // Keep reading so a chatty chromedriver never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Chromedriver {
            _process: process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn browser(&self, microphone: &Path) -> fantoccini::Client {
        let arguments = [
            "--headless=new".to_owned(),
            // Root (CI) cannot use Chromium's sandbox.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
            "--use-fake-device-for-media-stream".to_owned(),
            format!("--use-file-for-fake-audio-capture={}", microphone.display()),
            // The engine's candidate is on 127.0.0.1 in the test.
            "--allow-loopback-in-peer-connection".to_owned(),
            "--autoplay-policy=no-user-gesture-required".to_owned(),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "args": arguments }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        tokio::time::timeout(
            GUARD,
            fantoccini::ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&self.url),
        )
        .await
        .expect("Chromium starts in time")
        .expect("chromedriver opens a Chromium session")
    }
}

/// An offer from the page and where its answer goes.
type OfferExchange = (String, oneshot::Sender<Option<String>>);

/// Serves the page, and hands each offer POSTed to `/offer` to the test.
async fn serve_page() -> (String, mpsc::Receiver<OfferExchange>) {
    async fn offer(
        State(offers): State<mpsc::Sender<OfferExchange>>,
        body: String,
    ) -> Result<String, StatusCode> {
        let (reply, answer) = oneshot::channel();
        offers
            .send((body, reply))
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        answer
            .await
            .ok()
            .flatten()
            .ok_or(StatusCode::NOT_ACCEPTABLE)
    }
    let (offers, received) = mpsc::channel(1);
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/offer", post(offer))
        .with_state(offers);
    let listener = tokio::net::TcpListener::bind((LOOPBACK, 0))
        .await
        .expect("a port for the page");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/"), received)
}

/// What the page says about itself, for failure messages.
async fn page_state(browser: &fantoccini::Client) -> String {
    browser
        .execute("return JSON.stringify(window.leg)", vec![])
        .await
        .map(|state| state.to_string())
        .unwrap_or_else(|error| format!("(unreadable: {error})"))
}

/// Answers the page's next offer with a fresh leg and waits until it connects.
async fn answer_next_offer(
    offers: &mut mpsc::Receiver<OfferExchange>,
    browser: &fantoccini::Client,
) -> WebRtcLeg {
    let Ok(Some((offer, reply))) = tokio::time::timeout(GUARD, offers.recv()).await else {
        panic!("no offer from the page: {}", page_state(browser).await);
    };
    let config = WebRtcConfig {
        bind_ip: LOOPBACK,
        candidate_ip: None,
        ports: 0..=0,
    };
    let (leg, answer) = accept(&offer, &config)
        .await
        .expect("Chromium's offer is accepted");
    reply
        .send(Some(answer))
        .expect("the page waits for its answer");
    let mut state = leg.state();
    if tokio::time::timeout(GUARD, state.wait_for(|s| *s == LegState::Connected))
        .await
        .is_err()
    {
        panic!(
            "the leg did not connect ({:?}); the page: {}",
            *state.borrow(),
            page_state(browser).await
        );
    }
    leg
}

/// A Chromium on the test page, its microphone playing [`BROWSER_HZ`].
struct Session {
    _scratch: tempfile::TempDir,
    _chromedriver: Chromedriver,
    browser: fantoccini::Client,
    offers: mpsc::Receiver<OfferExchange>,
}

impl Session {
    async fn open() -> Session {
        let scratch = tempfile::tempdir().expect("a scratch folder");
        let microphone = scratch.path().join("tone.wav");
        write_tone(&microphone, BROWSER_HZ);
        let (page, offers) = serve_page().await;
        let chromedriver = Chromedriver::start().await;
        let browser = chromedriver.browser(&microphone).await;
        browser.goto(&page).await.expect("the page loads");
        Session {
            _scratch: scratch,
            _chromedriver: chromedriver,
            browser,
            offers,
        }
    }

    /// Answers the page's next offer with a fresh leg and waits until it connects.
    async fn next_leg(&mut self) -> WebRtcLeg {
        answer_next_offer(&mut self.offers, &self.browser).await
    }

    /// Runs a promise-returning expression of the page, `done` being its callback.
    async fn run(&self, script: &str, arguments: Vec<serde_json::Value>) -> serde_json::Value {
        tokio::time::timeout(
            GUARD + Duration::from_secs(5),
            self.browser.execute_async(script, arguments),
        )
        .await
        .expect("the page answers in time")
        .expect("the page's script runs")
    }

    async fn close(self) {
        let _ = self.browser.close().await;
    }
}

/// How long the page's own waits may take, in its milliseconds.
fn page_limit() -> serde_json::Value {
    json!(GUARD.as_millis() as f64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_the_leg_hear_each_other() {
    let mut session = Session::open().await;
    let mut leg = session.next_leg().await;
    assert_eq!(leg.codec(), Codec::Pcmu, "Chromium offers PCMU");

    // The leg plays its tone to the browser throughout, paced like the relay.
    let to_browser = leg.browser_sender();
    let payload_type = leg.payload_type();
    let playing = tokio::spawn(async move {
        let mut frames = audio::RtpFrames::new(payload_type);
        let mut pace = tokio::time::interval(audio::FRAME_INTERVAL);
        loop {
            pace.tick().await;
            to_browser.send_rtp(&frames.next(tone::FAR_END_HZ));
        }
    });

    // The browser's microphone tone reaches the leg.
    let mut heard = Vec::new();
    let mut packets = 0;
    tokio::time::timeout(GUARD, async {
        while heard.len() < audio::ANALYSED_SAMPLES {
            let packet = leg.recv_rtp().await.expect("the leg stays open");
            packets += 1;
            if packets > SETTLING_PACKETS {
                heard.extend(audio::pcmu_samples(&packet));
            }
        }
    })
    .await
    .expect("the browser's audio arrives in time");
    audio::assert_tone(&heard, BROWSER_HZ, "the leg heard from Chromium");

    // The leg's tone is what the browser's analyser hears.
    let verdict = session
        .run(
            "const [wanted, probes, margin, limit, done] = arguments;\
             window.waitForTone(wanted, probes, margin, limit).then(done);",
            vec![
                json!(tone::FAR_END_HZ),
                json!(tone::PROBES.to_vec()),
                json!(MARGIN_DB),
                page_limit(),
            ],
        )
        .await;
    assert_eq!(
        verdict["dominant"],
        json!(true),
        "Chromium's analyser did not hear {} Hz above the other probes {:?}: {verdict}",
        tone::FAR_END_HZ,
        tone::PROBES,
    );

    playing.abort();
    leg.close().await;
    session.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_ups_reach_the_other_side_at_once() {
    let mut session = Session::open().await;

    // The engine hangs up: Chromium's DTLS transport reports "closed" (close_notify received),
    // which ICE consent running out would never produce.
    let leg = session.next_leg().await;
    leg.close().await;
    let closed = session
        .run(
            "const [limit, done] = arguments; window.waitForDtlsClosed(limit).then(done);",
            vec![page_limit()],
        )
        .await;
    assert_eq!(closed, json!(true), "Chromium did not see the hang-up");

    // The operator's browser hangs up: the leg reports Closed, not the Disconnected that
    // silence would give.
    let (reconnected, leg) = tokio::join!(
        session.browser.execute_async(
            "const [done] = arguments; window.reconnect().then(done);",
            vec![]
        ),
        answer_next_offer(&mut session.offers, &session.browser),
    );
    let reconnected = reconnected.expect("the page's script runs");
    assert_eq!(reconnected, json!(true));
    let mut state = leg.state();
    session
        .browser
        .execute("window.pc.close()", vec![])
        .await
        .expect("the page closes its connection");
    let ended = tokio::time::timeout(GUARD, state.wait_for(|s| *s != LegState::Connected))
        .await
        .expect("the leg notices in time")
        .map(|s| *s);
    assert!(matches!(ended, Ok(LegState::Closed)), "{ended:?}");
    leg.close().await;
    session.close().await;
}
