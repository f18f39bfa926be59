//! The FAQ and its Japanese substring search, specified once and checked on SQLite (FTS5
//! trigram) and PostgreSQL (pg_trgm).

#[macro_use]
mod common;

use chrono::TimeDelta;
use common::{at, Ctx, Kind};
use madoguchi_store::{FaqEntry, FaqError, FaqUpdate, NewClassification, NewFaq, Outcome};

on_both_backends!(
    a_three_character_query_finds_it_inside_words_of_question_or_answer,
    a_two_character_query_finds_entries_by_substring,
    a_one_character_query_finds_entries_by_substring,
    every_term_of_a_query_must_occur,
    entries_used_more_often_come_first,
    among_equally_used_entries_a_match_in_the_question_comes_first,
    an_empty_query_lists_active_entries_most_used_first,
    inactive_entries_are_not_found,
    wildcards_and_query_syntax_in_a_query_are_plain_text,
    ascii_terms_match_regardless_of_case,
    the_limit_caps_the_results,
    an_edited_entry_is_found_by_its_new_text_only,
    editing_a_missing_entry_is_none,
    an_empty_question_is_refused,
    an_import_adds_new_questions_and_updates_known_ones,
    an_import_with_an_invalid_entry_stores_nothing,
    the_console_migration_runs_twice_harmlessly,
);

const NOW_S: i64 = 3_600;

async fn add(ctx: &Ctx, question: &str, answer: &str, category: Option<&str>) -> FaqEntry {
    ctx.store
        .add_faq(&NewFaq::new(question, answer, category), at(NOW_S))
        .await
        .expect("add faq")
}

async fn search(ctx: &Ctx, query: &str) -> Vec<i64> {
    ctx.store
        .search_faq(query, 20)
        .await
        .expect("search")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Links `faq_id` from `n` classified calls, raising its `uses` to `n`.
async fn use_n_times(ctx: &Ctx, faq_id: i64, n: usize) {
    for i in 0..n {
        ctx.store
            .classify(
                &NewClassification {
                    call_id: format!("call-{faq_id}-{i}"),
                    category: "イ".into(),
                    outcome: Outcome::ResolvedFaq,
                    complaint: false,
                    escalated: false,
                    faq_id: Some(faq_id),
                    note: None,
                    operator: "op1".into(),
                },
                at(NOW_S),
            )
            .await
            .expect("classify");
    }
}

async fn seed(ctx: &Ctx) -> (FaqEntry, FaqEntry, FaqEntry) {
    let pin = add(
        ctx,
        "暗証番号を忘れてしまいました",
        "本人確認書類をお持ちのうえ、市役所の窓口で暗証番号の再設定ができます。",
        Some("オ"),
    )
    .await;
    let apply = add(
        ctx,
        "マイナンバーカードの申請方法を教えてください",
        "スマートフォン、パソコン、郵送、まちなかの証明写真機から申請できます。",
        Some("イ"),
    )
    .await;
    let health = add(
        ctx,
        "健康保険証として使うにはどうすればよいですか",
        "マイナポータルまたは対応する医療機関の受付で利用登録をしてください。",
        Some("カ"),
    )
    .await;
    (pin, apply, health)
}

async fn a_three_character_query_finds_it_inside_words_of_question_or_answer(ctx: Ctx) {
    let (pin, apply, health) = seed(&ctx).await;
    // 「番号を」 sits inside a phrase of the question, with no word boundary around it.
    assert_eq!(search(&ctx, "番号を").await, vec![pin.id]);
    // 「証明写真」 occurs only in an answer.
    assert_eq!(search(&ctx, "証明写真").await, vec![apply.id]);
    // 「ポータル」 is the tail of the katakana word マイナポータル.
    assert_eq!(search(&ctx, "ポータル").await, vec![health.id]);
}

async fn a_two_character_query_finds_entries_by_substring(ctx: Ctx) {
    let (pin, apply, _) = seed(&ctx).await;
    assert_eq!(search(&ctx, "申請").await, vec![apply.id]);
    assert_eq!(search(&ctx, "忘れ").await, vec![pin.id]);
}

async fn a_one_character_query_finds_entries_by_substring(ctx: Ctx) {
    let (pin, apply, health) = seed(&ctx).await;
    let mut found = search(&ctx, "の").await;
    found.sort_unstable();
    assert_eq!(found, vec![pin.id, apply.id, health.id]);
    assert!(search(&ctx, "猫").await.is_empty());
}

async fn every_term_of_a_query_must_occur(ctx: Ctx) {
    let (pin, _, _) = seed(&ctx).await;
    // Three terms, one of each length class, separated by an ideographic space.
    assert_eq!(search(&ctx, "暗証番号　窓口 再").await, vec![pin.id]);
    assert!(search(&ctx, "暗証番号 写真").await.is_empty());
}

async fn entries_used_more_often_come_first(ctx: Ctx) {
    let older = add(
        &ctx,
        "カードの受け取り場所",
        "市役所の1階です。",
        Some("ウ"),
    )
    .await;
    let newer = add(
        &ctx,
        "カードの受け取りに必要なもの",
        "交付通知書です。",
        Some("ウ"),
    )
    .await;
    use_n_times(&ctx, newer.id, 2).await;
    use_n_times(&ctx, older.id, 1).await;
    assert_eq!(search(&ctx, "受け取り").await, vec![newer.id, older.id]);
    let stored = ctx
        .store
        .get_faq(newer.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.uses, 2);
}

async fn among_equally_used_entries_a_match_in_the_question_comes_first(ctx: Ctx) {
    let in_answer = add(
        &ctx,
        "必要な持ち物は",
        "電子証明書の暗証番号が必要です。",
        None,
    )
    .await;
    let in_question = add(&ctx, "電子証明書の更新", "窓口で更新できます。", None).await;
    assert_eq!(
        search(&ctx, "電子証明書").await,
        vec![in_question.id, in_answer.id]
    );
}

async fn an_empty_query_lists_active_entries_most_used_first(ctx: Ctx) {
    let (pin, apply, health) = seed(&ctx).await;
    use_n_times(&ctx, health.id, 1).await;
    assert_eq!(search(&ctx, "  ").await, vec![health.id, pin.id, apply.id]);
}

async fn inactive_entries_are_not_found(ctx: Ctx) {
    let (pin, _, _) = seed(&ctx).await;
    ctx.store
        .update_faq(
            pin.id,
            &FaqUpdate {
                question: pin.question.clone(),
                answer: pin.answer.clone(),
                category: pin.category.clone(),
                active: false,
            },
            at(NOW_S + 60),
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(search(&ctx, "暗証番号").await.is_empty());
    assert!(search(&ctx, "忘れ").await.is_empty());
    assert!(!search(&ctx, "").await.contains(&pin.id));
}

async fn wildcards_and_query_syntax_in_a_query_are_plain_text(ctx: Ctx) {
    let percent = add(&ctx, "手数料は100%無料ですか", "はい、無料です。", None).await;
    seed(&ctx).await;
    assert_eq!(search(&ctx, "%").await, vec![percent.id]);
    assert!(search(&ctx, "_").await.is_empty());
    for syntax in [
        "\"カード",
        "カード OR",
        "NEAR(カード)",
        "カード*",
        "a AND b",
    ] {
        // Must not be an error, and must not match everything.
        let found = ctx.store.search_faq(syntax, 20).await.expect(syntax);
        assert!(found.len() < 4, "{syntax}: {found:?}");
    }
}

async fn ascii_terms_match_regardless_of_case(ctx: Ctx) {
    let jpki = add(
        &ctx,
        "JPKIの暗証番号",
        "署名用は英数字6〜16文字です。",
        Some("エ"),
    )
    .await;
    assert_eq!(search(&ctx, "jpki").await, vec![jpki.id]);
    assert_eq!(search(&ctx, "Jp").await, vec![jpki.id]);
}

async fn the_limit_caps_the_results(ctx: Ctx) {
    for i in 0..5 {
        add(&ctx, &format!("質問{i}"), "回答", None).await;
    }
    let found = ctx.store.search_faq("質問", 3).await.expect("search");
    assert_eq!(found.len(), 3);
}

async fn an_edited_entry_is_found_by_its_new_text_only(ctx: Ctx) {
    let entry = add(&ctx, "古い質問です", "古い回答です", None).await;
    let edited = ctx
        .store
        .update_faq(
            entry.id,
            &FaqUpdate {
                question: "新しい質問です".into(),
                answer: "新しい回答です".into(),
                category: Some("ケ".into()),
                active: true,
            },
            at(NOW_S + 60),
        )
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(edited.created_at, entry.created_at);
    assert_eq!(edited.updated_at, at(NOW_S + 60));
    assert_eq!(edited.category.as_deref(), Some("ケ"));
    assert_eq!(search(&ctx, "新しい").await, vec![entry.id]);
    assert!(search(&ctx, "古い質問").await.is_empty());
}

async fn editing_a_missing_entry_is_none(ctx: Ctx) {
    let update = FaqUpdate {
        question: "q".into(),
        answer: "a".into(),
        category: None,
        active: true,
    };
    let edited = ctx
        .store
        .update_faq(404, &update, at(NOW_S))
        .await
        .expect("update");
    assert_eq!(edited, None);
}

async fn an_empty_question_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .add_faq(&NewFaq::new("  ", "答え", None), at(NOW_S))
        .await
        .expect_err("empty question");
    assert!(
        matches!(err, FaqError::Empty { field: "question" }),
        "{err}"
    );
    assert!(ctx.store.list_faq().await.expect("list").is_empty());
}

async fn an_import_adds_new_questions_and_updates_known_ones(ctx: Ctx) {
    let (pin, _, _) = seed(&ctx).await;
    use_n_times(&ctx, pin.id, 1).await;
    let later = at(NOW_S) + TimeDelta::days(1);
    let summary = ctx
        .store
        .import_faq(
            &[
                NewFaq::new(&pin.question, "コンビニでは再設定できません。", Some("オ")),
                NewFaq::new(
                    "マイナンバーカードの申請方法を教えてください",
                    "スマートフォン、パソコン、郵送、まちなかの証明写真機から申請できます。",
                    Some("イ"),
                ),
                NewFaq::new(
                    "有効期限はいつまでですか",
                    "カードは10回目の誕生日までです。",
                    Some("ウ"),
                ),
            ],
            later,
        )
        .await
        .expect("import");
    assert_eq!(
        (summary.added, summary.updated, summary.unchanged),
        (1, 1, 1)
    );
    let updated = ctx.store.get_faq(pin.id).await.expect("get").expect("kept");
    assert_eq!(updated.answer, "コンビニでは再設定できません。");
    assert_eq!(updated.uses, 1, "an import keeps the use count");
    assert_eq!(updated.updated_at, later);
    assert_eq!(ctx.store.list_faq().await.expect("list").len(), 4);
    assert_eq!(search(&ctx, "有効期限").await.len(), 1);
}

async fn an_import_with_an_invalid_entry_stores_nothing(ctx: Ctx) {
    let err = ctx
        .store
        .import_faq(
            &[
                NewFaq::new("有効な質問", "有効な回答", None),
                NewFaq::new("回答のない質問", "", None),
            ],
            at(NOW_S),
        )
        .await
        .expect_err("second entry is invalid");
    assert!(matches!(err, FaqError::Empty { field: "answer" }), "{err}");
    assert!(ctx.store.list_faq().await.expect("list").is_empty());
}

async fn the_console_migration_runs_twice_harmlessly(ctx: Ctx) {
    let (pin, _, _) = seed(&ctx).await;
    let sql = match ctx.kind {
        Kind::Sqlite => include_str!("../../../migrations/sqlite/0004_console.sql"),
        Kind::Postgres => include_str!("../../../migrations/postgres/0004_console.sql"),
    };
    ctx.raw.exec(sql).await;
    ctx.store.migrate().await.expect("second migration run");
    assert_eq!(search(&ctx, "番号を").await, vec![pin.id]);
}
