//! FAQ editions: numbering, immutability, changes between editions and the operators'
//! search of the latest edition, specified once and checked on SQLite and PostgreSQL.

#[macro_use]
mod common;

use common::{at, Ctx, Kind};
use madoguchi_store::{FaqEditionError, FaqEntry, FaqUpdate, NewFaq};

on_both_backends!(
    publishing_numbers_editions_from_one_with_their_labels,
    an_edition_holds_only_the_active_entries_as_they_were,
    publishing_with_no_active_entry_is_refused,
    edition_rows_cannot_be_updated_or_deleted,
    changes_list_added_changed_and_removed_questions,
    the_published_search_is_none_before_the_first_edition,
    the_published_search_finds_the_edition_text_not_a_later_draft,
    the_published_search_needs_every_term,
    the_editions_migration_runs_twice_harmlessly,
);

async fn add(ctx: &Ctx, question: &str, answer: &str) -> FaqEntry {
    ctx.store
        .add_faq(&NewFaq::new(question, answer, Some("イ")), at(0))
        .await
        .expect("add faq")
}

async fn edit(ctx: &Ctx, entry: &FaqEntry, question: &str, answer: &str, active: bool) {
    let update = FaqUpdate {
        question: question.into(),
        answer: answer.into(),
        category: entry.category.clone(),
        active,
    };
    ctx.store
        .update_faq(entry.id, &update, at(60))
        .await
        .expect("edit")
        .expect("entry exists");
}

async fn publish(ctx: &Ctx) -> i64 {
    ctx.store
        .publish_faq_edition("manager1", None, at(120))
        .await
        .expect("publish")
        .number
}

async fn published_questions(ctx: &Ctx, query: &str) -> Option<Vec<String>> {
    ctx.store
        .search_published_faq(query, 20)
        .await
        .expect("search")
        .map(|hits| hits.into_iter().map(|e| e.question).collect())
}

async fn publishing_numbers_editions_from_one_with_their_labels(ctx: Ctx) {
    add(&ctx, "申請に必要なもの", "本人確認書類です。").await;
    let first = ctx
        .store
        .publish_faq_edition("manager1", Some("契約開始"), at(100))
        .await
        .expect("first");
    let second = ctx
        .store
        .publish_faq_edition("manager2", None, at(200))
        .await
        .expect("second");
    assert_eq!((first.number, first.label.as_str()), (1, "初版"));
    assert_eq!((second.number, second.label.as_str()), (2, "第2版"));
    let listed = ctx.store.faq_editions().await.expect("list");
    assert_eq!(listed, vec![first.clone(), second]);
    assert_eq!(first.note.as_deref(), Some("契約開始"));
    assert_eq!(
        (first.published_by.as_str(), first.entries),
        ("manager1", 1)
    );
    assert_eq!(first.published_at, at(100));
}

async fn an_edition_holds_only_the_active_entries_as_they_were(ctx: Ctx) {
    let kept = add(&ctx, "交付の予約", "電話で予約できます。").await;
    let retired = add(&ctx, "古い質問", "古い回答").await;
    edit(&ctx, &retired, "古い質問", "古い回答", false).await;
    let n = publish(&ctx).await;
    edit(&ctx, &kept, "交付の予約", "Webでも予約できます。", true).await;
    let entries = ctx.store.faq_edition_entries(n).await.expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].faq_id, kept.id);
    assert_eq!(entries[0].answer, "電話で予約できます。");
}

async fn publishing_with_no_active_entry_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .publish_faq_edition("manager1", None, at(0))
        .await
        .expect_err("nothing to publish");
    assert!(matches!(err, FaqEditionError::NothingToPublish), "{err}");
    assert!(ctx.store.faq_editions().await.expect("list").is_empty());
}

async fn edition_rows_cannot_be_updated_or_deleted(ctx: Ctx) {
    add(&ctx, "暗証番号", "窓口で再設定します。").await;
    publish(&ctx).await;
    for sql in [
        "UPDATE faq_edition_entries SET answer = 'x'",
        "DELETE FROM faq_edition_entries",
        "UPDATE faq_editions SET label = 'x'",
        "DELETE FROM faq_editions",
    ] {
        let refused = match &ctx.raw {
            common::Raw::Sqlite(pool) => sqlx::query(sql).execute(pool).await.is_err(),
            common::Raw::Postgres(pool) => sqlx::query(sql).execute(pool).await.is_err(),
        };
        assert!(refused, "{sql} was allowed on {:?}", ctx.kind);
    }
    let entries = ctx.store.faq_edition_entries(1).await.expect("entries");
    assert_eq!(entries[0].answer, "窓口で再設定します。");
}

async fn changes_list_added_changed_and_removed_questions(ctx: Ctx) {
    let same = add(&ctx, "変わらない", "同じ").await;
    let changed = add(&ctx, "変わる", "前").await;
    let removed = add(&ctx, "消える", "前").await;
    publish(&ctx).await;
    edit(&ctx, &changed, "変わる", "後", true).await;
    edit(&ctx, &removed, "消える", "前", false).await;
    let added = add(&ctx, "新しい", "後").await;
    let n = publish(&ctx).await;
    let changes = ctx.store.faq_edition_changes(n).await.expect("changes");
    let ids = |list: &[madoguchi_store::EditionEntry]| -> Vec<i64> {
        list.iter().map(|e| e.faq_id).collect()
    };
    assert_eq!(ids(&changes.added), vec![added.id]);
    assert_eq!(ids(&changes.changed), vec![changed.id]);
    assert_eq!(ids(&changes.removed), vec![removed.id]);
    assert!(!ids(&changes.changed).contains(&same.id));
    let first = ctx.store.faq_edition_changes(1).await.expect("first");
    assert_eq!(first.added.len(), 3);
}

async fn the_published_search_is_none_before_the_first_edition(ctx: Ctx) {
    add(&ctx, "申請", "回答").await;
    assert_eq!(published_questions(&ctx, "申請").await, None);
}

async fn the_published_search_finds_the_edition_text_not_a_later_draft(ctx: Ctx) {
    let entry = add(&ctx, "手数料はかかりますか", "初回は無料です。").await;
    publish(&ctx).await;
    edit(
        &ctx,
        &entry,
        "手数料はかかりますか",
        "再交付は有料です。",
        true,
    )
    .await;
    let hits = ctx
        .store
        .search_published_faq("手数料", 20)
        .await
        .expect("search")
        .expect("an edition exists");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id, hits[0].answer.as_str()),
        (entry.id, "初回は無料です。")
    );
    assert_eq!(published_questions(&ctx, "有料").await, Some(vec![]));
}

async fn the_published_search_needs_every_term(ctx: Ctx) {
    add(&ctx, "カードの申請方法", "郵送かWebで申請します。").await;
    add(&ctx, "カードの交付", "予約して来庁します。").await;
    publish(&ctx).await;
    assert_eq!(
        published_questions(&ctx, "カード　web").await,
        Some(vec!["カードの申請方法".to_owned()])
    );
    assert_eq!(
        published_questions(&ctx, "").await.map(|q| q.len()),
        Some(2)
    );
}

async fn the_editions_migration_runs_twice_harmlessly(ctx: Ctx) {
    let sql = match ctx.kind {
        Kind::Sqlite => include_str!("../../../migrations/sqlite/0007_faq_editions.sql"),
        Kind::Postgres => include_str!("../../../migrations/postgres/0007_faq_editions.sql"),
    };
    ctx.raw.exec(sql).await;
    ctx.raw.exec(sql).await;
}
