//! End to end: a counter device beats with its own token (design §3). The real engine on
//! SQLite; the device is added with `madoguchi device add`, beats with
//! examples/device/heartbeat.sh or a plain request, and shows in `GET /api/v1/devices`; a
//! silence within the counter's hours reaches the managers' `GET /api/v1/devices/stream`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{add_counter_device, madoguchi_cli, request, EngineProcess, HttpResponse, Options};

/// An engine and one device registered on its database.
struct Counter {
    engine: EngineProcess,
    /// The device's token, as `device add` printed it.
    device_token: String,
}

const DEVICE: &str = "counter-1";

fn counter() -> Counter {
    counter_with(Options::default(), &[])
}

/// [`counter`] with the engine's options and more `device add` arguments.
fn counter_with(options: Options, add_args: &[&str]) -> Counter {
    let engine = EngineProcess::start(options);
    let database = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    let device_token = add_counter_device(&database, DEVICE, add_args);
    Counter {
        engine,
        device_token,
    }
}

impl Counter {
    /// Runs the example script with the device's token; returns (exit code, stderr).
    fn script(&self, args: &[&str]) -> (i32, String) {
        let script = support::repo_root().join("examples/device/heartbeat.sh");
        let output = Command::new("sh")
            .arg(script)
            .args(args)
            .env("MADOGUCHI_URL", format!("http://{}", self.engine.http))
            .env("MADOGUCHI_DEVICE_TOKEN", &self.device_token)
            .output()
            .expect("run heartbeat.sh (sh and curl)");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn beat_with(&self, token: &str, body: &Value) -> HttpResponse {
        let bearer = format!("Bearer {token}");
        request(
            self.engine.http,
            "POST",
            "/api/v1/devices/heartbeat",
            &[("Authorization", &bearer)],
            Some(&body.to_string()),
        )
    }

    fn beat(&self, body: &Value) -> HttpResponse {
        self.beat_with(&self.device_token, body)
    }

    /// The device as the board lists it (read with the test admin's API token).
    fn on_the_board(&self) -> Value {
        let bearer = format!("Bearer {}", self.engine.token);
        let response = request(
            self.engine.http,
            "GET",
            "/api/v1/devices",
            &[("Authorization", &bearer)],
            None,
        );
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["devices"]
            .as_array()
            .expect("a device list")
            .iter()
            .find(|d| d["id"] == DEVICE)
            .cloned()
            .expect("the device is listed")
    }
}

fn state_file(dir: &Path) -> String {
    dir.join("heartbeat.state").display().to_string()
}

#[test]
fn the_scripts_single_beat_shows_on_the_board() {
    let counter = counter();
    let state = state_file(counter.engine.dir.path());
    let (code, stderr) = counter.script(&["--once", "--state", &state]);
    assert_eq!(code, 0, "heartbeat.sh --once: {stderr}");
    let device = counter.on_the_board();
    assert!(device["last_seen_at"].is_string(), "{device}");
    assert_eq!(device["last_status"], "ok", "{device}");
    assert_eq!(device["silent"], false, "{device}");
    assert!(device["last_beat_age_s"].as_i64().is_some(), "{device}");
    // The first beat has no previous round trip to report.
    assert_eq!(device["last_rtt_ms"], Value::Null, "{device}");
}

#[test]
fn the_next_run_reports_the_previous_beats_round_trip() {
    let counter = counter();
    let state = state_file(counter.engine.dir.path());
    assert_eq!(counter.script(&["--once", "--state", &state]).0, 0);
    // Beats closer than 5 s are refused: wait out the gap (a rule of time, not an event).
    std::thread::sleep(std::time::Duration::from_millis(5_100));
    let (code, stderr) = counter.script(&["--once", "--state", &state]);
    assert_eq!(code, 0, "second run: {stderr}");
    let device = counter.on_the_board();
    assert!(device["last_rtt_ms"].as_u64().is_some(), "{device}");
}

#[test]
fn a_failing_check_beats_error_with_its_first_line() {
    let counter = counter();
    let (code, stderr) = counter.script(&[
        "--once",
        "--check",
        "echo 'printer \"A\" offline'; echo more; false",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let device = counter.on_the_board();
    assert_eq!(device["last_status"], "error", "{device}");
    assert_eq!(device["last_detail"], "printer \"A\" offline", "{device}");
}

#[test]
fn a_users_api_token_cannot_beat() {
    let counter = counter();
    let response = counter.beat_with(&counter.engine.token, &json!({"status": "ok"}));
    assert_eq!(response.status, 401, "{}", response.body);
}

#[test]
fn a_revoked_device_token_cannot_beat() {
    let counter = counter();
    let database = format!(
        "sqlite://{}",
        counter.engine.dir.path().join("calls.db").display()
    );
    let (code, _, stderr) = madoguchi_cli(
        &["device", "revoke", DEVICE, "--database-url", &database],
        "",
    );
    assert_eq!(code, 0, "device revoke: {stderr}");
    let response = counter.beat(&json!({"status": "ok"}));
    assert_eq!(response.status, 401, "{}", response.body);
    assert!(response.body.contains("revoked"), "{}", response.body);
}

#[test]
fn a_device_token_opens_no_other_endpoint() {
    let counter = counter();
    let bearer = format!("Bearer {}", counter.device_token);
    let response = request(
        counter.engine.http,
        "GET",
        "/api/v1/devices",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(response.status, 401, "{}", response.body);
}

#[test]
fn a_detail_of_201_characters_is_refused_naming_detail() {
    let counter = counter();
    let response = counter.beat(&json!({"status": "warning", "detail": "あ".repeat(201)}));
    assert_eq!(response.status, 422, "{}", response.body);
    assert_eq!(response.json()["field"], "detail", "{}", response.body);
}

#[test]
fn a_second_beat_within_five_seconds_is_too_many() {
    let counter = counter();
    assert_eq!(counter.beat(&json!({"status": "ok"})).status, 200);
    let response = counter.beat(&json!({"status": "ok", "rtt_ms": 40}));
    assert_eq!(response.status, 429, "{}", response.body);
    assert!(
        response.header("retry-after").is_some(),
        "{:?}",
        response.headers
    );
}

/// The managers' device stream, read as a test admin.
struct DeviceStream {
    reader: BufReader<TcpStream>,
}

impl DeviceStream {
    fn open(counter: &Counter) -> DeviceStream {
        let mut stream = TcpStream::connect(counter.engine.http).expect("connect http");
        // Longer than the stream's 15 s keep-alive comments.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "GET /api/v1/devices/stream HTTP/1.0\r\nAccept: text/event-stream\r\n\
             Authorization: Bearer {}\r\n\r\n",
            counter.engine.token
        )
        .expect("request");
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).expect("status");
        assert!(status_line.contains(" 200 "), "{status_line}");
        DeviceStream { reader }
    }

    /// The data of the next `device` event of `kind`, within `limit`.
    fn next(&mut self, kind: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        let mut event = String::new();
        while Instant::now() < deadline {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => panic!("the device stream ended"),
                Ok(_) => {}
                Err(e) => panic!("no device event {kind} yet: {e}"),
            }
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_owned();
            } else if let Some(data) = line.strip_prefix("data:") {
                let data: Value = serde_json::from_str(data.trim()).expect("json event data");
                if event == "device" && data["kind"] == kind {
                    return data;
                }
            }
        }
        panic!("no device event {kind} within {limit:?}");
    }
}

/// Wednesday 2026-06-10 10:00 JST: the reference dialplan's counter calendar is open.
const WEDNESDAY_10_JST: &str = "2026-06-10 01:00:00";

#[test]
fn a_silence_within_counter_hours_alerts_the_board_and_the_next_beat_is_back() {
    let counter = counter_with(
        Options {
            faketime_utc: Some(WEDNESDAY_10_JST.to_owned()),
            ..Options::default()
        },
        &["--silent-after", "30"],
    );
    let mut stream = DeviceStream::open(&counter);
    assert_eq!(counter.beat(&json!({"status": "ok"})).status, 200);

    // Silent after 30 s, found by the watcher within its 5 s round.
    let silent = stream.next("silent", Duration::from_secs(60));
    assert_eq!(silent["device"], DEVICE, "{silent}");
    assert_eq!(silent["label"], "窓口1タブレット", "{silent}");
    assert_eq!(silent["location"], "本庁舎1階", "{silent}");
    assert_eq!(silent["alert"], true, "{silent}");
    assert!(silent["last_seen_at"].is_string(), "{silent}");
    assert!(silent["silent_since"].is_string(), "{silent}");
    let listed = counter.on_the_board();
    assert_eq!(listed["silent"], true, "{listed}");
    assert_eq!(listed["alert"], true, "{listed}");

    assert_eq!(counter.beat(&json!({"status": "ok"})).status, 200);
    let back = stream.next("back", Duration::from_secs(10));
    assert_eq!(back["device"], DEVICE, "{back}");
    assert!(back["silent_ms"].as_u64().unwrap_or(0) >= 30_000, "{back}");
    let listed = counter.on_the_board();
    assert_eq!(listed["silent"], false, "{listed}");
    assert_eq!(listed["alert"], false, "{listed}");
}
