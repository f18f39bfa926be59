//! End to end: call recording against real peers over loopback. The operator is a sipp phone
//! that answers and plays a 2800 Hz tone (a pcap, so these tests need root or CAP_NET_RAW as
//! tests/queue.rs's tone test does); the caller is the test phone sending 1900 Hz. The
//! dialplan is tests/dialplans/queue.toml with `recording` set on its entry; recordings go to
//! a temporary folder, and the WAV is read back with hound.

mod support;

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::center::{register, wait_for_state, Center, SippProcess};
use support::phone::Phone;
use support::tone::{self, CALLER_HZ, FAR_END_HZ};
use support::{pcap, repo_root, EngineProcess};

/// How much stronger than every other probe a tone must be to count as present.
const PRESENT: f64 = 30.0;
/// How long the caller and the operator talk.
const TALK: Duration = Duration::from_secs(3);

/// queue.toml with `recording` on its entry (its sounds found from `dir`).
fn dialplan(dir: &Path, recording: &str) -> PathBuf {
    let base = repo_root().join("tests/dialplans");
    let text = std::fs::read_to_string(base.join("queue.toml")).expect("queue.toml");
    let sounds = repo_root().join("sounds/ja");
    let text = text
        .replace(
            "sounds_dir = \"../../sounds/ja\"",
            &format!("sounds_dir = {:?}", sounds.display().to_string()),
        )
        .replace(
            "[prompts]\n",
            "[prompts]\nrecording_notice = \"recording_notice.wav\"\n",
        )
        .replace(
            "calendar = \"always\"\n",
            &format!("calendar = \"always\"\nrecording = {recording}\n"),
        );
    let path = dir.join("recorded.toml");
    std::fs::write(&path, text).expect("write the dialplan variant");
    path
}

/// A center with op1 on a sipp phone that will answer once and play the operator's tone.
struct Desk {
    engine: EngineProcess,
    recordings: PathBuf,
    phone: SippProcess,
    center: Center,
    dialplan: PathBuf,
    _files: tempfile::TempDir,
}

impl Desk {
    fn args(&self) -> Vec<String> {
        vec![
            "--recordings-dir".to_owned(),
            self.recordings.display().to_string(),
        ]
    }

    /// The engine again on the same database and folders.
    fn restart(&mut self) {
        self.engine = self.center.start_with(&self.dialplan, &self.args());
    }
}

fn desk(recording: &str) -> Desk {
    let files = tempfile::tempdir().expect("temp dir");
    let recordings = files.path().join("recordings");
    desk_in(recording, files, recordings)
}

/// [`desk`] recording into `recordings`.
fn desk_in(recording: &str, files: tempfile::TempDir, recordings: PathBuf) -> Desk {
    let center = Center::with_operators(&["op1"]);
    let dialplan = dialplan(files.path(), recording);
    let engine = center.start_with(
        &dialplan,
        &[
            "--recordings-dir".to_owned(),
            recordings.display().to_string(),
        ],
    );
    let port = register(&engine, "op1");
    wait_for_state(&engine, "op1", "available");
    let phone_dir = tempfile::tempdir().expect("temp dir");
    // Eight seconds of tone, longer than any call here; sipp rewrites addresses and ports.
    let frames: Vec<Vec<u8>> = (0..400).map(|i| tone::pcmu_frame(FAR_END_HZ, i)).collect();
    pcap::write_rtp_stream(
        &phone_dir.path().join("tone.pcap"),
        &frames,
        0x0b0e_0001,
        SocketAddrV4::new([127, 0, 0, 1].into(), 40_000),
        SocketAddrV4::new([127, 0, 0, 1].into(), 40_002),
    )
    .expect("write pcap");
    let phone = SippProcess::spawn(
        "operator_plays_tone.xml",
        None,
        port,
        phone_dir,
        &["-m", "1"],
    );
    Desk {
        engine,
        recordings,
        phone,
        center,
        dialplan,
        _files: files,
    }
}

/// The stored recording of `call_id` once it is no longer being written.
fn finished_recording(engine: &EngineProcess, call_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = engine.get(&format!("/api/v1/calls/{call_id}/recording/meta"));
        if status == 200 {
            let meta: Value = serde_json::from_str(&body).expect("json");
            if meta["status"] != "recording" {
                return meta;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the recording of {call_id} never finished: {status} {body}\n{}",
            engine.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The WAV's two channels.
fn channels(path: &Path) -> (hound::WavSpec, Vec<i16>, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).expect("a readable WAV");
    let spec = reader.spec();
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("a sample"))
        .collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (spec, left, right)
}

/// Samples `from`..`to` seconds into a channel.
fn span(channel: &[i16], from: f64, to: f64) -> &[i16] {
    let at = |s: f64| ((s * 8000.0) as usize).min(channel.len());
    &channel[at(from)..at(to)]
}

/// A call of op1's answered, talked on for [`TALK`] (with `during` run halfway), hung up by
/// the caller; returns its call record.
async fn recorded_call(desk: &mut Desk, during: impl FnOnce(&EngineProcess, &str)) -> Value {
    let mut caller = Phone::new(desk.engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    let _talking = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    let call_id = wait_for_state(&desk.engine, "op1", "on_call")["call_id"]
        .as_str()
        .expect("the call op1 is on")
        .to_owned();
    tokio::time::sleep(TALK / 2).await;
    during(&desk.engine, &call_id);
    tokio::time::sleep(TALK / 2).await;
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(
        desk.phone.exited(Duration::from_secs(10)).await,
        Some(0),
        "{}",
        desk.phone.output()
    );
    desk.engine.wait_for_calls(1);
    let (status, body) = desk.engine.get(&format!("/api/v1/calls/{call_id}"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("the call record with its events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_holds_the_caller_left_and_the_operator_right_for_its_talk_time() {
    let mut desk = desk("\"all\"");
    let call = recorded_call(&mut desk, |_, _| {}).await;
    let call_id = call["id"].as_str().expect("id");
    let meta = finished_recording(&desk.engine, call_id);
    assert_eq!(meta["status"], "complete", "{meta}");

    let path = only_file(&desk.recordings);
    let (spec, left, right) = channels(&path);
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let seconds = left.len() as f64 / 8000.0;
    let talk = call["talk_ms"].as_f64().expect("talk_ms") / 1000.0;
    assert!(
        (seconds - talk).abs() <= 0.1,
        "the recording lasts {seconds:.3} s, the talk {talk:.3} s"
    );
    let (middle_left, middle_right) = (
        span(&left, 0.3, seconds - 0.3),
        span(&right, 0.3, seconds - 0.3),
    );
    let caller_left = tone::dominance(middle_left, CALLER_HZ);
    let operator_right = tone::dominance(middle_right, FAR_END_HZ);
    assert!(
        caller_left > PRESENT,
        "the caller's tone on the left: {caller_left:.1}x"
    );
    assert!(
        operator_right > PRESENT,
        "the operator's tone on the right: {operator_right:.1}x"
    );
    assert!(
        tone::dominance(middle_left, FAR_END_HZ) < 1.0,
        "no operator on the left"
    );
    assert!(
        tone::dominance(middle_right, CALLER_HZ) < 1.0,
        "no caller on the right"
    );

    let (bytes, sha256) = madoguchi_recording::wav::sync_and_hash(&path).expect("hash");
    let hex = madoguchi_recording::wav::hex(&sha256);
    assert_eq!(meta["sha256"], hex.as_str());
    assert_eq!(meta["bytes"].as_u64(), Some(bytes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_span_of_a_recording_is_silent_and_the_rest_is_not() {
    let mut desk = desk("true");
    let call = recorded_call(&mut desk, |engine, call_id| {
        let path = format!("/api/v1/calls/{call_id}/recording/pause");
        assert_eq!(support::http_post(engine.http, &path, "").0, 204);
        std::thread::sleep(Duration::from_secs(1));
        let path = format!("/api/v1/calls/{call_id}/recording/resume");
        assert_eq!(support::http_post(engine.http, &path, "").0, 204);
    })
    .await;
    let call_id = call["id"].as_str().expect("id");
    let meta = finished_recording(&desk.engine, call_id);
    let paused = meta["paused"].as_array().expect("paused spans");
    assert_eq!(paused.len(), 1, "{meta}");
    let from = paused[0]["from_ms"].as_f64().expect("from") / 1000.0;
    let to = paused[0]["to_ms"].as_f64().expect("to") / 1000.0;
    assert!(
        (0.9..1.3).contains(&(to - from)),
        "paused {from:.3}–{to:.3} s"
    );

    let (_, left, right) = channels(&only_file(&desk.recordings));
    for channel in [&left, &right] {
        let paused = span(channel, from, to);
        let loud: Vec<usize> = (0..paused.len()).filter(|&i| paused[i] != 0).collect();
        assert!(
            loud.is_empty(),
            "the paused span {from:.3}–{to:.3} s is silent; {} samples are not, first at +{:?}",
            loud.len(),
            loud.first()
        );
    }
    let before = span(&left, 0.3, from - 0.1);
    let after = span(&left, to + 0.1, left.len() as f64 / 8000.0 - 0.3);
    assert!(
        tone::dominance(before, CALLER_HZ) > PRESENT,
        "recorded before the pause"
    );
    assert!(
        tone::dominance(after, CALLER_HZ) > PRESENT,
        "recorded after the pause"
    );
    let events = call["events"].as_array().expect("events");
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"recording_paused") && kinds.contains(&"recording_resumed"),
        "{kinds:?}"
    );
}

/// The prompts the call played, in order, from its record.
fn played(call: &Value) -> Vec<String> {
    call["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "play")
        .filter_map(|e| e["detail"]["prompt"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_notice_plays_before_the_queue_when_recording_is_on_and_not_when_off() {
    for (recording, notice, files) in [("\"all\"", true, 1), ("\"off\"", false, 0)] {
        let mut desk = desk(recording);
        let call = recorded_call(&mut desk, |_, _| {}).await;
        let kinds: Vec<&str> = call["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["kind"].as_str())
            .collect();
        let enqueued = kinds.iter().position(|k| *k == "enqueued").expect("queued");
        let notice_at = call["events"]
            .as_array()
            .expect("events")
            .iter()
            .position(|e| e["kind"] == "play" && e["detail"]["prompt"] == "recording_notice");
        assert_eq!(
            notice_at.is_some(),
            notice,
            "recording {recording}: {:?}",
            played(&call)
        );
        if let Some(at) = notice_at {
            assert!(
                at < enqueued,
                "the notice comes before the queue: {kinds:?}"
            );
        }
        let wavs = walk(&desk.recordings);
        assert_eq!(wavs.len(), files, "recording {recording}: {wavs:?}");
    }
}

/// The one recording under `dir` (the API does not say where it is on disk).
fn only_file(dir: &Path) -> PathBuf {
    let files = walk(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().expect("one file")
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// A caller talking to op1 while a recording runs; returns the phone (hang it up or not).
async fn talking(desk: &Desk) -> (Phone, support::phone::ToneSender, String) {
    let mut caller = Phone::new(desk.engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200));
    let tone = caller.send_tone(answer.sdp_media().expect("media"), CALLER_HZ);
    let call_id = wait_for_state(&desk.engine, "op1", "on_call")["call_id"]
        .as_str()
        .expect("the call op1 is on")
        .to_owned();
    (caller, tone, call_id)
}

/// The stored recording of `call_id`, read from the database directly (the engine is down).
async fn stored(desk: &Desk, call_id: &str) -> madoguchi_store::Recording {
    let store = madoguchi_store::Store::connect(&desk.center.database_url)
        .await
        .expect("store");
    let recording = store
        .recording(call_id)
        .await
        .expect("read")
        .expect("a recording row");
    store.close().await;
    recording
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_that_ends_as_the_engine_shuts_down_is_stored_complete() {
    let mut desk = desk("\"all\"");
    let (mut caller, _tone, call_id) = talking(&desk).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = desk.engine.pid();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    // Draining: the call in progress goes on; its end lets the engine exit.
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(desk.engine.terminate(), Some(0), "{}", desk.engine.log());
    let recording = stored(&desk, &call_id).await;
    assert_eq!(
        recording.status,
        madoguchi_store::RecordingStatus::Complete,
        "{recording:?}\n{}",
        desk.engine.log()
    );
    let path = only_file(&desk.recordings);
    let (bytes, _) = madoguchi_recording::wav::sync_and_hash(&path).expect("hash");
    assert_eq!(recording.bytes, Some(bytes as i64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_cut_by_a_crash_is_repaired_and_marked_interrupted_at_the_next_start() {
    let mut desk = desk("\"all\"");
    let (_caller, _tone, call_id) = talking(&desk).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    desk.engine.kill();
    let path = only_file(&desk.recordings);
    // The header was last written at a one-second checkpoint: readable at once.
    let (_, left, _) = channels(&path);
    let before_repair = left.len() as f64 / 8000.0;
    assert!(
        before_repair >= 1.0,
        "{before_repair:.2} s readable after the crash"
    );

    desk.restart();
    let recording = stored(&desk, &call_id).await;
    assert_eq!(
        recording.status,
        madoguchi_store::RecordingStatus::Interrupted
    );
    let (_, left, _) = channels(&path);
    let seconds = left.len() as f64 / 8000.0;
    let stored_s = recording.duration_ms.expect("a duration") as f64 / 1000.0;
    assert!(
        (seconds - stored_s).abs() < 0.01,
        "{seconds} s on disk, {stored_s} s stored"
    );
    assert!(
        (1.5..=3.0).contains(&seconds),
        "about the 2.5 s recorded before the crash: {seconds:.2} s"
    );
    assert!(tone::dominance(span(&left, 0.3, seconds - 0.3), CALLER_HZ) > PRESENT);
    let (bytes, sha256) = madoguchi_recording::wav::sync_and_hash(&path).expect("hash");
    let hex = madoguchi_recording::wav::hex(&sha256);
    assert_eq!(recording.sha256.as_deref(), Some(hex.as_str()));
    assert_eq!(recording.bytes, Some(bytes as i64));
}

/// A tmpfs of `size` mounted on a fresh directory (root only, as in CI), unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mounting a tmpfs needs root (as in CI)");
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_recording_not_the_call_and_the_board_is_told() {
    // 64 KiB: the recording (32 kB a second) fills it about two seconds in.
    let disk = SmallDisk::mount("64k");
    let files = tempfile::tempdir().expect("temp dir");
    let mut desk = desk_in("\"all\"", files, disk.dir.path().to_owned());
    let (mut caller, _tone, call_id) = talking(&desk).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let live = support::center::live(&desk.engine);
    assert_eq!(live["recording_failures"], 1, "{live}");
    assert_eq!(live["last_recording_failure"]["disk_full"], true, "{live}");
    assert_eq!(
        support::center::operator(&desk.engine, "op1")["state"],
        "on_call",
        "the call goes on"
    );
    assert_eq!(caller.hangup().await.status(), Some(200));
    assert_eq!(desk.phone.exited(Duration::from_secs(10)).await, Some(0));
    let meta = finished_recording(&desk.engine, &call_id);
    assert_eq!(meta["status"], "failed", "{meta}");
    let (status, body) = desk.engine.get(&format!("/api/v1/calls/{call_id}"));
    assert_eq!(status, 200);
    let call: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(call["disposition"], "answered", "{call}");
    assert!(
        call["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["kind"] == "recording_failed" && e["detail"]["disk_full"] == true),
        "{call}"
    );
    drop(desk);
}
