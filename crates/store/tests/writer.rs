//! The record writer against real databases: retries through an outage, flushes on shutdown.

#[macro_use]
mod common;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{at, bare_record, full_record, Ctx};
use madoguchi_store::{
    CallQuery, CallRecord, Disposition, RecordSink, RecordWriter, Store, StoreError, WriterConfig,
};
use tokio::sync::mpsc;

on_both_backends!(
    the_writer_retries_while_a_table_is_missing_and_stores_once_it_is_back,
    the_writer_retries_a_failing_store_and_stores_the_record_exactly_once,
    shutdown_flushes_every_queued_record,
);

/// Fast pacing: these tests are about retrying, not about the waiting.
const FAST: WriterConfig = WriterConfig {
    initial_backoff: Duration::from_millis(1),
    max_backoff: Duration::from_millis(20),
};

/// The real store, reporting each failed attempt so the test can react to it.
struct Observed {
    store: Store,
    failures: mpsc::UnboundedSender<()>,
}

impl RecordSink for Observed {
    fn write_call(&self, call: &CallRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        let store = self.store.clone();
        let failures = self.failures.clone();
        let call = call.clone();
        async move {
            let result = store.insert_call(&call).await;
            if result.is_err() {
                let _ = failures.send(());
            }
            result
        }
    }
}

async fn the_writer_retries_while_a_table_is_missing_and_stores_once_it_is_back(ctx: Ctx) {
    ctx.raw.exec("DROP TABLE call_events").await;
    let (failures, mut failed) = mpsc::unbounded_channel();
    let sink = Observed {
        store: ctx.store.clone(),
        failures,
    };
    let (writer, task) = RecordWriter::spawn_with(sink, FAST);
    let record = full_record("outage", at(0));
    writer.submit(record.clone());
    failed.recv().await.expect("the first attempt fails");
    assert_eq!(writer.stats().pending, 1);
    // Maintenance ends: the idempotent migration SQL brings the table back.
    ctx.raw.exec(ctx.migration_sql()).await;
    writer.flush().await.expect("writer running");
    let stats = writer.stats();
    assert!(stats.retries >= 1, "{stats:?}");
    assert_eq!((stats.written, stats.pending), (1, 0));
    assert_eq!(
        ctx.store.get_call("outage").await.expect("get"),
        Some(record)
    );
    task.shutdown().await;
}

/// Fails the first `n` attempts as a dropped connection would, then uses the real store.
struct FailingFirst {
    store: Store,
    remaining: Arc<AtomicU32>,
}

impl RecordSink for FailingFirst {
    fn write_call(&self, call: &CallRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        let store = self.store.clone();
        let remaining = Arc::clone(&self.remaining);
        let call = call.clone();
        async move {
            let fail = remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
            if fail {
                // Write first, then lose the reply: the retry must not duplicate anything.
                store.insert_call(&call).await?;
                let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
                return Err(StoreError::Database(sqlx::Error::Io(reset)));
            }
            store.insert_call(&call).await
        }
    }
}

async fn the_writer_retries_a_failing_store_and_stores_the_record_exactly_once(ctx: Ctx) {
    let sink = FailingFirst {
        store: ctx.store.clone(),
        remaining: Arc::new(AtomicU32::new(3)),
    };
    let (writer, task) = RecordWriter::spawn_with(sink, FAST);
    let record = full_record("lost-reply", at(0));
    writer.submit(record.clone());
    let report = task.shutdown().await;
    assert_eq!(report.stats.retries, 3);
    assert_eq!(report.stats.written, 1);
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    assert_eq!(
        ctx.store.get_call("lost-reply").await.expect("get"),
        Some(record)
    );
}

async fn shutdown_flushes_every_queued_record(ctx: Ctx) {
    let (writer, task) = RecordWriter::spawn(ctx.store.clone());
    for i in 0..25 {
        writer.submit(bare_record(
            &format!("q{i:02}"),
            at(i),
            Disposition::ClosedHours,
        ));
    }
    let report = task.shutdown().await;
    assert_eq!(report.stats.written, 25);
    assert_eq!(report.stats.pending, 0);
    assert!(report.rejected.is_empty());
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 25);
}
