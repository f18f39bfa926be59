//! The counter support log, specified once and checked on SQLite and PostgreSQL: recording
//! with its checks, listing by date range newest first with counts by kind, and who may
//! correct a case when.

#[macro_use]
mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::Ctx;
use madoguchi_store::{
    CaseDetails, Corrector, CounterError, CounterKind, CounterOutcome, CounterQuery, NewCounterCase,
};

on_both_backends!(
    a_case_round_trips_with_its_staff_seat_and_instant,
    a_loss_reissue_keeps_whether_the_fee_was_confirmed,
    a_loss_reissue_without_the_fee_answer_is_refused_and_nothing_is_stored,
    a_fee_answer_on_another_kind_is_refused,
    an_empty_or_overlong_seat_is_refused,
    an_overlong_note_is_refused,
    the_table_refuses_a_fee_answer_on_another_kind_written_around_the_store,
    a_date_range_lists_newest_first_and_excludes_its_end,
    pages_follow_each_other_without_overlap,
    counts_by_kind_cover_the_whole_range_not_the_page,
    a_listing_can_be_limited_to_one_staff_member,
    staff_correct_their_own_case_the_same_day,
    staff_cannot_correct_their_case_the_next_day,
    staff_cannot_correct_a_colleagues_case,
    a_manager_corrects_any_case_any_day,
    a_correction_is_checked_like_a_new_case,
    correcting_a_missing_case_is_not_found,
    an_unknown_case_id_reads_as_none,
);

const TOKYO: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

/// A local Tokyo instant as UTC.
fn jst(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    TOKYO
        .with_ymd_and_hms(2026, month, day, hour, minute, 0)
        .single()
        .expect("a valid JST instant")
        .with_timezone(&Utc)
}

fn details(kind: CounterKind) -> CaseDetails {
    CaseDetails {
        kind,
        outcome: CounterOutcome::Completed,
        seat: "窓口1".into(),
        fee_payment_confirmed: kind.needs_fee_confirmation().then_some(true),
        note: None,
    }
}

fn by(staff: &str, details: CaseDetails) -> NewCounterCase {
    NewCounterCase {
        details,
        staff: staff.into(),
        node_id: "node-a".into(),
    }
}

async fn record(ctx: &Ctx, staff: &str, kind: CounterKind, at: DateTime<Utc>) -> String {
    ctx.store
        .add_counter_case(&by(staff, details(kind)), at)
        .await
        .expect("a valid case is recorded")
        .id
}

async fn count_all(ctx: &Ctx) -> i64 {
    ctx.store
        .list_counter_cases(&CounterQuery::default())
        .await
        .expect("list")
        .total
}

async fn a_case_round_trips_with_its_staff_seat_and_instant(ctx: Ctx) {
    let mut d = details(CounterKind::HealthInsuranceLink);
    d.outcome = CounterOutcome::ContinuedLater;
    d.seat = " 窓口2 ".into();
    d.note = Some("後日、暗証番号を確認して再来庁。".into());
    let at = jst(6, 10, 10, 15) + chrono::Duration::microseconds(123_456);
    let added = ctx
        .store
        .add_counter_case(&by("tanaka", d), at)
        .await
        .expect("add");
    let stored = ctx
        .store
        .counter_case(&added.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored, added);
    assert_eq!(stored.kind, CounterKind::HealthInsuranceLink);
    assert_eq!(stored.outcome, CounterOutcome::ContinuedLater);
    assert_eq!(stored.seat, "窓口2");
    assert_eq!(stored.fee_payment_confirmed, None);
    assert_eq!(stored.staff, "tanaka");
    assert_eq!(stored.node_id, "node-a");
    assert_eq!(
        stored.note.as_deref(),
        Some("後日、暗証番号を確認して再来庁。")
    );
    assert_eq!(
        stored.at,
        jst(6, 10, 10, 15) + chrono::Duration::milliseconds(123)
    );
}

async fn a_loss_reissue_keeps_whether_the_fee_was_confirmed(ctx: Ctx) {
    for confirmed in [true, false] {
        let mut d = details(CounterKind::LossReissue);
        d.fee_payment_confirmed = Some(confirmed);
        let added = ctx
            .store
            .add_counter_case(&by("tanaka", d), jst(6, 10, 9, 0))
            .await
            .expect("add");
        let stored = ctx
            .store
            .counter_case(&added.id)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(stored.fee_payment_confirmed, Some(confirmed));
    }
}

async fn a_loss_reissue_without_the_fee_answer_is_refused_and_nothing_is_stored(ctx: Ctx) {
    let mut d = details(CounterKind::LossReissue);
    d.fee_payment_confirmed = None;
    let refused = ctx
        .store
        .add_counter_case(&by("tanaka", d), jst(6, 10, 9, 0))
        .await;
    assert!(
        matches!(refused, Err(CounterError::FeeConfirmationRequired)),
        "{refused:?}"
    );
    assert_eq!(count_all(&ctx).await, 0);
}

async fn a_fee_answer_on_another_kind_is_refused(ctx: Ctx) {
    let mut d = details(CounterKind::NewApplication);
    d.fee_payment_confirmed = Some(false);
    let refused = ctx
        .store
        .add_counter_case(&by("tanaka", d), jst(6, 10, 9, 0))
        .await;
    assert!(
        matches!(
            refused,
            Err(CounterError::FeeConfirmationNotApplicable {
                kind: CounterKind::NewApplication
            })
        ),
        "{refused:?}"
    );
    assert_eq!(count_all(&ctx).await, 0);
}

async fn an_empty_or_overlong_seat_is_refused(ctx: Ctx) {
    for seat in [String::new(), "　".into(), "席".repeat(33)] {
        let mut d = details(CounterKind::Renewal);
        d.seat = seat;
        let refused = ctx
            .store
            .add_counter_case(&by("tanaka", d), jst(6, 10, 9, 0))
            .await;
        assert!(matches!(refused, Err(CounterError::BadSeat)), "{refused:?}");
    }
    assert_eq!(count_all(&ctx).await, 0);
}

async fn an_overlong_note_is_refused(ctx: Ctx) {
    let mut d = details(CounterKind::Renewal);
    d.note = Some("あ".repeat(1001));
    let refused = ctx
        .store
        .add_counter_case(&by("tanaka", d), jst(6, 10, 9, 0))
        .await;
    assert!(
        matches!(refused, Err(CounterError::NoteTooLong)),
        "{refused:?}"
    );
    assert_eq!(count_all(&ctx).await, 0);
}

/// The schema holds the fee rule too, for rows written by anything but the store (a
/// generator, a hand fix).
async fn the_table_refuses_a_fee_answer_on_another_kind_written_around_the_store(ctx: Ctx) {
    let (at, fee) = match ctx.kind {
        common::Kind::Sqlite => ("'2026-06-10T01:00:00.000Z'", "1"),
        common::Kind::Postgres => ("'2026-06-10T01:00:00Z'", "true"),
    };
    let insert = |id: &str, fee: &str| {
        format!(
            "INSERT INTO counter_cases (id, at, kind, outcome, seat, fee_payment_confirmed, \
             staff, note, node_id) VALUES ('{id}', {at}, 'renewal', 'completed', '窓口1', {fee}, \
             'tanaka', NULL, 'n')"
        )
    };
    let run = |sql: String| async {
        let sql = sqlx::AssertSqlSafe(sql);
        match &ctx.raw {
            common::Raw::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            common::Raw::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        }
    };
    run(insert("without", "NULL"))
        .await
        .expect("a renewal without a fee answer is a valid row");
    assert!(
        run(insert("with", fee)).await.is_err(),
        "the CHECK lets a renewal with a fee answer in"
    );
    assert_eq!(count_all(&ctx).await, 1);
}

async fn a_date_range_lists_newest_first_and_excludes_its_end(ctx: Ctx) {
    let before = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 9, 16, 0)).await;
    let first = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 8, 30)).await;
    let second = record(&ctx, "sato", CounterKind::LossReissue, jst(6, 10, 11, 0)).await;
    let at_end = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 11, 0, 0)).await;
    let page = ctx
        .store
        .list_counter_cases(&CounterQuery {
            from: Some(jst(6, 10, 0, 0)),
            to: Some(jst(6, 11, 0, 0)),
            ..CounterQuery::default()
        })
        .await
        .expect("list");
    let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert_eq!(page.total, 2);
    assert!(!ids.contains(&before.as_str()) && !ids.contains(&at_end.as_str()));
}

async fn pages_follow_each_other_without_overlap(ctx: Ctx) {
    let mut ids = Vec::new();
    for minute in 0..5 {
        ids.push(record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 9, minute)).await);
    }
    ids.reverse(); // newest first
    let page = |offset| CounterQuery {
        limit: 2,
        offset,
        ..CounterQuery::default()
    };
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let listed = ctx
            .store
            .list_counter_cases(&page(offset))
            .await
            .expect("page");
        assert_eq!(listed.total, 5);
        seen.extend(listed.items.into_iter().map(|c| c.id));
    }
    assert_eq!(seen, ids);
}

async fn counts_by_kind_cover_the_whole_range_not_the_page(ctx: Ctx) {
    for minute in 0..3 {
        record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 9, minute)).await;
    }
    record(&ctx, "tanaka", CounterKind::LossReissue, jst(6, 10, 10, 0)).await;
    record(
        &ctx,
        "tanaka",
        CounterKind::EApplicationHelp,
        jst(6, 12, 10, 0),
    )
    .await;
    let page = ctx
        .store
        .list_counter_cases(&CounterQuery {
            from: Some(jst(6, 10, 0, 0)),
            to: Some(jst(6, 11, 0, 0)),
            limit: 1,
            ..CounterQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);
    let counts: Vec<(CounterKind, i64)> = page.by_kind.iter().map(|c| (c.kind, c.count)).collect();
    assert_eq!(
        counts,
        [
            (CounterKind::NewApplication, 0),
            (CounterKind::Renewal, 3),
            (CounterKind::LossReissue, 1),
            (CounterKind::HealthInsuranceLink, 0),
            (CounterKind::PublicFundsAccount, 0),
            (CounterKind::OtherLinking, 0),
            (CounterKind::EApplicationHelp, 0),
        ]
    );
}

async fn a_listing_can_be_limited_to_one_staff_member(ctx: Ctx) {
    let mine = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 9, 0)).await;
    record(&ctx, "sato", CounterKind::Renewal, jst(6, 10, 9, 1)).await;
    let page = ctx
        .store
        .list_counter_cases(&CounterQuery {
            staff: Some("tanaka".into()),
            ..CounterQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, mine);
}

fn correction() -> CaseDetails {
    CaseDetails {
        kind: CounterKind::LossReissue,
        outcome: CounterOutcome::Referred,
        seat: "窓口3".into(),
        fee_payment_confirmed: Some(false),
        note: Some("手数料は後日納付。".into()),
    }
}

async fn staff_correct_their_own_case_the_same_day(ctx: Ctx) {
    let id = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 8, 45)).await;
    let corrected = ctx
        .store
        .correct_counter_case(
            &id,
            &correction(),
            Corrector::Staff { login: "tanaka" },
            jst(6, 10, 17, 30),
            TOKYO,
        )
        .await
        .expect("corrected");
    let stored = ctx
        .store
        .counter_case(&id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored, corrected);
    assert_eq!(stored.kind, CounterKind::LossReissue);
    assert_eq!(stored.outcome, CounterOutcome::Referred);
    assert_eq!(stored.seat, "窓口3");
    assert_eq!(stored.fee_payment_confirmed, Some(false));
    assert_eq!(stored.note.as_deref(), Some("手数料は後日納付。"));
    // What a correction does not touch.
    assert_eq!(
        (stored.at, stored.staff.as_str()),
        (jst(6, 10, 8, 45), "tanaka")
    );
}

async fn staff_cannot_correct_their_case_the_next_day(ctx: Ctx) {
    let id = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 16, 0)).await;
    let refused = ctx
        .store
        .correct_counter_case(
            &id,
            &correction(),
            Corrector::Staff { login: "tanaka" },
            jst(6, 11, 8, 30),
            TOKYO,
        )
        .await;
    assert!(matches!(refused, Err(CounterError::DayOver)), "{refused:?}");
    let stored = ctx
        .store
        .counter_case(&id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.kind, CounterKind::Renewal);
}

async fn staff_cannot_correct_a_colleagues_case(ctx: Ctx) {
    let id = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 9, 0)).await;
    let refused = ctx
        .store
        .correct_counter_case(
            &id,
            &correction(),
            Corrector::Staff { login: "sato" },
            jst(6, 10, 9, 5),
            TOKYO,
        )
        .await;
    assert!(
        matches!(refused, Err(CounterError::NotYours)),
        "{refused:?}"
    );
}

async fn a_manager_corrects_any_case_any_day(ctx: Ctx) {
    let id = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 9, 0)).await;
    let corrected = ctx
        .store
        .correct_counter_case(
            &id,
            &correction(),
            Corrector::Manager,
            jst(7, 1, 9, 0),
            TOKYO,
        )
        .await
        .expect("a manager may");
    assert_eq!(corrected.kind, CounterKind::LossReissue);
    assert_eq!(corrected.staff, "tanaka");
}

async fn a_correction_is_checked_like_a_new_case(ctx: Ctx) {
    let id = record(&ctx, "tanaka", CounterKind::Renewal, jst(6, 10, 9, 0)).await;
    let mut d = correction();
    d.fee_payment_confirmed = None;
    let refused = ctx
        .store
        .correct_counter_case(&id, &d, Corrector::Manager, jst(6, 10, 9, 5), TOKYO)
        .await;
    assert!(
        matches!(refused, Err(CounterError::FeeConfirmationRequired)),
        "{refused:?}"
    );
    let stored = ctx
        .store
        .counter_case(&id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.kind, CounterKind::Renewal);
}

async fn correcting_a_missing_case_is_not_found(ctx: Ctx) {
    let refused = ctx
        .store
        .correct_counter_case(
            "cc_missing",
            &correction(),
            Corrector::Manager,
            jst(6, 10, 9, 0),
            TOKYO,
        )
        .await;
    assert!(
        matches!(refused, Err(CounterError::NotFound)),
        "{refused:?}"
    );
}

async fn an_unknown_case_id_reads_as_none(ctx: Ctx) {
    assert_eq!(
        ctx.store.counter_case("cc_missing").await.expect("get"),
        None
    );
}
