//! Call recordings (`madoguchi_store::recording`), specified once and checked on SQLite and
//! PostgreSQL.

#[macro_use]
mod common;

use common::{at, Ctx};
use madoguchi_store::{
    FinishedRecording, NewRecording, PausedSpan, Recording, RecordingError, RecordingStatus,
};

on_both_backends!(
    a_started_recording_reads_back_as_recording_without_an_end,
    starting_twice_keeps_the_first_start,
    a_recording_may_start_before_its_call_record,
    finishing_fills_in_the_end_the_figures_and_the_paused_spans,
    the_first_finish_is_kept,
    finishing_a_recording_never_started_is_refused,
    an_interrupted_or_failed_recording_needs_no_checksum,
    only_this_nodes_open_recordings_are_in_progress_oldest_first,
    a_file_outside_the_folder_is_refused,
    the_database_refuses_a_finished_row_without_an_end,
);

fn new(call_id: &str, started_at: i64, node_id: &str) -> NewRecording {
    NewRecording {
        call_id: call_id.into(),
        file: format!("2026/01/05/{call_id}.wav"),
        started_at: at(started_at),
        node_id: node_id.into(),
    }
}

fn complete(ended_at: i64) -> FinishedRecording {
    FinishedRecording {
        ended_at: at(ended_at),
        duration_ms: 95_250,
        bytes: 3_048_044,
        sha256: Some("9f".repeat(32)),
        paused: vec![
            PausedSpan {
                from_ms: 10_000,
                to_ms: 14_500,
            },
            PausedSpan {
                from_ms: 60_000,
                to_ms: 61_000,
            },
        ],
        status: RecordingStatus::Complete,
        error: None,
    }
}

async fn get(ctx: &Ctx, call_id: &str) -> Recording {
    ctx.store
        .recording(call_id)
        .await
        .expect("read")
        .unwrap_or_else(|| panic!("no recording for {call_id}"))
}

async fn a_started_recording_reads_back_as_recording_without_an_end(ctx: Ctx) {
    let started = ctx
        .store
        .recording_started(&new("c1", 100, "node-a"))
        .await
        .expect("stored");
    assert!(started);
    assert_eq!(
        get(&ctx, "c1").await,
        Recording {
            call_id: "c1".into(),
            file: "2026/01/05/c1.wav".into(),
            started_at: at(100),
            ended_at: None,
            duration_ms: None,
            bytes: None,
            sha256: None,
            status: RecordingStatus::Recording,
            error: None,
            paused: vec![],
            node_id: "node-a".into(),
        }
    );
    assert_eq!(ctx.store.recording("other").await.expect("read"), None);
}

async fn starting_twice_keeps_the_first_start(ctx: Ctx) {
    assert!(ctx
        .store
        .recording_started(&new("c1", 100, "node-a"))
        .await
        .expect("first"));
    let mut again = new("c1", 200, "node-b");
    again.file = "elsewhere.wav".into();
    let stored = ctx
        .store
        .recording_started(&again)
        .await
        .expect("a resend is not an error");
    assert!(!stored, "the second start is not stored");
    let row = get(&ctx, "c1").await;
    assert_eq!(
        (row.file.as_str(), row.started_at, row.node_id.as_str()),
        ("2026/01/05/c1.wav", at(100), "node-a")
    );
}

async fn a_recording_may_start_before_its_call_record(ctx: Ctx) {
    // No call "later" exists: its record is written when the call ends.
    ctx.store
        .recording_started(&new("later", 100, "node-a"))
        .await
        .expect("stored without its call");
    assert_eq!(ctx.store.get_call("later").await.expect("read"), None);
    assert_eq!(get(&ctx, "later").await.status, RecordingStatus::Recording);
}

async fn finishing_fills_in_the_end_the_figures_and_the_paused_spans(ctx: Ctx) {
    ctx.store
        .recording_started(&new("c1", 100, "node-a"))
        .await
        .expect("started");
    let finished = complete(195);
    assert!(ctx
        .store
        .recording_finished("c1", &finished)
        .await
        .expect("finished"));
    let row = get(&ctx, "c1").await;
    assert_eq!(row.status, RecordingStatus::Complete);
    assert_eq!(row.ended_at, Some(at(195)));
    assert_eq!(row.duration_ms, Some(95_250));
    assert_eq!(row.bytes, Some(3_048_044));
    assert_eq!(row.sha256, finished.sha256);
    assert_eq!(row.paused, finished.paused);
    assert_eq!(row.error, None);
    assert_eq!(row.started_at, at(100), "the start is unchanged");
}

async fn the_first_finish_is_kept(ctx: Ctx) {
    ctx.store
        .recording_started(&new("c1", 100, "node-a"))
        .await
        .expect("started");
    ctx.store
        .recording_finished("c1", &complete(195))
        .await
        .expect("first finish");
    let mut later = complete(300);
    later.status = RecordingStatus::Interrupted;
    let stored = ctx
        .store
        .recording_finished("c1", &later)
        .await
        .expect("a second finish is not an error");
    assert!(!stored, "the second finish is not stored");
    let row = get(&ctx, "c1").await;
    assert_eq!(
        (row.status, row.ended_at),
        (RecordingStatus::Complete, Some(at(195)))
    );
}

async fn finishing_a_recording_never_started_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .recording_finished("ghost", &complete(195))
        .await
        .expect_err("nothing to finish");
    assert!(matches!(err, RecordingError::NotStarted), "{err}");
    assert_eq!(ctx.store.recording("ghost").await.expect("read"), None);
}

async fn an_interrupted_or_failed_recording_needs_no_checksum(ctx: Ctx) {
    for (call_id, status, error) in [
        ("c1", RecordingStatus::Interrupted, None),
        (
            "c2",
            RecordingStatus::Failed,
            Some("No space left on device"),
        ),
    ] {
        ctx.store
            .recording_started(&new(call_id, 100, "node-a"))
            .await
            .expect("started");
        let finished = FinishedRecording {
            ended_at: at(150),
            duration_ms: 50_000,
            bytes: 800_044,
            sha256: None,
            paused: vec![],
            status,
            error: error.map(str::to_owned),
        };
        ctx.store
            .recording_finished(call_id, &finished)
            .await
            .expect("finished");
        let row = get(&ctx, call_id).await;
        assert_eq!((row.status, row.sha256), (status, None));
        assert_eq!(row.error.as_deref(), error);
    }
}

async fn only_this_nodes_open_recordings_are_in_progress_oldest_first(ctx: Ctx) {
    for recording in [
        new("late", 300, "node-a"),
        new("early", 100, "node-a"),
        new("done", 50, "node-a"),
        new("theirs", 10, "node-b"),
    ] {
        ctx.store
            .recording_started(&recording)
            .await
            .expect("started");
    }
    ctx.store
        .recording_finished("done", &complete(90))
        .await
        .expect("finished");
    let open = ctx
        .store
        .recordings_in_progress("node-a")
        .await
        .expect("listed");
    let ids: Vec<&str> = open.iter().map(|r| r.call_id.as_str()).collect();
    assert_eq!(ids, ["early", "late"]);
    assert!(open.iter().all(|r| r.status == RecordingStatus::Recording));

    // The engine repairs them at start and marks them interrupted: none is left.
    for recording in &open {
        let mut repaired = complete(400);
        repaired.status = RecordingStatus::Interrupted;
        ctx.store
            .recording_finished(&recording.call_id, &repaired)
            .await
            .expect("marked interrupted");
    }
    assert!(ctx
        .store
        .recordings_in_progress("node-a")
        .await
        .expect("listed")
        .is_empty());
}

async fn a_file_outside_the_folder_is_refused(ctx: Ctx) {
    for file in [
        "/var/lib/madoguchi/c1.wav",
        "../c1.wav",
        "a/../../c1.wav",
        "",
    ] {
        let mut recording = new("c1", 100, "node-a");
        recording.file = file.into();
        let err = ctx
            .store
            .recording_started(&recording)
            .await
            .expect_err("refused");
        assert!(matches!(err, RecordingError::BadFile), "{file:?}: {err}");
    }
    assert_eq!(ctx.store.recording("c1").await.expect("read"), None);
}

async fn the_database_refuses_a_finished_row_without_an_end(ctx: Ctx) {
    // Written around the store (a hand edit): the table's checks still hold.
    ctx.store
        .recording_started(&new("c1", 100, "node-a"))
        .await
        .expect("started");
    for sql in [
        "UPDATE recordings SET status = 'complete'",
        "UPDATE recordings SET file = '/etc/passwd'",
        "UPDATE recordings SET sha256 = 'not hex'",
    ] {
        let refused = match &ctx.raw {
            common::Raw::Sqlite(pool) => sqlx::query(sql).execute(pool).await.is_err(),
            common::Raw::Postgres(pool) => sqlx::query(sql).execute(pool).await.is_err(),
        };
        assert!(refused, "{sql} was allowed on {:?}", ctx.kind);
    }
    assert_eq!(get(&ctx, "c1").await.status, RecordingStatus::Recording);
}
