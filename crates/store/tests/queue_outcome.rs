//! What the queue did to a call, as the record keeps it, and today's counters built from
//! records; specified once and checked on SQLite and PostgreSQL alike.

#[macro_use]
mod common;

use chrono::Duration;
use common::{at, bare_record, full_record, Ctx};
use madoguchi_store::{
    AnswerMode, AnsweredBy, CallQuery, CallRecord, Disposition, DispositionCounts,
    LanguageFallbackUsed,
};

on_both_backends!(
    every_queue_outcome_field_round_trips,
    each_queue_disposition_round_trips,
    a_batch_keeps_each_records_queue_outcome,
    listing_filters_by_queue_and_by_operator,
    call_counts_since_count_by_disposition_from_the_given_instant,
    call_counts_since_an_instant_after_every_call_are_zero,
    answer_and_language_fields_round_trip,
    records_without_answer_or_language_fields_read_back_as_none,
);

const QUEUE_DISPOSITIONS: [Disposition; 4] = [
    Disposition::Answered,
    Disposition::Abandoned,
    Disposition::Overflowed,
    Disposition::Transferred,
];

/// A call that waited in `queue` and was answered by `operator`.
fn answered(id: &str, arrived: i64, queue: &str, operator: &str) -> CallRecord {
    CallRecord {
        queue: Some(queue.into()),
        waited_ms: Some(4_000),
        operator: Some(operator.into()),
        connected_at: Some(at(arrived + 5)),
        talk_ms: Some(60_000),
        ..bare_record(id, at(arrived), Disposition::Answered)
    }
}

async fn every_queue_outcome_field_round_trips(ctx: Ctx) {
    let record = full_record("q-full", at(0) + Duration::nanoseconds(7_654_321));
    ctx.store.insert_call(&record).await.expect("insert");
    let stored = ctx
        .store
        .get_call("q-full")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.queue.as_deref(), Some("マイナンバー"));
    assert_eq!(stored.waited_ms, Some(12_345));
    assert_eq!(stored.operator.as_deref(), Some("op-1"));
    assert_eq!(
        stored.connected_at,
        Some(at(0) + Duration::milliseconds(7 + 14_001))
    );
    assert_eq!(stored.talk_ms, Some(80_999));
    assert_eq!(stored.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(stored.transfer_result.as_deref(), Some("answered"));
    assert_eq!(stored.menu_choice.as_deref(), Some("1"));
    assert_eq!(stored.disposition, Disposition::Transferred);
}

async fn each_queue_disposition_round_trips(ctx: Ctx) {
    for (i, disposition) in QUEUE_DISPOSITIONS.into_iter().enumerate() {
        let id = format!("d-{disposition}");
        let record = bare_record(&id, at(i as i64), disposition);
        ctx.store.insert_call(&record).await.expect("insert");
        let stored = ctx.store.get_call(&id).await.expect("get");
        assert_eq!(stored, Some(record), "{disposition}");
    }
    let q = CallQuery {
        disposition: Some(Disposition::Abandoned),
        ..CallQuery::default()
    };
    let page = ctx.store.list_calls(&q).await.expect("list");
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].disposition, Disposition::Abandoned);
}

async fn a_batch_keeps_each_records_queue_outcome(ctx: Ctx) {
    let abandoned = CallRecord {
        queue: Some("general".into()),
        waited_ms: Some(61_000),
        menu_choice: Some("2".into()),
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        ..bare_record("b-abandoned", at(10), Disposition::Abandoned)
    };
    let overflowed = CallRecord {
        queue: Some("general".into()),
        waited_ms: Some(180_000),
        transfer_target: Some("city_line".into()),
        transfer_result: Some("busy".into()),
        ..bare_record("b-overflowed", at(20), Disposition::Overflowed)
    };
    let batch = vec![
        full_record("b-full", at(0)),
        abandoned,
        overflowed,
        answered("b-answered", 30, "general", "op-2"),
    ];
    ctx.store.insert_calls(&batch).await.expect("batch insert");
    let q = CallQuery {
        with_events: true,
        ..CallQuery::default()
    };
    let mut listed = ctx.store.list_calls(&q).await.expect("list").items;
    listed.reverse();
    assert_eq!(listed, batch);
}

async fn listing_filters_by_queue_and_by_operator(ctx: Ctx) {
    let records = [
        answered("a1", 1, "general", "op-1"),
        answered("a2", 2, "general", "op-2"),
        answered("a3", 3, "senior", "op-1"),
        bare_record("closed", at(4), Disposition::ClosedHours),
    ];
    for record in &records {
        ctx.store.insert_call(record).await.expect("insert");
    }
    let ids = |q: CallQuery| {
        let store = ctx.store.clone();
        async move {
            let page = store.list_calls(&q).await.expect("list");
            let ids: Vec<String> = page.items.iter().map(|r| r.id.clone()).collect();
            assert_eq!(page.total, ids.len() as i64);
            ids
        }
    };
    let by_queue = ids(CallQuery {
        queue: Some("general".into()),
        ..CallQuery::default()
    })
    .await;
    let by_operator = ids(CallQuery {
        operator: Some("op-1".into()),
        ..CallQuery::default()
    })
    .await;
    let by_both = ids(CallQuery {
        queue: Some("general".into()),
        operator: Some("op-1".into()),
        ..CallQuery::default()
    })
    .await;
    assert_eq!(by_queue, ["a2", "a1"]);
    assert_eq!(by_operator, ["a3", "a1"]);
    assert_eq!(by_both, ["a1"]);
}

async fn call_counts_since_count_by_disposition_from_the_given_instant(ctx: Ctx) {
    let since = at(1000);
    let mut records = vec![
        // Just before `since`: not counted at all.
        bare_record(
            "before",
            since - Duration::milliseconds(1),
            Disposition::Answered,
        ),
        bare_record("at-since", since, Disposition::Answered),
    ];
    let later = [
        Disposition::Answered,
        Disposition::Abandoned,
        Disposition::Abandoned,
        Disposition::Overflowed,
        Disposition::Transferred,
        Disposition::ClosedHours,
        Disposition::CallerHangup,
        Disposition::CallbackRequested,
    ];
    for (i, disposition) in (1..).zip(later) {
        let arrived = since + Duration::seconds(i);
        records.push(bare_record(&format!("later-{i}"), arrived, disposition));
    }
    // Calls that reached a queue name it; those an operator took name the operator.
    for record in &mut records {
        use Disposition::*;
        if matches!(
            record.disposition,
            Answered | Abandoned | Overflowed | Transferred
        ) {
            record.queue = Some("general".into());
        }
        if matches!(record.disposition, Answered | Transferred) {
            record.operator = Some("op-1".into());
        }
    }
    ctx.store.insert_calls(&records).await.expect("insert");
    let counts = ctx.store.call_counts_since(since).await.expect("counts");
    assert_eq!(
        counts,
        DispositionCounts {
            calls: 9,
            offered: 6,
            answered: 3,
            abandoned: 2,
            overflowed: 1,
            transferred: 1,
            callbacks: 1,
        }
    );
}

async fn call_counts_since_an_instant_after_every_call_are_zero(ctx: Ctx) {
    let record = answered("early", 0, "general", "op-1");
    ctx.store.insert_call(&record).await.expect("insert");
    let counts = ctx.store.call_counts_since(at(60)).await.expect("counts");
    assert_eq!(counts, DispositionCounts::default());
}

async fn answer_and_language_fields_round_trip(ctx: Ctx) {
    let record = CallRecord {
        answer_mode: Some(AnswerMode::Operator),
        answered_by: Some(AnsweredBy::EarlyLimit),
        unanswered_ms: Some(150_000),
        answered_ms: Some(42_500),
        language: Some("en".into()),
        language_fallback: Some(LanguageFallbackUsed::Target),
        ..answered("r-full", 0, "general", "op-1")
    };
    ctx.store.insert_call(&record).await.expect("insert");
    let stored = ctx.store.get_call("r-full").await.expect("get");
    assert_eq!(stored, Some(record));
}

async fn records_without_answer_or_language_fields_read_back_as_none(ctx: Ctx) {
    let record = answered("r-bare", 0, "general", "op-1");
    ctx.store.insert_call(&record).await.expect("insert");
    let stored = ctx
        .store
        .get_call("r-bare")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.answer_mode, None);
    assert_eq!(stored.answered_by, None);
    assert_eq!(stored.unanswered_ms, None);
    assert_eq!(stored.language, None);
    assert_eq!(stored.language_fallback, None);
}
