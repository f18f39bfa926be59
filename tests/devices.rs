//! End to end: a counter device beats with its own token (design §3). The real engine on
//! SQLite; the device is added with `madoguchi device add`, beats with
//! examples/device/heartbeat.sh or a plain request, and shows in `GET /api/v1/devices`.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use support::{madoguchi_cli, request, EngineProcess, HttpResponse, Options};

/// An engine and one device registered on its database.
struct Counter {
    engine: EngineProcess,
    /// The device's token, as `device add` printed it.
    device_token: String,
}

const DEVICE: &str = "counter-1";

fn counter() -> Counter {
    let engine = EngineProcess::start(Options::default());
    let database = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    let (code, stdout, stderr) = madoguchi_cli(
        &[
            "device",
            "add",
            DEVICE,
            "--label",
            "窓口1タブレット",
            "--location",
            "本庁舎1階",
            "--database-url",
            &database,
        ],
        "",
    );
    assert_eq!(code, 0, "device add: {stderr}");
    Counter {
        engine,
        device_token: stdout.trim().to_owned(),
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
