//! Several nodes on one database (issue 8): migrations racing, node claims, the dead-node
//! reaper and its two rules (a real record beats a presumed one; a failover retry is one
//! call), live state and the LISTEN/NOTIFY bus. PostgreSQL in fresh schemas; SQLite where
//! the single-node part applies.

#[macro_use]
mod common;

use std::time::Duration;

use common::{at, bare_record, full_record, Ctx, Kind, Raw};
use madoguchi_store::{
    BusEvent, CallEvent, CallQuery, CallRecord, ClusterBus, Disposition, Entry, NodeClaim,
    NodeInfo, OpenCall, Reaped, Store, NODE_LOST_CAUSE,
};

on_both_backends!(
    a_live_twin_is_refused_and_accepted_once_silent_for_longer_than_the_limit,
    our_own_instance_reclaims_its_node_at_once,
    a_released_node_is_claimed_at_once_by_the_next_run,
    a_release_by_another_run_leaves_the_claim,
    a_claim_keeps_the_previous_runs_last_heartbeat_for_recovery,
    a_first_claim_leaves_open_calls_ending_when_they_arrived,
    nodes_lists_every_node_freshest_first_with_its_addresses,
    dead_nodes_are_judged_by_the_database_clock_not_the_nodes,
    a_node_with_open_calls_but_no_heartbeat_counts_as_dead,
    a_real_record_replaces_the_reapers_presumed_one,
    a_presumed_record_never_replaces_a_real_one,
    a_failover_retry_journaled_on_two_nodes_is_recorded_once,
    rows_written_for_people_carry_the_stores_node,
    live_state_is_kept_on_postgres_only,
);

on_postgres!(
    two_concurrent_reapers_close_each_call_once,
    the_bus_announces_published_live_state,
    the_bus_announces_stored_records_without_personal_data,
    a_rolled_back_write_announces_nothing,
    the_bus_ignores_news_from_another_schema,
    the_bus_reconnects_after_its_backend_is_terminated,
);

/// How long a test waits for news that should come at once.
const NEWS: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(3600);

fn node(id: &str, instance: &str) -> NodeInfo {
    NodeInfo {
        node_id: id.into(),
        instance: instance.into(),
        sip_addr: Some("127.0.0.1:5070".into()),
        http_url: Some("http://127.0.0.1:8081".into()),
    }
}

fn open(id: &str, node: &str, sip_call_id: &str, arrived: i64) -> Entry {
    Entry::Opened(OpenCall {
        id: id.into(),
        node_id: node.into(),
        sip_call_id: sip_call_id.into(),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at: at(arrived),
    })
}

/// Moves a node's last sighting `seconds` into the past, by the database's clock.
async fn age_node(ctx: &Ctx, node: &str, seconds: u32) {
    let sql = match ctx.kind {
        Kind::Sqlite => format!(
            "UPDATE nodes SET seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-{seconds} seconds') \
             WHERE node_id = '{node}'"
        ),
        Kind::Postgres => format!(
            "UPDATE nodes SET seen_at = now() - interval '{seconds} seconds' WHERE node_id = '{node}'"
        ),
    };
    ctx.raw.exec(&sql).await;
}

async fn all_calls(store: &Store) -> Vec<CallRecord> {
    let q = CallQuery {
        with_events: true,
        limit: 1_000,
        ..CallQuery::default()
    };
    let page = store.list_calls(&q).await.expect("listing");
    assert!(page.next.is_none(), "more calls than a test expects");
    page.items
}

async fn a_live_twin_is_refused_and_accepted_once_silent_for_longer_than_the_limit(ctx: Ctx) {
    let first = node("node1", "run-1");
    assert_eq!(
        ctx.store.claim_node(&first, LONG).await.expect("claim"),
        NodeClaim::Claimed
    );
    let twin = node("node1", "run-2");
    match ctx.store.claim_node(&twin, LONG).await.expect("claim") {
        NodeClaim::HeldBy {
            instance,
            silent_for,
        } => {
            assert_eq!(instance, "run-1");
            assert!(silent_for < Duration::from_secs(60), "{silent_for:?}");
        }
        other => panic!("a live twin was let in: {other:?}"),
    }
    age_node(&ctx, "node1", 10).await;
    assert_eq!(
        ctx.store
            .claim_node(&twin, Duration::from_secs(6))
            .await
            .expect("claim"),
        NodeClaim::Claimed
    );
    let nodes = ctx.store.nodes().await.expect("nodes");
    assert_eq!(nodes[0].info.instance, "run-2");
    assert!(nodes[0].silent_for < Duration::from_secs(5));
}

async fn our_own_instance_reclaims_its_node_at_once(ctx: Ctx) {
    let me = node("node1", "run-1");
    for _ in 0..2 {
        assert_eq!(
            ctx.store.claim_node(&me, LONG).await.expect("claim"),
            NodeClaim::Claimed
        );
    }
}

async fn a_released_node_is_claimed_at_once_by_the_next_run(ctx: Ctx) {
    let first = node("node1", "run-1");
    assert_eq!(
        ctx.store.claim_node(&first, LONG).await.expect("claim"),
        NodeClaim::Claimed
    );
    ctx.store
        .release_node("node1", "run-1")
        .await
        .expect("released");
    assert_eq!(
        ctx.store
            .claim_node(&node("node1", "run-2"), LONG)
            .await
            .expect("claim"),
        NodeClaim::Claimed
    );
}

async fn a_release_by_another_run_leaves_the_claim(ctx: Ctx) {
    let first = node("node1", "run-1");
    assert_eq!(
        ctx.store.claim_node(&first, LONG).await.expect("claim"),
        NodeClaim::Claimed
    );
    ctx.store
        .release_node("node1", "run-0")
        .await
        .expect("no-op");
    assert!(matches!(
        ctx.store
            .claim_node(&node("node1", "run-2"), LONG)
            .await
            .expect("claim"),
        NodeClaim::HeldBy { .. }
    ));
}

async fn a_claim_keeps_the_previous_runs_last_heartbeat_for_recovery(ctx: Ctx) {
    ctx.store
        .write_entries(&[open("c1", "node1", "s1@x", 10)])
        .await
        .expect("journaled");
    ctx.store.heartbeat("node1", at(30)).await.expect("beat");
    age_node(&ctx, "node1", 60).await;
    assert_eq!(
        ctx.store
            .claim_node(&node("node1", "run-2"), Duration::from_secs(6))
            .await
            .expect("claim"),
        NodeClaim::Claimed
    );
    assert_eq!(
        ctx.store.close_open_calls("node1").await.expect("closed"),
        1
    );
    let record = ctx
        .store
        .get_call("c1")
        .await
        .expect("get")
        .expect("closed");
    assert_eq!(record.ended_at, at(30));
}

async fn a_first_claim_leaves_open_calls_ending_when_they_arrived(ctx: Ctx) {
    ctx.store
        .write_entries(&[
            open("c1", "node1", "s1@x", 10),
            open("c2", "node1", "s2@x", 20),
        ])
        .await
        .expect("journaled");
    ctx.store
        .claim_node(&node("node1", "run-1"), LONG)
        .await
        .expect("claim");
    assert_eq!(
        ctx.store.close_open_calls("node1").await.expect("closed"),
        2
    );
    for (id, arrived) in [("c1", 10), ("c2", 20)] {
        let record = ctx.store.get_call(id).await.expect("get").expect("closed");
        assert_eq!(record.ended_at, at(arrived), "{id}");
    }
}

async fn nodes_lists_every_node_freshest_first_with_its_addresses(ctx: Ctx) {
    ctx.store
        .claim_node(&node("old", "a"), LONG)
        .await
        .expect("claim");
    ctx.store
        .claim_node(&node("new", "b"), LONG)
        .await
        .expect("claim");
    age_node(&ctx, "old", 30).await;
    ctx.store.heartbeat("new", at(5)).await.expect("beat");
    let nodes = ctx.store.nodes().await.expect("nodes");
    let ids: Vec<&str> = nodes.iter().map(|n| n.info.node_id.as_str()).collect();
    assert_eq!(ids, ["new", "old"]);
    assert_eq!(nodes[0].info, node("new", "b"));
    assert_eq!(nodes[0].last_alive_at, at(5));
    assert!(
        nodes[1].silent_for >= Duration::from_secs(29),
        "{:?}",
        nodes[1]
    );
}

async fn dead_nodes_are_judged_by_the_database_clock_not_the_nodes(ctx: Ctx) {
    ctx.store
        .write_entries(&[
            open("a1", "skewed", "sa@x", 10),
            open("b1", "silent", "sb@x", 10),
        ])
        .await
        .expect("journaled");
    // A node whose clock is years behind still beats now.
    ctx.store.heartbeat("skewed", at(0)).await.expect("beat");
    ctx.store
        .heartbeat("silent", chrono::Utc::now())
        .await
        .expect("beat");
    ctx.store.heartbeat("idle", at(0)).await.expect("beat");
    age_node(&ctx, "silent", 10).await;
    age_node(&ctx, "idle", 10).await;
    assert_eq!(
        ctx.store
            .dead_nodes_with_open_calls(Duration::from_secs(6))
            .await
            .expect("dead"),
        ["silent"]
    );
}

async fn a_node_with_open_calls_but_no_heartbeat_counts_as_dead(ctx: Ctx) {
    ctx.store
        .write_entries(&[open("c1", "never", "s1@x", 10)])
        .await
        .expect("journaled");
    assert_eq!(
        ctx.store
            .dead_nodes_with_open_calls(Duration::from_secs(6))
            .await
            .expect("dead"),
        ["never"]
    );
    assert_eq!(ctx.store.reap_node("never").await.expect("reaped"), 1);
    assert!(ctx
        .store
        .dead_nodes_with_open_calls(Duration::from_secs(6))
        .await
        .expect("dead")
        .is_empty());
}

async fn a_real_record_replaces_the_reapers_presumed_one(ctx: Ctx) {
    let real = full_record("c1", at(10));
    ctx.store
        .write_entries(&[open("c1", "node-a", &real.sip_call_id, 10)])
        .await
        .expect("journaled");
    ctx.store.heartbeat("node-a", at(40)).await.expect("beat");
    assert_eq!(ctx.store.reap_node("node-a").await.expect("reaped"), 1);
    let presumed = ctx
        .store
        .get_call("c1")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(presumed.hangup_cause.as_deref(), Some(NODE_LOST_CAUSE));
    // node-a was only cut off from the database: it replays its spool.
    ctx.store
        .write_entries(&[Entry::Record(Box::new(real.clone()))])
        .await
        .expect("replayed");
    assert_eq!(ctx.store.get_call("c1").await.expect("get"), Some(real));
    assert_eq!(all_calls(&ctx.store).await.len(), 1);
}

async fn a_presumed_record_never_replaces_a_real_one(ctx: Ctx) {
    let real = full_record("c1", at(10));
    ctx.store.insert_call(&real).await.expect("stored");
    let presumed = OpenCall {
        id: "c1".into(),
        node_id: "node-a".into(),
        sip_call_id: real.sip_call_id.clone(),
        caller: real.caller.clone(),
        called: real.called.clone(),
        arrived_at: real.arrived_at,
    }
    .interrupted_record(Some(at(40)));
    ctx.store.insert_call(&presumed).await.expect("kept first");
    assert_eq!(
        ctx.store.get_call("c1").await.expect("get"),
        Some(real.clone())
    );

    // A second presumed record does not replace the first one either, nor does a second
    // real one replace a real one.
    let first = bare_record("c2", at(0), Disposition::Interrupted);
    let first = CallRecord {
        hangup_cause: Some(NODE_LOST_CAUSE.into()),
        ..first
    };
    ctx.store.insert_call(&first).await.expect("stored");
    let second = CallRecord {
        ended_at: at(99),
        events: vec![CallEvent {
            seq: 0,
            at: at(99),
            kind: "ended".into(),
            detail: serde_json::Value::Null,
        }],
        ..first.clone()
    };
    ctx.store.insert_call(&second).await.expect("kept first");
    assert_eq!(ctx.store.get_call("c2").await.expect("get"), Some(first));
    let other = CallRecord {
        ended_at: at(500),
        ..real.clone()
    };
    ctx.store.insert_call(&other).await.expect("kept first");
    assert_eq!(ctx.store.get_call("c1").await.expect("get"), Some(real));
}

async fn a_failover_retry_journaled_on_two_nodes_is_recorded_once(ctx: Ctx) {
    // The proxy sent one INVITE to A, then retried it on B: one Call-ID on both nodes.
    ctx.store
        .write_entries(&[
            open("a-1", "node-a", "retried@trunk", 10),
            open("a-2", "node-a", "only-a@trunk", 11),
            open("a-3", "node-a", "stored-on-b@trunk", 12),
            open("b-1", "node-b", "retried@trunk", 10),
        ])
        .await
        .expect("journaled");
    let on_b = CallRecord {
        sip_call_id: "stored-on-b@trunk".into(),
        node_id: "node-b".into(),
        ..bare_record("b-2", at(12), Disposition::Completed)
    };
    ctx.store.insert_call(&on_b).await.expect("stored");
    let reaped = ctx.store.reap_node_counted("node-a").await.expect("reaped");
    assert_eq!(
        reaped,
        Reaped {
            closed: 1,
            retries_dropped: 2
        }
    );
    let ids: Vec<String> = all_calls(&ctx.store)
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["b-2", "a-2"]);
    assert!(ctx
        .store
        .open_calls("node-a")
        .await
        .expect("journal")
        .is_empty());
    assert_eq!(
        ctx.store.open_calls("node-b").await.expect("journal").len(),
        1
    );
}

async fn two_concurrent_reapers_close_each_call_once(ctx: Ctx) {
    for round in 0..5 {
        let node_id = format!("dead-{round}");
        let entries: Vec<Entry> = (0..20)
            .map(|i| {
                open(
                    &format!("{node_id}-{i}"),
                    &node_id,
                    &format!("{node_id}-{i}@x"),
                    i,
                )
            })
            .collect();
        ctx.store.write_entries(&entries).await.expect("journaled");
        let other = ctx.reconnect().await;
        let (a, b) = tokio::join!(ctx.store.reap_node(&node_id), other.reap_node(&node_id));
        other.close().await;
        let (a, b) = (a.expect("reaper A"), b.expect("reaper B"));
        assert_eq!(a + b, 20, "round {round}: {a} + {b}");
        assert!(
            a == 0 || b == 0,
            "round {round}: both reapers wrote ({a}, {b})"
        );
    }
    let calls = all_calls(&ctx.store).await;
    assert_eq!(calls.len(), 100);
    assert!(calls.iter().all(|c| c.events.len() == 1));
}

async fn rows_written_for_people_carry_the_stores_node(ctx: Ctx) {
    use madoguchi_store::{AuditEntry, NewUser, Password, Role, WrapUp};
    let store = ctx.store.clone().with_node_id("node-b");
    assert_eq!(store.node_id(), "node-b");
    store
        .add_user(&NewUser {
            login: "op1".into(),
            role: Role::Agent,
            password: Password::new("correct horse battery"),
            sip: false,
            realm: String::new(),
            display_name: None,
        })
        .await
        .expect("user");
    store
        .record_operator_state("op1", at(1), "available", None)
        .await
        .expect("state");
    store
        .audit(&AuditEntry {
            at: at(2),
            login: "op1".into(),
            role: Role::Agent,
            action: "call.view".into(),
            subject: Some("c1".into()),
            detail: None,
            source: None,
        })
        .await
        .expect("audit");
    store
        .record_wrap_up(&WrapUp {
            call_id: "c1".into(),
            ended_at: at(3),
            wrap_up_ms: 100,
        })
        .await
        .expect("wrap-up");
    for table in ["operator_state_changes", "audit_log", "call_wrap_ups"] {
        let sql = format!("SELECT node_id FROM {table}");
        let nodes: Vec<String> = match &ctx.raw {
            Raw::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .expect("read"),
            Raw::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .expect("read"),
        };
        assert_eq!(nodes, ["node-b"], "{table}");
    }
}

async fn live_state_is_kept_on_postgres_only(ctx: Ctx) {
    let state = serde_json::json!({"queues": [{"name": "マイナンバー", "waiting": 3}]});
    ctx.store
        .publish_live("node-a", &serde_json::json!({"old": true}))
        .await
        .expect("published");
    ctx.store
        .publish_live("node-a", &state)
        .await
        .expect("published");
    let rows = ctx.store.live_states().await.expect("read");
    match ctx.kind {
        Kind::Sqlite => assert!(rows.is_empty()),
        Kind::Postgres => {
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].0, "node-a");
            assert!(rows[0].1 < Duration::from_secs(5), "{:?}", rows[0].1);
            assert_eq!(rows[0].2, state);
        }
    }
    if ctx.kind == Kind::Sqlite {
        assert!(ClusterBus::listen(&ctx.store)
            .await
            .expect("no bus")
            .is_none());
    }
}

async fn next(bus: &mut ClusterBus) -> BusEvent {
    tokio::time::timeout(NEWS, bus.recv())
        .await
        .expect("news within the deadline")
        .expect("bus event")
}

async fn bus(ctx: &Ctx) -> ClusterBus {
    ClusterBus::listen(&ctx.store)
        .await
        .expect("listening")
        .expect("PostgreSQL has a bus")
}

async fn the_bus_announces_published_live_state(ctx: Ctx) {
    let mut bus = bus(&ctx).await;
    ctx.store
        .publish_live("node-b", &serde_json::json!({}))
        .await
        .expect("published");
    assert_eq!(
        next(&mut bus).await,
        BusEvent::Live {
            node_id: "node-b".into()
        }
    );
}

async fn the_bus_announces_stored_records_without_personal_data(ctx: Ctx) {
    let mut bus = bus(&ctx).await;
    let record = full_record("c1", at(10));
    ctx.store
        .write_entries(&[Entry::Record(Box::new(record.clone()))])
        .await
        .expect("stored");
    let expected = CallRecord {
        caller: String::new(),
        sip_call_id: String::new(),
        dtmf: Vec::new(),
        events: Vec::new(),
        ..record.clone()
    };
    assert_eq!(next(&mut bus).await, BusEvent::Record(Box::new(expected)));
    // A duplicate changes nothing and announces nothing; the next record comes next.
    ctx.store.insert_call(&record).await.expect("kept first");
    ctx.store
        .insert_call(&bare_record("c2", at(20), Disposition::Abandoned))
        .await
        .expect("stored");
    match next(&mut bus).await {
        BusEvent::Record(r) => assert_eq!(r.id, "c2"),
        other => panic!("expected c2, got {other:?}"),
    }
}

async fn a_rolled_back_write_announces_nothing(ctx: Ctx) {
    let mut bus = bus(&ctx).await;
    ctx.raw
        .exec("ALTER TABLE call_events ADD CONSTRAINT no_boom CHECK (kind <> 'boom')")
        .await;
    let mut boom = bare_record("boom", at(11), Disposition::Completed);
    boom.events.push(CallEvent {
        seq: 0,
        at: at(11),
        kind: "boom".into(),
        detail: serde_json::Value::Null,
    });
    let batch = [
        Entry::Record(Box::new(bare_record(
            "lost",
            at(10),
            Disposition::Completed,
        ))),
        Entry::Record(Box::new(boom)),
    ];
    ctx.store
        .write_entries(&batch)
        .await
        .expect_err("the batch fails on its second record");
    ctx.store
        .insert_call(&bare_record("after", at(12), Disposition::Completed))
        .await
        .expect("stored");
    match next(&mut bus).await {
        BusEvent::Record(r) => assert_eq!(r.id, "after"),
        other => panic!("expected the committed record first, got {other:?}"),
    }
}

async fn the_bus_ignores_news_from_another_schema(ctx: Ctx) {
    let mut bus = bus(&ctx).await;
    ctx.raw
        .exec(
            r#"SELECT pg_notify('madoguchi_live', '{"schema":"elsewhere","node":"x"}');
               SELECT pg_notify('madoguchi_live', 'not json')"#,
        )
        .await;
    ctx.store
        .publish_live("mine", &serde_json::json!({}))
        .await
        .expect("published");
    assert_eq!(
        next(&mut bus).await,
        BusEvent::Live {
            node_id: "mine".into()
        }
    );
}

async fn the_bus_reconnects_after_its_backend_is_terminated(ctx: Ctx) {
    // Our own application name tells this test's listener apart from parallel tests'.
    let app = format!("bus-{}", std::process::id());
    let app = format!(
        "{app}-{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let store = Store::connect(&format!("{}&application_name={app}", ctx.url()))
        .await
        .expect("store");
    let mut bus = ClusterBus::listen(&store)
        .await
        .expect("listening")
        .expect("bus");
    let Raw::Postgres(raw) = &ctx.raw else {
        unreachable!("PostgreSQL only")
    };
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND query LIKE 'LISTEN%'",
    )
    .bind(&app)
    .fetch_all(raw)
    .await
    .expect("terminate");
    assert_eq!(terminated, [true]);
    assert_eq!(next(&mut bus).await, BusEvent::Reconnected);
    store
        .publish_live("node-b", &serde_json::json!({}))
        .await
        .expect("published");
    assert_eq!(
        next(&mut bus).await,
        BusEvent::Live {
            node_id: "node-b".into()
        }
    );
    store.close().await;
}

/// Two nodes start at once on an empty schema, ten times: both connect, and every
/// migration is applied exactly once (sqlx's migration lock, design §1).
#[tokio::test]
async fn two_nodes_connecting_at_once_apply_each_migration_once() {
    for round in 0..10 {
        let (schema, url) = common::fresh_pg_schema().await;
        let (a, b) = tokio::join!(Store::connect(&url), Store::connect(&url));
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("round {round}: node A: {e}")),
            b.unwrap_or_else(|e| panic!("round {round}: node B: {e}")),
        );
        let pool = sqlx::PgPool::connect(&url).await.expect("pool");
        let applied: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT version, COUNT(*) FROM _sqlx_migrations GROUP BY version ORDER BY version",
        )
        .fetch_all(&pool)
        .await
        .expect("migrations table");
        let files = std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/postgres"
        ))
        .expect("migrations dir")
        .count() as usize;
        assert_eq!(applied.len(), files, "round {round}");
        assert!(
            applied.iter().all(|(_, n)| *n == 1),
            "round {round}: {applied:?}"
        );
        pool.close().await;
        a.close().await;
        b.close().await;
        common::drop_pg_schema(&schema).await;
    }
}
