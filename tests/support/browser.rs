//! A real browser for the end-to-end tests: Debian's headless Chromium driven over WebDriver
//! (chromedriver, through fantoccini), its microphone a fake device playing a tone file.
//! Page conditions are awaited by polling a JavaScript expression; screenshots go under
//! `target/test-artifacts/`.
//!
//! ```ignore
//! let chromedriver = Chromedriver::start().await;
//! let browser = chromedriver.open(&microphone).await;   // a WAV written by write_tone
//! browser.goto(&url).await;
//! browser.until("window.madoguchi.state().connection === 'open'", "the socket opens").await;
//! browser.screenshot("console", "signed-in").await;
//! ```

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a page condition may take; generous, the machine may be loaded.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(20);
/// How long chromedriver and Chromium may take to start.
const START_DEADLINE: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The WebDriver key code of Enter.
pub const ENTER: char = '\u{e007}';
/// Share of the received band a tone must have for the console page to hear it, and the
/// most another tone may have meanwhile.
pub const PAGE_HEARS: f64 = 0.5;
pub const PAGE_QUIET: f64 = 0.05;

/// The folder test artefacts of `area` go in (`target/test-artifacts/AREA`), created.
pub fn artifacts_dir(area: &str) -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target dir>/tmp`, wherever the target dir is.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| super::repo_root().join("target"));
    let dir = target.join("test-artifacts").join(area);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Writes one second of a sine at `hz` (48 kHz, mono, 16-bit, about -8 dBFS): a whole
/// number of cycles for whole-hertz tones, so Chromium's looping of the file leaves no click.
pub fn write_tone(path: &Path, hz: f64) {
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

/// chromedriver on a port of its choosing, leading a process group of its own that the
/// Chromium it starts joins; the whole group is killed when dropped.
pub struct Chromedriver {
    process: Child,
    url: String,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // Chromium talks to chromedriver over a port and outlives it, so a test that fails
        // before closing its session would leave it running: end the group instead.
        if let Some(pid) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

impl Chromedriver {
    pub async fn start() -> Chromedriver {
        let mut process = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("chromedriver cannot run ({error}): install chromium and chromium-driver (scripts/test.sh does)")
            });
        let stdout = process.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(START_DEADLINE, async {
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
            process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A headless Chromium whose microphone plays `microphone` (a WAV file) in a loop and
    /// whose page is 1280×720.
    pub async fn open(&self, microphone: &Path) -> Browser {
        let arguments = [
            "--headless=new".to_owned(),
            // Root (CI) cannot use Chromium's sandbox.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--lang=ja".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
            "--use-fake-device-for-media-stream".to_owned(),
            format!("--use-file-for-fake-audio-capture={}", microphone.display()),
            // The engine's media address is 127.0.0.1 in the tests.
            "--allow-loopback-in-peer-connection".to_owned(),
            "--autoplay-policy=no-user-gesture-required".to_owned(),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "args": arguments }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            START_DEADLINE,
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&self.url),
        )
        .await
        .expect("Chromium starts in time")
        .expect("chromedriver opens a Chromium session");
        let browser = Browser {
            client,
            diagnostics: None,
        };
        browser.fit_page(1280, 720).await;
        browser
    }
}

/// One Chromium session (one tab).
pub struct Browser {
    pub client: Client,
    /// An expression describing the page's state, added to failure messages.
    diagnostics: Option<String>,
}

impl Browser {
    /// Adds the value of `expression` to the message of a condition that never held.
    pub fn describe_with(&mut self, expression: &str) {
        self.diagnostics = Some(expression.to_owned());
    }

    /// The value of the diagnostics expression, or nothing.
    async fn describe(&self) -> String {
        let Some(expression) = &self.diagnostics else {
            return String::new();
        };
        let script = format!("try {{ return ({expression}); }} catch (e) {{ return String(e); }}");
        match self.client.execute(&script, vec![]).await {
            Ok(value) => format!("; the page: {value}"),
            Err(e) => format!("; the page cannot say ({e})"),
        }
    }

    /// Sizes the window so that the page itself (not the window) is `width`×`height`.
    async fn fit_page(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window can be sized");
        let inner = self.eval("[window.innerWidth, window.innerHeight]").await;
        let (Some(inner_width), Some(inner_height)) = (inner[0].as_u64(), inner[1].as_u64()) else {
            return;
        };
        let extra = |outer: u32, inner: u64| outer + outer.saturating_sub(inner as u32);
        self.client
            .set_window_size(extra(width, inner_width), extra(height, inner_height))
            .await
            .expect("the window can be sized");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{url} does not load: {e}"));
    }

    /// The value of a JavaScript `expression` in the page.
    pub async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|e| panic!("the page cannot evaluate {expression}: {e}"))
    }

    /// Polls `expression` until it is truthy (or [`PAGE_DEADLINE`] passes: the test fails
    /// naming `what`); returns its value. An expression that throws counts as false.
    pub async fn until(&self, expression: &str, what: &str) -> Value {
        self.until_within(expression, what, PAGE_DEADLINE).await
    }

    /// [`Browser::until`] with its own deadline.
    pub async fn until_within(&self, expression: &str, what: &str, limit: Duration) -> Value {
        let script = format!("try {{ return ({expression}); }} catch (e) {{ return null; }}");
        let deadline = Instant::now() + limit;
        loop {
            let value = self
                .client
                .execute(&script, vec![])
                .await
                .unwrap_or_else(|e| panic!("the page cannot evaluate {expression}: {e}"));
            if truthy(&value) {
                return value;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: never happened within {limit:?} ({expression} was {value}){}",
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("{css} cannot be clicked: {e}"));
    }

    /// Types `text` into the field `css` (after what it holds).
    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Chooses the option with `value` of the `<select>` `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} has no option {value:?}: {e}"));
    }

    /// Presses and releases `key` on whatever has the focus, as a person at the keyboard.
    pub async fn press(&self, key: char) {
        let keyboard = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(keyboard)
            .await
            .unwrap_or_else(|e| panic!("the key cannot be pressed: {e}"));
    }

    /// The text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("{css} has no text: {e}"))
    }

    /// Saves a PNG of the page as `target/test-artifacts/AREA/NAME.png`; returns its path.
    pub async fn screenshot(&self, area: &str, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("no screenshot {name}: {e}"));
        let path = artifacts_dir(area).join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// Ends the session (Chromium exits).
    pub async fn close(&self) {
        let _ = self.client.clone().close().await;
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css} on the page: {e}"))
    }
}

/// JavaScript's truthiness of a value WebDriver returned.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Waits until the console page hears `hz` as most of what it receives; returns the share
/// of `hz` and of `other` in that same instant.
pub async fn page_hears(browser: &Browser, hz: f64, other: f64) -> (f64, f64) {
    let levels = browser
        .until(
            &format!(
                "(() => {{ const m = window.madoguchi; \
                   const levels = [m.remoteLevel({hz}), m.remoteLevel({other})]; \
                   return levels[0] > {PAGE_HEARS} ? levels : null; }})()"
            ),
            &format!("the console's received audio is dominated by {hz} Hz"),
        )
        .await;
    (
        levels[0].as_f64().unwrap_or(0.0),
        levels[1].as_f64().unwrap_or(1.0),
    )
}

/// Signs `login` in on the manager board page (`/manager`) shown in `browser`, once its
/// sign-in form is up; what the board shows next is the caller's to await.
pub async fn sign_in_board(browser: &Browser, login: &str, password: &str) {
    browser
        .until(
            "window.madoguchiBoard.state().view === 'sign_in' \
             && document.activeElement?.id === 'sign-in-login'",
            "the sign-in form is shown",
        )
        .await;
    browser.type_into("#sign-in-login", login).await;
    browser.type_into("#sign-in-password", password).await;
    browser.click("#sign-in-submit").await;
}

/// A headless Chromium whose fake microphone plays `hz` (pages that need none get one
/// anyway); the driver, the browser and the folder holding the tone file, which must
/// outlive the browser.
pub async fn chromium(hz: f64) -> (Chromedriver, Browser, tempfile::TempDir) {
    let microphone = tempfile::tempdir().expect("temp dir");
    let tone_file = microphone.path().join("microphone.wav");
    write_tone(&tone_file, hz);
    let chromedriver = Chromedriver::start().await;
    let browser = chromedriver.open(&tone_file).await;
    (chromedriver, browser, microphone)
}

/// Answers the call offered on the console page shown in `browser` by Enter, as operators
/// do, and waits until the page shows it connected.
pub async fn answer_by_enter(browser: &Browser) {
    browser.press(ENTER).await;
    browser
        .until(
            "window.madoguchi.state().call?.phase === 'connected'",
            "the console shows the call connected",
        )
        .await;
}

/// Signs `login` in on the console page shown in `browser` and waits until its socket and
/// audio are up.
pub async fn sign_in_console(browser: &Browser, login: &str) {
    browser
        .until(
            "window.madoguchi.state().session === 'signed_out' \
             && document.activeElement?.id === 'sign-in-login'",
            "the sign-in form is shown",
        )
        .await;
    browser.type_into("#sign-in-login", login).await;
    browser
        .type_into("#sign-in-password", &super::center::password(login))
        .await;
    browser.click("#sign-in-submit").await;
    browser
        .until(
            "window.madoguchi.state().connection === 'open' \
             && window.madoguchi.state().media === 'up'",
            "the console's socket and audio come up",
        )
        .await;
}
