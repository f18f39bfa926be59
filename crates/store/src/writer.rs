//! The record writer: call records leave the engine without ever waiting on the database.
//!
//! A tokio task owns the [`Store`] (or any [`RecordSink`]) and writes entries — "call
//! opened" notes for the open-call journal ([`crate::journal`]) and final records — in
//! submission order, batching what is queued into one transaction. The engine's shell calls
//! [`RecordWriter::opened`] and [`RecordWriter::submit`], which only enqueue.
//!
//! With a disk [`Spool`] (`spawn_with_spool`), the first transient failure (the database
//! went away) sends the batch, and everything after it, to the spool file, fsync'd; the
//! spool is replayed in order, with capped exponential backoff, until the database answers,
//! then the writer writes directly again. Without one, a failed write is retried with the
//! same backoff, the record kept in memory until it is stored; records behind it wait, so
//! order is kept either way. A record the
//! database refuses for what it contains (see [`StoreError::is_permanent`]) can never be
//! written: it is set aside, logged at ERROR by id, and handed back by
//! [`WriterTask::shutdown`] — never silently dropped, never blocking every later call.
//!
//! With acknowledgements (`spawn_with_acks`), each "call opened" note's call id is sent back
//! once the note is durable: after the transaction holding it committed, or after it was
//! appended to the fsync'd spool. The engine answers no new call before that (issue 8,
//! "arrival window"). A note the database refuses for its content is never acknowledged.
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
//! one per call, and a bounded channel would have to either block signalling or drop
//! records. With the spool the task drains it at disk speed whatever the database does.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::journal::{Entry, OpenCall};
use crate::record::CallRecord;
use crate::spool::Spool;
use crate::store::Store;

/// Where [`replay_spool`] sets aside entries the database refuses for their content.
pub const REJECTED_FILE: &str = "records.rejected.jsonl";

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

    /// Stores entries in order, all or none. By default the records go through
    /// `write_calls` and "call opened" notes are dropped: a sink without a journal.
    fn write_entries(
        &self,
        entries: &[Entry],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let calls: Vec<CallRecord> = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Record(call) => Some(call.as_ref().clone()),
                    Entry::Opened(_) => None,
                })
                .collect();
            self.write_calls(&calls).await
        }
    }
}

impl RecordSink for Store {
    fn write_entries(
        &self,
        entries: &[Entry],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::write_entries(self, entries)
    }

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

/// With a spool, a write not committed within this is given up and its batch spooled; so is
/// the first chunk of each spool replay. The engine holds a new call's answer until its note
/// is durable, for at most 2 s (`JOURNAL_HOLD_LIMIT`), and sqlx waits up to 5 s for a
/// connection to a database that went away: without this limit every call arriving as the
/// database goes would be answered unjournaled. A write given up may have committed after
/// all; its entries are stored again by the replay, harmlessly (they are idempotent).
pub const WRITE_LIMIT: Duration = Duration::from_secs(1);

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
    /// Of the pending records, those waiting in the disk spool for the database.
    pub spooled: u64,
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
    spooled: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WriterStats {
        WriterStats {
            written: self.written.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            pending: self.pending.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            spooled: self.spooled.load(Ordering::Relaxed),
        }
    }
}

enum Command {
    Write(Box<Entry>),
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
        RecordWriter::start(sink, config, None, None)
    }

    /// Starts the writer over any sink, spooling to `spool` while the sink fails. Entries
    /// already in the spool are written first.
    pub fn spawn_with_spool<S: RecordSink>(
        sink: S,
        config: WriterConfig,
        spool: Spool,
    ) -> (RecordWriter, WriterTask) {
        RecordWriter::start(sink, config, Some(spool), None)
    }

    /// As `spawn_with_spool` (or `spawn_with` without a spool), and sends the call id of
    /// each "call opened" note on `acks` once it is durable: committed, or in the spool.
    /// A note may be acknowledged twice (spooled, then stored by the replay).
    pub fn spawn_with_acks<S: RecordSink>(
        sink: S,
        config: WriterConfig,
        spool: Option<Spool>,
        acks: mpsc::UnboundedSender<String>,
    ) -> (RecordWriter, WriterTask) {
        RecordWriter::start(sink, config, spool, Some(acks))
    }

    fn start<S: RecordSink>(
        sink: S,
        config: WriterConfig,
        spool: Option<Spool>,
        acks: Option<mpsc::UnboundedSender<String>>,
    ) -> (RecordWriter, WriterTask) {
        let (commands, inbox) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let task = Task {
            sink,
            config,
            counters: Arc::clone(&counters),
            spool,
            acks,
            spooling: false,
            replayed: 0,
            unspooled: Vec::new(),
            replay_retry: 0,
            replay_at: None,
            rejected: Vec::new(),
        };
        let handle = tokio::spawn(run(task, inbox));
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
        if let Err(mpsc::error::SendError(command)) = self
            .commands
            .send(Command::Write(Box::new(Entry::Record(Box::new(call)))))
        {
            self.counters.pending.fetch_sub(1, Ordering::Relaxed);
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            if let Command::Write(entry) = command {
                tracing::error!(call_id = %entry.call_id(), "call record submitted after the writer stopped; not stored");
            }
        }
    }

    /// Queues a "call opened" note for the open-call journal and returns at once; it is
    /// written before the call's record, which removes it.
    pub fn opened(&self, call: OpenCall) {
        if let Err(mpsc::error::SendError(Command::Write(entry))) = self
            .commands
            .send(Command::Write(Box::new(Entry::Opened(call))))
        {
            tracing::warn!(call_id = %entry.call_id(), "open-call note after the writer stopped; not stored");
        }
    }

    /// Waits until every record submitted before this call is stored, set aside, or in the
    /// disk spool (as durable, and stored once the database answers).
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

/// The writer task's state: the sink, and where entries go while it does not answer.
struct Task<S> {
    sink: S,
    config: WriterConfig,
    counters: Arc<Counters>,
    spool: Option<Spool>,
    /// Where durable "call opened" notes are acknowledged, by call id.
    acks: Option<mpsc::UnboundedSender<String>>,
    /// True while entries go to the spool, not the sink: from the first transient failure
    /// until the spool is replayed to the end. Keeps order: nothing overtakes the spool.
    spooling: bool,
    /// Entries of the spool file already stored by the replay in progress.
    replayed: usize,
    /// Entries the spool file could not take (disk full, unwritable): kept in memory after
    /// the file's, in order.
    unspooled: Vec<Entry>,
    replay_retry: u32,
    replay_at: Option<tokio::time::Instant>,
    rejected: Vec<CallRecord>,
}

async fn run<S: RecordSink>(
    mut task: Task<S>,
    mut inbox: mpsc::UnboundedReceiver<Command>,
) -> Vec<CallRecord> {
    task.adopt_spool();
    let mut next: Option<Command> = None;
    loop {
        let command = match next.take() {
            Some(command) => command,
            None => {
                tokio::select! {
                    command = inbox.recv() => match command {
                        Some(command) => command,
                        None => break,
                    },
                    _ = sleep_until_opt(task.replay_at) => {
                        task.replay().await;
                        continue;
                    }
                }
            }
        };
        match command {
            Command::Write(entry) => {
                // Everything already queued goes in the same transaction, in order.
                let mut batch = vec![*entry];
                while batch.len() < MAX_BATCH {
                    match inbox.try_recv() {
                        Ok(Command::Write(entry)) => batch.push(*entry),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                task.write(batch).await;
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
    }
    if task.spooling && !task.unspooled.is_empty() {
        tracing::error!(
            entries = task.unspooled.len(),
            "record writer stopped with entries neither stored nor spooled"
        );
    }
    task.rejected
}

fn no_answer_within(limit: Duration) -> StoreError {
    let message = format!("no answer within {} ms", limit.as_millis());
    StoreError::Database(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        message,
    )))
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn records_in(entries: &[Entry]) -> u64 {
    entries.iter().filter(|e| e.is_record()).count() as u64
}

impl<S: RecordSink> Task<S> {
    /// A spool left by an earlier run (the database was away at start-up) is replayed
    /// before anything new is written.
    fn adopt_spool(&mut self) {
        let Some(spool) = self.spool.as_mut() else {
            return;
        };
        match spool.read() {
            Ok(contents) if !contents.entries.is_empty() => {
                let records = records_in(&contents.entries);
                self.counters.pending.fetch_add(records, Ordering::Relaxed);
                self.counters.spooled.fetch_add(records, Ordering::Relaxed);
                self.spooling = true;
                self.replay_at = Some(tokio::time::Instant::now());
            }
            Ok(_) => {}
            Err(error) => {
                tracing::error!(spool = %spool.path().display(), %error, "cannot read the record spool")
            }
        }
    }

    async fn write(&mut self, batch: Vec<Entry>) {
        if self.spooling {
            self.spool_entries(batch);
            return;
        }
        let mut batch = batch;
        let mut retry = 0u32;
        let limit = self.spool.is_some().then_some(WRITE_LIMIT);
        loop {
            match self.try_store(batch, limit).await {
                Ok(()) => {
                    if retry > 0 {
                        tracing::info!(retries = retry, "call records stored after retrying");
                    }
                    return;
                }
                Err((left, error)) => {
                    retry = retry.saturating_add(1);
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    if self.spool.is_some() {
                        tracing::warn!(
                            records = records_in(&left),
                            error = %error,
                            "the database does not answer; call records go to the disk spool"
                        );
                        self.spooling = true;
                        self.replay_retry = 1;
                        self.replay_at = Some(tokio::time::Instant::now() + self.config.backoff(1));
                        self.spool_entries(left);
                        return;
                    }
                    let delay = self.config.backoff(retry);
                    tracing::warn!(
                        records = records_in(&left),
                        retry,
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "call record write failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    batch = left;
                }
            }
        }
    }

    /// One attempt at storing `batch` in one transaction, given up after `limit` if one is
    /// set. When the database refuses it for its content, the entries are written one by one
    /// so only the bad ones are set aside. On a transient failure, hands back what is left to
    /// store, in order.
    async fn try_store(
        &mut self,
        batch: Vec<Entry>,
        limit: Option<Duration>,
    ) -> Result<(), (Vec<Entry>, StoreError)> {
        let attempt = self.sink.write_entries(&batch);
        let result = match limit {
            Some(limit) => tokio::time::timeout(limit, attempt)
                .await
                .unwrap_or_else(|_| Err(no_answer_within(limit))),
            None => attempt.await,
        };
        match result {
            Ok(()) => {
                self.stored(&batch);
                Ok(())
            }
            Err(error) if error.is_permanent() && batch.len() > 1 => {
                let mut rest = batch.into_iter();
                while let Some(entry) = rest.next() {
                    match self.sink.write_entries(std::slice::from_ref(&entry)).await {
                        Ok(()) => self.stored(std::slice::from_ref(&entry)),
                        Err(error) if error.is_permanent() => self.reject(entry, &error),
                        Err(error) => {
                            let mut left = vec![entry];
                            left.extend(rest);
                            return Err((left, error));
                        }
                    }
                }
                Ok(())
            }
            Err(error) if error.is_permanent() => {
                for entry in batch {
                    self.reject(entry, &error);
                }
                Ok(())
            }
            Err(error) => Err((batch, error)),
        }
    }

    fn stored(&self, entries: &[Entry]) {
        let records = records_in(entries);
        self.counters.written.fetch_add(records, Ordering::Relaxed);
        self.counters.pending.fetch_sub(records, Ordering::Relaxed);
        self.acknowledge(entries);
    }

    /// `entries` are durable: their "call opened" notes are acknowledged.
    fn acknowledge(&self, entries: &[Entry]) {
        let Some(acks) = &self.acks else {
            return;
        };
        for entry in entries {
            if let Entry::Opened(open) = entry {
                // The engine gone (shutting down) has no call left to answer.
                let _ = acks.send(open.id.clone());
            }
        }
    }

    fn reject(&mut self, entry: Entry, error: &StoreError) {
        match entry {
            Entry::Record(call) => {
                self.counters.rejected.fetch_add(1, Ordering::Relaxed);
                self.counters.pending.fetch_sub(1, Ordering::Relaxed);
                tracing::error!(call_id = %call.id, error = %error, "call record refused by the database; set aside");
                self.rejected.push(*call);
            }
            // Only the journal loses it: the call's record still comes when it ends.
            Entry::Opened(open) => {
                tracing::error!(call_id = %open.id, error = %error, "open-call note refused by the database");
            }
        }
    }

    /// Appends to the spool (durable on return); what the file cannot take stays in memory.
    fn spool_entries(&mut self, entries: Vec<Entry>) {
        let records = records_in(&entries);
        self.counters.spooled.fetch_add(records, Ordering::Relaxed);
        if self.unspooled.is_empty() {
            if let Some(spool) = self.spool.as_mut() {
                // Blocking file IO on the runtime: only while the database is away, one
                // append and fsync per batch, and the writer task is the only one waiting.
                match spool.append(&entries) {
                    Ok(()) => {
                        self.acknowledge(&entries);
                        return;
                    }
                    Err(error) => {
                        tracing::error!(spool = %spool.path().display(), %error, "cannot append to the record spool; keeping records in memory")
                    }
                }
            }
        }
        self.unspooled.extend(entries);
    }

    /// Writes the spool (then what it could not take) to the sink in order; once all is
    /// stored, empties it and writes directly again. On failure, tries again later.
    async fn replay(&mut self) {
        self.replay_at = None;
        let entries = match self.spool.as_mut().map(Spool::read).transpose() {
            Ok(contents) => contents.map(|c| c.entries).unwrap_or_default(),
            Err(error) => {
                tracing::error!(%error, "cannot read the record spool");
                self.retry_replay_later();
                return;
            }
        };
        let from_file = entries.len();
        let mut pending: Vec<Entry> = entries.into_iter().skip(self.replayed).collect();
        let from_memory = self.unspooled.len();
        pending.append(&mut self.unspooled);
        let mut done = 0;
        let total = pending.len();
        let mut chunks = pending.into_iter().peekable();
        // The first chunk probes the database: while it is away, new entries wait behind
        // this attempt for at most `WRITE_LIMIT`.
        let mut limit = Some(WRITE_LIMIT);
        while chunks.peek().is_some() {
            let chunk: Vec<Entry> = chunks.by_ref().take(MAX_BATCH).collect();
            let len = chunk.len();
            let records = records_in(&chunk);
            match self.try_store(chunk, limit.take()).await {
                Ok(()) => {
                    done += len;
                    self.counters.spooled.fetch_sub(records, Ordering::Relaxed);
                }
                Err((left, error)) => {
                    let stored_now = len - left.len();
                    done += stored_now;
                    self.counters
                        .spooled
                        .fetch_sub(records - records_in(&left), Ordering::Relaxed);
                    // What came from memory and is not stored goes back to memory.
                    let mut rest: Vec<Entry> = left;
                    rest.extend(chunks);
                    let back_to_memory = (total - done).min(from_memory);
                    let keep_from = rest.len() - back_to_memory;
                    self.unspooled = rest.split_off(keep_from);
                    self.replayed += done.min(from_file - self.replayed.min(from_file));
                    tracing::warn!(
                        left = total - done,
                        error = %error,
                        "the database still does not answer; the spool is kept"
                    );
                    self.retry_replay_later();
                    return;
                }
            }
        }
        if let Some(spool) = self.spool.as_mut() {
            if let Err(error) = spool.clear() {
                // Replaying it again later is harmless: every entry is idempotent.
                tracing::error!(spool = %spool.path().display(), %error, "cannot empty the record spool");
            }
        }
        tracing::info!(
            entries = total,
            "the database answers again; spooled call records stored"
        );
        self.spooling = false;
        self.replayed = 0;
        self.replay_retry = 0;
    }

    fn retry_replay_later(&mut self) {
        self.replay_retry = self.replay_retry.saturating_add(1);
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
        self.replay_at = Some(tokio::time::Instant::now() + self.config.backoff(self.replay_retry));
    }
}

/// Writes a spool's entries to `store` in order and empties it: at start-up, before the
/// engine takes calls and before open calls are closed (a call whose record is spooled must
/// not be closed as interrupted). Entries the database refuses for their content are
/// logged by call id and appended to `records.rejected.jsonl` beside the spool. Returns how
/// many entries were stored; a transient failure is returned as is, the spool kept.
pub async fn replay_spool(store: &Store, spool: &mut Spool) -> Result<usize, StoreError> {
    let contents = spool.read().map_err(StoreError::Spool)?;
    let mut rejected = Vec::new();
    for chunk in contents.entries.chunks(MAX_BATCH) {
        match store.write_entries(chunk).await {
            Ok(()) => {}
            Err(error) if error.is_permanent() => {
                for entry in chunk {
                    match store.write_entries(std::slice::from_ref(entry)).await {
                        Ok(()) => {}
                        Err(error) if error.is_permanent() => {
                            tracing::error!(call_id = %entry.call_id(), %error, "spooled entry refused by the database; set aside");
                            rejected.push(entry.clone());
                        }
                        Err(error) => return Err(error),
                    }
                }
            }
            Err(error) => return Err(error),
        }
    }
    if !rejected.is_empty() {
        let folder = spool.path().parent().unwrap_or(std::path::Path::new("."));
        let mut aside = Spool::open_named(folder, REJECTED_FILE).map_err(StoreError::Spool)?;
        aside.append(&rejected).map_err(StoreError::Spool)?;
    }
    spool.clear().map_err(StoreError::Spool)?;
    Ok(contents.entries.len() - rejected.len())
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "writer_spool_tests.rs"]
mod spool_tests;
