//! Queue arrivals per half-hour (the staffing input), specified once and checked on SQLite
//! and PostgreSQL.

#[macro_use]
mod common;

use chrono::{DateTime, Utc};
use common::{at, bare_record, Ctx};
use madoguchi_store::{CallRecord, Disposition, HalfHourArrivals, WrapUp};

on_both_backends!(
    calls_are_counted_per_queue_and_utc_half_hour,
    minute_29_and_minute_30_fall_in_different_half_hours,
    calls_that_never_reached_a_queue_are_not_arrivals,
    the_span_includes_its_start_and_excludes_its_end,
    handled_calls_and_their_talk_time_are_summed,
    a_span_without_calls_gives_no_rows,
    measured_wrap_ups_of_handled_calls_are_summed,
);

/// A call that reached `queue` at `arrived_at`, abandoned while waiting.
fn queued(id: &str, arrived_at: DateTime<Utc>, queue: &str) -> CallRecord {
    CallRecord {
        queue: Some(queue.into()),
        waited_ms: Some(5_000),
        ..bare_record(id, arrived_at, Disposition::Abandoned)
    }
}

/// A call an operator took, talking `talk_ms`.
fn answered(id: &str, arrived_at: DateTime<Utc>, queue: &str, talk_ms: i64) -> CallRecord {
    CallRecord {
        disposition: Disposition::Answered,
        operator: Some("op-1".into()),
        connected_at: Some(arrived_at + chrono::Duration::seconds(10)),
        talk_ms: Some(talk_ms),
        ..queued(id, arrived_at, queue)
    }
}

async fn store_all(ctx: &Ctx, records: &[CallRecord]) {
    ctx.store.insert_calls(records).await.expect("insert");
}

async fn measured(ctx: &Ctx, from: i64, to: i64) -> Vec<HalfHourArrivals> {
    ctx.store
        .arrivals_by_half_hour(at(from), at(to))
        .await
        .expect("arrivals")
}

fn row(queue: &str, start: i64, arrivals: i64, handled: i64, talk_ms: i64) -> HalfHourArrivals {
    HalfHourArrivals {
        queue: queue.into(),
        start: at(start),
        arrivals,
        handled,
        talk_ms,
        wrapped: 0,
        wrap_up_ms: 0,
    }
}

async fn calls_are_counted_per_queue_and_utc_half_hour(ctx: Ctx) {
    store_all(
        &ctx,
        &[
            queued("a1", at(60), "card"),
            queued("a2", at(1_700), "card"),
            queued("a3", at(900), "health"),
            queued("a4", at(3_600 + 5), "card"),
        ],
    )
    .await;
    assert_eq!(
        measured(&ctx, 0, 86_400).await,
        vec![
            row("card", 0, 2, 0, 0),
            row("health", 0, 1, 0, 0),
            row("card", 3_600, 1, 0, 0),
        ]
    );
}

async fn minute_29_and_minute_30_fall_in_different_half_hours(ctx: Ctx) {
    store_all(
        &ctx,
        &[
            queued("b1", at(29 * 60 + 59), "card"),
            queued("b2", at(30 * 60), "card"),
        ],
    )
    .await;
    assert_eq!(
        measured(&ctx, 0, 86_400).await,
        vec![row("card", 0, 1, 0, 0), row("card", 1_800, 1, 0, 0)]
    );
}

async fn calls_that_never_reached_a_queue_are_not_arrivals(ctx: Ctx) {
    store_all(
        &ctx,
        &[
            bare_record("c1", at(60), Disposition::ClosedHours),
            queued("c2", at(120), "card"),
        ],
    )
    .await;
    assert_eq!(
        measured(&ctx, 0, 86_400).await,
        vec![row("card", 0, 1, 0, 0)]
    );
}

async fn the_span_includes_its_start_and_excludes_its_end(ctx: Ctx) {
    store_all(
        &ctx,
        &[
            queued("d1", at(1_799), "card"),
            queued("d2", at(1_800), "card"),
            queued("d3", at(3_600), "card"),
        ],
    )
    .await;
    assert_eq!(
        measured(&ctx, 1_800, 3_600).await,
        vec![row("card", 1_800, 1, 0, 0)]
    );
}

async fn handled_calls_and_their_talk_time_are_summed(ctx: Ctx) {
    store_all(
        &ctx,
        &[
            answered("e1", at(10), "card", 150_000),
            answered("e2", at(20), "card", 210_500),
            queued("e3", at(30), "card"),
        ],
    )
    .await;
    assert_eq!(
        measured(&ctx, 0, 86_400).await,
        vec![row("card", 0, 3, 2, 360_500)]
    );
}

async fn a_span_without_calls_gives_no_rows(ctx: Ctx) {
    store_all(&ctx, &[queued("f1", at(100_000), "card")]).await;
    assert_eq!(measured(&ctx, 0, 86_400).await, vec![]);
}

async fn measured_wrap_ups_of_handled_calls_are_summed(ctx: Ctx) {
    store_all(
        &ctx,
        &[
            answered("g1", at(10), "card", 100_000),
            answered("g2", at(20), "card", 100_000),
            answered("g3", at(30), "card", 100_000),
        ],
    )
    .await;
    for (id, ms) in [("g1", 4_000), ("g2", 6_500), ("no-such-call", 9_000)] {
        let wrap_up = WrapUp {
            call_id: id.into(),
            ended_at: at(500),
            wrap_up_ms: ms,
        };
        ctx.store.record_wrap_up(&wrap_up).await.expect("wrap-up");
    }
    assert_eq!(
        measured(&ctx, 0, 86_400).await,
        vec![HalfHourArrivals {
            wrapped: 2,
            wrap_up_ms: 10_500,
            ..row("card", 0, 3, 3, 300_000)
        }]
    );
}
