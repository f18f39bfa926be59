//! The writer with a disk spool, against a sink that can be taken down, in virtual time.

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use chrono::{TimeZone, Utc};

use super::*;
use crate::record::Disposition;

/// A sink that fails every write while `down`, never answers while `silent` (a database
/// gone without a word), and stores entries (by call id and kind) once up.
#[derive(Clone, Default)]
struct Switchable {
    down: Arc<AtomicBool>,
    silent: Arc<AtomicBool>,
    stored: Arc<Mutex<Vec<String>>>,
}

impl Switchable {
    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn set_silent(&self, silent: bool) {
        self.silent.store(silent, Ordering::SeqCst);
    }

    fn stored(&self) -> Vec<String> {
        self.stored
            .lock()
            .expect("no test thread panicked holding the log")
            .clone()
    }
}

impl RecordSink for Switchable {
    fn write_call(&self, call: &CallRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = self.write_entries_now(&[Entry::Record(Box::new(call.clone()))]);
        std::future::ready(result)
    }

    fn write_entries(
        &self,
        entries: &[Entry],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let silent = self.silent.load(Ordering::SeqCst);
        let result = if silent {
            Ok(())
        } else {
            self.write_entries_now(entries)
        };
        async move {
            if silent {
                std::future::pending::<()>().await;
            }
            result
        }
    }
}

impl Switchable {
    fn write_entries_now(&self, entries: &[Entry]) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "down");
            return Err(StoreError::Database(sqlx::Error::Io(refused)));
        }
        let mut stored = self.stored.lock().expect("no test thread panicked");
        for entry in entries {
            let kind = if entry.is_record() {
                "record"
            } else {
                "opened"
            };
            stored.push(format!("{kind}:{}", entry.call_id()));
        }
        Ok(())
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
        disposition: Disposition::Abandoned,
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

fn open(id: &str) -> OpenCall {
    let r = record(id);
    OpenCall {
        id: r.id,
        node_id: r.node_id,
        sip_call_id: r.sip_call_id,
        caller: r.caller,
        called: r.called,
        arrived_at: r.arrived_at,
    }
}

fn spool_ids(dir: &std::path::Path) -> Vec<String> {
    let mut spool = Spool::open(dir).expect("spool opens");
    spool
        .read()
        .expect("spool reads")
        .entries
        .iter()
        .map(|e| e.call_id().to_owned())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn records_written_while_the_database_is_down_wait_in_the_spool_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Switchable::default();
    sink.set_down(true);
    let spool = Spool::open(dir.path()).expect("spool opens");
    let (writer, task) =
        RecordWriter::spawn_with_spool(sink.clone(), WriterConfig::default(), spool);
    writer.submit(record("a"));
    writer.flush().await.expect("running");
    writer.submit(record("b"));
    writer.flush().await.expect("running");
    assert_eq!(spool_ids(dir.path()), ["a", "b"]);
    let stats = writer.stats();
    assert_eq!((stats.pending, stats.spooled, stats.written), (2, 2, 0));
    // Shutting down with the database still away leaves them on disk for the next start.
    let report = task.shutdown().await;
    assert_eq!(report.stats.spooled, 2);
    assert_eq!(spool_ids(dir.path()), ["a", "b"]);
}

#[tokio::test(start_paused = true)]
async fn the_spool_is_stored_in_order_once_the_database_answers_and_then_emptied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Switchable::default();
    sink.set_down(true);
    let spool = Spool::open(dir.path()).expect("spool opens");
    let (writer, task) =
        RecordWriter::spawn_with_spool(sink.clone(), WriterConfig::default(), spool);
    writer.opened(open("a"));
    writer.submit(record("a"));
    writer.flush().await.expect("running");
    writer.opened(open("b"));
    writer.flush().await.expect("running");
    sink.set_down(false);
    // Records submitted after the database came back still queue behind the spool.
    writer.submit(record("b"));
    tokio::time::sleep(Duration::from_secs(10)).await;
    writer.flush().await.expect("running");
    assert_eq!(
        sink.stored(),
        ["opened:a", "record:a", "opened:b", "record:b"]
    );
    assert!(spool_ids(dir.path()).is_empty());
    let stats = task.shutdown().await.stats;
    assert_eq!((stats.written, stats.pending, stats.spooled), (2, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn after_the_spool_is_replayed_records_are_written_directly_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Switchable::default();
    sink.set_down(true);
    let spool = Spool::open(dir.path()).expect("spool opens");
    let (writer, task) =
        RecordWriter::spawn_with_spool(sink.clone(), WriterConfig::default(), spool);
    writer.submit(record("a"));
    writer.flush().await.expect("running");
    sink.set_down(false);
    tokio::time::sleep(Duration::from_secs(10)).await;
    writer.submit(record("b"));
    writer.flush().await.expect("running");
    assert_eq!(sink.stored(), ["record:a", "record:b"]);
    assert!(spool_ids(dir.path()).is_empty());
    task.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_spool_left_by_an_earlier_run_is_written_before_new_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    Spool::open(dir.path())
        .expect("spool opens")
        .append(&[Entry::Record(Box::new(record("old")))])
        .expect("append");
    let sink = Switchable::default();
    let spool = Spool::open(dir.path()).expect("spool reopens");
    let (writer, task) =
        RecordWriter::spawn_with_spool(sink.clone(), WriterConfig::default(), spool);
    writer.submit(record("new"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    writer.flush().await.expect("running");
    assert_eq!(sink.stored(), ["record:old", "record:new"]);
    let stats = task.shutdown().await.stats;
    assert_eq!((stats.written, stats.pending), (2, 0));
}

#[tokio::test(start_paused = true)]
async fn without_a_spool_a_failing_database_keeps_records_in_memory() {
    let sink = Switchable::default();
    sink.set_down(true);
    let (writer, task) = RecordWriter::spawn_with(sink.clone(), WriterConfig::default());
    writer.submit(record("a"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!((writer.stats().pending, writer.stats().spooled), (1, 0));
    sink.set_down(false);
    let report = task.shutdown().await;
    assert_eq!(report.stats.written, 1);
    assert_eq!(sink.stored(), ["record:a"]);
}

// Acknowledgements (issue 8, "arrival window"): the engine answers a call only once its
// "call opened" note is durable, so the writer must not acknowledge one any earlier.

fn acks_so_far(acks: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut ids = Vec::new();
    while let Ok(id) = acks.try_recv() {
        ids.push(id);
    }
    ids
}

#[tokio::test(start_paused = true)]
async fn an_opened_note_is_acknowledged_only_once_stored_and_records_never() {
    let sink = Switchable::default();
    sink.set_down(true);
    let (acks_tx, mut acks) = mpsc::unbounded_channel();
    let (writer, task) =
        RecordWriter::spawn_with_acks(sink.clone(), WriterConfig::default(), None, acks_tx);
    writer.opened(open("a"));
    writer.submit(record("a"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(acks_so_far(&mut acks).is_empty(), "not stored yet");
    sink.set_down(false);
    writer.flush().await.expect("running");
    assert_eq!(sink.stored(), ["opened:a", "record:a"]);
    assert_eq!(acks_so_far(&mut acks), ["a"], "the note, not the record");
    task.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn with_the_database_down_an_opened_note_is_acknowledged_once_in_the_spool() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Switchable::default();
    sink.set_down(true);
    let spool = Spool::open(dir.path()).expect("spool opens");
    let (acks_tx, mut acks) = mpsc::unbounded_channel();
    let (writer, task) =
        RecordWriter::spawn_with_acks(sink.clone(), WriterConfig::default(), Some(spool), acks_tx);
    writer.opened(open("a"));
    // Within the first backoff: the spool takes the note at the first failed attempt.
    let id = tokio::time::timeout(Duration::from_millis(10), acks.recv())
        .await
        .expect("acknowledged before the first retry")
        .expect("the writer runs");
    assert_eq!(id, "a");
    assert_eq!(spool_ids(dir.path()), ["a"], "on disk when acknowledged");
    assert!(sink.stored().is_empty());
    writer.submit(record("a"));
    writer.flush().await.expect("running");
    assert!(
        acks_so_far(&mut acks).is_empty(),
        "records are not acknowledged"
    );
    task.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_database_that_stops_answering_gets_opened_notes_spooled_and_acknowledged_within_the_write_limit(
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Switchable::default();
    sink.set_silent(true);
    let spool = Spool::open(dir.path()).expect("spool opens");
    let (acks_tx, mut acks) = mpsc::unbounded_channel();
    let (writer, task) =
        RecordWriter::spawn_with_acks(sink.clone(), WriterConfig::default(), Some(spool), acks_tx);
    let start = tokio::time::Instant::now();
    writer.opened(open("a"));
    let within = Duration::from_secs(3);
    let first = tokio::time::timeout(within, acks.recv())
        .await
        .expect("acknowledged in time")
        .expect("the writer runs");
    assert_eq!(first, "a");
    assert!(start.elapsed() <= WRITE_LIMIT + Duration::from_millis(1));
    assert_eq!(spool_ids(dir.path()), ["a"]);

    // Spooling now: a replay attempt that gets no answer holds a new note back no longer.
    tokio::time::sleep(WriterConfig::default().backoff(1) + Duration::from_millis(1)).await;
    let sent = tokio::time::Instant::now();
    writer.opened(open("b"));
    let second = tokio::time::timeout(within, acks.recv())
        .await
        .expect("acknowledged in time")
        .expect("the writer runs");
    assert_eq!(second, "b");
    assert!(sent.elapsed() <= WRITE_LIMIT + Duration::from_millis(1));

    sink.set_silent(false);
    tokio::time::sleep(Duration::from_secs(10)).await;
    writer.flush().await.expect("running");
    assert_eq!(sink.stored(), ["opened:a", "opened:b"]);
    task.shutdown().await;
}
