//! End to end: playing and downloading call recordings, and the audit log, against the real
//! binary. Each test puts a WAV file in a recordings folder and its row in the store (as the
//! engine's recorder would), starts the engine with `--recordings-dir`, and asks over HTTP:
//! the whole file, byte ranges (206 with Content-Range, 416), a download, who may (401,
//! 403), what is missing (404) or still being recorded (409), names that leave the folder,
//! and the audit log — one entry per listen, not per range request — as JSON and as a CSV
//! export that is itself audited. A headless Chromium plays the file in an `<audio>`
//! element and seeks to its middle, which only works with range requests.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use madoguchi_store::{
    FinishedRecording, NewRecording, PausedSpan, RecordingError, RecordingStatus, Store,
};
use serde_json::{json, Value};
use support::browser::{write_tone, Chromedriver};
use support::recording_files::{sha256_of, write_call_wav};
use support::{ensure_user, EngineProcess, Options};

const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "manager-password-1";
const AGENT: &str = "op1";
const AGENT_PASSWORD: &str = "agent-password-1";
const CALL: &str = "node1-0001";
/// 8 kHz, two channels, 16-bit: 32,000 bytes a second after the 44-byte header.
const BYTES_PER_SECOND: u64 = 32_000;

/// An engine with a manager and an agent, its recordings folder and its database file.
struct Archive {
    engine: EngineProcess,
    database_url: String,
    recordings: PathBuf,
    dir: tempfile::TempDir,
}

impl Archive {
    /// Starts the engine on a fresh database with `--recordings-dir`.
    fn start() -> Archive {
        let dir = tempfile::tempdir().expect("temp dir");
        let recordings = dir.path().join("audio");
        std::fs::create_dir_all(&recordings).expect("recordings folder");
        let database_url = format!("sqlite://{}", dir.path().join("rec.db").display());
        ensure_user(&database_url, MANAGER, "manager", MANAGER_PASSWORD);
        ensure_user(&database_url, AGENT, "agent", AGENT_PASSWORD);
        let engine = EngineProcess::start(Options {
            database_url: Some(database_url.clone()),
            extra_args: vec!["--recordings-dir".into(), recordings.display().to_string()],
            ..Options::default()
        });
        Archive {
            engine,
            database_url,
            recordings,
            dir,
        }
    }

    /// Writes `seconds` of a two-channel WAV as `name` in the recordings folder and stores
    /// its row, finished as `status`; returns the file's bytes.
    fn recorded(&self, call_id: &str, name: &str, seconds: u32) -> Vec<u8> {
        let path = self.recordings.join(name);
        write_call_wav(&path, seconds);
        let bytes = std::fs::read(&path).expect("the WAV reads back");
        self.store(|store| async move {
            store
                .recording_started(&started(call_id, name))
                .await
                .expect("started");
            store
                .recording_finished(call_id, &finished(&path, seconds))
                .await
                .expect("finished");
        });
        bytes
    }

    /// Runs `f` on a store over the engine's database (the engine reads the same file).
    fn store<F, Fut>(&self, f: F)
    where
        F: FnOnce(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let url = self.database_url.clone();
        runtime().block_on(async move {
            let store = Store::connect(&url).await.expect("store");
            f(store.clone()).await;
            store.close().await;
        });
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Raw {
        fetch(self.engine.http, "GET", path, headers, None)
    }

    fn as_admin(&self, path: &str, extra: &[(&str, &str)]) -> Raw {
        let bearer = format!("Bearer {}", self.engine.token);
        let mut headers = vec![("Authorization", bearer.as_str())];
        headers.extend_from_slice(extra);
        self.get(path, &headers)
    }

    /// Signs in and returns the `Cookie` header value a browser would send.
    fn cookie_of(&self, login: &str, password: &str) -> String {
        let body = json!({"login": login, "password": password}).to_string();
        // Signed in from the engine's own page, as the CSRF check wants.
        let origin = format!("http://{}", self.engine.http);
        let response = fetch(
            self.engine.http,
            "POST",
            "/api/v1/session",
            &[("Origin", origin.as_str())],
            Some(&body),
        );
        assert_eq!(response.status, 200, "{}", response.text());
        let set = response.header("set-cookie").expect("Set-Cookie");
        set.split(';').next().expect("name=value").to_owned()
    }

    /// The audit log as the admin reads it (JSON), newest first; without the retention
    /// job's own entries (login `system`), written at every start.
    fn audit(&self, query: &str) -> Vec<Value> {
        let response = self.as_admin(&format!("/api/v1/audit?per_page=500{query}"), &[]);
        assert_eq!(response.status, 200, "{}", response.text());
        let entries = response.json()["entries"]
            .as_array()
            .expect("entries")
            .clone();
        entries
            .into_iter()
            .filter(|e| e["login"] != "system")
            .collect()
    }

    /// The audit entries of `action` about the test call.
    fn accesses(&self, action: &str) -> Vec<Value> {
        self.audit(&format!("&action={action}"))
            .into_iter()
            .filter(|e| e["subject"] == CALL)
            .collect()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn started(call_id: &str, name: &str) -> NewRecording {
    NewRecording {
        call_id: call_id.into(),
        file: name.into(),
        started_at: Utc::now() - chrono::Duration::minutes(5),
        node_id: "node1".into(),
    }
}

fn finished(path: &Path, seconds: u32) -> FinishedRecording {
    FinishedRecording {
        ended_at: Utc::now() - chrono::Duration::minutes(1),
        duration_ms: i64::from(seconds) * 1_000,
        bytes: std::fs::metadata(path).map_or(0, |m| m.len() as i64),
        sha256: Some(sha256_of(path)),
        paused: vec![PausedSpan {
            from_ms: 1_000,
            to_ms: 1_500,
        }],
        status: RecordingStatus::Complete,
        error: None,
    }
}

/// An HTTP response with its body as bytes (a WAV is not text).
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
}

/// One HTTP/1.1 request with exactly `headers`; the body read to the end as bytes.
fn fetch(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> Raw {
    let mut stream = TcpStream::connect(addr).expect("connect http");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    match json {
        Some(json) => request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        )),
        None => request.push_str("\r\n"),
    }
    stream.write_all(request.as_bytes()).expect("send http");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read http");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = response[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(&body) } else { body };
    Raw {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || body.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[(end + 4 + size).min(body.len())..];
    }
    out
}

#[test]
fn a_manager_gets_the_whole_file_any_range_of_it_and_a_download() {
    let archive = Archive::start();
    let wav = archive.recorded(CALL, "2026/01/05/node1-0001.wav", 3);
    let len = wav.len();
    assert_eq!(len as u64, 44 + 3 * BYTES_PER_SECOND);
    let cookie = archive.cookie_of(MANAGER, MANAGER_PASSWORD);
    let as_manager = |extra: &[(&str, &str)]| {
        let mut headers = vec![("Cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        archive.get(&format!("/api/v1/calls/{CALL}/recording"), &headers)
    };

    let whole = as_manager(&[]);
    assert_eq!(whole.status, 200, "{}", whole.text());
    assert_eq!(whole.header("content-type"), Some("audio/wav"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        whole.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert_eq!(whole.header("content-disposition"), None);
    assert!(whole.body == wav, "the body is the file, byte for byte");

    let middle = as_manager(&[("Range", "bytes=40000-40999")]);
    assert_eq!(middle.status, 206, "{}", middle.text());
    assert_eq!(
        middle.header("content-range"),
        Some(format!("bytes 40000-40999/{len}").as_str())
    );
    assert_eq!(middle.header("content-length"), Some("1000"));
    assert!(middle.body == wav[40_000..41_000], "the asked bytes");

    let to_end = as_manager(&[("Range", "bytes=90000-")]);
    assert_eq!(to_end.status, 206);
    assert!(to_end.body == wav[90_000..]);
    let last = as_manager(&[("Range", "bytes=-44")]);
    assert_eq!(last.status, 206);
    assert_eq!(
        last.header("content-range"),
        Some(format!("bytes {}-{}/{len}", len - 44, len - 1).as_str())
    );
    assert!(last.body == wav[len - 44..]);

    let beyond = as_manager(&[("Range", &format!("bytes={len}-"))]);
    assert_eq!(beyond.status, 416, "{}", beyond.text());
    assert_eq!(
        beyond.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );

    let download = archive.get(
        &format!("/api/v1/calls/{CALL}/recording?download=1"),
        &[("Cookie", cookie.as_str())],
    );
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"call-node1-0001.wav\"")
    );
    assert!(download.body == wav);

    // A player starting over asks for bytes=0-: a second listen.
    let again = as_manager(&[("Range", "bytes=0-")]);
    assert_eq!(again.status, 206);
    assert!(again.body == wav);

    // Two listens (the whole file, then bytes=0-) and one download; the ranges that did not
    // start at 0 and the 416 left no entry.
    let listens = archive.accesses("recording.listen");
    assert_eq!(listens.len(), 2, "{listens:?}");
    let downloads = archive.accesses("recording.download");
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    for entry in listens.iter().chain(&downloads) {
        assert_eq!(entry["login"], MANAGER);
        assert_eq!(entry["role"], "manager");
        assert_eq!(entry["source"], "127.0.0.1");
    }
}

#[test]
fn only_managers_and_admins_may_listen_and_refusals_leave_no_entry() {
    let archive = Archive::start();
    let wav = archive.recorded(CALL, "node1-0001.wav", 1);
    let path = format!("/api/v1/calls/{CALL}/recording");
    let meta = format!("/api/v1/calls/{CALL}/recording/meta");

    assert_eq!(archive.get(&path, &[]).status, 401);
    assert_eq!(archive.get(&meta, &[]).status, 401);
    assert_eq!(archive.get("/api/v1/audit", &[]).status, 401);
    let agent = archive.cookie_of(AGENT, AGENT_PASSWORD);
    for p in [&path, &meta, &"/api/v1/audit".to_owned()] {
        let refused = archive.get(p, &[("Cookie", agent.as_str())]);
        assert_eq!(refused.status, 403, "{p}: {}", refused.text());
    }
    assert!(
        archive.audit("").is_empty(),
        "refused requests are not accesses"
    );

    let admin = archive.as_admin(&path, &[]);
    assert_eq!(admin.status, 200);
    assert!(admin.body == wav);
    let entries = archive.audit("");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["login"], support::TEST_ADMIN);
    assert_eq!(entries[0]["role"], "admin");
    assert_eq!(entries[0]["action"], "recording.listen");
}

#[test]
fn the_metadata_says_status_duration_checksum_and_paused_spans() {
    let archive = Archive::start();
    let name = "2026/01/05/node1-0001.wav";
    archive.recorded(CALL, name, 2);
    let response = archive.as_admin(&format!("/api/v1/calls/{CALL}/recording/meta"), &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    let meta = response.json();
    assert_eq!(meta["call_id"], CALL);
    assert_eq!(meta["status"], "complete");
    assert_eq!(meta["duration_ms"], 2_000);
    assert_eq!(meta["bytes"], 44 + 2 * BYTES_PER_SECOND);
    assert_eq!(
        meta["sha256"].as_str(),
        Some(sha256_of(&archive.recordings.join(name)).as_str())
    );
    assert_eq!(meta["paused"], json!([{"from_ms": 1000, "to_ms": 1500}]));
    assert_eq!(meta["file_present"], true);
    assert!(
        meta.get("file").is_none(),
        "the server's layout stays inside"
    );
    assert!(archive.audit("").is_empty(), "metadata is not audited");
}

#[test]
fn no_recording_a_missing_file_and_a_recording_in_progress() {
    let archive = Archive::start();
    let none = archive.as_admin("/api/v1/calls/never-recorded/recording", &[]);
    assert_eq!(none.status, 404, "{}", none.text());
    assert_eq!(
        archive
            .as_admin("/api/v1/calls/never-recorded/recording/meta", &[])
            .status,
        404
    );

    // A row whose file was removed from the folder.
    archive.recorded("gone", "gone.wav", 1);
    std::fs::remove_file(archive.recordings.join("gone.wav")).expect("removed");
    let gone = archive.as_admin("/api/v1/calls/gone/recording", &[]);
    assert_eq!(gone.status, 404, "{}", gone.text());
    let meta = archive.as_admin("/api/v1/calls/gone/recording/meta", &[]);
    assert_eq!(meta.json()["file_present"], false);

    // Still being recorded: the file exists but is not closed.
    write_call_wav(&archive.recordings.join("live.wav"), 1);
    archive.store(|store| async move {
        store
            .recording_started(&started("live", "live.wav"))
            .await
            .expect("started");
    });
    let live = archive.as_admin("/api/v1/calls/live/recording", &[]);
    assert_eq!(live.status, 409, "{}", live.text());
    assert_eq!(
        archive
            .as_admin("/api/v1/calls/live/recording/meta", &[])
            .json()["status"],
        "recording"
    );
    assert!(archive.audit("").is_empty(), "nothing was handed out");
}

#[test]
fn a_file_name_leaving_the_recordings_folder_is_refused() {
    let archive = Archive::start();
    let secret = b"RIFF-not-for-you";
    std::fs::write(archive.dir.path().join("secret.wav"), secret).expect("outside file");

    // The store refuses such a name from the engine...
    archive.store(|store| async move {
        let err = store
            .recording_started(&started("up", "../secret.wav"))
            .await
            .expect_err("refused");
        assert!(matches!(err, RecordingError::BadFile), "{err}");
    });
    // ...and the HTTP side refuses one written around the store (a hand edit).
    let database = archive
        .database_url
        .strip_prefix("sqlite://")
        .expect("a SQLite URL");
    let inserted = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
             db.execute(\"INSERT INTO recordings (call_id, file, started_at, ended_at, \
             duration_ms, bytes, status, node_id, sha256) VALUES ('up', '../secret.wav', \
             '2026-01-05T00:00:00.000Z', '2026-01-05T00:01:00.000Z', 60000, 16, \
             'interrupted', 'node1', NULL)\"); db.commit()",
        )
        .arg(database)
        .status()
        .expect("python3 runs");
    assert!(inserted.success());
    let up = archive.as_admin("/api/v1/calls/up/recording", &[]);
    assert_eq!(up.status, 404, "{}", up.text());
    assert!(!up.body.windows(secret.len()).any(|w| w == secret));

    // A symbolic link in the folder that points out of it.
    std::os::unix::fs::symlink(
        archive.dir.path().join("secret.wav"),
        archive.recordings.join("link.wav"),
    )
    .expect("symlink");
    archive.store(|store| async move {
        store
            .recording_started(&started("linked", "link.wav"))
            .await
            .expect("started");
        store
            .recording_finished("linked", &finished(Path::new("/dev/null"), 1))
            .await
            .expect("finished");
    });
    let linked = archive.as_admin("/api/v1/calls/linked/recording", &[]);
    assert_eq!(linked.status, 404, "{}", linked.text());
    assert!(!linked.body.windows(secret.len()).any(|w| w == secret));

    // The call id in the URL is only ever a key.
    let dotted = archive.as_admin("/api/v1/calls/..%2F..%2Fsecret/recording", &[]);
    assert_eq!(dotted.status, 404, "{}", dotted.text());
    assert!(archive.audit("").is_empty(), "nothing was handed out");
    assert!(archive
        .engine
        .log()
        .contains("leaves the recordings folder"));
}

#[test]
fn the_audit_log_lists_newest_first_filters_and_exports_csv_auditing_the_export() {
    let archive = Archive::start();
    archive.recorded(CALL, "node1-0001.wav", 1);
    archive.recorded("node1-0002", "node1-0002.wav", 1);
    let cookie = archive.cookie_of(MANAGER, MANAGER_PASSWORD);
    let listen = |call: &str, query: &str| {
        let response = archive.get(
            &format!("/api/v1/calls/{call}/recording{query}"),
            &[("Cookie", cookie.as_str())],
        );
        assert_eq!(response.status, 200);
    };
    listen(CALL, "");
    listen("node1-0002", "");
    listen(CALL, "?download=1");

    let entries = archive.audit("");
    let summary: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["subject"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("recording.download", CALL),
            ("recording.listen", "node1-0002"),
            ("recording.listen", CALL),
        ],
        "newest first"
    );
    assert_eq!(archive.audit("&action=recording.listen").len(), 2);
    assert_eq!(archive.audit(&format!("&login={MANAGER}")).len(), 3);
    assert!(archive.audit("&login=someone-else").is_empty());
    let paged = archive.as_admin(
        &format!("/api/v1/audit?per_page=1&page=2&login={MANAGER}"),
        &[],
    );
    assert_eq!(paged.json()["total"], 3);
    assert_eq!(paged.json()["entries"][0]["subject"], "node1-0002");
    assert_eq!(
        archive
            .as_admin("/api/v1/audit?action=Bad%20Action", &[])
            .status,
        400
    );

    let csv = archive.get(
        "/api/v1/audit?format=csv&action=recording.listen",
        &[("Cookie", cookie.as_str())],
    );
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"audit-log.csv\"")
    );
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = String::from_utf8(csv.body[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "id,at,login,role,action,subject,detail,source");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].contains(",sato,manager,recording.listen,node1-0002,,127.0.0.1"));
    assert!(lines[2].contains(",sato,manager,recording.listen,node1-0001,,127.0.0.1"));
    assert!(
        lines[1].contains("+09:00,"),
        "times in the hotline's zone: {text}"
    );

    let exports = archive.audit("&action=audit.export");
    assert_eq!(exports.len(), 1, "the export is itself audited");
    assert_eq!(exports[0]["login"], MANAGER);
    assert_eq!(exports[0]["detail"], "format=csv action=recording.listen");
}

#[test]
fn the_endpoints_are_in_the_openapi_document() {
    let archive = Archive::start();
    let response = archive.get("/api/v1/openapi.json", &[]);
    assert_eq!(response.status, 200);
    let paths = &response.json()["paths"];
    for (path, code) in [
        ("/api/v1/calls/{id}/recording", "206"),
        ("/api/v1/calls/{id}/recording/meta", "200"),
        ("/api/v1/audit", "200"),
    ] {
        assert!(
            paths[path]["get"]["responses"].get(code).is_some(),
            "{path} answers {code} in the document"
        );
    }
}

#[test]
fn recordings_default_to_a_folder_next_to_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("calls.db").display());
    let folder = dir.path().join("recordings");
    write_call_wav(&folder.join("c.wav"), 1);
    let path = folder.join("c.wav");
    let url = database_url.clone();
    runtime().block_on(async move {
        let store = Store::connect(&url).await.expect("store");
        store
            .recording_started(&started("c", "c.wav"))
            .await
            .expect("started");
        store
            .recording_finished("c", &finished(&path, 1))
            .await
            .expect("finished");
        store.close().await;
    });
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url),
        ..Options::default()
    });
    let bearer = format!("Bearer {}", engine.token);
    let response = fetch(
        engine.http,
        "GET",
        "/api/v1/calls/c/recording",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.body.len() as u64, 44 + BYTES_PER_SECOND);
}

/// A real browser plays the recording in an `<audio>` element: it loads the metadata (the
/// duration), then seeks to the middle, past what it has buffered, which it can only do
/// with a range request. The playback is one listen in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_plays_the_recording_and_seeks_to_its_middle() {
    const SECONDS: u32 = 600;
    let archive = tokio::task::block_in_place(|| {
        let archive = Archive::start();
        archive.recorded(CALL, "long.wav", SECONDS);
        archive
    });
    let microphone = archive.dir.path().join("microphone.wav");
    write_tone(&microphone, 440.0);
    let chromedriver = Chromedriver::start().await;
    let mut browser = chromedriver.open(&microphone).await;
    browser.describe_with("JSON.stringify(window.played)");
    browser
        .goto(&format!("http://{}/manager", archive.engine.http))
        .await;
    // Sign in from the page, as its form does: the session cookie is then the browser's.
    browser
        .eval(&format!(
            "(window.signedIn = null, fetch('/api/v1/session', {{ method: 'POST', \
               headers: {{ 'Content-Type': 'application/json' }}, \
               body: JSON.stringify({{ login: '{MANAGER}', password: '{MANAGER_PASSWORD}' }}) }})
             .then(r => {{ window.signedIn = r.status; }}), true)"
        ))
        .await;
    let status = browser
        .until("window.signedIn", "the manager signs in")
        .await;
    assert_eq!(status, json!(200));

    browser
        .eval(&format!(
            "(() => {{ \
               const audio = new Audio('/api/v1/calls/{CALL}/recording'); \
               window.played = {{ events: [] }}; \
               for (const name of ['loadedmetadata', 'seeked', 'error']) \
                 audio.addEventListener(name, () => {{ \
                   window.played.events.push(name); \
                   window.played.duration = audio.duration; \
                   window.played.currentTime = audio.currentTime; \
                   window.played.error = audio.error && audio.error.code; }}); \
               window.audio = audio; \
               audio.preload = 'metadata'; \
               audio.load(); \
               return true; }})()"
        ))
        .await;
    browser
        .until(
            "window.played.events.includes('loadedmetadata')",
            "the audio element loads the metadata",
        )
        .await;
    let duration = browser.eval("window.audio.duration").await;
    let duration = duration.as_f64().expect("a duration");
    assert!(
        (duration - f64::from(SECONDS)).abs() < 0.1,
        "the browser's duration {duration} s, the file's {SECONDS} s"
    );
    let middle = f64::from(SECONDS) / 2.0;
    browser
        .eval(&format!("(window.audio.currentTime = {middle}, true)"))
        .await;
    browser
        .until(
            "window.played.events.includes('seeked')",
            "the audio element seeks to the middle",
        )
        .await;
    let position = browser.eval("window.audio.currentTime").await;
    assert!(
        (position.as_f64().expect("a position") - middle).abs() < 0.5,
        "at {position} after seeking to {middle}"
    );
    // It can play from there: data arrives for the new position.
    browser
        .eval("(window.audio.play().then(() => window.played.playing = true), true)")
        .await;
    browser
        .until(
            &format!("window.played.playing && window.audio.currentTime > {middle}"),
            "the audio element plays from the middle",
        )
        .await;
    let seekable = browser
        .eval("window.audio.seekable.length && window.audio.seekable.end(0)")
        .await;
    assert!(
        (seekable.as_f64().unwrap_or(0.0) - f64::from(SECONDS)).abs() < 0.1,
        "the whole file is seekable: {seekable}"
    );
    browser.close().await;

    let listens = tokio::task::block_in_place(|| archive.accesses("recording.listen"));
    assert_eq!(
        listens.len(),
        1,
        "one playback, one entry, however many ranges it asked for: {listens:?}"
    );
    // The engine logs each partial answer at DEBUG: one began past byte 0 (the seek).
    let log = without_colours(&archive.engine.log());
    let starts: Vec<u64> = log
        .lines()
        .filter(|line| line.contains("recording range served"))
        .filter_map(|line| line.split(" start=").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter_map(|digits| digits.parse().ok())
        .collect();
    assert!(
        starts.iter().any(|&start| start > 0),
        "the browser's seek was a range request past byte 0: {starts:?}"
    );
}

/// The log without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
