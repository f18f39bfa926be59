//! Writer behaviour against a scripted sink, in paused (virtual) Tokio time.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{TimeZone, Utc};
use tokio::time::Instant;

use super::*;
use crate::record::{Disposition, InvalidRecord};

/// What the scripted sink answers to each attempt, in order; `Ok` once the script is spent.
#[derive(Clone, Copy)]
enum Answer {
    Transient,
}

#[derive(Default)]
struct Log {
    script: VecDeque<Answer>,
    /// Ids the database refuses every time (bad content), whatever the script says.
    refused: Vec<String>,
    attempts: Vec<(String, Instant)>,
    stored: Vec<String>,
}

/// Test-only sink; a Mutex is fine here (the writer calls it from one task).
#[derive(Clone, Default)]
struct ScriptedSink(Arc<Mutex<Log>>);

impl ScriptedSink {
    fn with_script(script: &[Answer]) -> Self {
        let sink = ScriptedSink::default();
        sink.log().script = script.iter().copied().collect();
        sink
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0
            .lock()
            .expect("no test thread panicked while holding the log")
    }
}

impl RecordSink for ScriptedSink {
    fn write_call(&self, call: &CallRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        let mut log = self.log();
        log.attempts.push((call.id.clone(), Instant::now()));
        if log.refused.contains(&call.id) {
            return std::future::ready(Err(StoreError::InvalidRecord {
                id: call.id.clone(),
                reason: InvalidRecord::EmptyId,
            }));
        }
        let result = match log.script.pop_front() {
            None => {
                log.stored.push(call.id.clone());
                Ok(())
            }
            Some(Answer::Transient) => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
        };
        std::future::ready(result)
    }
}

fn record(id: &str) -> CallRecord {
    let at = Utc
        .timestamp_opt(1_767_225_600, 0)
        .single()
        .expect("in range");
    CallRecord {
        id: id.into(),
        sip_call_id: "x@y".into(),
        caller: "0312345678".into(),
        called: "hotline".into(),
        arrived_at: at,
        answered_at: None,
        ended_at: at,
        entry: None,
        branch: None,
        disposition: Disposition::ClosedHours,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: None,
        waited_ms: None,
        operator: None,
        connected_at: None,
        talk_ms: None,
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "n1".into(),
        events: vec![],
    }
}

#[test]
fn backoff_doubles_from_50ms_and_caps_at_5s() {
    let config = WriterConfig::default();
    let delays: Vec<u64> = (1..=9)
        .map(|n| config.backoff(n).as_millis() as u64)
        .collect();
    assert_eq!(delays, [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
}

#[test]
fn backoff_never_overflows_on_huge_retry_counts() {
    let config = WriterConfig::default();
    assert_eq!(config.backoff(u32::MAX), Duration::from_secs(5));
    assert_eq!(config.backoff(0), Duration::from_millis(50));
}

#[tokio::test(start_paused = true)]
async fn submitted_records_are_written_in_order() {
    let sink = ScriptedSink::default();
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    for id in ["a", "b", "c"] {
        writer.submit(record(id));
    }
    let report = task.shutdown().await;
    assert_eq!(sink.log().stored, ["a", "b", "c"]);
    assert_eq!(report.stats.written, 3);
    assert_eq!(report.stats.pending, 0);
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried_after_the_backoff() {
    let sink = ScriptedSink::with_script(&[Answer::Transient, Answer::Transient]);
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    writer.submit(record("a"));
    writer.flush().await.expect("writer is running");
    let attempts: Vec<Instant> = sink.log().attempts.iter().map(|(_, at)| *at).collect();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[1] - attempts[0], Duration::from_millis(50));
    assert_eq!(attempts[2] - attempts[1], Duration::from_millis(100));
    let stats = task.shutdown().await.stats;
    assert_eq!((stats.written, stats.retries, stats.pending), (1, 2, 0));
}

#[tokio::test(start_paused = true)]
async fn later_records_wait_behind_a_failing_one() {
    let sink = ScriptedSink::with_script(&[Answer::Transient]);
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    writer.submit(record("first"));
    writer.submit(record("second"));
    task.shutdown().await;
    let order: Vec<String> = sink
        .log()
        .attempts
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(order, ["first", "first", "second"]);
}

#[tokio::test(start_paused = true)]
async fn pending_counts_records_not_yet_stored() {
    // Enough failures that the record is still retrying when we look.
    let sink = ScriptedSink::with_script(&[Answer::Transient; 4]);
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    writer.submit(record("a"));
    assert_eq!(writer.stats().pending, 1);
    let report = task.shutdown().await;
    assert_eq!(report.stats.pending, 0);
    assert_eq!(report.stats.retries, 4);
}

#[tokio::test(start_paused = true)]
async fn a_permanently_refused_record_is_set_aside_and_the_rest_continue() {
    let sink = ScriptedSink::default();
    sink.log().refused.push("poison".into());
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    writer.submit(record("poison"));
    writer.submit(record("fine"));
    let report = task.shutdown().await;
    assert_eq!(sink.log().stored, ["fine"]);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].id, "poison");
    assert_eq!(report.stats.rejected, 1);
    assert_eq!(report.stats.retries, 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_flushes_everything_queued_before_it() {
    let sink = ScriptedSink::with_script(&[Answer::Transient; 3]);
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    for n in 0..10 {
        writer.submit(record(&format!("c{n}")));
    }
    let report = task.shutdown().await;
    assert_eq!(sink.log().stored.len(), 10);
    assert_eq!(report.stats.written, 10);
}

#[tokio::test(start_paused = true)]
async fn a_record_submitted_after_shutdown_is_counted_as_refused() {
    let sink = ScriptedSink::default();
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    task.shutdown().await;
    writer.submit(record("late"));
    let stats = writer.stats();
    assert_eq!((stats.refused, stats.pending), (1, 0));
    assert!(sink.log().attempts.is_empty());
}

#[tokio::test(start_paused = true)]
async fn flush_after_shutdown_reports_the_writer_stopped() {
    let (writer, task) = RecordWriter::spawn_with(ScriptedSink::default(), WriterConfig::default());
    task.shutdown().await;
    assert_eq!(writer.flush().await, Err(WriterStopped));
}

#[tokio::test(start_paused = true)]
async fn the_task_ends_when_every_handle_is_dropped() {
    let sink = ScriptedSink::default();
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    writer.submit(record("a"));
    drop(writer);
    let WriterTask {
        commands, handle, ..
    } = task;
    drop(commands);
    let rejected = handle.await.expect("writer task does not panic");
    assert!(rejected.is_empty());
    assert_eq!(sink.log().stored, ["a"]);
}

#[tokio::test(start_paused = true)]
async fn records_queued_together_are_written_as_one_batch() {
    let sink = ScriptedSink::with_script(&[Answer::Transient]);
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    for id in ["a", "b", "c"] {
        writer.submit(record(id));
    }
    let report = task.shutdown().await;
    // The batch failed once as a whole (one retry, not three) and was then stored in order.
    assert_eq!(report.stats.retries, 1);
    assert_eq!(sink.log().stored, ["a", "b", "c"]);
    assert_eq!(report.stats.written, 3);
}
