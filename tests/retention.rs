//! `madoguchi retention run` on a SQLite database in use: after it, no byte of the
//! database, its WAL or its shared-memory file holds a resident's number, name or note,
//! the recording file is gone, and the month's report is the same file as before.
//!
//! The same holds inside a running `serve`, whose start-up run leaves the files clean while
//! its connections stay open: a process that exits lets SQLite checkpoint and delete the
//! WAL on close, a running engine does not, so only the job's own secure deletion and
//! checkpoint keep old values out of the files.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use madoguchi_store::{
    CallEvent, CallRecord, CaseDetails, CounterKind, CounterOutcome, Disposition,
    FinishedRecording, HangupSide, NewClassification, NewCounterCase, NewRecording, Outcome,
    RecordingStatus, Store,
};

/// What must not be found: the number as dialled and as digits (also split as a trunk
/// or a phone would write it), a name and a note in UTF-8.
const MARKERS: [&str; 6] = [
    "+81-90-7777-1234",
    "09077771234",
    "7777-1234",
    "77771234",
    "山田太郎",
    "秘密のメモXYZ",
];

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instant")
}

fn madoguchi(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env_remove("MADOGUCHI_RETENTION_DAYS")
        .env_remove("MADOGUCHI_AUDIT_RETENTION_DAYS")
        .env_remove("MADOGUCHI_RECORDINGS_DIR")
        .output()
        .expect("run madoguchi");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn call(id: &str, arrived: DateTime<Utc>, caller: &str) -> CallRecord {
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{caller}-{id}@198.51.100.7"),
        caller: caller.into(),
        called: "hotline".into(),
        arrived_at: arrived,
        answered_at: Some(arrived + Duration::seconds(2)),
        ended_at: arrived + Duration::seconds(200),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition: Disposition::Answered,
        dtmf: vec!["1".into()],
        hangup_side: Some(HangupSide::Caller),
        hangup_cause: Some("bye".into()),
        queue: Some("main".into()),
        waited_ms: Some(15_000),
        operator: Some("op-1".into()),
        connected_at: Some(arrived + Duration::seconds(17)),
        talk_ms: Some(183_000),
        transfer_target: None,
        transfer_result: None,
        menu_choice: Some("1".into()),
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node1".into(),
        events: vec![
            CallEvent {
                seq: 1,
                at: arrived,
                kind: "invite".into(),
                detail: serde_json::json!({ "from": format!("sip:{caller}@198.51.100.7") }),
            },
            CallEvent {
                seq: 2,
                at: arrived + Duration::seconds(1),
                kind: "dtmf".into(),
                detail: serde_json::json!({ "digit": "1" }),
            },
        ],
    }
}

/// Calls, classifications, counter cases and a recording of June 2026, each carrying the
/// markers; returns the recording file.
async fn seed(store: &Store, recordings: &Path) -> PathBuf {
    let callers = ["+81-90-7777-1234", "09077771234", "090-7777-1234"];
    for (n, caller) in callers.iter().enumerate() {
        let id = format!("june-{n}");
        let arrived = at("2026-06-10T01:00:00Z") + Duration::hours(n as i64);
        store
            .insert_call(&call(&id, arrived, caller))
            .await
            .expect("call stored");
        store
            .classify(
                &NewClassification {
                    call_id: id.clone(),
                    category: "イ".into(),
                    outcome: Outcome::ResolvedFaq,
                    complaint: n == 0,
                    escalated: false,
                    faq_id: None,
                    note: Some(format!("山田太郎様 {caller} 秘密のメモXYZ")),
                    operator: "op-1".into(),
                },
                arrived + Duration::minutes(5),
            )
            .await
            .expect("classified");
        store
            .add_counter_case(
                &NewCounterCase {
                    details: CaseDetails {
                        kind: CounterKind::Renewal,
                        outcome: CounterOutcome::Completed,
                        seat: "1".into(),
                        fee_payment_confirmed: None,
                        note: Some(format!("山田太郎 {caller} 秘密のメモXYZ")),
                    },
                    staff: "staff-1".into(),
                    node_id: "node1".into(),
                },
                arrived + Duration::minutes(30),
            )
            .await
            .expect("counter case stored");
    }
    let relative = "2026/06/10/june-0.wav";
    let file = recordings.join(relative);
    std::fs::create_dir_all(file.parent().expect("has a folder")).expect("recordings folder");
    std::fs::write(&file, "RIFF 山田太郎 09077771234").expect("recording written");
    store
        .recording_started(&NewRecording {
            call_id: "june-0".into(),
            file: relative.into(),
            started_at: at("2026-06-10T01:00:17Z"),
            node_id: "node1".into(),
        })
        .await
        .expect("recording started");
    store
        .recording_finished(
            "june-0",
            &FinishedRecording {
                ended_at: at("2026-06-10T01:03:20Z"),
                duration_ms: 183_000,
                bytes: 30,
                sha256: Some("0".repeat(64)),
                paused: vec![],
                status: RecordingStatus::Complete,
                error: None,
            },
        )
        .await
        .expect("recording finished");
    file
}

/// The markers found in the database file, its WAL and its shared-memory index.
fn markers_on_disk(db: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for marker in MARKERS {
            if bytes
                .windows(marker.len())
                .any(|window| window == marker.as_bytes())
            {
                found.push(format!("{marker} in {}", path.display()));
            }
        }
    }
    found
}

fn june_report(url: &str, out: &Path) -> Vec<u8> {
    let out_text = out.display().to_string();
    let (code, _, stderr) = madoguchi(&[
        "report",
        "monthly",
        "--month",
        "2026-06",
        "--format",
        "csv",
        "--out",
        &out_text,
        "--database-url",
        url,
    ]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::read(out).expect("report written")
}

#[tokio::test]
async fn after_retention_no_personal_value_is_left_in_the_sqlite_files_and_june_counts_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("madoguchi.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&url).await.expect("store opens");
    let recording = seed(&store, &dir.path().join("recordings")).await;
    let before = june_report(&url, &dir.path().join("before.csv"));
    assert!(
        !markers_on_disk(&db).is_empty(),
        "the markers are on disk before retention"
    );

    // A year and a day after June: everything seeded is due.
    let (code, stdout, stderr) = madoguchi(&[
        "retention",
        "run",
        "--now",
        "2027-07-01T00:00:00+09:00",
        "--database-url",
        &url,
    ]);

    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("calls=3 events=6 notes=6 counter_notes=3 recordings=1"),
        "{stdout}"
    );
    assert_eq!(markers_on_disk(&db), Vec::<String>::new());
    assert!(!recording.exists(), "the recording file is deleted");
    let after = june_report(&url, &dir.path().join("after.csv"));
    assert_eq!(after, before, "June's report is the same file");
    store.close().await;
}

#[tokio::test]
async fn a_second_run_finds_nothing_to_do_and_each_run_is_audited_as_system() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("madoguchi.db").display());
    let store = Store::connect(&url).await.expect("store opens");
    seed(&store, &dir.path().join("recordings")).await;
    let run = || {
        madoguchi(&[
            "retention",
            "run",
            "--now",
            "2027-07-01T00:00:00Z",
            "--database-url",
            &url,
        ])
    };
    let (code, first, _) = run();
    assert_eq!(code, 0);
    assert!(first.contains("calls=3 "), "{first}");

    let (code, second, stderr) = run();

    assert_eq!(code, 0, "{stderr}");
    assert!(
        second.contains(
            "calls=0 events=0 notes=0 counter_notes=0 recordings=0 recording_errors=0 audit_entries=0"
        ),
        "{second}"
    );
    let log = store
        .audit_entries(&madoguchi_store::AuditQuery {
            action: Some("retention.run".into()),
            ..Default::default()
        })
        .await
        .expect("audit listed");
    assert_eq!(log.total, 2);
    assert!(log.items.iter().all(|r| r.entry.login == "system"));
    assert!(log.items[1]
        .entry
        .detail
        .as_deref()
        .is_some_and(|d| d.starts_with("calls=3 ")));
    store.close().await;
}

#[test]
fn a_retention_under_a_year_for_the_audit_log_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, stderr) = madoguchi(&[
        "retention",
        "run",
        "--audit-retention-days",
        "30",
        "--database-url",
        &url,
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("audit-retention-days must be 365"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_now_is_refused_naming_the_flag() {
    let (code, _, stderr) = madoguchi(&["retention", "run", "--now", "yesterday"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--now \"yesterday\""), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_engine_leaves_no_personal_value_in_the_sqlite_files_after_its_start_up_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("madoguchi.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&url).await.expect("store opens");
    // The engine's default recordings folder: `recordings` beside the database.
    let recording = seed(&store, &dir.path().join("recordings")).await;
    store.close().await;

    // June 2026 is more than 30 days back whenever this runs.
    let engine = support::EngineProcess::start(support::Options {
        database_url: Some(url.clone()),
        extra_args: vec!["--retention-days".into(), "30".into()],
        ..support::Options::default()
    });
    // The job logs its counts once the run is over, checkpoint included.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !engine
        .log()
        .lines()
        .any(|l| l.contains("retention run") && l.contains("calls=3 "))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no retention run logged:\n{}",
            engine.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    assert_eq!(markers_on_disk(&db), Vec::<String>::new());
    assert!(!recording.exists(), "the recording file is deleted");
}
