//! End to end: the call page at `/manager/call.html?id=…` in a real headless Chromium
//! against the real binary. The database holds a call as the engine writes it (events from
//! arrival to hang-up, with a recording paused once), its classification as a complaint with
//! a note, and its recording's row with the WAV in the recordings folder — put in place
//! through the store, as the engine and the console would.
//!
//! A manager signs in on the board, follows the complaint alert's link to the call page and
//! finds the facts (the caller's number among them), the classification and note, the
//! timeline in the browser's local time with Japanese labels, and the recording's
//! reference; pressing play loads the WAV's metadata with its real duration, the download
//! link answers with the file as an attachment, the print button calls `window.print()`,
//! and Chromium's own printing (WebDriver's Print Page, the same print-to-PDF path as
//! `--print-to-pdf`, but inside the signed-in session) gives one A4 page holding the
//! 苦情対応記録 and none of the screen's controls. The audit log then lists the manager's
//! `call.view`, one `recording.listen` (not one for merely opening the page) and one
//! `recording.download`. A second test walks the recording states (not recorded, still
//! recording, file missing), a call that does not exist, and an operator turned away.
//!
//! Screenshots and the printed PDF go to `target/test-artifacts/manager/call-*`.

mod support;

use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use fantoccini::wd::PrintConfiguration;
use fantoccini::Locator;
use madoguchi_store::{
    CallEvent, CallRecord, Disposition, FinishedRecording, HangupSide, NewClassification,
    NewRecording, Outcome, PausedSpan, RecordingStatus, Store,
};
use serde_json::{json, Value};
use support::browser::{artifacts_dir, write_tone, Browser, Chromedriver};
use support::recording_files::{sha256_of, write_call_wav};
use support::{ensure_user, request, EngineProcess, Options};

const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
const OPERATOR: &str = "op1";
const OPERATOR_PASSWORD: &str = "pw-op1-agent";
const AREA: &str = "manager";
/// The complaint: recorded, classified, on the board.
const COMPLAINT: &str = "node1-0001";
/// Not recorded and not classified.
const UNRECORDED: &str = "node1-0002";
/// Its recording is still being written.
const RECORDING: &str = "node1-0003";
/// Its recording's row is there, its file is not.
const MISSING: &str = "node1-0004";
const CALLER_NUMBER: &str = "0462001234";
const NOTE: &str = "窓口の説明が二転三転したとの苦情。\n市の担当課から折り返し希望。";
const SECONDS: u32 = 5;
/// 8 kHz, two channels, 16-bit, after the 44-byte header.
const WAV_BYTES: u64 = 44 + SECONDS as u64 * 32_000;

/// The engine over a database and recordings folder put in place through the store, and a
/// Chromium with nothing open yet.
struct Desk {
    browser: Browser,
    engine: EngineProcess,
    /// When the complaint call arrived.
    arrived: DateTime<Utc>,
    /// The complaint's WAV: its SHA-256.
    sha256: String,
    name: &'static str,
    _chromedriver: Chromedriver,
    _files: tempfile::TempDir,
}

impl Desk {
    async fn open(name: &'static str) -> Desk {
        let files = tempfile::tempdir().expect("temp dir");
        let recordings = files.path().join("recordings");
        std::fs::create_dir_all(&recordings).expect("recordings folder");
        let database_url = format!("sqlite://{}", files.path().join("calls.db").display());
        let arrived = Utc::now() - Duration::minutes(10);
        let wav = recordings.join("2026/node1-0001.wav");
        write_call_wav(&wav, SECONDS);
        let sha256 = sha256_of(&wav);

        let store = Store::connect(&database_url).await.expect("store");
        store
            .insert_calls(&[
                complaint_call(arrived),
                plain_call(UNRECORDED, arrived + Duration::minutes(1)),
                plain_call(RECORDING, arrived + Duration::minutes(2)),
                plain_call(MISSING, arrived + Duration::minutes(3)),
            ])
            .await
            .expect("the calls are stored");
        store
            .classify(
                &NewClassification {
                    call_id: COMPLAINT.into(),
                    category: "イ".into(),
                    outcome: Outcome::CallbackNeeded,
                    complaint: true,
                    escalated: true,
                    faq_id: None,
                    note: Some(NOTE.into()),
                    operator: OPERATOR.into(),
                },
                Utc::now(),
            )
            .await
            .expect("the complaint is filed");
        let connected = arrived + Duration::seconds(45);
        for (call, file) in [
            (COMPLAINT, "2026/node1-0001.wav"),
            (MISSING, "2026/node1-0004.wav"),
        ] {
            store
                .recording_started(&recording_of(call, file, connected))
                .await
                .expect("recording started");
        }
        for (call, sha256, bytes) in [
            (COMPLAINT, Some(sha256.clone()), WAV_BYTES as i64),
            (MISSING, Some("00".repeat(32)), WAV_BYTES as i64),
        ] {
            store
                .recording_finished(
                    call,
                    &FinishedRecording {
                        ended_at: connected + Duration::seconds(SECONDS.into()),
                        duration_ms: i64::from(SECONDS) * 1_000,
                        bytes,
                        sha256,
                        paused: vec![PausedSpan {
                            from_ms: 1_000,
                            to_ms: 1_500,
                        }],
                        status: RecordingStatus::Complete,
                        error: None,
                    },
                )
                .await
                .expect("recording finished");
        }
        store.close().await;

        let engine = tokio::task::block_in_place(|| {
            ensure_user(&database_url, MANAGER, "manager", MANAGER_PASSWORD);
            ensure_user(&database_url, OPERATOR, "agent", OPERATOR_PASSWORD);
            EngineProcess::start(Options {
                database_url: Some(database_url.clone()),
                extra_args: vec!["--recordings-dir".into(), recordings.display().to_string()],
                ..Options::default()
            })
        });
        // A call being recorded now: started once the engine runs (at start it closes the
        // recordings a crash left open, as it would this one).
        let store = Store::connect(&database_url).await.expect("store");
        store
            .recording_started(&recording_of(RECORDING, "2026/node1-0003.wav", Utc::now()))
            .await
            .expect("recording started");
        store.close().await;
        // The page needs no microphone; the browser helper wants a file for the fake one.
        let tone = files.path().join("tone.wav");
        write_tone(&tone, 440.0);
        let chromedriver = Chromedriver::start().await;
        let mut browser = chromedriver.open(&tone).await;
        browser.describe_with(
            "JSON.stringify(window.madoguchiCall?.state() ?? window.madoguchiBoard?.state().view)",
        );
        Desk {
            browser,
            engine,
            arrived,
            sha256,
            name,
            _chromedriver: chromedriver,
            _files: files,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.engine.http)
    }

    async fn sign_in(&self, login: &str, password: &str) {
        self.browser
            .until(
                "document.activeElement?.id === 'sign-in-login'",
                "the sign-in form is shown",
            )
            .await;
        // The form keeps the last login after signing out.
        self.clear("#sign-in-login").await;
        self.browser.type_into("#sign-in-login", login).await;
        self.browser.type_into("#sign-in-password", password).await;
        self.browser.click("#sign-in-submit").await;
    }

    /// Empties the field `css`, as a person would before typing.
    async fn clear(&self, css: &str) {
        self.browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"))
            .clear()
            .await
            .unwrap_or_else(|e| panic!("{css} cannot be cleared: {e}"));
    }

    /// Waits until the page shows the call `id` (or has said why it cannot).
    async fn until_shown(&self, id: &str, status: &str) {
        self.browser
            .until(
                &format!(
                    "(() => {{ const s = window.madoguchiCall.state(); \
                       return s.view === 'call' && s.callId === '{id}' && s.status === '{status}'; }})()"
                ),
                &format!("the page shows {id} ({status})"),
            )
            .await;
    }

    /// The text of the `<dd>` of `fact` (the `data-fact` of the facts and recording lists).
    async fn fact(&self, fact: &str) -> String {
        self.browser
            .text(&format!("dd[data-fact=\"{fact}\"]"))
            .await
    }

    async fn screenshot(&self, name: &str) {
        self.browser.screenshot(AREA, &format!("call-{name}")).await;
    }

    /// The audit log's entries of `action` about `subject`, as the admin reads them.
    fn audited(&self, action: &str, subject: &str) -> Vec<Value> {
        let (status, body) = tokio::task::block_in_place(|| {
            self.engine
                .get(&format!("/api/v1/audit?per_page=500&action={action}"))
        });
        assert_eq!(status, 200, "{body}");
        let log: Value = serde_json::from_str(&body).expect("the audit log is JSON");
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["subject"] == subject)
            .cloned()
            .collect()
    }
}

impl Drop for Desk {
    /// A failed test leaves the engine's log beside its screenshots.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir(AREA).join(format!("call-{}-engine.log", self.name));
            let _ = std::fs::write(path, self.engine.log());
        }
    }
}

fn recording_of(call: &str, file: &str, started_at: DateTime<Utc>) -> NewRecording {
    NewRecording {
        call_id: call.into(),
        file: file.into(),
        started_at,
        node_id: "node1".into(),
    }
}

fn event(seq: i32, at: DateTime<Utc>, kind: &str, detail: Value) -> CallEvent {
    CallEvent {
        seq,
        at,
        kind: kind.into(),
        detail,
    }
}

/// The complaint as the engine records it: routed, the recording notice, queued for 45 s,
/// answered by op1, recorded (paused from 1:27 to 1:50 of the call), ended by the caller.
fn complaint_call(arrived: DateTime<Utc>) -> CallRecord {
    let s = |seconds: i64| arrived + Duration::seconds(seconds);
    let events = vec![
        event(0, s(0), "invite", json!({})),
        event(1, s(0), "answered", json!({ "rtp_port": 40_000 })),
        event(
            2,
            s(0),
            "routed",
            json!({ "entry": "hotline", "branch": "open" }),
        ),
        event(
            3,
            s(0),
            "recording_decided",
            json!({ "decision": "record", "queue": "card" }),
        ),
        event(4, s(1), "play", json!({ "prompt": "recording_notice" })),
        event(
            5,
            s(6),
            "enqueued",
            json!({ "queue": "card", "priority": 0 }),
        ),
        event(
            6,
            s(40),
            "offered",
            json!({ "operator": OPERATOR, "offer": 1 }),
        ),
        event(
            7,
            s(45),
            "offer_result",
            json!({ "operator": OPERATOR, "result": "answered" }),
        ),
        event(8, s(45), "connected", json!({ "operator": OPERATOR })),
        event(
            9,
            s(45),
            "recording_started",
            json!({ "file": "2026/node1-0001.wav", "by": "policy" }),
        ),
        event(10, s(87), "recording_paused", json!({})),
        event(11, s(110), "recording_resumed", json!({})),
        event(12, s(130), "hold", json!({})),
        event(13, s(150), "resume", json!({})),
        event(14, s(185), "recording_stopped", json!({ "cause": "bye" })),
        event(
            15,
            s(185),
            "ended",
            json!({ "disposition": "answered", "cause": "bye" }),
        ),
    ];
    CallRecord {
        id: COMPLAINT.into(),
        sip_call_id: "complaint@trunk.example".into(),
        caller: CALLER_NUMBER.into(),
        called: "hotline".into(),
        arrived_at: arrived,
        answered_at: Some(arrived),
        ended_at: s(185),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition: Disposition::Answered,
        dtmf: vec![],
        hangup_side: Some(HangupSide::Caller),
        hangup_cause: Some("bye".into()),
        queue: Some("card".into()),
        waited_ms: Some(39_000),
        operator: Some(OPERATOR.into()),
        connected_at: Some(s(45)),
        talk_ms: Some(140_000),
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
        events,
    }
}

/// An answered call (15 s of talk) with just its first and last events.
fn plain_call(id: &str, arrived: DateTime<Utc>) -> CallRecord {
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        events: vec![
            event(0, arrived, "invite", json!({})),
            event(
                1,
                arrived + Duration::seconds(60),
                "ended",
                json!({ "disposition": "answered", "cause": "bye" }),
            ),
        ],
        ended_at: arrived + Duration::seconds(60),
        talk_ms: Some(15_000),
        ..complaint_call(arrived)
    }
}

/// `program args…`'s standard output; the test fails when it cannot run or fails.
fn output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} cannot run ({e}): install poppler-utils (scripts/test.sh does)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// "HH:MM:SS" of `at` in the browser's time zone (which the page shows).
fn local_time(at: DateTime<Utc>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone
        .parse()
        .unwrap_or_else(|_| panic!("the browser's time zone {zone} is an IANA name"));
    at.with_timezone(&tz).format("%H:%M:%S").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_opens_a_complaint_from_the_board_plays_downloads_prints_and_is_audited() {
    let desk = Desk::open("complaint").await;
    let browser = &desk.browser;

    // From the board's complaint alert to the call's page.
    browser.goto(&desk.url("/manager")).await;
    desk.sign_in(MANAGER, MANAGER_PASSWORD).await;
    let link = format!("#alert-list li[data-call-id=\"{COMPLAINT}\"] a");
    browser
        .until(
            &format!("document.querySelector('{link}')"),
            "the complaint is listed on the board with a link",
        )
        .await;
    let href = browser
        .eval(&format!(
            "document.querySelector('{link}').getAttribute('href')"
        ))
        .await;
    assert_eq!(href, format!("/manager/call.html?id={COMPLAINT}"));
    assert_eq!(browser.text(&link).await, "イ カードの申請");
    browser.click(&link).await;
    desk.until_shown(COMPLAINT, "shown").await;

    // The facts, with the caller's number.
    let zone = browser.eval("window.madoguchiCall.state().timeZone").await;
    let zone = zone.as_str().expect("a time zone").to_owned();
    assert_eq!(desk.fact("caller").await, CALLER_NUMBER);
    assert_eq!(desk.fact("id").await, COMPLAINT);
    assert!(
        desk.fact("arrived")
            .await
            .ends_with(&local_time(desk.arrived, &zone)),
        "arrival in the browser's local time"
    );
    assert_eq!(desk.fact("operator").await, OPERATOR);
    assert_eq!(desk.fact("queue").await, "card");
    assert_eq!(desk.fact("waited").await, "0:39");
    assert_eq!(desk.fact("talk").await, "2:20");
    assert_eq!(desk.fact("disposition").await, "応答");
    assert_eq!(desk.fact("entry").await, "hotline / open");

    // The classification and the operator's note, as filed.
    assert_eq!(browser.text("#doc-title").await, "苦情対応記録");
    assert_eq!(browser.text("#complaint-flag").await, "苦情・トラブル");
    let classification = browser.text("#classification").await;
    for expected in ["イ カードの申請", "折り返し必要", OPERATOR] {
        assert!(
            classification.contains(expected),
            "{expected} in {classification}"
        );
    }
    let note = browser
        .eval("document.getElementById('note').textContent")
        .await;
    assert_eq!(note, NOTE, "the note, line break and all");

    // The timeline: local times, Japanese labels, the time since arrival.
    let rows = browser
        .eval(
            "[...document.querySelectorAll('#timeline-rows tr')] \
               .map((tr) => [tr.dataset.kind, ...[...tr.cells].map((td) => td.textContent)])",
        )
        .await;
    let rows = rows.as_array().expect("timeline rows");
    assert_eq!(rows.len(), 16, "every event: {rows:?}");
    let row = |kind: &str| {
        rows.iter()
            .find(|r| r[0] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {rows:?}"))
    };
    let paused = row("recording_paused");
    assert_eq!(paused[2], "+1:27");
    assert_eq!(paused[3], "録音一時停止");
    assert_eq!(
        paused[1],
        local_time(desk.arrived + Duration::seconds(87), &zone).as_str()
    );
    for (kind, label) in [
        ("routed", "振り分け"),
        ("play", "音声案内"),
        ("enqueued", "待ち行列へ"),
        ("connected", "オペレーター接続"),
        ("recording_started", "録音開始"),
        ("recording_resumed", "録音再開"),
        ("hold", "保留"),
        ("recording_stopped", "録音終了"),
    ] {
        assert_eq!(row(kind)[3], label, "{kind}");
    }
    assert_eq!(row("enqueued")[4], "キュー card（優先度 0）");

    // The recording's reference.
    let state = browser.eval("window.madoguchiCall.state()").await;
    assert_eq!(state["recording"], "ready");
    assert_eq!(desk.fact("duration").await, "0:05（5,000 ミリ秒）");
    assert_eq!(desk.fact("sha256").await, desk.sha256);
    assert_eq!(desk.fact("paused").await, "一時停止 0:01–0:02");
    assert_eq!(
        desk.fact("size").await,
        format!("{} バイト", format_count(WAV_BYTES))
    );
    assert_eq!(
        browser
            .eval("document.getElementById('player').hidden")
            .await,
        false
    );
    desk.screenshot("1-complaint").await;

    // Opening the page read the record (audited) but played nothing.
    let views = desk.audited("call.view", COMPLAINT);
    assert_eq!(views.len(), 1, "{views:?}");
    assert_eq!(views[0]["login"], MANAGER);
    assert_eq!(views[0]["role"], "manager");
    assert_eq!(views[0]["source"], "127.0.0.1");
    assert!(
        desk.audited("recording.listen", COMPLAINT).is_empty(),
        "opening the page is not a listen"
    );

    // Play: the element loads the WAV's metadata, with its real duration.
    browser
        .eval(
            "(() => { const audio = document.getElementById('audio'); \
               window.played = { events: [] }; \
               for (const name of ['loadedmetadata', 'playing', 'error']) \
                 audio.addEventListener(name, () => window.played.events.push(name)); \
               audio.play().catch((e) => { window.played.refused = String(e); }); \
               return true; })()",
        )
        .await;
    browser
        .until(
            "window.played.events.includes('loadedmetadata')",
            "the player loads the recording's metadata",
        )
        .await;
    let duration = browser
        .eval("document.getElementById('audio').duration")
        .await;
    let duration = duration.as_f64().expect("a duration");
    assert!(
        (duration - f64::from(SECONDS)).abs() < 0.1,
        "the player's duration {duration} s, the file's {SECONDS} s"
    );
    browser
        .eval("(document.getElementById('audio').pause(), true)")
        .await;

    // The download link answers with the file as an attachment.
    let download = browser
        .eval("document.getElementById('download').getAttribute('href')")
        .await;
    assert_eq!(
        download,
        format!("/api/v1/calls/{COMPLAINT}/recording?download=1")
    );
    browser
        .eval(
            "(window.downloaded = null, \
              fetch(document.getElementById('download').href) \
                .then(async (r) => { window.downloaded = [r.status, \
                  r.headers.get('content-disposition'), (await r.arrayBuffer()).byteLength]; }), \
              true)",
        )
        .await;
    let downloaded = browser
        .until("window.downloaded", "the download link answers")
        .await;
    assert_eq!(
        downloaded,
        json!([
            200,
            format!("attachment; filename=\"call-{COMPLAINT}.wav\""),
            WAV_BYTES
        ])
    );

    // The print button opens the browser's print dialog (stubbed: headless has none).
    browser
        .eval("(window.print = () => { window.printCalls = (window.printCalls || 0) + 1; }, true)")
        .await;
    browser.click("#print").await;
    browser
        .until("window.printCalls === 1", "the button calls window.print()")
        .await;
    let printed = text_content(browser, "printed").await;
    assert!(
        printed.contains(MANAGER) && printed.contains(&zone),
        "printed-by and the zone: {printed}"
    );
    // The page carries print rules: A4 and a print-only block.
    let rules = browser
        .eval(
            "(() => { const sheet = [...document.styleSheets].find((s) => s.href?.endsWith('/call.css')); \
               const rules = [...sheet.cssRules]; \
               return [rules.some((r) => r instanceof CSSMediaRule && r.media.mediaText === 'print'), \
                       rules.some((r) => r instanceof CSSPageRule && /size:\\s*A4/i.test(r.cssText))]; })()",
        )
        .await;
    assert_eq!(
        rules,
        json!([true, true]),
        "a print block and an A4 page rule"
    );

    // Chromium prints the page (A4, as the page asks): the document for the city.
    let pdf = browser
        .client
        .print(PrintConfiguration::default())
        .await
        .expect("Chromium prints the page to PDF");
    let pdf_path = artifacts_dir(AREA).join("call-print.pdf");
    std::fs::write(&pdf_path, &pdf).expect("the PDF is saved");
    let pdf_arg = pdf_path.to_string_lossy().into_owned();
    let info = output("pdfinfo", &[&pdf_arg]);
    assert!(info.contains("(A4)"), "an A4 page: {info}");
    let text = output("pdftotext", &["-layout", &pdf_arg, "-"]);
    for expected in [
        "苦情対応記録",
        COMPLAINT,
        CALLER_NUMBER,
        "イ カードの申請",
        "窓口の説明が二転三転したとの苦情。",
        "市の担当課から折り返し希望。",
        "録音一時停止",
        "一時停止 0:01–0:02",
        desk.sha256.as_str(),
        "印刷者",
        MANAGER,
    ] {
        assert!(text.contains(expected), "{expected:?} in the PDF:\n{text}");
    }
    for absent in [
        "印刷 / PDF 保存",
        "WAV をダウンロード",
        "サインアウト",
        "ボードへ",
        "通話を開く",
    ] {
        assert!(!text.contains(absent), "{absent:?} is not printed:\n{text}");
    }
    let page_count = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .expect("the page count");
    assert!(page_count <= 2, "a short document: {page_count} pages");
    // The first printed page as a picture, beside the screenshots.
    let png_prefix = artifacts_dir(AREA).join("call-2-printed");
    output(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            &pdf_arg,
            &png_prefix.to_string_lossy(),
        ],
    );

    // The audit log: the view, one listen, one download — all this manager's.
    browser.close().await;
    let listens = desk.audited("recording.listen", COMPLAINT);
    assert_eq!(listens.len(), 1, "one playback, one listen: {listens:?}");
    let downloads = desk.audited("recording.download", COMPLAINT);
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    let views = desk.audited("call.view", COMPLAINT);
    assert_eq!(views.len(), 1, "printing read nothing again: {views:?}");
    for entry in listens.iter().chain(&downloads).chain(&views) {
        assert_eq!(entry["login"], MANAGER);
    }
    // The caller's number reached the page, and no log line.
    let log = desk.engine.log();
    assert!(
        !log.contains(CALLER_NUMBER),
        "the caller's number is not logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_says_when_there_is_nothing_to_play_and_turns_an_operator_away() {
    let desk = Desk::open("states").await;
    let browser = &desk.browser;

    // Straight to a call that was not recorded: the form first, then the call.
    browser
        .goto(&desk.url(&format!("/manager/call.html?id={UNRECORDED}")))
        .await;
    desk.sign_in(MANAGER, MANAGER_PASSWORD).await;
    desk.until_shown(UNRECORDED, "shown").await;
    let state = browser.eval("window.madoguchiCall.state()").await;
    assert_eq!(state["recording"], "none");
    assert_eq!(state["complaint"], false);
    assert_eq!(
        browser.text("#recording-state").await,
        "この通話は録音されていません。"
    );
    assert_eq!(browser.text("#doc-title").await, "通話対応記録");
    let hidden = browser
        .eval(
            "['player', 'recording-facts', 'complaint-flag', 'classification-none'] \
               .map((id) => document.getElementById(id).hidden)",
        )
        .await;
    assert_eq!(hidden, json!([true, true, true, false]));
    assert_eq!(browser.text("#note").await, "メモはありません。");

    // Another call by its id, from the page's own field.
    let this = &desk;
    let open = |id: &'static str| async move {
        this.clear("#open-id").await;
        browser.type_into("#open-id", id).await;
        browser.click("#open-submit").await;
    };
    open(RECORDING).await;
    desk.until_shown(RECORDING, "shown").await;
    assert_eq!(
        browser.eval("window.madoguchiCall.state().recording").await,
        "recording"
    );
    assert_eq!(
        browser.text("#recording-state").await,
        "録音中です。通話が終わると再生できます。"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('player').hidden")
            .await,
        true,
        "nothing to play while recording"
    );
    assert!(
        browser
            .eval("location.search")
            .await
            .as_str()
            .is_some_and(|s| s == format!("?id={RECORDING}")),
        "the address names the call opened"
    );

    open(MISSING).await;
    desk.until_shown(MISSING, "shown").await;
    assert_eq!(
        browser.eval("window.madoguchiCall.state().recording").await,
        "missing"
    );
    assert!(browser
        .text("#recording-state")
        .await
        .contains("ファイルが見つかりません"));
    // The reference is still given: what the file should have been.
    assert_eq!(desk.fact("sha256").await, "00".repeat(32));
    desk.screenshot("3-file-missing").await;

    open("no-such-call").await;
    desk.until_shown("no-such-call", "state.not_found").await;
    assert_eq!(
        browser.text("#call-status").await,
        "呼ID no-such-call の通話記録は見つかりません。"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('call-record').hidden")
            .await,
        true
    );

    // The browser's back button shows the previous call again.
    browser.client.back().await.expect("back");
    desk.until_shown(MISSING, "shown").await;

    // An operator is told the page is for managers.
    browser.click("#sign-out").await;
    desk.sign_in(OPERATOR, OPERATOR_PASSWORD).await;
    browser
        .until(
            "window.madoguchiCall.state().view === 'forbidden'",
            "the operator is turned away",
        )
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('call-record').closest('#call-view').hidden")
            .await,
        true
    );
    desk.screenshot("4-operator").await;
    browser.close().await;

    // Nor does the API hand an operator someone else's recording.
    let cookie = tokio::task::block_in_place(|| {
        let response = request(
            desk.engine.http,
            "POST",
            "/api/v1/session",
            &[],
            Some(&json!({"login": OPERATOR, "password": OPERATOR_PASSWORD}).to_string()),
        );
        assert_eq!(response.status, 200, "{}", response.body);
        response
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned()
    });
    let meta = tokio::task::block_in_place(|| {
        request(
            desk.engine.http,
            "GET",
            &format!("/api/v1/calls/{COMPLAINT}/recording/meta"),
            &[("Cookie", cookie.as_str())],
            None,
        )
    });
    assert_eq!(meta.status, 403, "{}", meta.body);
}

/// `n` with thousands separated by commas, as the page writes counts.
fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The text of the element `id` even when the screen does not show it (WebDriver's text is
/// the rendered text only).
async fn text_content(browser: &Browser, id: &str) -> String {
    let value = browser
        .eval(&format!("document.getElementById('{id}').textContent"))
        .await;
    value.as_str().unwrap_or_default().to_owned()
}
