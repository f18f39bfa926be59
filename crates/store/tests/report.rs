//! Report figures on a small hand-made June 2025, specified once and checked on SQLite and
//! PostgreSQL: every total against a hand count (the comments say which calls make it) and
//! against an independent plain query written here.

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use common::{bare_record, Ctx, Kind, Raw};
use madoguchi_store::{
    AnswerMode, AnsweredBy, Beat, CallRecord, CounterCase, CounterKind, CounterOutcome,
    DeviceStatus, Disposition, FreeWaitingFigures, LanguageFallbackUsed, LanguageFigures,
    NewClassification, NewDevice, Outcome, ReportFigures, ReportQuery, SeededClassification,
    SlotFigures, TransferOrigin, WrapUp, SLOT_SECONDS,
};
use sqlx::AssertSqlSafe;

on_both_backends!(
    totals_match_the_hand_count,
    totals_match_independent_queries,
    each_call_lands_in_its_own_quarter_hour_and_queue,
    the_thresholds_are_parameters,
    categories_count_transferred_calls_apart_from_handled_ones,
    transfers_are_grouped_by_target_result_and_origin,
    counter_cases_are_grouped_by_kind_and_outcome,
    an_empty_period_has_no_figures,
    seeding_twice_keeps_the_first_rows,
    measured_wrap_ups_of_answered_calls_are_summed,
    languages_are_counted_per_code_and_no_code_is_the_default,
    free_waiting_sums_only_the_calls_answered_by_a_person,
    a_callback_request_is_offered_but_neither_abandoned_nor_overflowed,
    every_device_registered_in_the_period_has_its_figures,
);

/// A local (JST) instant in 2025.
fn jst(month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    // Tokyo has kept +09:00 all year since 1951.
    FixedOffset::east_opt(9 * 3600)
        .expect("+09:00 is a valid offset")
        .with_ymd_and_hms(2025, month, day, hour, minute, second)
        .single()
        .expect("a JST instant")
        .with_timezone(&Utc)
}

/// June 2025 in Tokyo.
fn june() -> ReportQuery {
    ReportQuery::new(jst(6, 1, 0, 0, 0), jst(7, 1, 0, 0, 0))
}

fn queued(id: &str, at: DateTime<Utc>, queue: &str, disposition: Disposition) -> CallRecord {
    CallRecord {
        queue: Some(queue.into()),
        branch: Some("open".into()),
        ..bare_record(id, at, disposition)
    }
}

fn answered(id: &str, at: DateTime<Utc>, queue: &str, wait_s: i64, talk_s: i64) -> CallRecord {
    CallRecord {
        operator: Some("op1".into()),
        waited_ms: Some(wait_s * 1000),
        talk_ms: Some(talk_s * 1000),
        ..queued(id, at, queue, Disposition::Answered)
    }
}

fn transferred(record: CallRecord, result: &str) -> CallRecord {
    CallRecord {
        disposition: Disposition::Transferred,
        transfer_target: Some("city_line".into()),
        transfer_result: Some(result.into()),
        ..record
    }
}

fn abandoned(id: &str, at: DateTime<Utc>, waited_ms: i64) -> CallRecord {
    CallRecord {
        waited_ms: Some(waited_ms),
        ..queued(id, at, "card", Disposition::Abandoned)
    }
}

/// The data set. Mon 6/2, Sat 6/7, Sun 6/8, Mon 6/16, Mon 6/30 are in June; two calls lie
/// just outside it.
fn calls() -> Vec<CallRecord> {
    vec![
        answered("a1", jst(6, 2, 9, 10, 0), "card", 8, 120),
        answered("a2", jst(6, 2, 9, 20, 0), "card", 25, 300),
        abandoned("ab3", jst(6, 2, 9, 40, 0), 5_000),
        transferred(
            answered("t1", jst(6, 2, 10, 5, 0), "card", 15, 60),
            "answered",
        ),
        transferred(
            answered("t2", jst(6, 2, 10, 30, 0), "general", 20, 90),
            "busy",
        ),
        // A menu choice sent straight to the city line: no queue, no operator.
        transferred(
            bare_record("ivr1", jst(6, 3, 11, 0, 0), Disposition::Completed),
            "answered",
        ),
        queued(
            "int1",
            jst(6, 3, 11, 30, 0),
            "card",
            Disposition::Interrupted,
        ),
        abandoned("ab1", jst(6, 7, 13, 0, 0), 3_000),
        abandoned("ab2", jst(6, 7, 13, 10, 0), 45_000),
        CallRecord {
            waited_ms: Some(600_000),
            transfer_target: Some("city_line".into()),
            transfer_result: Some("closed".into()),
            ..queued("ov1", jst(6, 8, 19, 50, 0), "card", Disposition::Overflowed)
        },
        bare_record("cl1", jst(6, 8, 20, 30, 0), Disposition::ClosedHours),
        answered("a3", jst(6, 16, 12, 0, 0), "card", 0, 200),
        bare_record("cl2", jst(6, 30, 23, 59, 59), Disposition::ClosedHours),
        // Outside June: the last second of May, the first instant of July.
        answered("out1", jst(5, 31, 23, 59, 59), "card", 1, 10),
        bare_record("out2", jst(7, 1, 0, 0, 0), Disposition::ClosedYearEnd),
    ]
}

fn classification(call_id: &str, category: &str, at: DateTime<Utc>) -> SeededClassification {
    SeededClassification {
        filing: NewClassification {
            call_id: call_id.into(),
            category: category.into(),
            outcome: Outcome::ResolvedFaq,
            complaint: false,
            escalated: false,
            faq_id: None,
            note: None,
            operator: "op1".into(),
        },
        at,
    }
}

fn counter_case(
    id: &str,
    at: DateTime<Utc>,
    kind: CounterKind,
    outcome: CounterOutcome,
    fee: Option<bool>,
) -> CounterCase {
    CounterCase {
        id: id.into(),
        at,
        kind,
        outcome,
        seat: "窓口1".into(),
        fee_payment_confirmed: fee,
        staff: "tanaka".into(),
        note: None,
        node_id: "node-a".into(),
    }
}

async fn seeded(ctx: &Ctx) -> ReportFigures {
    ctx.store.insert_calls(&calls()).await.expect("calls");
    ctx.store
        .seed_classifications(&[
            classification("a1", "イ", jst(6, 2, 9, 13, 0)),
            classification("a2", "ウ", jst(6, 2, 9, 26, 0)),
            classification("t1", "イ", jst(6, 2, 10, 7, 0)),
            classification("t2", "エ", jst(6, 2, 10, 33, 0)),
            // a3 is never classified; out1 is outside June.
            classification("out1", "ア", jst(6, 1, 0, 0, 5)),
        ])
        .await
        .expect("classifications");
    use CounterKind::*;
    use CounterOutcome::*;
    ctx.store
        .seed_counter_cases(&[
            counter_case("cc1", jst(6, 2, 9, 0, 0), NewApplication, Completed, None),
            counter_case(
                "cc2",
                jst(6, 2, 10, 0, 0),
                LossReissue,
                Completed,
                Some(true),
            ),
            counter_case(
                "cc3",
                jst(6, 3, 14, 0, 0),
                LossReissue,
                ContinuedLater,
                Some(false),
            ),
            counter_case("cc4", jst(6, 14, 11, 0, 0), Renewal, Completed, None),
            counter_case("cc5", jst(7, 1, 0, 0, 0), Renewal, Completed, None),
        ])
        .await
        .expect("counter cases");
    ctx.store.report_figures(&june()).await.expect("figures")
}

/// One figure of a slot.
type Column = fn(&SlotFigures) -> i64;

/// Sums one column over every slot.
fn total(figures: &ReportFigures, column: Column) -> i64 {
    figures.slots.iter().map(column).sum()
}

async fn totals_match_the_hand_count(ctx: Ctx) {
    let f = seeded(&ctx).await;
    // a1 a2 ab3 t1 t2 ivr1 int1 ab1 ab2 ov1 cl1 a3 cl2
    assert_eq!(total(&f, |s| s.calls), 13);
    assert_eq!(total(&f, |s| s.closed_hours), 2); // cl1 cl2
    assert_eq!(total(&f, |s| s.closed_year_end), 0); // out2 is July's
    assert_eq!(total(&f, |s| s.offered), 10); // all but ivr1 cl1 cl2
    assert_eq!(total(&f, |s| s.answered), 5); // a1 a2 t1 t2 a3
    assert_eq!(total(&f, |s| s.transferred), 1); // t1 (t2's transfer was busy)
    assert_eq!(total(&f, SlotFigures::handled), 4);
    assert_eq!(total(&f, |s| s.abandoned), 3); // ab1 ab2 ab3
    assert_eq!(total(&f, |s| s.short_abandoned), 1); // ab1 (3 s); ab3 waited 5 s exactly
    assert_eq!(total(&f, |s| s.overflowed), 1); // ov1
    assert_eq!(total(&f, |s| s.answered_in_time), 4); // a1 8 s, t1 15 s, t2 20 s, a3 0 s
    assert_eq!(total(&f, |s| s.answered_wait_ms), 68_000); // 8 + 25 + 15 + 20 + 0
    assert_eq!(total(&f, |s| s.talk_ms), 770_000); // 120 + 300 + 60 + 90 + 200
    assert_eq!(total(&f, |s| s.transfers_answered), 2); // t1 ivr1
}

/// `SELECT COUNT(*) FROM calls` in June and `condition`, written plainly per backend.
async fn count_calls(ctx: &Ctx, condition: &str) -> i64 {
    scalar(ctx, "COUNT(*)", condition).await
}

async fn scalar(ctx: &Ctx, expression: &str, condition: &str) -> i64 {
    let q = june();
    match (&ctx.raw, ctx.kind) {
        (Raw::Sqlite(pool), Kind::Sqlite) => {
            let sql = format!(
                "SELECT CAST(COALESCE({expression}, 0) AS INTEGER) FROM calls \
                 WHERE julianday(arrived_at) >= julianday(?1) \
                   AND julianday(arrived_at) < julianday(?2) AND ({condition})"
            );
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                .bind(q.from.to_rfc3339())
                .bind(q.to.to_rfc3339())
                .fetch_one(pool)
                .await
                .expect("independent SQLite query")
        }
        (Raw::Postgres(pool), Kind::Postgres) => {
            let sql = format!(
                "SELECT CAST(COALESCE({expression}, 0) AS BIGINT) FROM calls \
                 WHERE arrived_at >= $1 AND arrived_at < $2 AND ({condition})"
            );
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                .bind(q.from)
                .bind(q.to)
                .fetch_one(pool)
                .await
                .expect("independent PostgreSQL query")
        }
        _ => unreachable!("the harness pairs each store with its own raw pool"),
    }
}

async fn totals_match_independent_queries(ctx: Ctx) {
    let f = seeded(&ctx).await;
    let checks: [(&str, Column, &str); 8] = [
        ("calls", |s| s.calls, "1 = 1"),
        ("offered", |s| s.offered, "queue IS NOT NULL"),
        ("answered", |s| s.answered, "operator IS NOT NULL"),
        (
            "abandoned",
            |s| s.abandoned,
            "disposition = 'abandoned' AND operator IS NULL",
        ),
        (
            "short abandons",
            |s| s.short_abandoned,
            "disposition = 'abandoned' AND waited_ms < 5000",
        ),
        ("overflowed", |s| s.overflowed, "disposition = 'overflowed'"),
        (
            "closed",
            |s| s.closed_hours + s.closed_holiday + s.closed_year_end + s.closed_special,
            "disposition LIKE 'closed%'",
        ),
        (
            "answered in time",
            |s| s.answered_in_time,
            "operator IS NOT NULL AND waited_ms BETWEEN 0 AND 20000",
        ),
    ];
    for (name, column, condition) in checks {
        assert_eq!(
            total(&f, column),
            count_calls(&ctx, condition).await,
            "{name}"
        );
    }
    assert_eq!(
        total(&f, |s| s.talk_ms),
        scalar(&ctx, "SUM(talk_ms)", "operator IS NOT NULL").await
    );
    assert_eq!(
        total(&f, |s| s.answered_wait_ms),
        scalar(&ctx, "SUM(waited_ms)", "operator IS NOT NULL").await
    );
    assert_eq!(
        total(&f, |s| s.transferred),
        count_calls(
            &ctx,
            "operator IS NOT NULL AND transfer_result = 'answered'"
        )
        .await
    );
}

async fn each_call_lands_in_its_own_quarter_hour_and_queue(ctx: Ctx) {
    let f = seeded(&ctx).await;
    let q = june();
    let mut expected: BTreeMap<(DateTime<Utc>, Option<String>), i64> = BTreeMap::new();
    for call in calls()
        .into_iter()
        .filter(|c| c.arrived_at >= q.from && c.arrived_at < q.to)
    {
        let secs = call.arrived_at.timestamp();
        let start =
            DateTime::from_timestamp(secs - secs.rem_euclid(SLOT_SECONDS), 0).expect("in range");
        *expected.entry((start, call.queue)).or_default() += 1;
    }
    let got: BTreeMap<(DateTime<Utc>, Option<String>), i64> = f
        .slots
        .iter()
        .map(|s| ((s.start, s.queue.clone()), s.calls))
        .collect();
    assert_eq!(got, expected);
    // The last second of June falls in the slot starting 23:45 JST.
    assert!(f
        .slots
        .iter()
        .any(|s| s.start == jst(6, 30, 23, 45, 0) && s.closed_hours == 1));
}

async fn the_thresholds_are_parameters(ctx: Ctx) {
    seeded(&ctx).await;
    let q = ReportQuery {
        answered_within: Duration::from_secs(10),
        short_abandon: Duration::from_secs(6),
        ..june()
    };
    let f = ctx.store.report_figures(&q).await.expect("figures");
    assert_eq!(total(&f, |s| s.answered_in_time), 2); // a1 8 s, a3 0 s
    assert_eq!(total(&f, |s| s.short_abandoned), 2); // ab1 3 s, ab3 5 s
}

async fn categories_count_transferred_calls_apart_from_handled_ones(ctx: Ctx) {
    let f = seeded(&ctx).await;
    let got: Vec<(Option<&str>, i64, i64)> = f
        .categories
        .iter()
        .map(|c| (c.category.as_deref(), c.handled, c.transferred))
        .collect();
    assert_eq!(
        got,
        vec![
            (None, 1, 0),       // a3, never classified
            (Some("イ"), 1, 1), // a1 handled, t1 transferred
            (Some("ウ"), 1, 0), // a2
            (Some("エ"), 1, 0), // t2: its transfer was busy, so the operator handled it
        ]
    );
}

async fn transfers_are_grouped_by_target_result_and_origin(ctx: Ctx) {
    let f = seeded(&ctx).await;
    let got: Vec<(&str, Option<&str>, TransferOrigin, i64)> = f
        .transfers
        .iter()
        .map(|t| (t.target.as_str(), t.result.as_deref(), t.origin, t.calls))
        .collect();
    assert_eq!(
        got,
        vec![
            ("city_line", Some("answered"), TransferOrigin::Dialplan, 1), // ivr1
            ("city_line", Some("answered"), TransferOrigin::Operator, 1), // t1
            ("city_line", Some("busy"), TransferOrigin::Operator, 1),     // t2
            ("city_line", Some("closed"), TransferOrigin::Overflow, 1),   // ov1
        ]
    );
}

async fn counter_cases_are_grouped_by_kind_and_outcome(ctx: Ctx) {
    let f = seeded(&ctx).await;
    let got: Vec<(&str, &str, i64, i64)> = f
        .counter
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.outcome.as_str(),
                c.cases,
                c.fee_payment_confirmed,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("loss_reissue", "completed", 1, 1),
            ("loss_reissue", "continued_later", 1, 0),
            ("new_application", "completed", 1, 0),
            ("renewal", "completed", 1, 0), // cc5 is July's
        ]
    );
}

async fn an_empty_period_has_no_figures(ctx: Ctx) {
    seeded(&ctx).await;
    let august = ReportQuery::new(jst(8, 1, 0, 0, 0), jst(9, 1, 0, 0, 0));
    let f = ctx.store.report_figures(&august).await.expect("figures");
    assert_eq!(f, ReportFigures::default());
}

async fn seeding_twice_keeps_the_first_rows(ctx: Ctx) {
    let first = seeded(&ctx).await;
    ctx.store
        .seed_classifications(&[classification("a1", "ケ", jst(6, 2, 9, 14, 0))])
        .await
        .expect("a second seed of a1");
    ctx.store
        .seed_counter_cases(&[counter_case(
            "cc1",
            jst(6, 2, 9, 0, 0),
            CounterKind::Renewal,
            CounterOutcome::Referred,
            None,
        )])
        .await
        .expect("a second seed of cc1");
    let again = ctx.store.report_figures(&june()).await.expect("figures");
    assert_eq!(again, first);
    let history = ctx
        .store
        .classification_history("a1")
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
}

async fn measured_wrap_ups_of_answered_calls_are_summed(ctx: Ctx) {
    // a1 and t1 were answered; ab1 was not (a stray row must not count); out1 is May's.
    for (call_id, wrap_up_ms) in [("a1", 7_000), ("t1", 12_500), ("ab1", 99_000), ("out1", 1)] {
        let wrap_up = WrapUp {
            call_id: call_id.into(),
            ended_at: jst(6, 2, 12, 0, 0),
            wrap_up_ms,
        };
        ctx.store.record_wrap_up(&wrap_up).await.expect("wrap-up");
    }
    let f = seeded(&ctx).await;
    assert_eq!(total(&f, |s| s.wrap_ups), 2);
    assert_eq!(total(&f, |s| s.wrap_up_ms), 19_500);
    assert_eq!(total(&f, |s| s.calls), 13, "the join adds no call");
}

/// A call of an entry with `answer = "operator"` (free waiting), answered or not by `by`.
fn free_waiting(
    record: CallRecord,
    by: Option<AnsweredBy>,
    unanswered_s: i64,
    answered_s: Option<i64>,
) -> CallRecord {
    CallRecord {
        answer_mode: Some(AnswerMode::Operator),
        answered_by: by,
        unanswered_ms: Some(unanswered_s * 1000),
        answered_ms: answered_s.map(|s| s * 1000),
        ..record
    }
}

fn in_language(
    record: CallRecord,
    language: &str,
    fallback: Option<LanguageFallbackUsed>,
) -> CallRecord {
    CallRecord {
        language: Some(language.into()),
        language_fallback: fallback,
        ..record
    }
}

async fn languages_are_counted_per_code_and_no_code_is_the_default(ctx: Ctx) {
    let calls = vec![
        answered("ja1", jst(6, 2, 9, 0, 0), "card", 10, 60),
        abandoned("ja2", jst(6, 2, 9, 5, 0), 30_000),
        // Closed-branch calls choose no language and stay out of the table.
        bare_record("cl1", jst(6, 2, 21, 0, 0), Disposition::ClosedHours),
        in_language(
            answered("en1", jst(6, 3, 10, 0, 0), "card", 40, 60),
            "en",
            None,
        ),
        in_language(
            answered("en2", jst(6, 3, 10, 10, 0), "card", 130, 60),
            "en",
            Some(LanguageFallbackUsed::Any),
        ),
        in_language(
            transferred(
                queued("en3", jst(6, 3, 10, 20, 0), "card", Disposition::Completed),
                "answered",
            ),
            "en",
            Some(LanguageFallbackUsed::Target),
        ),
        in_language(
            answered("en4", jst(6, 3, 10, 30, 0), "card", 150, 60),
            "en",
            Some(LanguageFallbackUsed::Any),
        ),
        in_language(abandoned("zh1", jst(6, 4, 11, 0, 0), 2_000), "zh", None),
        // July's.
        in_language(
            answered("en9", jst(7, 1, 0, 0, 0), "card", 1, 1),
            "en",
            None,
        ),
    ];
    ctx.store.insert_calls(&calls).await.expect("calls");
    let f = ctx.store.report_figures(&june()).await.expect("figures");
    let language =
        |code: Option<&str>, calls, offered, answered, abandoned, wait_s: i64| LanguageFigures {
            language: code.map(str::to_owned),
            calls,
            offered,
            answered,
            abandoned,
            answered_wait_ms: wait_s * 1000,
            ..LanguageFigures::default()
        };
    assert_eq!(
        f.languages,
        vec![
            language(None, 2, 2, 1, 1, 10),
            LanguageFigures {
                fell_back_to_any: 2,
                sent_to_target: 1,
                ..language(Some("en"), 4, 4, 3, 0, 320)
            },
            language(Some("zh"), 1, 1, 0, 1, 0),
        ]
    );
}

async fn free_waiting_sums_only_the_calls_answered_by_a_person(ctx: Ctx) {
    let calls = vec![
        free_waiting(
            answered("op1", jst(6, 2, 9, 0, 0), "card", 30, 100),
            Some(AnsweredBy::Operator),
            40,
            Some(100),
        ),
        free_waiting(
            answered("op2", jst(6, 2, 9, 5, 0), "card", 10, 50),
            Some(AnsweredBy::Operator),
            20,
            Some(50),
        ),
        free_waiting(
            transferred(
                queued("tg1", jst(6, 2, 9, 10, 0), "card", Disposition::Overflowed),
                "answered",
            ),
            Some(AnsweredBy::Target),
            60,
            Some(30),
        ),
        free_waiting(
            queued(
                "lim1",
                jst(6, 2, 9, 20, 0),
                "card",
                Disposition::CallbackRequested,
            ),
            Some(AnsweredBy::EarlyLimit),
            150,
            Some(12),
        ),
        free_waiting(
            abandoned("gone1", jst(6, 2, 9, 30, 0), 45_000),
            None,
            45,
            None,
        ),
        // Answered at once by the engine: not free waiting, but its callback counts.
        CallRecord {
            answer_mode: Some(AnswerMode::Engine),
            answered_by: Some(AnsweredBy::Engine),
            unanswered_ms: Some(1_000),
            answered_ms: Some(90_000),
            ..queued(
                "eng1",
                jst(6, 2, 9, 40, 0),
                "card",
                Disposition::CallbackRequested,
            )
        },
        // Recorded before migration 0015: no mode at all.
        answered("old1", jst(6, 2, 9, 50, 0), "card", 5, 60),
        // July's.
        free_waiting(
            answered("op9", jst(7, 1, 0, 0, 0), "card", 1, 1),
            Some(AnsweredBy::Operator),
            1,
            Some(1),
        ),
    ];
    ctx.store.insert_calls(&calls).await.expect("calls");
    let f = ctx.store.report_figures(&june()).await.expect("figures");
    assert_eq!(
        f.free_waiting,
        FreeWaitingFigures {
            operator_mode_calls: 5,     // op1 op2 tg1 lim1 gone1
            answered_by_operator: 2,    // op1 op2
            answered_by_target: 1,      // tg1
            answered_at_early_limit: 1, // lim1
            never_answered: 1,          // gone1
            unanswered_calls: 5,
            unanswered_ms: 315_000, // 40 + 20 + 60 + 150 + 45
            answered_calls: 4,
            answered_ms: 192_000,   // 100 + 50 + 30 + 12
            callbacks_requested: 2, // lim1 eng1
        }
    );
}

async fn a_callback_request_is_offered_but_neither_abandoned_nor_overflowed(ctx: Ctx) {
    let calls = vec![
        CallRecord {
            waited_ms: Some(150_000),
            ..queued(
                "cb1",
                jst(6, 2, 9, 0, 0),
                "card",
                Disposition::CallbackRequested,
            )
        },
        queued(
            "cb2",
            jst(6, 2, 9, 2, 0),
            "card",
            Disposition::CallbackRequested,
        ),
        abandoned("ab1", jst(6, 2, 9, 1, 0), 20_000),
    ];
    ctx.store.insert_calls(&calls).await.expect("calls");
    let f = ctx.store.report_figures(&june()).await.expect("figures");
    assert_eq!(total(&f, |s| s.offered), 3);
    assert_eq!(total(&f, |s| s.callbacks_requested), 2);
    assert_eq!(total(&f, |s| s.abandoned), 1);
    assert_eq!(total(&f, |s| s.overflowed), 0);
    assert_eq!(f.free_waiting.callbacks_requested, 2);
}

async fn every_device_registered_in_the_period_has_its_figures(ctx: Ctx) {
    let added = jst(5, 20, 9, 0, 0);
    for (id, label) in [("counter-1", "窓口1"), ("counter-2", "窓口2")] {
        ctx.store
            .device_add(&NewDevice::new(id, label, "本庁舎1階"), added)
            .await
            .expect("device");
    }
    for (minute, rtt_ms) in [(0, None), (1, Some(80)), (2, Some(120))] {
        let beat = Beat {
            status: DeviceStatus::Ok,
            detail: None,
            rtt_ms,
        };
        ctx.store
            .device_beat("counter-1", jst(6, 2, 9, minute, 0), &beat)
            .await
            .expect("beat");
    }
    let f = ctx.store.report_figures(&june()).await.expect("figures");
    let got: Vec<(&str, u64, Option<u64>, Option<u64>)> = f
        .devices
        .iter()
        .map(|d| (d.device.as_str(), d.beats, d.mean_rtt_ms(), d.rtt_max_ms))
        .collect();
    assert_eq!(
        got,
        vec![
            ("counter-1", 3, Some(100), Some(120)),
            ("counter-2", 0, None, None)
        ]
    );
}
