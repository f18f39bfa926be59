//! The store side of call recordings (the files are the media runtime's,
//! `net::rtp::recording`): at start, the recordings a crash left open on this node are
//! repaired and closed as interrupted; while running, the engine's news of recordings
//! started, failed and finished are written in order by one task.

use std::path::Path;
use std::time::Duration;

use madoguchi_recording::repair::repair;
use madoguchi_recording::wav::{hex, sync_and_hash};
use madoguchi_store::{
    FinishedRecording, NewRecording, PausedSpan, RecordingStatus, Store, StoreError,
};
use tokio::sync::mpsc;

use crate::engine::{RecordingNews, RecordingOutcome};

/// Closes the recordings `node_id` left open (the engine stopped while recording): each file
/// is repaired up to what reached the disk and marked interrupted with its length and
/// checksum, or failed when it cannot be read. Returns how many were closed.
pub async fn recover(store: &Store, folder: &Path, node_id: &str) -> Result<usize, StoreError> {
    let open = store.recordings_in_progress(node_id).await?;
    let now = chrono::Utc::now();
    for recording in &open {
        let path = folder.join(&recording.file);
        let repaired = tokio::task::spawn_blocking(move || {
            let repaired = repair(&path).map_err(|e| e.to_string())?;
            let (bytes, sha256) = sync_and_hash(&path).map_err(|e| e.to_string())?;
            Ok::<_, String>((repaired.duration, bytes, sha256))
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        let finished = match repaired {
            Ok((duration, bytes, sha256)) => FinishedRecording {
                ended_at: now,
                duration_ms: millis(duration),
                bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                sha256: Some(hex(&sha256)),
                paused: Vec::new(),
                status: RecordingStatus::Interrupted,
                error: Some("the engine stopped while recording".to_owned()),
            },
            Err(error) => FinishedRecording {
                ended_at: now,
                duration_ms: 0,
                bytes: 0,
                sha256: None,
                paused: Vec::new(),
                status: RecordingStatus::Failed,
                error: Some(format!("not readable after a restart: {error}")),
            },
        };
        if let Err(error) = store
            .recording_finished(&recording.call_id, &finished)
            .await
        {
            tracing::warn!(call = %recording.call_id, %error, "an interrupted recording was not closed");
        }
    }
    Ok(open.len())
}

/// Spawns the writer; send it what the engine's `poll_recording` and the recorder give. The
/// task ends once every sender is gone and everything sent is written: await it at shutdown.
pub fn spawn_writer(
    store: Store,
    node_id: String,
) -> (
    mpsc::UnboundedSender<RecordingNews>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<RecordingNews>();
    let task = tokio::spawn(async move {
        while let Some(news) = rx.recv().await {
            let result = crate::store_retry::until_stored("recording", || async {
                match &news {
                    RecordingNews::Started { call_id, file, at } => store
                        .recording_started(&NewRecording {
                            call_id: call_id.clone(),
                            file: file.to_string_lossy().into_owned(),
                            started_at: *at,
                            node_id: node_id.clone(),
                        })
                        .await
                        .map(|_| ()),
                    // The finish says it again with the file's state; the alert is the metric
                    // and the log line the recorder wrote.
                    RecordingNews::Failed { .. } => Ok(()),
                    RecordingNews::Finished {
                        call_id,
                        outcome,
                        at,
                    } => store
                        .recording_finished(call_id, &finished(outcome, *at))
                        .await
                        .map(|_| ()),
                }
            })
            .await;
            if let Err(error) = result {
                tracing::warn!(%error, "a recording was not stored");
            }
        }
    });
    (tx, task)
}

fn finished(outcome: &RecordingOutcome, at: chrono::DateTime<chrono::Utc>) -> FinishedRecording {
    let status = match (&outcome.error, &outcome.sha256) {
        (None, Some(_)) => RecordingStatus::Complete,
        _ => RecordingStatus::Failed,
    };
    FinishedRecording {
        ended_at: at,
        duration_ms: millis(outcome.duration),
        bytes: i64::try_from(outcome.bytes).unwrap_or(i64::MAX),
        sha256: outcome.sha256.clone(),
        paused: outcome
            .paused
            .iter()
            // Whole milliseconds inside the silence: the start rounded up, the end down.
            .map(|(from, to)| PausedSpan {
                from_ms: millis(*from + Duration::from_nanos(999_999)),
                to_ms: millis(*to),
            })
            .collect(),
        status,
        error: outcome.error.clone(),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
