//! Store behaviour, specified once and checked on SQLite and PostgreSQL alike.

#[macro_use]
mod common;

use chrono::Duration;
use common::{at, bare_record, full_record, Ctx, Kind, Raw};
use madoguchi_store::{CallQuery, Cursor, Disposition, InvalidRecord, PageStart, StoreError};

on_both_backends!(
    insert_then_get_returns_the_same_record_with_events_and_unicode,
    getting_an_unknown_id_is_none,
    optional_fields_round_trip_as_none,
    inserting_the_same_id_twice_keeps_the_first_record_only,
    concurrent_inserts_of_one_id_store_it_once,
    timestamps_are_kept_to_the_millisecond,
    a_record_neither_backend_can_hold_is_refused_and_nothing_is_stored,
    listing_is_newest_first_with_the_total,
    listing_filters_arrival_to_a_half_open_range,
    listing_filters_by_disposition,
    offset_pages_split_the_list_and_keep_the_total,
    cursor_pages_visit_every_call_once_even_with_equal_arrival_times,
    cursor_pages_ignore_calls_that_arrive_meanwhile,
    listing_loads_events_only_when_asked,
    counting_by_disposition_groups_all_calls,
    migrations_run_twice_harmlessly,
    a_second_store_on_the_same_database_sees_the_records,
    an_unreadable_stored_row_is_an_error_not_a_panic,
    a_batch_is_stored_whole_and_skips_ids_already_stored,
    a_batch_with_an_invalid_record_stores_nothing,
);

async fn insert_then_get_returns_the_same_record_with_events_and_unicode(ctx: Ctx) {
    let record = full_record("c-001", at(0));
    ctx.store.insert_call(&record).await.expect("insert");
    let stored = ctx.store.get_call("c-001").await.expect("get");
    assert_eq!(stored, Some(record));
}

async fn getting_an_unknown_id_is_none(ctx: Ctx) {
    assert_eq!(ctx.store.get_call("nope").await.expect("get"), None);
}

async fn optional_fields_round_trip_as_none(ctx: Ctx) {
    let record = bare_record("c-bare", at(0), Disposition::ClosedYearEnd);
    ctx.store.insert_call(&record).await.expect("insert");
    assert_eq!(
        ctx.store.get_call("c-bare").await.expect("get"),
        Some(record)
    );
}

async fn inserting_the_same_id_twice_keeps_the_first_record_only(ctx: Ctx) {
    let first = full_record("c-dup", at(0));
    let mut second = full_record("c-dup", at(60));
    second.caller = "0000000000".into();
    second.events.truncate(1);
    ctx.store.insert_call(&first).await.expect("first insert");
    ctx.store
        .insert_call(&second)
        .await
        .expect("second insert of the same id is a no-op, not an error");
    assert_eq!(ctx.store.get_call("c-dup").await.expect("get"), Some(first));
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
}

async fn concurrent_inserts_of_one_id_store_it_once(ctx: Ctx) {
    let record = full_record("c-race", at(0));
    let other = ctx.reconnect().await;
    let (a, b) = tokio::join!(ctx.store.insert_call(&record), other.insert_call(&record));
    a.expect("first racer");
    b.expect("second racer");
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    let stored = ctx.store.get_call("c-race").await.expect("get");
    assert_eq!(stored.map(|r| r.events.len()), Some(3));
}

async fn timestamps_are_kept_to_the_millisecond(ctx: Ctx) {
    let mut record = bare_record("c-ms", at(0), Disposition::Completed);
    record.arrived_at = at(0) + Duration::nanoseconds(123_456_789);
    record.answered_at = Some(at(1) + Duration::nanoseconds(999_999));
    ctx.store.insert_call(&record).await.expect("insert");
    let stored = ctx
        .store
        .get_call("c-ms")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.arrived_at, at(0) + Duration::milliseconds(123));
    assert_eq!(stored.answered_at, Some(at(1)));
}

async fn a_record_neither_backend_can_hold_is_refused_and_nothing_is_stored(ctx: Ctx) {
    let mut record = full_record("c-nul", at(0));
    record.events[1].detail = serde_json::json!({"text": "a\u{0}b"});
    let err = ctx
        .store
        .insert_call(&record)
        .await
        .expect_err("NUL is refused");
    assert!(matches!(
        err,
        StoreError::InvalidRecord {
            reason: InvalidRecord::NulCharacter {
                field: "events.detail"
            },
            ..
        }
    ));
    assert!(err.is_permanent());
    assert_eq!(ctx.store.get_call("c-nul").await.expect("get"), None);
}

async fn insert_many(ctx: &Ctx, records: &[madoguchi_store::CallRecord]) {
    for record in records {
        ctx.store.insert_call(record).await.expect("insert");
    }
}

fn ids(page: &madoguchi_store::Page<madoguchi_store::CallRecord>) -> Vec<&str> {
    page.items.iter().map(|r| r.id.as_str()).collect()
}

async fn listing_is_newest_first_with_the_total(ctx: Ctx) {
    insert_many(
        &ctx,
        &[
            bare_record("b", at(20), Disposition::Completed),
            bare_record("c", at(30), Disposition::Completed),
            bare_record("a", at(10), Disposition::Completed),
        ],
    )
    .await;
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(ids(&page), ["c", "b", "a"]);
    assert_eq!(page.total, 3);
    assert_eq!(page.next, None);
}

async fn listing_filters_arrival_to_a_half_open_range(ctx: Ctx) {
    insert_many(
        &ctx,
        &[
            bare_record(
                "before",
                at(9) + Duration::milliseconds(999),
                Disposition::Completed,
            ),
            bare_record("from", at(10), Disposition::Completed),
            bare_record("inside", at(15), Disposition::Completed),
            bare_record("to", at(20), Disposition::Completed),
        ],
    )
    .await;
    let q = CallQuery {
        from: Some(at(10)),
        to: Some(at(20)),
        ..CallQuery::default()
    };
    let page = ctx.store.list_calls(&q).await.expect("list");
    assert_eq!(ids(&page), ["inside", "from"]);
    assert_eq!(page.total, 2);
}

async fn listing_filters_by_disposition(ctx: Ctx) {
    insert_many(
        &ctx,
        &[
            bare_record("h1", at(1), Disposition::ClosedHoliday),
            bare_record("c1", at(2), Disposition::Completed),
            bare_record("h2", at(3), Disposition::ClosedHoliday),
        ],
    )
    .await;
    let q = CallQuery {
        disposition: Some(Disposition::ClosedHoliday),
        ..CallQuery::default()
    };
    let page = ctx.store.list_calls(&q).await.expect("list");
    assert_eq!(ids(&page), ["h2", "h1"]);
    assert_eq!(page.total, 2);
}

fn numbered(n: i64) -> Vec<madoguchi_store::CallRecord> {
    (0..n)
        .map(|i| bare_record(&format!("c{i:02}"), at(i), Disposition::Completed))
        .collect()
}

async fn offset_pages_split_the_list_and_keep_the_total(ctx: Ctx) {
    insert_many(&ctx, &numbered(5)).await;
    let page = |offset| CallQuery {
        limit: 2,
        start: PageStart::Offset(offset),
        ..CallQuery::default()
    };
    let first = ctx.store.list_calls(&page(0)).await.expect("page 1");
    let second = ctx.store.list_calls(&page(2)).await.expect("page 2");
    let last = ctx.store.list_calls(&page(4)).await.expect("page 3");
    let beyond = ctx.store.list_calls(&page(10)).await.expect("past the end");
    assert_eq!(ids(&first), ["c04", "c03"]);
    assert_eq!(ids(&second), ["c02", "c01"]);
    assert_eq!(ids(&last), ["c00"]);
    assert!(beyond.items.is_empty());
    for p in [&first, &second, &last, &beyond] {
        assert_eq!(p.total, 5);
    }
    assert!(first.next.is_some());
    assert_eq!(last.next, None);
}

async fn cursor_pages_visit_every_call_once_even_with_equal_arrival_times(ctx: Ctx) {
    // Three calls in one millisecond: only the id tie-break keeps paging exact.
    let mut records = numbered(4);
    for id in ["t-a", "t-b", "t-c"] {
        records.push(bare_record(id, at(2), Disposition::Completed));
    }
    insert_many(&ctx, &records).await;
    let mut seen = Vec::new();
    let mut start = PageStart::Offset(0);
    loop {
        let q = CallQuery {
            limit: 2,
            start: start.clone(),
            ..CallQuery::default()
        };
        let page = ctx.store.list_calls(&q).await.expect("page");
        assert_eq!(page.total, 7);
        seen.extend(page.items.iter().map(|r| r.id.clone()));
        match page.next {
            Some(cursor) => start = PageStart::After(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["c03", "t-c", "t-b", "t-a", "c02", "c01", "c00"]);
}

async fn cursor_pages_ignore_calls_that_arrive_meanwhile(ctx: Ctx) {
    insert_many(&ctx, &numbered(4)).await;
    let q = CallQuery {
        limit: 2,
        ..CallQuery::default()
    };
    let first = ctx.store.list_calls(&q).await.expect("page 1");
    let cursor = first.next.clone().expect("more pages");
    assert_eq!(cursor.id, "c02");
    ctx.store
        .insert_call(&bare_record("newer", at(100), Disposition::Completed))
        .await
        .expect("insert");
    // The cursor also survives a trip through its text token, as an API would carry it.
    let token: Cursor = cursor.to_token().parse().expect("token parses");
    let q = CallQuery {
        limit: 2,
        start: PageStart::After(token),
        ..CallQuery::default()
    };
    let second = ctx.store.list_calls(&q).await.expect("page 2");
    assert_eq!(ids(&second), ["c01", "c00"]);
}

async fn listing_loads_events_only_when_asked(ctx: Ctx) {
    let with = full_record("with", at(1));
    let without = bare_record("without", at(2), Disposition::Completed);
    insert_many(&ctx, &[with.clone(), without.clone()]).await;
    let plain = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert!(plain.items.iter().all(|r| r.events.is_empty()));
    let q = CallQuery {
        with_events: true,
        ..CallQuery::default()
    };
    let full = ctx.store.list_calls(&q).await.expect("list with events");
    assert_eq!(full.items, vec![without, with]);
}

async fn counting_by_disposition_groups_all_calls(ctx: Ctx) {
    insert_many(
        &ctx,
        &[
            bare_record("1", at(1), Disposition::ClosedHours),
            bare_record("2", at(2), Disposition::Completed),
            bare_record("3", at(3), Disposition::ClosedHours),
            bare_record("4", at(4), Disposition::CallerHangup),
        ],
    )
    .await;
    let counts = ctx.store.count_by_disposition().await.expect("count");
    assert_eq!(
        counts,
        vec![
            ("caller_hangup".to_owned(), 1),
            ("closed_hours".to_owned(), 2),
            ("completed".to_owned(), 1),
        ]
    );
}

async fn migrations_run_twice_harmlessly(ctx: Ctx) {
    let record = full_record("kept", at(0));
    ctx.store.insert_call(&record).await.expect("insert");
    ctx.store.migrate().await.expect("second migration run");
    // The migration SQL itself is idempotent too, even outside sqlx's bookkeeping.
    ctx.raw.exec(ctx.migration_sql()).await;
    assert_eq!(ctx.store.get_call("kept").await.expect("get"), Some(record));
}

async fn a_second_store_on_the_same_database_sees_the_records(ctx: Ctx) {
    let record = full_record("shared", at(0));
    ctx.store.insert_call(&record).await.expect("insert");
    let other = ctx.reconnect().await;
    assert_eq!(other.get_call("shared").await.expect("get"), Some(record));
}

async fn an_unreadable_stored_row_is_an_error_not_a_panic(ctx: Ctx) {
    ctx.store
        .insert_call(&bare_record("odd", at(0), Disposition::Completed))
        .await
        .expect("insert");
    ctx.raw
        .exec("UPDATE calls SET disposition = 'teleported' WHERE id = 'odd'")
        .await;
    let err = ctx
        .store
        .get_call("odd")
        .await
        .expect_err("unknown disposition");
    assert!(matches!(
        err,
        StoreError::CorruptRow { ref id, column: "disposition" } if id == "odd"
    ));
    let listed = ctx.store.list_calls(&CallQuery::default()).await;
    assert!(matches!(listed, Err(StoreError::CorruptRow { .. })));
}

/// The raw text SQLite keeps is part of the reporting contract (GROUP BY substr(...)).
#[tokio::test]
async fn sqlite_stores_timestamps_as_fixed_millisecond_utc_text() {
    common::run(Kind::Sqlite, |ctx| {
        Box::pin(async move {
            let mut record = full_record("txt", at(0) + Duration::nanoseconds(5_000_000));
            record.answered_at = None;
            ctx.store.insert_call(&record).await.expect("insert");
            let Raw::Sqlite(pool) = &ctx.raw else {
                unreachable!("SQLite run")
            };
            let (arrived, ended, created): (String, String, String) = sqlx::query_as(
                "SELECT arrived_at, ended_at, created_at FROM calls WHERE id = 'txt'",
            )
            .fetch_one(pool)
            .await
            .expect("raw select");
            assert_eq!(arrived, "2026-01-05T00:00:00.005Z");
            assert_eq!(ended, "2026-01-05T00:01:35.005Z");
            assert_eq!(created.len(), "2026-01-05T00:00:00.000Z".len());
            assert!(created.ends_with('Z'));
        })
    })
    .await;
}

async fn a_batch_is_stored_whole_and_skips_ids_already_stored(ctx: Ctx) {
    let earlier = full_record("b-1", at(0));
    ctx.store.insert_call(&earlier).await.expect("insert");
    let mut again = full_record("b-1", at(30));
    again.caller = "0000000000".into();
    let batch = vec![
        again,
        full_record("b-2", at(60)),
        bare_record("b-3", at(90), Disposition::Cancelled),
    ];
    ctx.store.insert_calls(&batch).await.expect("batch insert");
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 3);
    assert_eq!(ctx.store.get_call("b-1").await.expect("get"), Some(earlier));
    assert_eq!(
        ctx.store.get_call("b-2").await.expect("get"),
        Some(batch[1].clone())
    );
}

async fn a_batch_with_an_invalid_record_stores_nothing(ctx: Ctx) {
    let mut bad = full_record("", at(0));
    bad.id = String::new();
    let batch = vec![full_record("ok-1", at(0)), bad];
    assert!(ctx.store.insert_calls(&batch).await.is_err());
    let page = ctx
        .store
        .list_calls(&CallQuery::default())
        .await
        .expect("list");
    assert_eq!(page.total, 0);
}
