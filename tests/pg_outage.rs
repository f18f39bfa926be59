//! End to end: PostgreSQL stops while the engine takes calls. Callers are still answered and
//! queued; their records wait in the engine's disk spool and reach the database, each
//! exactly once, when it is back.
//!
//! This binary stops the real PostgreSQL service (`pg_ctlcluster … stop`), so it lives
//! alone: cargo runs test binaries one after another, and the tests here hold one lock.
//! A guard starts the service again however a test ends, panics included.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use madoguchi_store::{CallQuery, Disposition, Store, SPOOL_FILE};
use support::pg::Schema;
use support::{eventually, repo_root, sipp, EngineProcess, Options};
use tokio::sync::Mutex;

/// One test at a time may take the database away.
static POSTGRES: Mutex<()> = Mutex::const_new(());

/// Calls placed while the database is up, then while it is down.
const BEFORE: usize = 10;
const DURING: usize = 20;

/// The local cluster `main`, stopped and started through Debian's wrappers.
struct Cluster {
    version: String,
}

impl Cluster {
    /// The version column of `pg_lsclusters` for the cluster named `main`.
    fn main() -> Cluster {
        let output = Command::new("pg_lsclusters")
            .arg("--no-header")
            .output()
            .expect("pg_lsclusters runs (postgresql-common)");
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|cols| cols.get(1) == Some(&"main"))
            .and_then(|cols| cols.first().map(|v| (*v).to_owned()))
            .unwrap_or_else(|| panic!("no cluster `main` in pg_lsclusters:\n{text}"));
        Cluster { version }
    }

    fn ctl(&self, action: &str) -> bool {
        Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &self.version, "main", action])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Stops the cluster; the guard starts it again when dropped.
    fn stop(&self) -> Restart<'_> {
        let guard = Restart(self);
        assert!(self.ctl("stop"), "pg_ctlcluster stop failed");
        guard
    }
}

/// Starts the cluster when dropped (also while unwinding from a panic).
struct Restart<'a>(&'a Cluster);

impl Restart<'_> {
    fn start_now(self) {
        drop(self);
    }
}

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        if !self.0.ctl("start") {
            // Already running is fine; anything else is for the person reading the output.
            eprintln!("pg_ctlcluster start did not succeed: check `pg_lsclusters`");
        }
    }
}

/// Records in the spool file (a line per entry; journal notes start with `{"opened"`).
fn spooled_records(engine: &EngineProcess) -> usize {
    std::fs::read_to_string(engine.dir.path().join("spool").join(SPOOL_FILE))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.starts_with(r#"{"record""#))
        .count()
}

fn place_calls(engine: &EngineProcess, count: usize) {
    // Each caller is answered, queued, and hangs up after a second of hold music.
    let (code, output) = sipp(
        "bench_call.xml",
        engine.sip,
        &[
            "-d",
            "1000",
            "-m",
            &count.to_string(),
            "-r",
            "20",
            "-l",
            "50",
        ],
    );
    assert_eq!(code, 0, "every call answered and ended normally:\n{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgresql_is_down_calls_are_answered_and_every_record_is_stored_once_it_is_back() {
    let _one_at_a_time = POSTGRES.lock().await;
    let cluster = Cluster::main();
    let schema = Schema::new("outage");
    let url = schema.url();
    let engine = EngineProcess::start(Options {
        database_url: Some(url.clone()),
        dialplan: Some(repo_root().join("tests/dialplans/queue_only.toml")),
        ..Options::default()
    });
    let store = Store::connect(&url)
        .await
        .expect("side store in the schema");
    let count = async || {
        store
            .list_calls(&CallQuery::default())
            .await
            .map(|page| page.total as usize)
    };

    place_calls(&engine, BEFORE);
    eventually(
        "the first calls stored",
        Duration::from_secs(20),
        async || count().await.ok() == Some(BEFORE),
    )
    .await;

    let restart = cluster.stop();
    let down_at = Instant::now();
    place_calls(&engine, DURING);
    let answered_in = down_at.elapsed();
    eventually(
        "the outage's records spooled on disk",
        Duration::from_secs(30),
        async || spooled_records(&engine) == DURING,
    )
    .await;
    assert!(count().await.is_err(), "the database really was away");
    restart.start_now();
    let up_at = Instant::now();

    eventually(
        "every record stored after the outage",
        Duration::from_secs(60),
        async || count().await.ok() == Some(BEFORE + DURING),
    )
    .await;
    let stored_in = up_at.elapsed();
    eprintln!(
        "{DURING} calls answered in {answered_in:?} with PostgreSQL down; \
         all stored {stored_in:?} after it was back"
    );

    let page = store
        .list_calls(&CallQuery {
            limit: 500,
            with_events: true,
            ..CallQuery::default()
        })
        .await
        .expect("listing");
    assert_eq!(page.total as usize, BEFORE + DURING, "exactly once each");
    let mut sip_call_ids: Vec<&str> = page.items.iter().map(|c| c.sip_call_id.as_str()).collect();
    sip_call_ids.sort_unstable();
    sip_call_ids.dedup();
    assert_eq!(
        sip_call_ids.len(),
        BEFORE + DURING,
        "one record per SIP call"
    );
    for call in &page.items {
        assert_eq!(call.disposition, Disposition::Abandoned, "{call:?}");
        assert_eq!(call.queue.as_deref(), Some("desk"), "queued: {call:?}");
        assert!(call.answered_at.is_some(), "answered: {call:?}");
        assert!(!call.events.is_empty(), "events stored: {call:?}");
    }
    assert!(store.open_calls("node1").await.expect("journal").is_empty());
    eventually("the spool emptied", Duration::from_secs(10), async || {
        spooled_records(&engine) == 0
    })
    .await;
    store.close().await;
    drop(engine);
}
