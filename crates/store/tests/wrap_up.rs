//! Measured wrap-ups (`madoguchi_store::wrap_up`), specified once and checked on SQLite and
//! PostgreSQL.

#[macro_use]
mod common;

use common::{at, Ctx};
use madoguchi_store::WrapUp;

on_both_backends!(
    a_wrap_up_reads_back_as_written,
    the_first_wrap_up_of_a_call_is_kept,
    a_wrap_up_may_arrive_before_its_call_record,
    only_wrap_ups_ended_since_the_instant_are_listed,
    a_negative_length_is_stored_as_zero,
);

fn wrap_up(call_id: &str, ended_at: i64, wrap_up_ms: i64) -> WrapUp {
    WrapUp {
        call_id: call_id.into(),
        ended_at: at(ended_at),
        wrap_up_ms,
    }
}

async fn all(ctx: &Ctx) -> Vec<WrapUp> {
    ctx.store.wrap_ups_since(at(0)).await.expect("wrap-ups")
}

async fn a_wrap_up_reads_back_as_written(ctx: Ctx) {
    let written = wrap_up("c1", 100, 12_345);
    ctx.store.record_wrap_up(&written).await.expect("stored");
    assert_eq!(all(&ctx).await, vec![written]);
}

async fn the_first_wrap_up_of_a_call_is_kept(ctx: Ctx) {
    ctx.store
        .record_wrap_up(&wrap_up("c1", 100, 4_000))
        .await
        .expect("first");
    ctx.store
        .record_wrap_up(&wrap_up("c1", 200, 9_000))
        .await
        .expect("a resend is not an error");
    assert_eq!(all(&ctx).await, vec![wrap_up("c1", 100, 4_000)]);
}

async fn a_wrap_up_may_arrive_before_its_call_record(ctx: Ctx) {
    // No call "later" exists: the engine's record writer may not have stored it yet.
    ctx.store
        .record_wrap_up(&wrap_up("later", 100, 1_000))
        .await
        .expect("stored without its call");
    assert_eq!(all(&ctx).await.len(), 1);
}

async fn only_wrap_ups_ended_since_the_instant_are_listed(ctx: Ctx) {
    for w in [
        wrap_up("a", 99, 1),
        wrap_up("b", 100, 2),
        wrap_up("c", 101, 3),
    ] {
        ctx.store.record_wrap_up(&w).await.expect("stored");
    }
    let since = ctx.store.wrap_ups_since(at(100)).await.expect("listed");
    assert_eq!(since, vec![wrap_up("b", 100, 2), wrap_up("c", 101, 3)]);
}

async fn a_negative_length_is_stored_as_zero(ctx: Ctx) {
    ctx.store
        .record_wrap_up(&wrap_up("c1", 100, -5))
        .await
        .expect("stored");
    assert_eq!(all(&ctx).await, vec![wrap_up("c1", 100, 0)]);
}
