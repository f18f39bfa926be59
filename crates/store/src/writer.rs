//! The record writer: call records leave the engine without ever waiting on the database.
//!
//! A tokio task owns the [`Store`] (or any [`RecordSink`]) and writes records one at a time,
//! in submission order. The engine's shell calls [`RecordWriter::submit`], which only
//! enqueues. A failed write is retried with capped exponential backoff, the record kept in
//! memory until it is stored; records behind it wait, so order is kept. A record the
//! database refuses for what it contains (see [`StoreError::is_permanent`]) can never be
//! written: it is set aside, logged at ERROR by id, and handed back by
//! [`WriterTask::shutdown`] — never silently dropped, never blocking every later call.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store, record: madoguchi_store::CallRecord) {
//! use madoguchi_store::RecordWriter;
//! let (writer, task) = RecordWriter::spawn(store);
//! writer.submit(record); // from the call's teardown: returns at once
//! let report = task.shutdown().await; // on SIGTERM: writes everything queued
//! assert_eq!(report.stats.pending, 0);
//! # }
//! ```
//!
//! The channel is unbounded on purpose: a record is a few hundred bytes plus its events,
//! one per call, so even hours of database outage at hotline call rates hold megabytes, and
//! a bounded channel would have to either block signalling or drop records. Memory is the
//! backstop; the disk spool planned for database outages plugs in at `write_until_stored`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::record::CallRecord;
use crate::store::Store;

/// Where the writer puts records. [`Store`] is the real one; tests (and the future spool)
/// wrap or replace it.
pub trait RecordSink: Send + Sync + 'static {
    /// Stores the record; must be idempotent on `call.id`, since a write whose commit
    /// succeeded but whose reply was lost is retried.
    fn write_call(&self, call: &CallRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores several records, all or none; by default one after the other.
    fn write_calls(
        &self,
        calls: &[CallRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for call in calls {
                self.write_call(call).await?;
            }
            Ok(())
        }
    }
}

impl RecordSink for Store {
    fn write_call(&self, call: &CallRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.insert_call(call)
    }

    fn write_calls(
        &self,
        calls: &[CallRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.insert_calls(calls)
    }
}

/// Most records written in one transaction: enough to keep up with bursts of well over a
/// thousand calls a second, small enough that one transaction stays short.
const MAX_BATCH: usize = 256;

/// Retry pacing: the n-th retry waits `initial · 2^(n-1)`, never more than `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl WriterConfig {
    /// The wait before retry number `retry` (1-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.initial_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Counters since the writer started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WriterStats {
    /// Records stored (or found already stored).
    pub written: u64,
    /// Failed attempts that were retried.
    pub retries: u64,
    /// Records submitted and neither stored nor set aside yet.
    pub pending: u64,
    /// Records the database refused for their content, set aside.
    pub rejected: u64,
    /// Records submitted after shutdown, which nothing could store (logged at ERROR).
    pub refused: u64,
}

/// What [`WriterTask::shutdown`] hands back.
#[derive(Debug)]
pub struct WriterReport {
    pub stats: WriterStats,
    /// The records set aside as permanently unstorable, for the caller to keep elsewhere.
    pub rejected: Vec<CallRecord>,
}

/// The writer task has stopped; nothing was flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the record writer has stopped")]
pub struct WriterStopped;

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    retries: AtomicU64,
    pending: AtomicU64,
    rejected: AtomicU64,
    refused: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WriterStats {
        WriterStats {
            written: self.written.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            pending: self.pending.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

enum Command {
    Write(Box<CallRecord>),
    Flush(oneshot::Sender<()>),
    Shutdown,
}

/// The submitting side; clone it freely.
#[derive(Clone)]
pub struct RecordWriter {
    commands: mpsc::UnboundedSender<Command>,
    counters: Arc<Counters>,
}

/// The running task; keep it to shut down cleanly.
pub struct WriterTask {
    commands: mpsc::UnboundedSender<Command>,
    counters: Arc<Counters>,
    handle: JoinHandle<Vec<CallRecord>>,
}

impl RecordWriter {
    /// Starts the writer on the current Tokio runtime with the default backoff
    /// (50 ms doubling to 5 s). Must be called from within a runtime.
    pub fn spawn(store: Store) -> (RecordWriter, WriterTask) {
        RecordWriter::spawn_with(store, WriterConfig::default())
    }

    /// Starts the writer over any sink, with explicit pacing.
    pub fn spawn_with<S: RecordSink>(sink: S, config: WriterConfig) -> (RecordWriter, WriterTask) {
        let (commands, inbox) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let handle = tokio::spawn(run(sink, config, inbox, Arc::clone(&counters)));
        let writer = RecordWriter {
            commands: commands.clone(),
            counters: Arc::clone(&counters),
        };
        let task = WriterTask {
            commands,
            counters,
            handle,
        };
        (writer, task)
    }

    /// Queues a record for writing and returns at once.
    pub fn submit(&self, call: CallRecord) {
        self.counters.pending.fetch_add(1, Ordering::Relaxed);
        if let Err(mpsc::error::SendError(command)) =
            self.commands.send(Command::Write(Box::new(call)))
        {
            self.counters.pending.fetch_sub(1, Ordering::Relaxed);
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            if let Command::Write(call) = command {
                tracing::error!(call_id = %call.id, "call record submitted after the writer stopped; not stored");
            }
        }
    }

    /// Waits until every record submitted before this call is stored or set aside.
    pub async fn flush(&self) -> Result<(), WriterStopped> {
        let (done, finished) = oneshot::channel();
        self.commands
            .send(Command::Flush(done))
            .map_err(|_| WriterStopped)?;
        finished.await.map_err(|_| WriterStopped)
    }

    pub fn stats(&self) -> WriterStats {
        self.counters.snapshot()
    }
}

impl WriterTask {
    pub fn stats(&self) -> WriterStats {
        self.counters.snapshot()
    }

    /// Writes everything queued (retrying as long as it takes — wrap it in a timeout to
    /// bound it), stops the task and reports. Later `submit`s are refused and logged.
    pub async fn shutdown(self) -> WriterReport {
        // If the task already ended the send fails, and joining it is all that is left.
        let _ = self.commands.send(Command::Shutdown);
        let rejected = match self.handle.await {
            Ok(rejected) => rejected,
            Err(join_error) => {
                tracing::error!(error = %join_error, "record writer task failed");
                Vec::new()
            }
        };
        WriterReport {
            stats: self.counters.snapshot(),
            rejected,
        }
    }
}

async fn run<S: RecordSink>(
    sink: S,
    config: WriterConfig,
    mut inbox: mpsc::UnboundedReceiver<Command>,
    counters: Arc<Counters>,
) -> Vec<CallRecord> {
    let mut rejected = Vec::new();
    let mut next = inbox.recv().await;
    while let Some(command) = next.take() {
        match command {
            Command::Write(call) => {
                // Everything already queued goes in the same transaction, in order.
                let mut batch = vec![*call];
                while batch.len() < MAX_BATCH {
                    match inbox.try_recv() {
                        Ok(Command::Write(call)) => batch.push(*call),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                rejected.extend(write_batch_until_stored(&sink, &config, &counters, batch).await);
            }
            Command::Flush(done) => {
                // The flusher may have stopped waiting; nothing to do then.
                let _ = done.send(());
            }
            Command::Shutdown => {
                // Refuse new work, but write what raced in behind the shutdown.
                inbox.close();
            }
        }
        if next.is_none() {
            next = inbox.recv().await;
        }
    }
    rejected
}

/// Writes a batch in one transaction, retrying transient failures. When the database refuses
/// the batch for its content, the records are written one by one so only the bad ones are set
/// aside; those are returned.
async fn write_batch_until_stored<S: RecordSink>(
    sink: &S,
    config: &WriterConfig,
    counters: &Counters,
    batch: Vec<CallRecord>,
) -> Vec<CallRecord> {
    if batch.len() == 1 {
        return write_one_by_one(sink, config, counters, batch).await;
    }
    let mut retry = 0u32;
    loop {
        match sink.write_calls(&batch).await {
            Ok(()) => {
                let written = batch.len() as u64;
                counters.written.fetch_add(written, Ordering::Relaxed);
                counters.pending.fetch_sub(written, Ordering::Relaxed);
                return Vec::new();
            }
            Err(error) if error.is_permanent() => {
                return write_one_by_one(sink, config, counters, batch).await;
            }
            Err(error) => {
                retry = retry.saturating_add(1);
                counters.retries.fetch_add(1, Ordering::Relaxed);
                let delay = config.backoff(retry);
                tracing::warn!(
                    records = batch.len(),
                    retry,
                    delay_ms = delay.as_millis() as u64,
                    error = %error,
                    "call record batch write failed; retrying"
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn write_one_by_one<S: RecordSink>(
    sink: &S,
    config: &WriterConfig,
    counters: &Counters,
    batch: Vec<CallRecord>,
) -> Vec<CallRecord> {
    let mut rejected = Vec::new();
    for call in batch {
        if let Some(call) = write_until_stored(sink, config, counters, call).await {
            rejected.push(call);
        }
    }
    rejected
}

/// Writes one record, retrying transient failures. Returns the record when the database
/// refused it for good.
async fn write_until_stored<S: RecordSink>(
    sink: &S,
    config: &WriterConfig,
    counters: &Counters,
    call: CallRecord,
) -> Option<CallRecord> {
    let mut retry = 0u32;
    loop {
        match sink.write_call(&call).await {
            Ok(()) => {
                counters.written.fetch_add(1, Ordering::Relaxed);
                counters.pending.fetch_sub(1, Ordering::Relaxed);
                if retry > 0 {
                    tracing::info!(call_id = %call.id, retries = retry, "call record stored after retrying");
                }
                return None;
            }
            Err(error) if error.is_permanent() => {
                counters.rejected.fetch_add(1, Ordering::Relaxed);
                counters.pending.fetch_sub(1, Ordering::Relaxed);
                tracing::error!(call_id = %call.id, error = %error, "call record refused by the database; set aside");
                return Some(call);
            }
            Err(error) => {
                // Hardening seam: after some retries, a disk spool takes the record here.
                retry = retry.saturating_add(1);
                counters.retries.fetch_add(1, Ordering::Relaxed);
                let delay = config.backoff(retry);
                tracing::warn!(
                    call_id = %call.id,
                    retry,
                    delay_ms = delay.as_millis() as u64,
                    error = %error,
                    "call record write failed; retrying"
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
