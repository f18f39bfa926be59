//! End to end: two engine processes (nodes `a` and `b`) on one fresh PostgreSQL schema.
//! Each node's `GET /api/v1/queues` shows the callers waiting on both; a call that ends on
//! one counts on the other's board; when `b` is killed (SIGKILL) its callers leave `a`'s
//! board and `a` closes `b`'s calls in progress as interrupted (`node_lost`). A second run
//! with a live node's `--node-id` is refused; one started right after a `kill -9` waits the
//! old run out and starts. The measured times are printed.

mod support;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use madoguchi_store::{CallQuery, CallRecord, Disposition, Store, NODE_LOST_CAUSE};
use serde_json::Value;
use support::center::SippProcess;
use support::pg::Schema;
use support::{eventually, free_udp_port, repo_root, sipp, EngineProcess, Options};

/// `--cluster-dead-after-seconds` left at its default.
const DEAD_AFTER: Duration = Duration::from_secs(6);
/// What the reaper adds to the dead limit (it looks every 2 s), plus room for a busy machine.
const REAP_MARGIN: Duration = Duration::from_secs(4);

fn node(schema: &Schema, id: &str) -> EngineProcess {
    EngineProcess::start(Options {
        database_url: Some(schema.url()),
        dialplan: Some(repo_root().join("tests/dialplans/queue_only.toml")),
        extra_args: vec!["--node-id".to_owned(), id.to_owned()],
        ..Options::default()
    })
}

/// `GET /api/v1/queues`, parsed.
fn board(engine: &EngineProcess) -> Value {
    let (status, body) = engine.get("/api/v1/queues");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("queues json")
}

/// The callers waiting on a board: call id → the node it names.
fn waiting(board: &Value) -> HashMap<String, String> {
    waiting_since(board)
        .into_iter()
        .map(|(call, (node, _))| (call, node))
        .collect()
}

/// The same with when each caller began to wait.
fn waiting_since(board: &Value) -> HashMap<String, (String, DateTime<Utc>)> {
    board["queues"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|q| q["waiting"].as_array().cloned().unwrap_or_default())
        .map(|w| {
            let since = w["since"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
                .expect("since is an instant");
            (
                w["call_id"].as_str().unwrap_or_default().to_owned(),
                (w["node"].as_str().unwrap_or_default().to_owned(), since),
            )
        })
        .collect()
}

/// Callers who call `engine` and wait ten minutes.
fn waiting_callers(engine: &EngineProcess, count: usize) -> SippProcess {
    SippProcess::spawn(
        "bench_call.xml",
        Some(engine.sip),
        free_udp_port(),
        tempfile::tempdir().expect("temp dir"),
        &[
            "-d",
            "600000",
            "-m",
            &count.to_string(),
            "-r",
            "20",
            "-l",
            &count.to_string(),
        ],
    )
}

async fn records_of(store: &Store, node: &str) -> Vec<CallRecord> {
    let query = CallQuery {
        limit: 500,
        ..CallQuery::default()
    };
    let page = store.list_calls(&query).await.expect("calls listed");
    page.items
        .into_iter()
        .filter(|r| r.node_id == node)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_board_and_a_dead_nodes_callers_leave_it_and_its_calls_are_closed() {
    let schema = Schema::new("cluster_board");
    let a = node(&schema, "a");
    let mut b = node(&schema, "b");
    let store = Store::connect(&schema.url()).await.expect("side store");

    // Every caller is answered and waits in the one queue nobody serves.
    let _on_a = waiting_callers(&a, 3);
    let _on_b = waiting_callers(&b, 2);

    // When each caller first shows on its own node's board and on the other's; how long
    // after it began to wait it showed on the other's (the wall clock of this machine).
    let mut own: HashMap<String, Instant> = HashMap::new();
    let mut other: HashMap<String, Instant> = HashMap::new();
    let mut since_arrival = chrono::Duration::zero();
    let deadline = Instant::now() + Duration::from_secs(30);
    while other.len() < 5 {
        for (viewer, engine) in [("a", &a), ("b", &b)] {
            for (call, (home, since)) in waiting_since(&board(engine)) {
                if home == viewer {
                    own.entry(call).or_insert_with(Instant::now);
                } else if let Entry::Vacant(first) = other.entry(call) {
                    first.insert(Instant::now());
                    since_arrival = since_arrival.max(Utc::now() - since);
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "every caller on both boards; own {own:?}, other {other:?}\nA:\n{}\nB:\n{}",
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let spread = other
        .iter()
        .map(|(call, seen)| {
            let home = own.get(call).copied().unwrap_or(*seen);
            seen.saturating_duration_since(home)
        })
        .max()
        .unwrap_or_default();
    let since_arrival = since_arrival.to_std().unwrap_or_default();
    println!(
        "a caller waiting on one node showed on the other's board within {spread:?} of its \
         own board, {since_arrival:?} after it began to wait"
    );
    assert!(
        spread <= Duration::from_secs(1) && since_arrival <= Duration::from_secs(1),
        "callers reach the other board within 1 s, took {spread:?} ({since_arrival:?})"
    );
    for engine in [&a, &b] {
        let on_board = waiting(&board(engine));
        assert_eq!(on_board.len(), 5, "{on_board:?}");
        assert_eq!(on_board.values().filter(|n| *n == "a").count(), 3);
        let general = &board(engine)["queues"][0]["waiting"];
        let positions: Vec<u64> = general
            .as_array()
            .expect("waiting list")
            .iter()
            .filter_map(|w| w["position"].as_u64())
            .collect();
        assert_eq!(positions, [1, 2, 3, 4, 5], "one numbering across nodes");
    }

    // A call that ends on b (the caller hangs up after 300 ms in the queue) counts on a.
    let before = board(&a)["today"]["calls"].as_u64().unwrap_or(0);
    let (code, output) = sipp("bench_call.xml", b.sip, &["-d", "300", "-m", "1"]);
    assert_eq!(code, 0, "the short call on b succeeded:\n{output}");
    let ended = Instant::now();
    eventually(
        "a's today counts the call that ended on b",
        Duration::from_secs(10),
        async || board(&a)["today"]["calls"].as_u64().unwrap_or(0) == before + 1,
    )
    .await;
    println!(
        "a call that ended on b counted on a's board {:?} after its caller hung up",
        ended.elapsed()
    );
    // Both boards show the whole center, each call once.
    eventually(
        "a and b count the same calls today",
        Duration::from_secs(5),
        async || board(&a)["today"] == board(&b)["today"],
    )
    .await;
    let today = board(&a)["today"].clone();
    assert!(
        today["abandoned"].as_u64() >= Some(1),
        "the short call counts as abandoned: {today}"
    );

    // b dies with two callers waiting.
    assert_eq!(
        schema.open_journal_rows(Some("b")),
        2,
        "b's callers are journaled"
    );
    b.kill();
    let killed = Instant::now();
    eventually(
        "b's callers leave a's board",
        Duration::from_secs(10),
        async || !waiting(&board(&a)).values().any(|n| n == "b"),
    )
    .await;
    let left = killed.elapsed();
    println!("b's callers left a's board {left:?} after kill -9");
    assert!(
        left < Duration::from_secs(3),
        "a dead node's callers leave within 3 s, took {left:?}"
    );
    assert_eq!(waiting(&board(&a)).len(), 3, "a's own callers stay");

    let limit = DEAD_AFTER + Duration::from_secs(2) + REAP_MARGIN;
    eventually(
        "a closes b's calls",
        limit + Duration::from_secs(5),
        async || schema.open_journal_rows(Some("b")) == 0,
    )
    .await;
    let closed = killed.elapsed();
    println!(
        "b's open calls were closed by a {closed:?} after kill -9 (dead after {DEAD_AFTER:?})"
    );
    assert!(closed <= limit, "closed within {limit:?}, took {closed:?}");
    let cut: Vec<CallRecord> = records_of(&store, "b")
        .await
        .into_iter()
        .filter(|r| r.hangup_cause.as_deref() == Some(NODE_LOST_CAUSE))
        .collect();
    assert_eq!(cut.len(), 2, "one interrupted record per caller: {cut:?}");
    assert!(cut
        .iter()
        .all(|r| r.disposition == Disposition::Interrupted && r.ended_at >= r.arrived_at));
    assert!(
        a.log().contains("dead node"),
        "the reaper says so:\n{}",
        a.log()
    );
}

/// `madoguchi serve` as a second run of `node_id`: its exit code and log, or None (and it is
/// killed) if it is still running after `limit`.
fn second_run(schema: &Schema, node_id: &str, limit: Duration) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .arg("serve")
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .arg("--database-url")
        .arg(schema.url())
        .arg("--dialplan")
        .arg(repo_root().join("tests/dialplans/queue_only.toml"))
        .args(["--rtp-ports", "30000-39999", "--node-id", node_id])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("engine.log")).expect("log file"),
        ))
        .spawn()
        .expect("start madoguchi");
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status.code().unwrap_or(-1));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(dir.path().join("engine.log")).unwrap_or_default();
    (code, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_with_a_live_nodes_id_is_refused_and_one_after_a_kill_starts() {
    let schema = Schema::new("cluster_twin");
    let mut first = node(&schema, "twin");
    let _caller = waiting_callers(&first, 1);
    eventually("the caller waits", Duration::from_secs(10), async || {
        waiting(&board(&first)).len() == 1
    })
    .await;

    let started = Instant::now();
    let (code, log) = second_run(&schema, "twin", DEAD_AFTER + Duration::from_secs(20));
    println!("the twin was refused after {:?}", started.elapsed());
    assert!(
        code.is_some_and(|c| c != 0),
        "the twin exits with an error ({code:?}):\n{log}"
    );
    assert!(
        log.contains("another madoguchi is running as node twin")
            && log.contains("give each node its own --node-id"),
        "{log}"
    );
    // The refused run closed nothing of the live one's.
    assert_eq!(schema.open_journal_rows(Some("twin")), 1);
    assert_eq!(waiting(&board(&first)).len(), 1, "the first run serves on");

    // A restart right after a crash waits out the old run's last heartbeats.
    first.kill();
    let killed = Instant::now();
    let restarted = node(&schema, "twin");
    println!(
        "a restart right after kill -9 was ready {:?} later",
        killed.elapsed()
    );
    assert_eq!(
        schema.open_journal_rows(Some("twin")),
        0,
        "its recovery closed the cut call:\n{}",
        restarted.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orderly_stop_gives_the_node_id_back_so_a_restart_takes_it_at_once() {
    let schema = Schema::new("cluster_release");
    let mut first = node(&schema, "calm");
    assert_eq!(first.terminate(), Some(0), "{}", first.log());
    assert_eq!(
        schema.value("SELECT instance FROM nodes WHERE node_id = 'calm'"),
        "",
        "the stopped run released its claim"
    );
    let restarted = node(&schema, "calm");
    assert!(
        !restarted
            .log()
            .contains("waiting to see whether its run is still alive"),
        "a restart after an orderly stop does not wait:\n{}",
        restarted.log()
    );
}
