//! Crash safety in the store: the open-call journal, the heartbeat, closing the calls a
//! crash cut, and replaying the disk spool — on SQLite and PostgreSQL.

#[macro_use]
mod common;

use common::{at, bare_record, full_record, Ctx};
use madoguchi_store::{
    replay_spool, CallQuery, Disposition, Entry, HangupSide, OpenCall, Spool, NODE_LOST_CAUSE,
};

on_both_backends!(
    an_open_call_stays_journaled_until_its_record_is_stored,
    open_calls_are_closed_as_interrupted_at_the_last_heartbeat,
    a_call_that_arrived_after_the_last_heartbeat_ends_when_it_arrived,
    closing_open_calls_again_closes_nothing_more,
    only_the_given_nodes_calls_are_closed,
    an_opened_note_replayed_after_its_record_does_not_reopen_the_call,
    replaying_a_spool_twice_stores_each_record_and_its_events_once,
);

fn open(id: &str, node: &str, arrived: i64) -> OpenCall {
    OpenCall {
        id: id.into(),
        node_id: node.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at: at(arrived),
    }
}

fn opened(id: &str, node: &str, arrived: i64) -> Entry {
    Entry::Opened(open(id, node, arrived))
}

async fn total(ctx: &Ctx) -> i64 {
    ctx.store
        .list_calls(&CallQuery::default())
        .await
        .expect("listing")
        .total
}

async fn an_open_call_stays_journaled_until_its_record_is_stored(ctx: Ctx) {
    ctx.store
        .write_entries(&[opened("c1", "node-a", 10)])
        .await
        .expect("journaled");
    assert_eq!(
        ctx.store.open_calls("node-a").await.expect("journal"),
        [open("c1", "node-a", 10)]
    );
    let record = full_record("c1", at(10));
    ctx.store
        .write_entries(&[Entry::Record(Box::new(record.clone()))])
        .await
        .expect("stored");
    assert!(ctx
        .store
        .open_calls("node-a")
        .await
        .expect("journal")
        .is_empty());
    assert_eq!(ctx.store.get_call("c1").await.expect("get"), Some(record));
}

async fn open_calls_are_closed_as_interrupted_at_the_last_heartbeat(ctx: Ctx) {
    ctx.store
        .write_entries(&[opened("c1", "node-a", 10), opened("c2", "node-a", 20)])
        .await
        .expect("journaled");
    ctx.store.heartbeat("node-a", at(25)).await.expect("beat");
    ctx.store.heartbeat("node-a", at(30)).await.expect("beat");
    assert_eq!(
        ctx.store.last_alive("node-a").await.expect("read"),
        Some(at(30))
    );
    let closed = ctx.store.close_open_calls("node-a").await.expect("closed");
    assert_eq!(closed, 2);
    for (id, arrived) in [("c1", 10), ("c2", 20)] {
        let call = ctx
            .store
            .get_call(id)
            .await
            .expect("get")
            .expect("a record for every cut call");
        assert_eq!(call.disposition, Disposition::Interrupted);
        assert_eq!(call.hangup_side, Some(HangupSide::Engine));
        assert_eq!(call.hangup_cause.as_deref(), Some(NODE_LOST_CAUSE));
        assert_eq!(call.arrived_at, at(arrived));
        assert_eq!(call.ended_at, at(30));
        assert_eq!(call.caller, "0462001234");
        assert_eq!(call.node_id, "node-a");
    }
    assert!(ctx
        .store
        .open_calls("node-a")
        .await
        .expect("journal")
        .is_empty());
}

async fn a_call_that_arrived_after_the_last_heartbeat_ends_when_it_arrived(ctx: Ctx) {
    ctx.store.heartbeat("node-a", at(25)).await.expect("beat");
    ctx.store
        .write_entries(&[opened("late", "node-a", 27)])
        .await
        .expect("journaled");
    ctx.store.close_open_calls("node-a").await.expect("closed");
    let call = ctx
        .store
        .get_call("late")
        .await
        .expect("get")
        .expect("closed");
    assert_eq!(call.ended_at, at(27));
}

async fn closing_open_calls_again_closes_nothing_more(ctx: Ctx) {
    ctx.store
        .write_entries(&[opened("c1", "node-a", 10)])
        .await
        .expect("journaled");
    ctx.store.heartbeat("node-a", at(30)).await.expect("beat");
    assert_eq!(
        ctx.store.close_open_calls("node-a").await.expect("first"),
        1
    );
    ctx.store
        .heartbeat("node-a", at(90))
        .await
        .expect("the next run beats");
    assert_eq!(
        ctx.store.close_open_calls("node-a").await.expect("again"),
        0
    );
    assert_eq!(total(&ctx).await, 1);
    let call = ctx
        .store
        .get_call("c1")
        .await
        .expect("get")
        .expect("closed");
    assert_eq!(call.ended_at, at(30));
}

async fn only_the_given_nodes_calls_are_closed(ctx: Ctx) {
    ctx.store
        .write_entries(&[opened("a1", "node-a", 10), opened("b1", "node-b", 11)])
        .await
        .expect("journaled");
    assert_eq!(
        ctx.store.close_open_calls("node-a").await.expect("closed"),
        1
    );
    assert_eq!(
        ctx.store.open_calls("node-b").await.expect("journal"),
        [open("b1", "node-b", 11)]
    );
    assert!(ctx.store.get_call("b1").await.expect("get").is_none());
}

async fn an_opened_note_replayed_after_its_record_does_not_reopen_the_call(ctx: Ctx) {
    let record = bare_record("c1", at(10), Disposition::Abandoned);
    ctx.store
        .write_entries(&[opened("c1", "node-a", 10), Entry::Record(Box::new(record))])
        .await
        .expect("stored");
    ctx.store
        .write_entries(&[opened("c1", "node-a", 10)])
        .await
        .expect("a replayed note is no error");
    assert!(ctx
        .store
        .open_calls("node-a")
        .await
        .expect("journal")
        .is_empty());
    assert_eq!(
        ctx.store.close_open_calls("node-a").await.expect("closed"),
        0
    );
    let call = ctx.store.get_call("c1").await.expect("get").expect("kept");
    assert_eq!(call.disposition, Disposition::Abandoned);
}

async fn replaying_a_spool_twice_stores_each_record_and_its_events_once(ctx: Ctx) {
    let dir = tempfile::tempdir().expect("temp dir");
    let entries = [
        opened("c1", "node-a", 10),
        Entry::Record(Box::new(full_record("c1", at(10)))),
        opened("c2", "node-a", 20),
        Entry::Record(Box::new(full_record("c2", at(20)))),
    ];
    let mut spool = Spool::open(dir.path()).expect("spool opens");
    spool.append(&entries).expect("append");
    // A crash after the first replay's commit but before the spool was emptied.
    let mut copy = Spool::open(&dir.path().join("copy")).expect("copy opens");
    copy.append(&entries).expect("append");
    assert_eq!(
        replay_spool(&ctx.store, &mut spool).await.expect("replay"),
        4
    );
    assert_eq!(
        replay_spool(&ctx.store, &mut copy)
            .await
            .expect("replay again"),
        4
    );
    assert_eq!(total(&ctx).await, 2);
    for (id, arrived) in [("c1", 10), ("c2", 20)] {
        assert_eq!(
            ctx.store.get_call(id).await.expect("get"),
            Some(full_record(id, at(arrived)))
        );
    }
    assert!(ctx
        .store
        .open_calls("node-a")
        .await
        .expect("journal")
        .is_empty());
    assert!(spool.is_empty().expect("metadata"));
}
